"""Forward gradients: vector-mode tangents against finite differences (every corpus case), the
estimate's unbiasedness against reverse mode and finite differences, vector mode against single
directions, reproducibility, and the errors."""
import copy

import numpy as np
import pytest

import sourcediff as sd
from corpus import CASES
from corpus_tools import finite_difference_jvp, flat, sample, tree_map
from sourcediff.api import _tangent_parameters, resolve_wrt
from sourcediff.derivation import Derivation
from sourcediff.runtime import normal_like, rademacher_like

DIRECTIONS = 11  # a size no corpus argument has, so a misplaced direction axis cannot broadcast by chance


def vector_jvp(fn, wrt, count):
    """fn's tangent in vector mode: each tangent carries `count` directions on a leading axis."""
    derivation = Derivation(count)
    return derivation.compile(derivation.function_jvp(fn, resolve_wrt(fn, wrt), entry=True)[0])


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_vector_mode_matches_finite_differences_along_each_direction(case):
    draws = [sample(case, seed) for seed in range(DIRECTIONS)]
    args, positions, _ = draws[0]
    stacked = tuple(tree_map(lambda *leaves: np.stack([np.asarray(leaf, dtype=float) for leaf in leaves]),
                             *[draw[2][i] for draw in draws]) for i in range(len(positions)))
    generated = vector_jvp(case.fn, case.wrt, DIRECTIONS)
    if case.fn.__defaults__:
        value, tangent = generated(*copy.deepcopy(args), **dict(zip(_tangent_parameters(generated), stacked)))
    else:
        value, tangent = generated(*copy.deepcopy(args), *stacked)
    np.testing.assert_allclose(flat(value), flat(case.fn(*copy.deepcopy(args))), rtol=1e-10, atol=1e-12)
    for j, (_, _, tangents) in enumerate(draws):
        along_j = tree_map(lambda t: np.asarray(t)[j] if np.ndim(t) else t, tangent)
        expected = finite_difference_jvp(case.fn, args, positions, tangents)
        np.testing.assert_allclose(flat(along_j) * np.ones_like(expected), expected, rtol=1e-5, atol=1e-6)


# -- the estimate -----------------------------------------------------------------------------------

def logistic_loss(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def two_layer_loss(params, x, labels):
    W1, b1, W2 = params
    h = np.tanh(x @ W1 + b1)
    logits = h @ W2
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(np.sum(labels * log_probs, axis=1))


def rosenbrock(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


def logistic_args(rng):
    X = rng.standard_normal((40, 4))
    return rng.standard_normal(4), X, (rng.random(40) < 0.5) * 1.0


def two_layer_args(rng):
    params = (0.5 * rng.standard_normal((3, 5)), 0.1 * rng.standard_normal(5), 0.5 * rng.standard_normal((5, 4)))
    labels = np.eye(4)[rng.integers(0, 4, 8)]
    return params, rng.standard_normal((8, 3)), labels


def finite_difference_gradient(f, args, position, h=1e-6):
    """The gradient of f with respect to args[position] (a float, an array or a tuple of arrays), by
    central differences, in that argument's structure."""
    def partial(leaf_index, flat_index):
        def moved(sign):
            shifted = list(copy.deepcopy(args))
            leaves = list(shifted[position]) if isinstance(shifted[position], tuple) else [shifted[position]]
            leaf = np.array(leaves[leaf_index], dtype=float)
            leaf.flat[flat_index] += sign * h
            leaves[leaf_index] = leaf if np.ndim(leaf) else float(leaf)
            shifted[position] = tuple(leaves) if isinstance(shifted[position], tuple) else leaves[0]
            return f(*shifted)
        return (moved(1) - moved(-1)) / (2 * h)

    target = args[position]
    leaves = list(target) if isinstance(target, tuple) else [target]
    grads = [np.reshape([partial(i, k) for k in range(np.size(leaf))], np.shape(leaf)) for i, leaf in enumerate(leaves)]
    return tuple(grads) if isinstance(target, tuple) else grads[0]


ESTIMATE_CASES = [
    ("logistic", logistic_loss, logistic_args, 0),
    ("two_layer_tuple_params", two_layer_loss, two_layer_args, 0),
    ("rosenbrock_floats", rosenbrock, lambda rng: (-0.5, 0.8), (0, 1)),
]
OPTIONS = [dict(), dict(distribution="rademacher"), dict(directions=4), dict(directions=2, antithetic=True),
           dict(directions=4, distribution="rademacher")]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "default")
@pytest.mark.parametrize("name,f,make_args,wrt", ESTIMATE_CASES, ids=[c[0] for c in ESTIMATE_CASES])
def test_estimate_is_unbiased(name, f, make_args, wrt, options):
    """The mean of many estimates approaches the gradient, within 5 standard errors (from the sample
    variance) of the gradient by reverse mode, which itself matches finite differences."""
    args = make_args(np.random.default_rng(0))
    fg = sd.forward_gradient(f, wrt=wrt, **options)
    samples = 4000
    rng = np.random.default_rng(1)
    draws = [fg(*args, rng=rng) for _ in range(samples)]
    value = f(*args)
    assert all(d[0] == pytest.approx(value, rel=1e-12) for d in draws[:3])
    exact = sd.grad(f, wrt=wrt)(*args)
    positions = wrt if isinstance(wrt, tuple) else (wrt,)
    exact_parts = exact if isinstance(wrt, tuple) else (exact,)
    for i, (p, part) in enumerate(zip(positions, exact_parts)):
        np.testing.assert_allclose(flat(part), flat(finite_difference_gradient(f, args, p)), rtol=1e-5, atol=1e-7)
        estimates = np.array([flat(d[1][i] if isinstance(wrt, tuple) else d[1]) for d in draws])
        mean = estimates.mean(axis=0)
        standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(samples)
        assert np.all(np.abs(mean - flat(part)) <= 5 * standard_error + 1e-12), (mean, flat(part), standard_error)


def test_estimate_has_the_arguments_structure():
    args = two_layer_args(np.random.default_rng(0))
    _, g = sd.forward_gradient(two_layer_loss)(*args, rng=0)
    assert isinstance(g, tuple) and [np.shape(p) for p in g] == [np.shape(p) for p in args[0]]
    _, (gx, gy) = sd.forward_gradient(rosenbrock, wrt=(0, 1), directions=4)(0.5, 0.5, rng=0)
    assert type(gx) is float and type(gy) is float


@pytest.mark.parametrize("distribution", ["normal", "rademacher"])
def test_vector_mode_equals_mean_of_single_directions(distribution):
    """k directions in one call give the mean of k single-direction calls that draw the same directions
    (one generator, one array argument of 64 entries: its stream yields the same directions either way)."""
    w = np.random.default_rng(2).standard_normal(64) * 0.1
    X = np.random.default_rng(3).standard_normal((30, 64))
    y = (np.random.default_rng(4).random(30) < 0.5) * 1.0
    k = 8
    value, vector_estimate = sd.forward_gradient(logistic_loss, directions=k, distribution=distribution)(w, X, y, rng=5)
    single = sd.forward_gradient(logistic_loss, distribution=distribution)
    shared = np.random.default_rng(5)
    singles = [single(w, X, y, rng=shared) for _ in range(k)]
    assert all(s[0] == value for s in singles)
    np.testing.assert_allclose(vector_estimate, np.mean([s[1] for s in singles], axis=0), rtol=1e-12, atol=1e-15)


def logistic_gradient(w, X, y):
    """The gradient of logistic_loss, by hand: X^T (p - y) / n."""
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return X.T @ (p - y) / len(y)


def test_antithetic_pairs_each_direction_with_its_negation():
    """With v and -v the two estimates coincide ((∇f·v) v is even in v), so the mean is v's estimate."""
    w, X, y = logistic_args(np.random.default_rng(0))
    _, estimate = sd.forward_gradient(logistic_loss, directions=2, antithetic=True)(w, X, y, rng=7)
    v = normal_like(w, np.random.default_rng(7), 1)[0]
    gradient = logistic_gradient(w, X, y)
    np.testing.assert_allclose(estimate, (gradient @ v) * v, rtol=1e-10)


def test_seeded_runs_are_reproducible_and_generators_advance():
    args = two_layer_args(np.random.default_rng(0))
    fg = sd.forward_gradient(two_layer_loss, directions=4)
    first, again = fg(*args, rng=11)[1], fg(*args, rng=11)[1]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    generator = np.random.default_rng(11)
    from_generator = fg(*args, rng=generator)[1]
    assert all(np.array_equal(a, b) for a, b in zip(first, from_generator))
    assert not np.array_equal(fg(*args, rng=generator)[1][0], first[0])  # the generator moved on
    assert not np.array_equal(fg(*args)[1][0], fg(*args)[1][0])           # fresh generators by default


def test_source_is_one_fused_function():
    fg = sd.forward_gradient(logistic_loss, directions=4)
    assert fg.source.count("\ndef ") == 0 and fg.source.startswith("def logistic_loss_forward_gradient(w, X, y, *, rng=None):")
    assert "normal_like(w, rng, 4)" in fg.source and "forward_gradient_estimate(" in fg.source


def test_tangent_decorator_carries_forward_gradient():
    @sd.tangent(wrt="w")
    def loss(w, X, y):
        return np.sum((X @ w - y) ** 2)

    w, X, y = logistic_args(np.random.default_rng(0))
    value, estimate = loss.forward_gradient(w, X, y, rng=3, directions=4, distribution="rademacher")
    assert value == pytest.approx(loss(w, X, y))
    v = rademacher_like(w, np.random.default_rng(3), 4)  # the directions the generated function drew
    gradient = 2.0 * X.T @ (X @ w - y)                     # by hand
    np.testing.assert_allclose(estimate, np.mean([(gradient @ vj) * vj for vj in v], axis=0), rtol=1e-10)


def returns_pair(x):
    return x, 2.0 * x


def uses_rng(x, rng):
    return np.sum(x * rng)


def vector_valued(x):
    return np.sin(x)


@pytest.mark.parametrize("kwargs,message", [
    (dict(directions=0), "directions=0"),
    (dict(directions=2.0), "directions=2.0"),
    (dict(distribution="uniform"), "'normal' or 'rademacher'"),
    (dict(directions=3, antithetic=True), "must be even"),
])
def test_bad_options_are_refused(kwargs, message):
    with pytest.raises(sd.SourceDiffError, match=message):
        sd.forward_gradient(logistic_loss, **kwargs)


def test_a_tuple_valued_function_is_refused_at_its_return():
    with pytest.raises(sd.UnsupportedSyntaxError, match="one scalar value") as info:
        sd.forward_gradient(returns_pair)
    assert "test_forward_gradient.py" in str(info.value) and "return x, 2.0 * x" in str(info.value)


def test_a_function_using_the_name_rng_is_refused():
    with pytest.raises(sd.UnsupportedSyntaxError, match="keyword 'rng'"):
        sd.forward_gradient(uses_rng)


def test_an_array_valued_function_fails_with_a_clear_message():
    with pytest.raises(ValueError, match="scalar function"):
        sd.forward_gradient(vector_valued)(np.ones(3), rng=0)


def constant_weight(a, b):
    return 0.7


def summed_constant_weights(x, W):
    items = []
    for j in range(3):
        items.append(constant_weight(W, b=np.outer(x[1:], x)) * (j + 1.0))
    return np.sum(x * x) - 0.75 * sum(items)


def stacked_constant_weights(x, W):
    items = []
    for j in range(3):
        items.append(constant_weight(a=np.outer(x[1:], x), b=W) * (j + 1.0))
    return np.sum(x * x) - 0.75 * np.sum(np.array(items))


@pytest.mark.parametrize("f", [summed_constant_weights, stacked_constant_weights])
def test_a_list_of_zero_tangents_in_vector_mode(f):
    """Found by the fuzzer: a list whose every tangent was the 0.0 of a zero tangent had no direction
    axis to stack along (AxisError in vector mode and forward gradients); made an array, each of its
    zeros along one direction was read at direction 1 (IndexError, seed 140001840)."""
    x, W = np.array([0.3, -0.5, 0.8]), np.ones((2, 3))
    value, estimate = sd.forward_gradient(f, directions=4)(x, W, rng=1)
    assert value == pytest.approx(np.sum(x * x) - 0.75 * 0.7 * 6)
    shared = np.random.default_rng(1)
    directions = [normal_like(x, shared) for _ in range(4)]
    np.testing.assert_allclose(estimate, np.mean([(2 * x @ v) * v for v in directions], axis=0), rtol=1e-12)


def scaled_total(t, *ws, scale=1.0):
    return scale * (np.sum(t * t) + sum([np.sum(w * t) for w in ws]))


def total_of_no_weights(x, W):
    return scaled_total(x)


def test_an_empty_list_summed_in_vector_mode():
    """Found by the fuzzer (seed 391000135): `sum([... for w in ws])` of no ws gave vector mode an empty
    list of tangents, which as_directions could not stack (ValueError from max())."""
    x, W = np.array([0.3, -0.5, 0.8]), np.ones((2, 3))
    value, estimate = sd.forward_gradient(total_of_no_weights, directions=4)(x, W, rng=1)
    assert value == pytest.approx(np.sum(x * x))
    shared = np.random.default_rng(1)
    directions = [normal_like(x, shared) for _ in range(4)]
    np.testing.assert_allclose(estimate, np.mean([(2 * x @ v) * v for v in directions], axis=0), rtol=1e-12)


C0 = np.array([0.5, -0.25, 1.5])


def written_after_a_shift(a, s):
    v = a - 0.5  # its tangent is a's, given the value's shape
    v[0] = np.arcsin(0.7 * np.sin(s))  # written in place: must not write into a's tangent
    return np.sum(C0 * a) + np.sum(v)


def constant_times_vector(x):
    return np.sum(x * x) + np.sum(np.ones(3) * constant_weight(x, b=x))


def constant_value(x):
    return constant_weight(x, b=x)


def interpolated_in_place(x, s):
    v = s * 2.0
    v = np.interp(v, np.array([-0.5, 0.5, 1.5]), x)  # a rule applied per direction, output named as its operand
    b = np.linalg.solve(np.outer(x, x) + np.eye(3), x)
    b = np.linalg.solve(np.eye(3) * 2.0 + np.outer(b, x), b)
    return np.sum(np.sin(x) * v + b * b)


@pytest.mark.parametrize("f, args", [(written_after_a_shift, (np.array([0.3, -0.5, 0.8]), 0.4)),
                                     (constant_times_vector, (np.array([0.3, -0.5, 0.8]),)),
                                     (constant_value, (np.array([0.3, -0.5, 0.8]),)),
                                     (interpolated_in_place, (np.array([0.3, -0.5, 0.8]), 0.4))],
                         ids=["in-place write after a shift", "zero tangent times a vector", "constant value",
                              "output named as its operand"])
def test_vector_mode_with_aliased_and_zero_tangents(f, args):
    """Found by the fuzzer: a tangent passed through `aligned` aliased the one it came from, and an
    in-place write changed both (a wrong forward gradient); a zero tangent (0.0) times a vector lost
    its direction axis (AxisError); a constant value's tangent 0.0 was refused as not scalar; `v =
    np.interp(v, xp, x)`, a rule applied one direction at a time, read v's whole tangent as one
    direction (seed 50023333)."""
    rng = np.random.default_rng(3)
    directions = [tuple(rng.normal(size=np.shape(a)) for a in args) for _ in range(DIRECTIONS)]
    stacked = [np.stack([d[i] for d in directions]) for i in range(len(args))]
    value, tangent = vector_jvp(f, tuple(range(len(args))), DIRECTIONS)(*copy.deepcopy(args), *stacked)
    for j, d in enumerate(directions):
        along_j = np.asarray(tangent)[j] if np.shape(tangent)[:1] == (DIRECTIONS,) else tangent
        expected = finite_difference_jvp(f, list(args), list(range(len(args))), d)
        np.testing.assert_allclose(np.squeeze(along_j), expected, rtol=1e-5, atol=1e-6)
    estimate = sd.forward_gradient(f, wrt=0, directions=4)(*args, rng=1)[1]
    shared = np.random.default_rng(1)
    drawn = [normal_like(args[0], shared) for _ in range(4)]
    exact = [finite_difference_jvp(f, list(args), [0], (v,)) for v in drawn]
    np.testing.assert_allclose(estimate, np.mean([e * v for e, v in zip(exact, drawn)], axis=0), rtol=1e-5,
                               atol=1e-7)
