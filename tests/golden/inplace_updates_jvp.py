def inplace_updates_jvp_x(x, X, dx):
    if type(x) is not float or type(dx) is not float:
        require_real(x, 'x', inplace_updates, dx)
    if type(X) is not float:
        refuse_complex(X, 'X', inplace_updates)
    # y = x.copy()
    y = copy.copy(x)
    dy = copy.copy(dx)
    # y[0] = x[1] * x[2]
    x_1 = x[1]
    x_2 = x[2]
    dy_0 = dx[1] * x_2 + x_1 * dx[2]
    y[0] = x_1 * x_2
    dy[0] = dy_0
    # y[1] += x[0] ** 2
    x_0 = x[0]
    dy_1_2 = dy[1] + 2.0 * x_0 * dx[0]
    y[1] = y[1] + x_0 ** 2
    dy[1] = dy_1_2
    # y[-1] *= 3.0
    dy_part_2 = dy[-1] * 3.0
    y[-1] = y[-1] * 3.0
    dy[-1] = dy_part_2
    # Z = np.copy(X)
    Z = np.copy(X)
    dZ = zeros_like(Z)
    for j in range(np.shape(Z)[1]):
        # Z[:, j] *= y[j % len(y)]
        Z_part = Z[:, j]
        y_part_3 = y[j % len(y)]
        dy_part_3 = dy[j % len(y)]
        dZ_part_2 = dZ[:, j] * y_part_3 + Z_part * dy_part_3
        Z[:, j] = Z_part * y_part_3
        dZ[:, j] = dZ_part_2
    # Z[1:, 0] -= y[0]
    dZ_part_4 = dZ[1:, 0] - dy[0]
    Z[1:, 0] = Z[1:, 0] - y[0]
    dZ[1:, 0] = dZ_part_4
    return Z, dZ
