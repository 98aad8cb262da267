"""Lists, tuples and dicts of differentiable values, written as users write them: literals handed to
NumPy, nested parameters, self-assignments, concatenations, dict literals. Each function runs in
forward mode, reverse mode (joint and split), against central finite differences, and its gradient
must have its argument's structure."""
import numpy as np
import pytest

import sourcediff as sd
from corpus_tools import flat

H = 1e-6


def structure(tree):
    """Container types, dict keys and leaf shapes; a float leaf is ('float',)."""
    if isinstance(tree, (list, tuple)):
        return type(tree).__name__, [structure(child) for child in tree]
    if isinstance(tree, dict):
        return {key: structure(tree[key]) for key in tree}
    return ("float",) if isinstance(tree, float) else np.shape(tree)


def rebuild(tree, values):
    """tree with its leaves replaced, in order, by the next values (arrays keep their shapes)."""
    if isinstance(tree, (list, tuple)):
        return type(tree)(rebuild(child, values) for child in tree)
    if isinstance(tree, dict):
        return {key: rebuild(tree[key], values) for key in tree}
    if isinstance(tree, np.ndarray):
        return np.reshape([next(values) for _ in range(tree.size)], tree.shape)
    return float(next(values))


def unflatten(tree, vector):
    return rebuild(tree, iter(vector))


def numerical_gradient(f, args, position):
    """The gradient of the scalar f with respect to args[position], by central differences."""
    base = flat(args[position])
    gradient = np.zeros_like(base)
    for k in range(base.size):
        values = []
        for h in (H, -H):
            moved = base.copy()
            moved[k] += h
            changed = list(args)
            changed[position] = unflatten(args[position], moved)
            values.append(float(f(*changed)))
        gradient[k] = (values[0] - values[1]) / (2 * H)
    return unflatten(args[position], gradient)


def assert_close(actual, expected):
    assert structure(actual) == structure(expected), (structure(actual), structure(expected))
    np.testing.assert_allclose(flat(actual), flat(expected), rtol=1e-5, atol=1e-6)


def check(f, *args, wrt=0):
    """f's gradient in every mode against central differences, with its argument's structure."""
    positions = wrt if isinstance(wrt, tuple) else (wrt,)
    expected = tuple(numerical_gradient(f, args, p) for p in positions)
    value, joint = sd.value_and_grad(f, wrt=positions)(*args)
    assert value == pytest.approx(f(*args))
    forward, backward = sd.vjp(f, wrt=positions, motion="split")
    split_value, saved = forward(*args)
    assert split_value == pytest.approx(f(*args))
    split = backward(saved, 1.0)
    again = backward(saved, 2.0)
    rng = np.random.default_rng(0)
    tangents = [unflatten(args[p], rng.standard_normal(flat(args[p]).size)) for p in positions]
    jvp_value, directional = sd.jvp(f, wrt=positions)(*args, *tangents)
    for got, twice, e in zip(joint, again, expected):
        assert_close(got, e)
        np.testing.assert_allclose(flat(twice), 2 * flat(e), rtol=1e-5, atol=1e-6)
    for got, e in zip(split, expected):
        assert_close(got, e)
    assert jvp_value == pytest.approx(f(*args))
    assert float(directional) == pytest.approx(sum(flat(t) @ flat(e) for t, e in zip(tangents, expected)),
                                               rel=1e-5, abs=1e-6)
    return joint


# -- 1. list and tuple literals handed to NumPy ------------------------------------------------------

def list_literal_sum(a):
    b = [1, a * a, 2]
    return np.sum(b)


def list_of_products_sum(x):
    b = [1.0, x[0] * x[1] * x[2], 2.0]
    return np.sum(b)


def array_of_two(a, b):
    v = np.array([a, b * a])
    return np.sum(v ** 2)


def tuple_literal_mean(a, b):
    return np.mean((a, a * b, 3.0))


def stacked_rows(x, y):
    m = np.stack([x, x * y, y])
    return np.sum(np.sin(m))


def comprehension_to_numpy(x):
    squares = [x[i] * x[i] for i in range(3)]
    return np.prod(np.exp(squares))


def list_parameter_to_numpy(xs):
    return np.sum(np.tanh(xs)) * 2.0


def dot_of_literal(a, x):
    return np.dot([a, 2.0 * a, 1.0], x)


def literal_read_and_summed(a, b):
    t = [a, b * b]
    return np.sum(t) * t[1]


@pytest.mark.parametrize("f, args, wrt", [
    (list_literal_sum, (3.0,), 0),
    (list_of_products_sum, (np.array([1.5, 2.0, -0.5]),), 0),
    (array_of_two, (1.5, -0.7), (0, 1)),
    (tuple_literal_mean, (1.5, -0.7), (0, 1)),
    (stacked_rows, (np.array([0.3, -1.2]), np.array([0.5, 2.0])), (0, 1)),
    (comprehension_to_numpy, (np.array([0.3, -0.2, 0.4]),), 0),
    (list_parameter_to_numpy, ([0.3, -0.2, 0.4],), 0),
    (list_parameter_to_numpy, ((0.3, -0.2),), 0),
    (list_parameter_to_numpy, ([np.array([0.3, 0.1]), np.array([-0.2, 0.7])],), 0),
    (dot_of_literal, (0.7, np.array([1.0, -2.0, 0.5])), (0, 1)),
    (literal_read_and_summed, (0.7, -1.3), (0, 1)),
])
def test_containers_handed_to_numpy(f, args, wrt):
    check(f, *args, wrt=wrt)


def test_list_literal_gradient_is_not_zero():
    assert sd.grad(list_literal_sum)(3.0) == pytest.approx(6.0)
