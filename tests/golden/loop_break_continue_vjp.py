def loop_break_continue_vjp_x(x, limit, bvalue):
    if type(x) is not float:
        require_real(x, 'x', loop_break_continue)
    if type(limit) is not float:
        refuse_complex(limit, 'limit', loop_break_continue)
    stack = []
    # total = 0.0
    total = 0.0
    # for v in x:
    stop = False
    iterations = 0
    for i in range(len(x)):
        iterations = iterations + 1
        skip = False
        v = x[i]
        if v < 0.0:
            skip = True
        condition = not skip
        if condition:
            # total += np.sqrt(v)
            sqrt_v = np.sqrt(v)
            stack.append((sqrt_v, total))
            total = total + sqrt_v
            if total > limit:
                stop = True
        stack.append(condition)
        if stop:
            break
    # for v in x:
    stack.append(iterations)
    value = total
    if type(bvalue) is not float or type(value) is not float:
        bvalue = require_cotangent(bvalue, value, loop_break_continue)
    bv = 0.0
    bx = 0.0
    btotal = bvalue
    # for v in x:
    iterations = stack.pop()
    for i in reversed(range(len(x))[:iterations]):
        condition = stack.pop()
        if condition:
            # total += np.sqrt(v)
            btotal_new = btotal
            sqrt_v, total = stack.pop()
            btotal = unbroadcast(btotal, total)
            bsqrt_v = unbroadcast(btotal_new, sqrt_v)
            bv = add_cotangents(bv, bsqrt_v / (2.0 * sqrt_v))
        # for v in x:
        bx = add_at(bx, x, i, bv)
        bv = 0.0
    # total = 0.0
    btotal = 0.0
    return value, cotangent_like(bx, x)
