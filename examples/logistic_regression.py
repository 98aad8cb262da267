"""Logistic regression: print the generated tangent of the loss and check it against finite differences.

Run: python examples/logistic_regression.py
"""
import numpy as np

import sourcediff as sd


def loss(w, b, X, y):
    """Mean binary cross-entropy of a linear classifier."""
    z = X @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def main():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5))
    y = (X @ np.arange(1.0, 6.0) + rng.standard_normal(200) > 0).astype(float)
    w, b = 0.1 * rng.standard_normal(5), 0.0

    loss_jvp = sd.jvp(loss, wrt=("w", "b"))
    print(loss_jvp.source)

    dw, db = rng.standard_normal(5), 1.0
    value, directional = loss_jvp(w, b, X, y, dw, db)
    print(f"loss = {value:.6f}, directional derivative along (dw, db) = {directional:.6f}")
    sd.check_grads(loss, (w, b, X, y), wrt=("w", "b"))
    print("check_grads: tangents and gradients agree with finite differences")


if __name__ == "__main__":
    main()
