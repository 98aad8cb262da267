"""Forward gradients against reverse mode when training on scikit-learn's bundled digits (1797 8x8
images, 64 features scaled to [0, 1], 10 classes; nothing is downloaded).

Two models, multinomial logistic regression (64 -> 10) and an MLP (64-64-64-10, tanh), each trained
with three gradients: the forward gradient with one direction, with eight (`directions=8`, one
fused pass), and the reverse-mode gradient. All use Adam with the rate initial * exp(-1e-4 t) and
minibatches of 64 drawn from one seeded generator (which also draws the forward-gradient directions).
The initial rates were tuned per method in a separate sweep (3000 steps, one seed): each is the one
with the lowest final training loss among {3e-3, 1e-2, 3e-2, 0.1, 0.3} for logistic regression and
{3e-4, 1e-3, 3e-3, 1e-2, 3e-2} for the MLP (RATES below). Adam rather
than SGD because the forward gradient's variance grows with the number of parameters; Adam's
per-parameter scaling keeps one rate usable.

Timing covers the gradient and the optimiser step only; the loss on the whole training set, which
the plots show, is evaluated every few steps outside the clock.

Run: python examples/forward_gradient_digits.py [--steps N] [--out DIR]
writes DIR/digits_logistic.png and DIR/digits_mlp.png (DIR defaults to docs/images).
"""
import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import sourcediff as sd  # noqa: E402
from mlp import init_params, softmax_cross_entropy  # noqa: E402  (examples/mlp.py)
from sourcediff.optim import Adam, exponential_decay  # noqa: E402

IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"
BATCH = 64
DECAY = 1e-4
METHODS = {"forward gradient, k=1": 1, "forward gradient, k=8": 8, "reverse mode": None}
RATES = {
    "logistic": {"forward gradient, k=1": 0.03, "forward gradient, k=8": 0.03, "reverse mode": 0.3},
    "mlp": {"forward gradient, k=1": 3e-3, "forward gradient, k=8": 3e-3, "reverse mode": 1e-2},
}


def logistic_logits(params, X):
    W, b = params
    return X @ W + b


def mlp_logits(params, X):
    W1, b1, W2, b2, W3, b3 = params
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    return h2 @ W3 + b3


def logistic_loss(params, X, labels):
    return softmax_cross_entropy(logistic_logits(params, X), labels)


def mlp_loss(params, X, labels):
    return softmax_cross_entropy(mlp_logits(params, X), labels)


# name: (loss, logits for the accuracy, layer sizes)
MODELS = {"logistic": (logistic_loss, logistic_logits, [64, 10]), "mlp": (mlp_loss, mlp_logits, [64, 64, 64, 10])}


def gradient_function(loss, directions):
    """(params, X, labels, rng) -> (minibatch loss, gradient or its estimate)."""
    if directions is None:
        value_and_grad = sd.value_and_grad(loss)
        return lambda params, X, labels, rng: value_and_grad(params, X, labels)
    forward = sd.forward_gradient(loss, directions=directions)
    return lambda params, X, labels, rng: forward(params, X, labels, rng=rng)


def train(loss, params, X, labels, directions, rate, steps, eval_every):
    """Adam on minibatches; returns the final params and the curve (step, seconds, training loss)."""
    rng = np.random.default_rng(0)
    step_gradient = gradient_function(loss, directions)
    optimizer = Adam(exponential_decay(rate, DECAY))
    seconds, curve = 0.0, [(0, 0.0, loss(params, X, labels))]
    for step in range(1, steps + 1):
        start = time.perf_counter()
        batch = rng.integers(0, len(X), BATCH)
        _, gradient = step_gradient(params, X[batch], labels[batch], rng)
        params = optimizer.step(params, gradient)
        seconds += time.perf_counter() - start
        if step % eval_every == 0 or step == steps:
            curve.append((step, seconds, loss(params, X, labels)))
    return params, np.array(curve)


def plot(name, curves, path):
    fig, (by_step, by_time) = plt.subplots(1, 2, figsize=(11, 4.2))
    for label, curve in curves.items():
        by_step.plot(curve[:, 0], curve[:, 2], label=label)
        by_time.plot(curve[:, 1], curve[:, 2], label=label)
    by_step.set(xlabel="iteration", ylabel="training loss (all 1797 images)", yscale="log")
    by_time.set(xlabel="wall-clock time of gradient + update (s)", yscale="log")
    by_step.legend()
    fig.suptitle(f"digits, {'logistic regression' if name == 'logistic' else 'MLP 64-64-64-10 (tanh)'}: "
                 f"Adam, batch {BATCH}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    """Train every model with every method; return {model: {method: curve}} (columns step, s, loss)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000, help="optimiser steps per run (default 3000)")
    parser.add_argument("--out", type=Path, default=IMAGES, help="folder for the PNGs (default docs/images)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    digits = load_digits()
    X, labels = digits.data / 16.0, np.eye(10)[digits.target]
    results = {}
    for name, (loss, logits, sizes) in MODELS.items():
        initial = init_params(np.random.default_rng(1), sizes)
        sd.check_grads(loss, (initial, X[:16], labels[:16]), wrt="params")
        print(f"{name}: {sum(p.size for p in initial)} parameters, {args.steps} steps, "
              f"gradients checked against finite differences")
        curves = {}
        for label, directions in METHODS.items():
            params, curves[label] = train(loss, initial, X, labels, directions, RATES[name][label], args.steps,
                                          max(1, args.steps // 100))
            accuracy = np.mean(np.argmax(logits(params, X), axis=1) == digits.target)
            print(f"  {label:<22} rate {RATES[name][label]:<6g} final training loss {curves[label][-1, 2]:.4f}  "
                  f"accuracy {accuracy:.3f}  time {curves[label][-1, 1]:.2f} s")
        path = args.out / f"digits_{name}.png"
        plot(name, curves, path)
        print(f"  -> {path}")
        results[name] = curves
    return results


if __name__ == "__main__":
    main()
