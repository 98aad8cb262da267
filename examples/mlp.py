"""A small MLP: print the generated tangent of its loss with respect to all parameters and check it.

Run: python examples/mlp.py
"""
import numpy as np

import sourcediff as sd


def softmax_cross_entropy(logits, labels):
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(np.sum(labels * log_probs, axis=1))


def mlp_loss(params, X, labels):
    """Two tanh hidden layers and a softmax output; params is a tuple of weights and biases."""
    W1, b1, W2, b2, W3, b3 = params
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    logits = h2 @ W3 + b3
    return softmax_cross_entropy(logits, labels)


def init_params(rng, sizes):
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params += [rng.standard_normal((n_in, n_out)) / np.sqrt(n_in), np.zeros(n_out)]
    return tuple(params)


def main():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 8))
    labels = np.eye(3)[rng.integers(0, 3, size=32)]
    params = init_params(rng, [8, 16, 16, 3])

    loss_jvp = sd.jvp(mlp_loss, wrt="params")
    print(loss_jvp.source)

    direction = tuple(rng.standard_normal(p.shape) for p in params)
    value, directional = loss_jvp(params, X, labels, direction)
    print(f"loss = {value:.6f}, directional derivative = {directional:.6f}")
    sd.check_grads(mlp_loss, (params, X, labels), wrt="params")
    print("check_grads: tangents and gradients agree with finite differences")


if __name__ == "__main__":
    main()
