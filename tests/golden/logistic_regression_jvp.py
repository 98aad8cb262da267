def loss_jvp_w_b(w, b, X, y, dw, db):
    if type(w) is not float or type(dw) is not float:
        require_real(w, 'w', loss, dw)
    if type(b) is not float or type(db) is not float:
        require_real(b, 'b', loss, db)
    if type(X) is not float:
        refuse_complex(X, 'X', loss)
    if type(y) is not float:
        refuse_complex(y, 'y', loss)
    # z = X @ w + b
    z = np.matmul(X, w) + b
    dz = np.matmul(X, dw) + db
    # p = 1.0 / (1.0 + np.exp(-z))
    exp_neg_z = np.exp(-z)
    one_plus_exp_neg_z = 1.0 + exp_neg_z
    p = 1.0 / one_plus_exp_neg_z
    dp = -(p * (exp_neg_z * -dz)) / one_plus_exp_neg_z
    # return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
    one_minus_y = 1.0 - y
    one_minus_p = 1.0 - p
    dtotal = y * (dp / p) + one_minus_y * (-dp / one_minus_p)
    mean_total = np.mean(y * np.log(p) + one_minus_y * np.log(one_minus_p))
    neg_mean_total = -mean_total
    dneg_mean_total = -np.mean(dtotal)
    return neg_mean_total, dneg_mean_total
