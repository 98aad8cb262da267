def softmax_cross_entropy_jvp_logits(logits, labels, *, dlogits):
    # shifted = logits - np.max(logits, axis=1, keepdims=True)
    max_logits = np.max(logits, axis=1, keepdims=True)
    mask = logits == expand_reduced(max_logits, logits, 1, True)
    dmax_logits = np.sum(dlogits * mask, axis=1, keepdims=True) / np.sum(mask, axis=1, keepdims=True)
    shifted = logits - max_logits
    dshifted = dlogits - dmax_logits
    # log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    exp_shifted = np.exp(shifted)
    dexp_shifted = exp_shifted * dshifted
    sum_exp_shifted = np.sum(exp_shifted, axis=1, keepdims=True)
    dsum_exp_shifted = np.sum(dexp_shifted, axis=1, keepdims=True)
    log_sum_exp_shifted = np.log(sum_exp_shifted)
    dlog_sum_exp_shifted = dsum_exp_shifted / sum_exp_shifted
    log_probs = shifted - log_sum_exp_shifted
    dlog_probs = dshifted - dlog_sum_exp_shifted
    # return -np.mean(np.sum(labels * log_probs, axis=1))
    labels_times_log_probs = labels * log_probs
    dlabels_times_log_probs = labels * dlog_probs
    sum_labels = np.sum(labels_times_log_probs, axis=1)
    dsum_labels = np.sum(dlabels_times_log_probs, axis=1)
    mean_sum_labels = np.mean(sum_labels)
    dmean_sum_labels = np.mean(dsum_labels)
    neg_mean_sum_labels = -mean_sum_labels
    dneg_mean_sum_labels = -dmean_sum_labels
    return neg_mean_sum_labels, dneg_mean_sum_labels


def mlp_loss_jvp_params(params, X, labels, *, dparams):
    # W1, b1, W2, b2, W3, b3 = params
    W1 = params[0]
    dW1 = dparams[0]
    b1 = params[1]
    db1 = dparams[1]
    W2 = params[2]
    dW2 = dparams[2]
    b2 = params[3]
    db2 = dparams[3]
    W3 = params[4]
    dW3 = dparams[4]
    b3 = params[5]
    db3 = dparams[5]
    # h1 = np.tanh(X @ W1 + b1)
    matmul_X = np.matmul(X, W1)
    dmatmul_X = np.matmul(X, dW1)
    matmul_X_plus_b1 = matmul_X + b1
    dmatmul_X_plus_b1 = dmatmul_X + db1
    h1 = np.tanh(matmul_X_plus_b1)
    dh1 = (1.0 - h1 * h1) * dmatmul_X_plus_b1
    # h2 = np.tanh(h1 @ W2 + b2)
    matmul_h1 = np.matmul(h1, W2)
    dmatmul_h1 = np.matmul(dh1, W2) + np.matmul(h1, dW2)
    matmul_h1_plus_b2 = matmul_h1 + b2
    dmatmul_h1_plus_b2 = dmatmul_h1 + db2
    h2 = np.tanh(matmul_h1_plus_b2)
    dh2 = (1.0 - h2 * h2) * dmatmul_h1_plus_b2
    # logits = h2 @ W3 + b3
    matmul_h2 = np.matmul(h2, W3)
    dmatmul_h2 = np.matmul(dh2, W3) + np.matmul(h2, dW3)
    logits = matmul_h2 + b3
    dlogits = dmatmul_h2 + db3
    # return softmax_cross_entropy(logits, labels)
    softmax_cross_entropy_lo, dsoftmax_cross_entropy_lo = softmax_cross_entropy_jvp_logits(logits, labels, dlogits=dlogits)
    return softmax_cross_entropy_lo, dsoftmax_cross_entropy_lo
