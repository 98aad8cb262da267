"""The three objectives of benchmarks/reverse.py, each with a hand-written gradient and an autograd twin.

(a) `logreg(w, b, X, y)`: mean binary cross-entropy of a logistic regression, written plainly with
    np.exp and np.log (no log-sigmoid trick), n=10,000 samples, 100 features, a float bias.
(b) `mlp_loss(params, x, labels)`: a 784-256-256-10 MLP (tanh, tanh), softmax cross-entropy with a
    max shift and log-sum-exp, batch 128, float64; params = (W1, b1, W2, b2, W3, b3).
(c) `recurrence(a, x0)`: `x = a * math.sin(x) + x` for 1,000 steps on Python floats (math.sin, not
    np.sin), returning x.

The hand-written gradients are what an expert writes: the forward pass keeping what the backward
pass needs, then the backward pass with the usual simplifications (sigmoid + cross-entropy gives
p - y, softmax + cross-entropy with one-hot labels gives softmax - labels). Each returns
(value, gradient) as sd.vjp does; `*_grad_only` variants skip the loss where it costs extra work.
The autograd twins are the same code with autograd.numpy (anp.sin on floats for (c)).
"""
import math

import numpy as np

from mlp import BATCH, SIZES, init_params

N_SAMPLES, N_FEATURES = 10_000, 100
STEPS = 1000


# -- (a) logistic regression ------------------------------------------------------------------------

def logreg(w, b, X, y):
    z = X @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def logreg_hand(w, b, X, y):
    """(loss, (dw, db)) by hand."""
    z = X @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    loss = -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
    dz = (p - y) * (1.0 / y.shape[0])
    return loss, (dz @ X, float(np.sum(dz)))


def logreg_hand_grad_only(w, b, X, y):
    """(dw, db) by hand, without computing the loss."""
    p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
    dz = (p - y) * (1.0 / y.shape[0])
    return dz @ X, float(np.sum(dz))


def logreg_inputs(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N_SAMPLES, N_FEATURES))
    w_true = rng.standard_normal(N_FEATURES) / np.sqrt(N_FEATURES)
    y = (rng.random(N_SAMPLES) < 1.0 / (1.0 + np.exp(-(X @ w_true)))).astype(float)
    w = 0.1 * rng.standard_normal(N_FEATURES)
    return w, 0.1, X, y


# -- (b) MLP with softmax cross-entropy ---------------------------------------------------------------

def mlp_loss(params, x, labels):
    W1, b1, W2, b2, W3, b3 = params
    h1 = np.tanh(x @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    logits = h2 @ W3 + b3
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(logp * labels) / x.shape[0]


def _mlp_forward(params, x):
    W1, b1, W2, b2, W3, b3 = params
    h1 = np.tanh(x @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    logits = h2 @ W3 + b3
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    e = np.exp(shifted)
    s = np.sum(e, axis=1, keepdims=True)
    return h1, h2, shifted, e, s


def _mlp_backward(params, x, labels, h1, h2, e, s):
    W1, b1, W2, b2, W3, b3 = params
    d3 = (e / s - labels) * (1.0 / x.shape[0])  # one-hot labels: softmax - labels
    d2 = (d3 @ W3.T) * (1.0 - h2 * h2)
    d1 = (d2 @ W2.T) * (1.0 - h1 * h1)
    return (x.T @ d1, np.sum(d1, axis=0), h1.T @ d2, np.sum(d2, axis=0), h2.T @ d3, np.sum(d3, axis=0))


def mlp_hand(params, x, labels):
    """(loss, gradient tuple) by hand; assumes one-hot labels."""
    h1, h2, shifted, e, s = _mlp_forward(params, x)
    loss = -np.sum((shifted - np.log(s)) * labels) / x.shape[0]
    return loss, _mlp_backward(params, x, labels, h1, h2, e, s)


def mlp_hand_grad_only(params, x, labels):
    """The gradient tuple by hand, without computing the loss."""
    h1, h2, shifted, e, s = _mlp_forward(params, x)
    return _mlp_backward(params, x, labels, h1, h2, e, s)


def mlp_inputs(seed=0):
    rng = np.random.default_rng(seed)
    params = init_params(rng)
    x = rng.standard_normal((BATCH, SIZES[0]))
    labels = np.eye(SIZES[-1])[rng.integers(0, SIZES[-1], BATCH)]
    return params, x, labels


# -- (c) scalar recurrence --------------------------------------------------------------------------

def recurrence(a, x0):
    x = x0
    for i in range(1000):
        x = a * math.sin(x) + x
    return x


def recurrence_hand(a, x0):
    """(x, (dx/da, dx/dx0)): a forward loop storing the x values in a list, then a backward loop."""
    xs = []
    x = x0
    for i in range(1000):
        xs.append(x)
        x = a * math.sin(x) + x
    value = x
    ga = 0.0
    gx = 1.0
    for x in reversed(xs):
        ga += gx * math.sin(x)
        gx += gx * a * math.cos(x)
    return value, (ga, gx)


RECURRENCE_INPUTS = (0.002, 0.3)


# -- autograd twins ---------------------------------------------------------------------------------

def autograd_functions():
    """{case: f written with autograd.numpy}; imported lazily so the module works without autograd."""
    import autograd.numpy as anp

    def logreg_ag(w, b, X, y):
        z = X @ w + b
        p = 1.0 / (1.0 + anp.exp(-z))
        return -anp.mean(y * anp.log(p) + (1.0 - y) * anp.log(1.0 - p))

    def mlp_loss_ag(params, x, labels):
        W1, b1, W2, b2, W3, b3 = params
        h1 = anp.tanh(x @ W1 + b1)
        h2 = anp.tanh(h1 @ W2 + b2)
        logits = h2 @ W3 + b3
        shifted = logits - anp.max(logits, axis=1, keepdims=True)
        logp = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
        return -anp.sum(logp * labels) / x.shape[0]

    def recurrence_ag(a, x0):
        x = x0
        for i in range(1000):
            x = a * anp.sin(x) + x
        return x

    return {"logreg": logreg_ag, "mlp": mlp_loss_ag, "recurrence": recurrence_ag}
