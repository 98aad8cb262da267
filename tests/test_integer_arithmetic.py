"""Integer index arithmetic stays integer in generated code (issue 10, defect 9): `W[3 * b:]` with an
integer b was emitted as `slice(3.0 * b, None, None)`. Every mode against central differences."""
import re

import numpy as np
import pytest

import sourcediff as sd
from corpus_tools import central_gradient


def tail_from_block(W, b):
    return np.sum(W[3 * b:] ** 2)


def one_block(W, b):
    return np.sum(np.sin(W[3 * b:3 * b + 3]) * W[3 * b + 1])


def neighbours(x, i):
    return x[i + 1] * x[i - 1] + x[2 * i] ** 2


def halves(x, n):
    return np.sum(x[:n // 2] * 3.0) - np.sum(x[n // 2:] ** 3)


def doubled_range(x, n):
    total = 0.0
    for j in range(2 * n):
        total = total + x[j] * x[j + 1]
    return total


def lstm_gates(h, k, H):
    """ADBench's LSTM style: gates cut out of one vector by block arithmetic."""
    forget = 1.0 / (1.0 + np.exp(-h[:, k * H:(k + 1) * H]))
    ingate = np.tanh(h[:, (k + 1) * H:(k + 2) * H])
    return np.sum(forget * ingate)


def in_place_block(W, b):
    out = np.zeros(6)
    out[2 * b:2 * b + 2] = W[3 * b:3 * b + 2] * 2.0
    return np.sum(out ** 2)


def index_then_enumerate(x, A):
    """The fuzzer's seed 130000308: `i`, a loop's index, then a variable of the next loop body (its index
    from enumerate with a start): the adjoint of `x[i]` read the first loop's exemption and no saved `i`."""
    for i in range(2):
        x = x * 1.5
    total = 0.0
    for j, row in enumerate(A, 1):
        i = j - 1
        total = total + np.sum(row) * x[i] ** 2
    return total


def index_before_its_loop(x, n):
    i = n + 1
    y = x[i] * x[i]
    for i in range(n):
        y = y + x[i] * x[i + 1]
    return y


def counter_named_like_a_value(x, n):
    """i carries a derivative before the loop that counts with it: the counter's own values carry none
    (its tangent and cotangent were those of the value before: silently wrong in both modes)."""
    i = x[0] * 2.0
    total = i
    for i in range(n):
        total = total + x[i] * i
    for k, t in enumerate(x):
        k = t * 0.5
        total = total + k
    for k, t in enumerate(x):
        total = total + t * k
    return total


def index_assigned_in_its_loop(x, n):
    total = 0.0
    for i in range(n):
        i = n - 1 - i
        total = total + x[i] ** 3
    return total


CASES = [
    (tail_from_block, lambda rng: (rng.standard_normal(9), 1)),
    (one_block, lambda rng: (rng.standard_normal(9), 2)),
    (neighbours, lambda rng: (rng.standard_normal(7), 2)),
    (halves, lambda rng: (rng.standard_normal(8), 8)),
    (doubled_range, lambda rng: (rng.standard_normal(8), 3)),
    (lstm_gates, lambda rng: (rng.standard_normal((2, 12)), 1, 4)),
    (in_place_block, lambda rng: (rng.standard_normal(9), 1)),
    (index_then_enumerate, lambda rng: (rng.standard_normal(3), rng.standard_normal((3, 2)))),
    (index_before_its_loop, lambda rng: (rng.standard_normal(5), 2)),
    (index_assigned_in_its_loop, lambda rng: (rng.standard_normal(4), 3)),
    (counter_named_like_a_value, lambda rng: (rng.standard_normal(4), 3)),
]


@pytest.mark.parametrize("f, make", CASES, ids=[f.__name__ for f, _ in CASES])
def test_integer_index_arithmetic_in_every_mode(f, make):
    args = make(np.random.default_rng(0))
    expected = central_gradient(lambda x: f(x, *args[1:]), args[0])
    np.testing.assert_allclose(sd.grad(f)(*args), expected, rtol=1e-6, atol=1e-8)
    forward, backward = sd.vjp(f, motion="split")
    value, saved = forward(*args)
    np.testing.assert_allclose(backward(saved, 1.0), expected, rtol=1e-6, atol=1e-8)
    direction = np.random.default_rng(1).standard_normal(np.shape(args[0]))
    _, tangent = sd.jvp(f)(*args, direction)
    assert tangent == pytest.approx(np.sum(expected * direction), rel=1e-6, abs=1e-8)
    for directions in (1, 4):  # a forward gradient runs the index arithmetic with tangents of both forms
        _, estimate = sd.forward_gradient(f, directions=directions)(*args, rng=3)
        assert np.shape(estimate) == np.shape(args[0])


@pytest.mark.parametrize("f", [f for f, _ in CASES], ids=lambda f: f.__name__)
def test_index_arithmetic_is_written_with_integers(f):
    for source in (sd.grad(f).source, sd.jvp(f).source):
        indices = re.findall(r"\[[^\]]*\]|slice\([^)]*\)|range\([^)]*\)", source)
        assert indices and not [i for i in indices if re.search(r"\d\.\d", i)]
