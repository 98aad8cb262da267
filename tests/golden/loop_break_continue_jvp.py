def loop_break_continue_jvp_x(x, limit, dx):
    if type(x) is not float or type(dx) is not float:
        require_real(x, 'x', loop_break_continue, dx)
    if type(limit) is not float:
        refuse_complex(limit, 'limit', loop_break_continue)
    # total = 0.0
    total = 0.0
    dtotal = 0.0
    for i in range(len(x)):
        # for v in x:
        v = x[i]
        dv = dx[i]
        if v < 0.0:
            continue
        # total += np.sqrt(v)
        sqrt_v = np.sqrt(v)
        dtotal = dtotal + dv / (2.0 * sqrt_v)
        total = total + sqrt_v
        if total > limit:
            break
    return total, dtotal
