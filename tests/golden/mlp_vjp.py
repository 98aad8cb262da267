def softmax_cross_entropy_forward_logits(logits, labels):
    max_logits = np.max(logits, axis=1, keepdims=True)
    shifted = logits - max_logits
    exp_shifted = np.exp(shifted)
    sum_exp_shifted = np.sum(exp_shifted, axis=1, keepdims=True)
    log_sum_exp_shifted = np.log(sum_exp_shifted)
    log_probs = shifted - log_sum_exp_shifted
    labels_times_log_probs = labels * log_probs
    sum_labels = np.sum(labels_times_log_probs, axis=1)
    neg_mean_sum_labels = -np.mean(sum_labels)
    return neg_mean_sum_labels, (exp_shifted, labels, labels_times_log_probs, log_probs, log_sum_exp_shifted, logits, max_logits, shifted, sum_exp_shifted, sum_labels)


def softmax_cross_entropy_backward_logits(saved, bneg_mean_sum_labels):
    exp_shifted, labels, labels_times_log_probs, log_probs, log_sum_exp_shifted, logits, max_logits, shifted, sum_exp_shifted, sum_labels = saved
    # return -np.mean(np.sum(labels * log_probs, axis=1))
    blog_probs = unbroadcast(labels * unreduce(unreduce(-bneg_mean_sum_labels, sum_labels, None, False, mean=True), labels_times_log_probs, 1, False), log_probs)
    # log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    bshifted = unbroadcast(blog_probs, shifted)
    blog_sum_exp_shifted = unbroadcast(-blog_probs, log_sum_exp_shifted)
    bshifted = bshifted + exp_shifted * unreduce(blog_sum_exp_shifted / sum_exp_shifted, exp_shifted, 1, True)
    # shifted = logits - np.max(logits, axis=1, keepdims=True)
    blogits = unbroadcast(bshifted, logits)
    bmax_logits = unbroadcast(-bshifted, max_logits)
    mask = logits == expand_reduced(max_logits, logits, 1, True)
    blogits = add_cotangents(blogits, mask * expand_reduced(bmax_logits / np.sum(mask, axis=1, keepdims=True), logits, 1, True))
    return cotangent_like(blogits, logits),


def mlp_loss_vjp_params(params, X, labels, bsoftmax_cross_entropy_lo):
    if type(params) is not float:
        require_real(params, 'params', mlp_loss)
    if type(X) is not float:
        refuse_complex(X, 'X', mlp_loss)
    if type(labels) is not float:
        refuse_complex(labels, 'labels', mlp_loss)
    # W1, b1, W2, b2, W3, b3 = params
    W1 = params[0]
    b1 = params[1]
    W2 = params[2]
    b2 = params[3]
    W3 = params[4]
    b3 = params[5]
    # h1 = np.tanh(X @ W1 + b1)
    matmul_X = np.matmul(X, W1)
    h1 = np.tanh(matmul_X + b1)
    # h2 = np.tanh(h1 @ W2 + b2)
    matmul_h1 = np.matmul(h1, W2)
    h2 = np.tanh(matmul_h1 + b2)
    # logits = h2 @ W3 + b3
    matmul_h2 = np.matmul(h2, W3)
    logits = matmul_h2 + b3
    # return softmax_cross_entropy(logits, labels)
    softmax_cross_entropy_lo, softmax_cross_entropy_lo_2 = softmax_cross_entropy_forward_logits(logits, labels)
    value = softmax_cross_entropy_lo
    if type(bsoftmax_cross_entropy_lo) is not float or type(value) is not float:
        bsoftmax_cross_entropy_lo = require_cotangent(bsoftmax_cross_entropy_lo, value, mlp_loss)
    bparams = 0.0
    # return softmax_cross_entropy(logits, labels)
    blogits_2, = softmax_cross_entropy_backward_logits(softmax_cross_entropy_lo_2, bsoftmax_cross_entropy_lo)
    # logits = h2 @ W3 + b3
    bmatmul_h2 = unbroadcast(blogits_2, matmul_h2)
    bb3 = unbroadcast(blogits_2, b3)
    bh2 = matmul_left_cotangent(bmatmul_h2, h2, W3)
    bW3 = matmul_right_cotangent(bmatmul_h2, h2, W3)
    # h2 = np.tanh(h1 @ W2 + b2)
    bmatmul_h1_plus_b2 = (1.0 - h2 * h2) * bh2
    bmatmul_h1 = unbroadcast(bmatmul_h1_plus_b2, matmul_h1)
    bb2 = unbroadcast(bmatmul_h1_plus_b2, b2)
    bh1 = matmul_left_cotangent(bmatmul_h1, h1, W2)
    bW2 = matmul_right_cotangent(bmatmul_h1, h1, W2)
    # h1 = np.tanh(X @ W1 + b1)
    bmatmul_X_plus_b1 = (1.0 - h1 * h1) * bh1
    bmatmul_X = unbroadcast(bmatmul_X_plus_b1, matmul_X)
    bb1 = unbroadcast(bmatmul_X_plus_b1, b1)
    bW1 = matmul_right_cotangent(bmatmul_X, X, W1)
    # W1, b1, W2, b2, W3, b3 = params
    bparams = add_at(bparams, params, 5, bb3)
    bparams = add_at(bparams, params, 4, bW3)
    bparams = add_at(bparams, params, 3, bb2)
    bparams = add_at(bparams, params, 2, bW2)
    bparams = add_at(bparams, params, 1, bb1)
    bparams = add_at(bparams, params, 0, bW1)
    return value, cotangent_like(bparams, params)
