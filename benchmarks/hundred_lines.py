"""A realistic 100-line function for timing sourcediff's code generation (benchmarks/forward.py).

A small sequence model with a data-dependent training objective: feature normalisation, a tanh
recurrent cell unrolled by a loop, attention-style pooling, a robust (Huber) loss chosen per sample
with ifs, and scalar penalties using the math module. The body of `hundred_lines` is 100 lines.
"""
import math

import numpy as np


def hundred_lines(W, U, v, X, y, temperature):
    n_steps, n_features = X.shape
    hidden = W.shape[0]
    # normalise the inputs
    mean = np.mean(X, axis=0)
    centred = X - mean
    scale = np.sqrt(np.mean(centred * centred, axis=0) + 1e-6)
    Z = centred / scale
    # unroll a recurrent cell
    h = np.zeros(hidden)
    states = []
    energy = 0.0
    for t in range(n_steps):
        pre = W @ h + U @ Z[t]
        if t % 2 == 0:
            h = np.tanh(pre)
        else:
            h = 0.5 * h + 0.5 * np.tanh(pre)
        states.append(h)
        energy = energy + np.sum(h * h) / hidden
    H = np.stack(states)
    # attention-style pooling over time
    scores = H @ v / temperature
    scores = scores - np.max(scores)
    weights = np.exp(scores)
    weights = weights / np.sum(weights)
    pooled = weights @ H
    # a per-step prediction and a robust loss
    predictions = H @ v
    residual = predictions - y
    delta = 1.0
    loss = 0.0
    count = 0
    for t in range(n_steps):
        r = residual[t]
        if abs(r) <= delta:
            loss = loss + 0.5 * r * r
        else:
            loss = loss + delta * (abs(r) - 0.5 * delta)
        count = count + 1
    loss = loss / count
    # a smooth penalty on the pooled state
    norm_pooled = np.sqrt(np.sum(pooled * pooled) + 1e-12)
    if norm_pooled > 1.0:
        penalty = math.log(norm_pooled) + 0.5
    else:
        penalty = 0.5 * norm_pooled * norm_pooled
    # weight decay with a soft threshold
    decay = 0.0
    rows = W.shape[0]
    i = 0
    while i < rows:
        row = W[i]
        row_norm = np.sqrt(np.sum(row * row))
        if row_norm > 0.5:
            decay = decay + (row_norm - 0.25)
        else:
            decay = decay + row_norm * row_norm
        i = i + 1
    decay = decay / rows
    # a temperature term computed with scalar math
    log_t = math.log(temperature)
    entropy = -np.sum(weights * np.log(weights + 1e-12))
    tempered = math.exp(-0.5 * log_t * log_t) * entropy
    # gate between two heads by the sign of the mean residual
    mean_residual = np.mean(residual)
    if mean_residual > 0.0:
        head = np.tanh(pooled) @ v
    else:
        head = np.sin(pooled) @ v
    # smooth clipping of the energy
    energy = energy / n_steps
    clipped = energy / (1.0 + abs(energy))
    # a polynomial correction evaluated by Horner's rule
    coefficients = [0.1, -0.05, 0.02, -0.01]
    poly = 0.0
    for c in coefficients:
        poly = poly * head + c
    # cross terms between the first and last states
    first = H[0]
    last = H[n_steps - 1]
    cross = np.dot(first, last) / (np.linalg.norm(first) * np.linalg.norm(last) + 1e-9)
    drift = np.sum((last - first) ** 2)
    # combine the terms with data-dependent weights
    terms = [loss, penalty, decay, tempered, clipped, poly, cross, drift]
    total = 0.0
    k = 0
    for term in terms:
        weight = 1.0 / (1.0 + k)
        total = total + weight * term
        k = k + 1
    if total > 10.0:
        total = 10.0 + math.log1p(total - 10.0)
    # a final variance-based regulariser
    centred_predictions = predictions - np.mean(predictions)
    spread = np.mean(centred_predictions * centred_predictions) if n_steps > 1 else 0.0
    smooth = math.sqrt(spread + 1.0) - 1.0
    total = total + 0.01 * smooth
    ratio = total / (1.0 + math.fabs(mean_residual))
    result = 0.9 * total + 0.1 * ratio
    return result


def make_inputs(seed=0, hidden=8, n_features=5, n_steps=12):
    rng = np.random.default_rng(seed)
    W = 0.3 * rng.standard_normal((hidden, hidden))
    U = 0.3 * rng.standard_normal((hidden, n_features))
    v = rng.standard_normal(hidden)
    X = rng.standard_normal((n_steps, n_features))
    y = rng.standard_normal(n_steps)
    return W, U, v, X, y, 1.5
