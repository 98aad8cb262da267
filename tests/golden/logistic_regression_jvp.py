def loss_jvp_w_b(w, b, X, y, *, dw, db):
    # z = X @ w + b
    matmul_X = np.matmul(X, w)
    dmatmul_X = np.matmul(X, dw)
    z = matmul_X + b
    dz = dmatmul_X + db
    # p = 1.0 / (1.0 + np.exp(-z))
    neg_z = -z
    dneg_z = -dz
    exp_neg_z = np.exp(neg_z)
    dexp_neg_z = exp_neg_z * dneg_z
    one_plus_exp_neg_z = 1.0 + exp_neg_z
    p = 1.0 / one_plus_exp_neg_z
    dp = -(p * dexp_neg_z) / one_plus_exp_neg_z
    # return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
    log_p = np.log(p)
    dlog_p = dp / p
    y_times_log_p = y * log_p
    dy_times_log_p = y * dlog_p
    one_minus_y = 1.0 - y
    one_minus_p = 1.0 - p
    done_minus_p = -dp
    log_one_minus_p = np.log(one_minus_p)
    dlog_one_minus_p = done_minus_p / one_minus_p
    product = one_minus_y * log_one_minus_p
    dproduct = one_minus_y * dlog_one_minus_p
    total = y_times_log_p + product
    dtotal = dy_times_log_p + dproduct
    mean_total = np.mean(total)
    dmean_total = np.mean(dtotal)
    neg_mean_total = -mean_total
    dneg_mean_total = -dmean_total
    return neg_mean_total, dneg_mean_total
