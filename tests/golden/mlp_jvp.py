def softmax_cross_entropy_jvp_logits(logits, labels, dlogits):
    # shifted = logits - np.max(logits, axis=1, keepdims=True)
    max_logits = np.max(logits, axis=1, keepdims=True)
    mask = logits == expand_reduced(max_logits, logits, 1, True)
    shifted = logits - max_logits
    dshifted = dlogits - np.sum(dlogits * mask, axis=1, keepdims=True) / np.sum(mask, axis=1, keepdims=True)
    # log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    exp_shifted = np.exp(shifted)
    sum_exp_shifted = np.sum(exp_shifted, axis=1, keepdims=True)
    log_probs = shifted - np.log(sum_exp_shifted)
    dlog_probs = dshifted - np.sum(exp_shifted * dshifted, axis=1, keepdims=True) / sum_exp_shifted
    # return -np.mean(np.sum(labels * log_probs, axis=1))
    neg_mean_sum_labels = -np.mean(np.sum(labels * log_probs, axis=1))
    dneg_mean_sum_labels = -np.mean(np.sum(labels * dlog_probs, axis=1))
    return neg_mean_sum_labels, dneg_mean_sum_labels


def mlp_loss_jvp_params(params, X, labels, dparams):
    if type(params) is not float or type(dparams) is not float:
        require_real(params, 'params', mlp_loss, dparams)
    if type(X) is not float:
        refuse_complex(X, 'X', mlp_loss)
    if type(labels) is not float:
        refuse_complex(labels, 'labels', mlp_loss)
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
    h1 = np.tanh(np.matmul(X, W1) + b1)
    dh1 = (1.0 - h1 * h1) * (np.matmul(X, dW1) + db1)
    # h2 = np.tanh(h1 @ W2 + b2)
    dmatmul_h1_plus_b2 = np.matmul(dh1, W2) + np.matmul(h1, dW2) + db2
    h2 = np.tanh(np.matmul(h1, W2) + b2)
    dh2 = (1.0 - h2 * h2) * dmatmul_h1_plus_b2
    # logits = h2 @ W3 + b3
    logits = np.matmul(h2, W3) + b3
    dlogits = np.matmul(dh2, W3) + np.matmul(h2, dW3) + db3
    # return softmax_cross_entropy(logits, labels)
    softmax_cross_entropy_lo, dsoftmax_cross_entropy_lo = softmax_cross_entropy_jvp_logits(logits, labels, dlogits=dlogits)
    return softmax_cross_entropy_lo, dsoftmax_cross_entropy_lo
