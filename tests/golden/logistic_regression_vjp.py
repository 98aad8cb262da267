def loss_vjp_w_b(w, b, X, y, bneg_mean_total):
    if type(w) is not float:
        require_real(w, 'w', loss)
    if type(b) is not float:
        require_real(b, 'b', loss)
    if type(X) is not float:
        refuse_complex(X, 'X', loss)
    if type(y) is not float:
        refuse_complex(y, 'y', loss)
    # z = X @ w + b
    matmul_X = np.matmul(X, w)
    z = matmul_X + b
    # p = 1.0 / (1.0 + np.exp(-z))
    exp_neg_z = np.exp(-z)
    one_plus_exp_neg_z = 1.0 + exp_neg_z
    p = 1.0 / one_plus_exp_neg_z
    # return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
    log_p = np.log(p)
    one_minus_y = 1.0 - y
    one_minus_p = 1.0 - p
    log_one_minus_p = np.log(one_minus_p)
    total = y * log_p + one_minus_y * log_one_minus_p
    value = -np.mean(total)
    if type(bneg_mean_total) is not float or type(value) is not float:
        bneg_mean_total = require_cotangent(bneg_mean_total, value, loss)
    # return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
    btotal = unreduce(-bneg_mean_total, total, None, False, mean=True)
    blog_one_minus_p = unbroadcast(one_minus_y * btotal, log_one_minus_p)
    blog_p = unbroadcast(y * btotal, log_p)
    bp = blog_p * one_plus_exp_neg_z - blog_one_minus_p / one_minus_p
    # p = 1.0 / (1.0 + np.exp(-z))
    bz = exp_neg_z * (bp * p * p)
    # z = X @ w + b
    bmatmul_X = unbroadcast(bz, matmul_X)
    bb = unbroadcast(bz, b)
    bw = matmul_right_cotangent(bmatmul_X, X, w)
    return value, (cotangent_like(bw, w), cotangent_like(bb, b))
