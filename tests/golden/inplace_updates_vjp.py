def inplace_updates_vjp_x(x, X, bvalue):
    if type(x) is not float:
        require_real(x, 'x', inplace_updates)
    if type(X) is not float:
        refuse_complex(X, 'X', inplace_updates)
    stack = []
    # y = x.copy()
    y = copy.copy(x)
    # y[0] = x[1] * x[2]
    x_1 = x[1]
    x_2 = x[2]
    y_0 = x_1 * x_2
    y_overwritten = overwritten(y, 0)
    stack.append(y_overwritten)
    y[0] = y_0
    # y[1] += x[0] ** 2
    y_1 = y[1]
    x_0 = x[0]
    x_0_pow_two = x_0 ** 2
    y_1_2 = y_1 + x_0_pow_two
    y_overwritten_2 = overwritten(y, 1)
    stack.append(y_overwritten_2)
    y[1] = y_1_2
    # y[-1] *= 3.0
    y_part_2 = y[-1] * 3.0
    y_overwritten_3 = overwritten(y, -1)
    stack.append(y_overwritten_3)
    y[-1] = y_part_2
    Z = np.copy(X)
    for j in range(np.shape(Z)[1]):
        # Z[:, j] *= y[j % len(y)]
        Z_part = Z[:, j]
        y_part_3 = y[j % len(y)]
        Z_part_2 = Z_part * y_part_3
        stack.append((Z_part, y_part_3))
        Z_overwritten = overwritten(Z, (slice(None, None, None), j))
        stack.append(Z_overwritten)
        Z[:, j] = Z_part_2
        stack.append(Z_part_2)
    # Z[1:, 0] -= y[0]
    Z_part_3 = Z[1:, 0]
    y_0_2 = y[0]
    Z_part_4 = Z_part_3 - y_0_2
    Z_overwritten_2 = overwritten(Z, (slice(1, None, None), 0))
    stack.append(Z_overwritten_2)
    Z[1:, 0] = Z_part_4
    value = copy.copy(Z)
    if type(bvalue) is not float or type(value) is not float:
        bvalue = require_cotangent(bvalue, value, inplace_updates)
    bZ = 0.0
    bZ_part_2 = 0.0
    bZ_part_4 = 0.0
    bx = 0.0
    by = 0.0
    by_0 = 0.0
    by_1_2 = 0.0
    by_part_2 = 0.0
    bZ = bZ + bvalue
    # Z[1:, 0] -= y[0]
    Z_overwritten_2 = stack.pop()
    bZ_part_4 = bZ_part_4 + unbroadcast(cotangent_at(bZ, (slice(1, None, None), 0)), Z_part_4)
    bZ = zero_at(bZ, (slice(1, None, None), 0))
    restore(Z, (slice(1, None, None), 0), Z_overwritten_2)
    bZ_part_3 = unbroadcast(bZ_part_4, Z_part_3)
    by_0_2 = unbroadcast(-bZ_part_4, y_0_2)
    by = add_at(by, y, 0, by_0_2)
    bZ = add_at(bZ, Z, (slice(1, None, None), 0), bZ_part_3)
    for j in reversed(range(np.shape(Z)[1])):
        # Z[:, j] *= y[j % len(y)]
        Z_part_2 = stack.pop()
        Z_overwritten = stack.pop()
        bZ_part_2 = bZ_part_2 + unbroadcast(cotangent_at(bZ, (slice(None, None, None), j)), Z_part_2)
        bZ = zero_at(bZ, (slice(None, None, None), j))
        restore(Z, (slice(None, None, None), j), Z_overwritten)
        Z_part, y_part_3 = stack.pop()
        bZ_part = unbroadcast(bZ_part_2 * y_part_3, Z_part)
        by_part_3 = unbroadcast(Z_part * bZ_part_2, y_part_3)
        bZ_part_2 = 0.0
        by = add_at(by, y, j % len(y), by_part_3)
        bZ = add_at(bZ, Z, (slice(None, None, None), j), bZ_part)
    # y[-1] *= 3.0
    y_overwritten_3 = stack.pop()
    by_part_2 = by_part_2 + unbroadcast(cotangent_at(by, -1), y_part_2)
    by = zero_at(by, -1)
    restore(y, -1, y_overwritten_3)
    by = add_at(by, y, -1, by_part_2 * 3.0)
    # y[1] += x[0] ** 2
    y_overwritten_2 = stack.pop()
    by_1_2 = by_1_2 + unbroadcast(cotangent_at(by, 1), y_1_2)
    by = zero_at(by, 1)
    restore(y, 1, y_overwritten_2)
    by_1 = unbroadcast(by_1_2, y_1)
    bx_0_pow_two = unbroadcast(by_1_2, x_0_pow_two)
    bx_0 = unbroadcast(2.0 * x_0 * bx_0_pow_two, x_0)
    bx = add_at(bx, x, 0, bx_0)
    by = add_at(by, y, 1, by_1)
    # y[0] = x[1] * x[2]
    y_overwritten = stack.pop()
    by_0 = add_cotangents(by_0, unbroadcast(cotangent_at(by, 0), y_0))
    by = zero_at(by, 0)
    restore(y, 0, y_overwritten)
    bx_1 = unbroadcast(by_0 * x_2, x_1)
    bx_2 = unbroadcast(x_1 * by_0, x_2)
    bx = add_at(bx, x, 2, bx_2)
    bx = add_at(bx, x, 1, bx_1)
    # y = x.copy()
    bx = add_like(bx, x, by)
    return value, cotangent_like(bx, x)
