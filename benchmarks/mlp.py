"""A 3-layer MLP forward pass (784-256-256-10), returning the logits, and its hand-written tangent.

Hidden layer 1 uses tanh, hidden layer 2 uses ReLU written as np.maximum(z, 0.0), so both common
activations are covered. The parameters are one tuple (W1, b1, W2, b2, W3, b3) so that
`sd.jvp(mlp, wrt=0)` differentiates with respect to all weights and biases at once.
"""
import numpy as np

SIZES = (784, 256, 256, 10)
BATCH = 128


def mlp(params, x):
    W1, b1, W2, b2, W3, b3 = params
    h1 = np.tanh(x @ W1 + b1)
    h2 = np.maximum(h1 @ W2 + b2, 0.0)
    return h2 @ W3 + b3


def mlp_tangent(params, x, dparams):
    """Forward-mode tangent of mlp with respect to params, written by hand (plain NumPy, no in-place tricks)."""
    W1, b1, W2, b2, W3, b3 = params
    dW1, db1, dW2, db2, dW3, db3 = dparams
    z1 = x @ W1 + b1
    dz1 = x @ dW1 + db1
    h1 = np.tanh(z1)
    dh1 = (1.0 - h1 * h1) * dz1
    z2 = h1 @ W2 + b2
    dz2 = dh1 @ W2 + h1 @ dW2 + db2
    h2 = np.maximum(z2, 0.0)
    dh2 = dz2 * (z2 > 0.0)
    out = h2 @ W3 + b3
    dout = dh2 @ W3 + h2 @ dW3 + db3
    return out, dout


def init_params(rng):
    """Glorot-scaled float64 weights and small biases, as a tuple (W1, b1, W2, b2, W3, b3)."""
    params = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        params.append(rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / (n_in + n_out)))
        params.append(0.1 * rng.standard_normal(n_out))
    return tuple(params)


def make_inputs(seed=0):
    """(params, x, dparams): the parameters, a random batch and a random direction."""
    rng = np.random.default_rng(seed)
    params = init_params(rng)
    x = rng.standard_normal((BATCH, SIZES[0]))
    dparams = tuple(rng.standard_normal(p.shape) for p in params)
    return params, x, dparams
