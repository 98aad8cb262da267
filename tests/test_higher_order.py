"""Second derivatives, Hessians and Jacobians (sourcediff/higher_order.py), against finite differences of
first derivatives checked elsewhere (the corpus tests) and against autograd's Hessians and Jacobians.

Every corpus function is differentiated twice, in both orders that only need tangents: reverse mode over
its generated tangent (what sd.hvp runs) and forward mode over it (sd.jvp of sd.jvp), through the
dot-product identity <w, D(J v)[u]> on a random w."""
import copy
import inspect

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import sourcediff as sd
from corpus import CASES
from autograd.misc import flatten as autograd_flatten
from corpus_tools import (autograd_version, finite_difference_jvp, flat, random_like, sample, tree_leaves, tree_map)
from sourcediff.api import _derive, resolve_wrt
from sourcediff.structure import map_leaves

SECOND = CASES  # every corpus function has second derivatives


def full_arguments(case, seed):
    """The sample's arguments with the defaults filled in (the tangent differentiated again takes all of them)."""
    args, positions, tangents = sample(case, seed)
    bound = inspect.signature(case.fn).bind(*args)
    bound.apply_defaults()
    return list(bound.args), positions, tangents


def tangent_of(case):
    """The corpus function's generated tangent (*args, *tangents) -> J v, every parameter positional."""
    return _derive(case.fn, "tangent_alone", resolve_wrt(case.fn, case.wrt if isinstance(case.wrt, tuple)
                                                            else (case.wrt,)))


@pytest.mark.parametrize("order", ["reverse over forward", "forward over forward"])
@pytest.mark.parametrize("case", SECOND, ids=[c.name for c in SECOND])
def test_second_derivative_of_the_corpus(case, order):
    args, positions, tangents = full_arguments(case, 0)
    names = resolve_wrt(case.fn, case.wrt if isinstance(case.wrt, tuple) else (case.wrt,))
    tangent = tangent_of(case)
    rng = np.random.default_rng(3)
    jv = tangent(*copy.deepcopy(args), *tangents)
    w = tree_map(lambda leaf: random_like(leaf, rng), jv)
    us = [tree_map(lambda leaf: random_like(leaf, rng), t) for t in tangents]
    differences = finite_difference_jvp(lambda *a: tangent(*a, *tangents), args, positions, us)
    if order == "reverse over forward":
        _, cotangents = sd.vjp(tangent, names)(*copy.deepcopy(args), *tangents, w)
        exact = sum(float(flat(c) @ flat(u)) for c, u in zip(cotangents, us))
    else:
        _, second = sd.jvp(tangent, names)(*copy.deepcopy(args), *tangents, *us)
        exact = float(flat(w) @ flat(second))
    expected = float(flat(w) @ differences)
    assert exact == pytest.approx(expected, rel=1e-4, abs=1e-5 * max(1.0, float(np.abs(flat(w)) @ np.abs(differences))))


def autograd_second_derivative(fn, args, positions, tangents, us):
    """D(J v)[u], flattened, by autograd differentiating the Jacobian it takes of its own copy of fn."""
    ag_fn = autograd_version(fn)
    primals, unflatten = autograd_flatten([args[p] for p in positions])
    v, u = autograd_flatten(list(tangents))[0], autograd_flatten(list(us))[0]

    def flat_output(flat_primals):
        moved = list(args)
        for p, value in zip(positions, unflatten(flat_primals)):
            moved[p] = value
        return anp.concatenate([anp.ravel(leaf) for leaf in tree_leaves(ag_fn(*moved))])

    return autograd.jacobian(lambda x: anp.dot(autograd.jacobian(flat_output)(x), v))(primals) @ u


AUTOGRAD_SECOND = [c for c in SECOND if c.autograd]


@pytest.mark.parametrize("case", AUTOGRAD_SECOND, ids=[c.name for c in AUTOGRAD_SECOND])
def test_second_derivative_of_the_corpus_matches_autograd(case):
    """<w, D(J v)[u]> from reverse mode over the generated tangent against autograd's Jacobian of its
    Jacobian, for the corpus functions autograd differentiates."""
    args, positions, tangents = full_arguments(case, 1)
    names = resolve_wrt(case.fn, case.wrt if isinstance(case.wrt, tuple) else (case.wrt,))
    tangent = tangent_of(case)
    rng = np.random.default_rng(5)
    w = tree_map(lambda leaf: random_like(leaf, rng), tangent(*copy.deepcopy(args), *tangents))
    us = [tree_map(lambda leaf: random_like(leaf, rng), t) for t in tangents]
    _, cotangents = sd.vjp(tangent, names)(*copy.deepcopy(args), *tangents, w)
    exact = sum(float(flat(c) @ flat(u)) for c, u in zip(cotangents, us))
    expected = float(flat(w) @ autograd_second_derivative(case.fn, copy.deepcopy(args), positions, tangents, us))
    assert exact == pytest.approx(expected, rel=1e-8, abs=1e-10 * max(1.0, abs(expected)))


# -- helpers read for their derivatives (runtime.read_for_derivatives) -----------------------------------

XP, FP = np.array([0.0, 1.0, 2.5]), np.array([1.0, 3.0, 2.0])


def product_twice(x):
    return 2.0 * np.prod(x)


def cumulative_products(x):
    return np.sum(np.cumprod(x) * np.array([1.0, -0.5, 2.0, 0.3]))


def third_power_norm(x):
    return np.linalg.norm(x, 3) ** 2


def singular_values(x):
    return np.sum(np.linalg.svd(np.reshape(x, (2, 2)), compute_uv=False) ** 3)


def eigenvalues_cubed(x):
    a = np.reshape(x, (2, 2))
    return np.sum(np.linalg.eigh(a + a.T + np.diag([4.0, 0.0]))[0] ** 3)


def cholesky_entries(x):
    return np.sum(np.linalg.cholesky(3.0 * np.eye(2) + np.outer(x[:2], x[2:])  + np.outer(x[2:], x[:2])))


def pseudo_inverse(x):
    return np.sum(np.linalg.pinv(np.reshape(x, (2, 2))) * np.array([[1.0, 2.0], [-1.0, 0.5]]))


def interpolated_times_x(x):
    return np.sum(np.interp(x, XP, FP) * x)


def cube_of_a_matrix(x):
    return np.sum(np.linalg.matrix_power(np.reshape(x, (2, 2)), 3))


def second_differences(f, x, h=1e-4):
    """f's Hessian by central differences of f itself (no derivative code involved)."""
    n = len(x)
    basis = np.eye(n) * h
    return np.array([[(f(x + basis[i] + basis[j]) - f(x + basis[i] - basis[j]) - f(x - basis[i] + basis[j])
                       + f(x - basis[i] - basis[j])) / (4 * h * h) for j in range(n)] for i in range(n)])


POINT = np.array([0.3, -0.5, 0.7, 1.1])


@pytest.mark.parametrize("f", [product_twice, cumulative_products, third_power_norm, singular_values,
                               eigenvalues_cubed, cholesky_entries, pseudo_inverse, interpolated_times_x,
                               cube_of_a_matrix])
def test_hessians_through_helpers_read_for_their_derivatives(f):
    """Primitives whose tangents call larger helpers (np.prod, the factorizations, the norms, ...) have
    Hessians: the helpers are differentiated by reading their source. Against second differences of f,
    and against autograd where it has these second derivatives."""
    hessian = sd.hessian(f)(POINT)
    np.testing.assert_allclose(hessian, second_differences(f, POINT), rtol=1e-5, atol=1e-5)
    if f not in (cumulative_products, interpolated_times_x, cube_of_a_matrix):  # autograd has no VJP for them
        np.testing.assert_allclose(hessian, autograd.hessian(autograd_version(f))(POINT), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("x", [np.array([0.3, 0.0, 0.7, 1.1]), np.array([0.0, -0.5, 0.0, 1.1]),
                               np.array([0.0, 0.0, 0.0, 1.1])])
def test_hessian_of_a_product_at_zeros(x):
    """np.prod's helper divides where no element is zero and takes products of the others where one is:
    its second derivative is exact at zeros, H[i, j] = 2 ∏_{k ≠ i, j} x_k off the diagonal."""
    expected = np.array([[0.0 if i == j else 2.0 * np.prod(np.delete(x, [i, j])) for j in range(4)]
                         for i in range(4)])
    np.testing.assert_allclose(sd.hessian(product_twice)(x), expected, atol=1e-12)


def einsum_sum(x, A):
    return np.sum(np.einsum("ij,j->i", A, x) ** 2)


def test_forward_and_reverse_over_reverse_through_einsum():
    """np.einsum's adjoint calls einsum_cotangent, whose rules (linear in the cotangent and in the other
    operands) make sd.jvp of its vjp work: 2 AᵀA v; reverse mode over it too."""
    x, A, v = np.array([0.5, -1.0]), np.array([[1.0, 2.0], [0.5, -0.3]]), np.array([0.3, 1.1])
    (_, (cotangent,)), (_, (second,)) = sd.jvp(sd.vjp(einsum_sum, (0,)), 0)(x, A, 1.0, v)
    np.testing.assert_allclose(cotangent, 2 * A.T @ A @ x, rtol=1e-12)
    np.testing.assert_allclose(second, 2 * A.T @ A @ v, rtol=1e-12)
    np.testing.assert_allclose(sd.grad(einsum_gradient_along, 0)(x, A, v), 2 * A.T @ A @ v, rtol=1e-12)
    np.testing.assert_allclose(sd.hessian(einsum_sum)(x, A), 2 * A.T @ A, atol=1e-12)


EINSUM_VJP = sd.vjp(einsum_sum, (0,))


def einsum_gradient_along(x, A, v):
    return np.sum(EINSUM_VJP(x, A, 1.0)[1][0] * v)


def gradient_of_samples(x):
    return np.sum(np.gradient(x) ** 2)


def test_forward_over_reverse_through_np_gradient():
    """np.gradient's adjoint calls a helper taking *spacing and keyword-only options, read for its
    derivatives: sd.jvp of its vjp is 2 DᵀD v for the difference matrix D (once refused, naming the helper)."""
    x, v = np.array([0.5, -1.0, 2.0, 0.3]), np.array([1.0, 0.2, -0.7, 0.4])
    D = np.array([np.gradient(column) for column in np.eye(4)]).T
    (_, cotangent), (_, second) = sd.jvp(sd.vjp(gradient_of_samples))(x, 1.0, v)
    np.testing.assert_allclose(cotangent, 2 * D.T @ D @ x, rtol=1e-12)
    np.testing.assert_allclose(second, 2 * D.T @ D @ v, rtol=1e-12)


# -- the API on functions users write -----------------------------------------------------------------

def loss(w, X, y, l2=0.1):
    z = np.tanh(X @ w)
    return np.mean((z - y) ** 2) + l2 * np.sum(w ** 2)


def two_arguments(a, b):
    return np.sum(np.sin(a) * b) + a[0] * b[1] ** 2


def vector_valued(x, s):
    return np.array([x[0] * x[1], np.sin(x[2]) * s, s ** 2]) * np.cos(x)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal(3), rng.standard_normal((5, 3)), rng.standard_normal(5)


def autograd_hessian(f, args, position):
    return autograd.hessian(autograd_version(f), position)(*args)


def test_hvp_matches_autograds_hessian(data):
    w, X, y = data
    v = np.array([0.3, -1.0, 0.5])
    H = autograd_hessian(loss, (w, X, y), 0)
    np.testing.assert_allclose(sd.hvp(loss)(w, X, y, v), H @ v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sd.hvp(loss)(w, X, y, v, l2=0.5), autograd_hessian(loss, (w, X, y, 0.5), 0) @ v,
                               rtol=1e-10, atol=1e-12)
    assert "def " in sd.hvp(loss).source


def test_hessian_matches_autograd_and_the_hvps(data):
    w, X, y = data
    H = sd.hessian(loss)(w, X, y)
    np.testing.assert_allclose(H, autograd_hessian(loss, (w, X, y), 0), rtol=1e-10, atol=1e-12)
    columns = np.stack([sd.hvp(loss)(w, X, y, e) for e in np.eye(3)], axis=1)
    np.testing.assert_allclose(H, columns, rtol=1e-12)
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-12)


def test_a_hessian_of_a_tuple_of_arguments_is_a_tuple_of_rows_of_blocks():
    a, b = np.array([0.2, -0.7]), np.array([1.3, 0.4])
    H = sd.hessian(two_arguments, (0, 1))(a, b)
    full = autograd.hessian(lambda ab: autograd_version(two_arguments)(ab[:2], ab[2:]))(np.concatenate([a, b]))
    assert [[block.shape for block in row] for row in H] == [[(2, 2), (2, 2)], [(2, 2), (2, 2)]]
    np.testing.assert_allclose(np.block([[H[0][0], H[0][1]], [H[1][0], H[1][1]]]), full, rtol=1e-10, atol=1e-12)
    products = sd.hvp(two_arguments, (0, 1))(a, b, (np.ones(2), np.zeros(2)))
    np.testing.assert_allclose(np.concatenate(products), full @ np.array([1.0, 1.0, 0.0, 0.0]), rtol=1e-10)


def of_numbers(x, y):
    return np.exp(np.sin(x)) * y ** 3


def test_hessian_of_a_function_of_numbers():
    H = sd.hessian(of_numbers, (0, 1))(0.4, 1.5)
    expected = autograd.hessian(lambda p: autograd_version(of_numbers)(p[0], p[1]))(np.array([0.4, 1.5]))
    np.testing.assert_allclose(np.array([[H[0][0], H[0][1]], [H[1][0], H[1][1]]]), expected, rtol=1e-10)


@pytest.mark.parametrize("jacobian", [sd.jacfwd, sd.jacrev, sd.jacobian])
def test_jacobians_match_autograd(jacobian):
    x, s = np.array([0.3, -0.8, 1.1]), 0.7
    J = jacobian(vector_valued)(x, s)
    np.testing.assert_allclose(J, autograd.jacobian(autograd_version(vector_valued))(x, s), rtol=1e-10, atol=1e-12)
    Jx, Js = jacobian(vector_valued, (0, 1))(x, s)
    assert Jx.shape == (3, 3) and Js.shape == (3,)
    np.testing.assert_allclose(Js, autograd.jacobian(autograd_version(vector_valued), 1)(x, s), rtol=1e-10)


@pytest.mark.parametrize("jacobian", [sd.jacfwd, sd.jacrev])
def test_jacobians_of_a_tuple_valued_function_through_branches_and_loops(jacobian):
    def f(x):
        total = np.zeros(2)
        for i in range(3):
            if x[i] > 0.0:
                total = total + x[i] * x[:2]
            else:
                total = total - np.sin(x[i])
        return total, np.sum(total ** 2)

    x = np.array([0.5, -0.3, 0.9])
    J, g = jacobian(f)(x)
    eps = 1e-6
    numeric = [np.stack([(f(x + eps * e)[k] - f(x - eps * e)[k]) / (2 * eps) for e in np.eye(3)], axis=-1)
               for k in range(2)]
    np.testing.assert_allclose(J, numeric[0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(g, numeric[1], rtol=1e-6, atol=1e-8)


def test_a_gradient_differentiates_again_by_its_hessian(data):
    w, X, y = data
    H = autograd_hessian(loss, (w, X, y), 0)
    g = sd.grad(loss)
    v = np.array([1.0, 0.5, -2.0])
    value, product = sd.jvp(g)(w, X, y, v)
    np.testing.assert_allclose(value, g(w, X, y), rtol=1e-12)
    np.testing.assert_allclose(product, H @ v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sd.jacfwd(g)(w, X, y), H, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sd.jacrev(g)(w, X, y), H, rtol=1e-10, atol=1e-12)

    def along(w, X, y):  # user code calling a gradient
        return g(w, X, y) @ v

    np.testing.assert_allclose(sd.grad(along)(w, X, y), H @ v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sd.grad(lambda w: g(w, X, y) @ v)(w), H @ v, rtol=1e-10, atol=1e-12)


def test_grad_of_grad_of_a_function_of_a_number():
    def f(t):
        return np.sin(t) * t ** 3

    second = sd.grad(sd.grad(f))(0.7)
    assert second == pytest.approx(-np.sin(0.7) * 0.7 ** 3 + 6 * np.cos(0.7) * 0.7 ** 2 + 6 * 0.7 * np.sin(0.7),
                                   rel=1e-12)
    value, third_free = sd.jvp(sd.jvp(f))(0.7, 1.0, 1.0)  # forward over forward: (f, f'), (f', f'')
    assert third_free[1] == pytest.approx(second, rel=1e-12)


def test_a_gradient_with_respect_to_one_argument_refuses_derivatives_of_the_others(data):
    w, X, y = data
    g = sd.grad(loss)

    def through_data(w, X, y):
        return np.sum(g(w, X * 2.0, y))

    with pytest.raises(sd.NonDifferentiableError, match="X") as refused:
        sd.grad(through_data, 1)(w, X, y)
    assert refused.value.lineno is not None


def sine_of_product(x, s):
    return np.sum(np.sin(x * s))


def test_a_mixed_second_derivative_through_a_scaled_cotangent():
    """sd.jvp(sd.vjp(f, 0), 1) of sin(x * s): x may be a list, so the vjp in x scales its cotangent by s
    through factor_cotangent, whose rules follow s too (once refused: "the n of factor_cotangent carries a
    derivative"). d/ds of cos(x s) s = cos(x s) - x s sin(x s)."""
    x, s = np.array([0.3, 0.5]), 0.7
    (_, cotangent), (_, mixed) = sd.jvp(sd.vjp(sine_of_product, 0), 1)(x, s, 1.0, 1.0)
    np.testing.assert_allclose(cotangent, np.cos(x * s) * s, rtol=1e-12)
    np.testing.assert_allclose(mixed, np.cos(x * s) - x * s * np.sin(x * s), rtol=1e-12)
    # the other order, reverse over the tangent in s: the same mixed partials, as a gradient in x
    tangent_in_s = sd.jvp(sine_of_product, 1)
    _, (gradient,) = sd.vjp(lambda x, s: tangent_in_s(x, s, 1.0)[1], (0,))(x, s, 1.0)
    np.testing.assert_allclose(gradient, np.cos(x * s) - x * s * np.sin(x * s), rtol=1e-12)


def test_what_cannot_nest_yet_is_refused_clearly():
    def f(x):
        return np.sum(x ** 3)

    x = np.array([0.5, 1.5])
    with pytest.raises(sd.SourceDiffError, match="scalar"):
        sd.hvp(lambda x: x ** 2)(x, x)
    with pytest.raises(sd.SourceDiffError, match="cannot be differentiated again"):
        sd.jvp(sd.hessian(f))
    with pytest.raises(sd.SourceDiffError, match="floats and float arrays"):
        sd.hessian(lambda x, n: x * n, 1)(2.0, 3)


def softplus_slowly(x):
    return np.log(1.0 + np.exp(x))


def logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


@sd.register_tangent(softplus_slowly)
def _softplus_tangent(z, x):
    d[z] = logistic(x) * d[x]  # noqa: F821  (template syntax)


@sd.register_adjoint(softplus_slowly)
def _softplus_adjoint(z, x):
    d[x] = logistic(x) * d[z]  # noqa: F821


def only_a_tangent(x):
    return x * 2.0


@sd.register_tangent(only_a_tangent)
def _only_a_tangent(z, x):
    d[z] = 2.0 * d[x]  # noqa: F821


def test_custom_rules_compose_at_second_order():
    x, v = np.array([-0.5, 0.2, 1.4]), np.array([1.0, 2.0, -1.0])
    product = sd.hvp(lambda x: np.sum(softplus_slowly(x)))(x, v)
    s = 1.0 / (1.0 + np.exp(-x))
    np.testing.assert_allclose(product, s * (1.0 - s) * v, rtol=1e-12)
    with pytest.raises(sd.NonDifferentiableError, match="only_a_tangent"):
        sd.hvp(lambda x: np.sum(only_a_tangent(x) ** 2))(x, v)


def test_adjoint_decorated_functions_gain_hvp(data):
    w, X, y = data

    @sd.adjoint
    def decorated(w, X, y):
        return loss(w, X, y)

    v = np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(decorated.hvp(w, X, y, v), autograd_hessian(loss, (w, X, y), 0) @ v, rtol=1e-10)


def layer(params, x):
    W, b = params["W"], params["b"]
    return np.sum(np.tanh(x @ W + b) ** 2)


def test_structured_arguments_give_structured_hessians_and_jacobians():
    """As JAX does: a dict (or tuple) of arrays gives the same structure of rows of blocks."""
    rng = np.random.default_rng(5)
    params, x = {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}, rng.standard_normal((4, 3))
    H = sd.hessian(layer)(params, x)
    assert set(H) == {"W", "b"} and set(H["W"]) == {"W", "b"}
    assert H["W"]["b"].shape == (3, 2, 2) and H["b"]["W"].shape == (2, 3, 2)

    def flat_layer(theta):
        return autograd_version(layer)({"W": theta[:6].reshape(3, 2), "b": theta[6:]}, x)

    full = autograd.hessian(flat_layer)(np.concatenate([params["W"].ravel(), params["b"]]))
    ours = np.block([[H["W"]["W"].reshape(6, 6), H["W"]["b"].reshape(6, 2)],
                     [H["b"]["W"].reshape(2, 6), H["b"]["b"]]])
    np.testing.assert_allclose(ours, full, rtol=1e-10, atol=1e-12)
    for jacobian in (sd.jacfwd, sd.jacrev):
        J = jacobian(sd.grad(layer))(params, x)  # the Jacobian of the gradient is the Hessian
        np.testing.assert_allclose(J["W"]["b"], H["W"]["b"], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(J["b"]["W"], H["b"]["W"], rtol=1e-10, atol=1e-12)


def loop_with_an_empty_branch(x, s):
    for i, t in enumerate(x):
        if ((s, x) + (t,))[2] <= 0.5:
            pass
        else:
            pass
        t = 0.5 * t + 0.5 * np.sum([(t - s) for t in reversed(np.outer(x[1:], x).T[:, 1])])
    return np.sum(x ** 3) * s


def test_a_loop_whose_tangent_has_an_if_without_statements():
    """The fuzzer's seed 1000 (second-order modes): the generated tangent's `if c: pass` reached reverse
    mode with an empty body, which the test for a loop's break read as body[0] (IndexError)."""
    x, s, v = np.array([0.3, 0.9, -0.2]), 0.4, np.array([1.0, 0.5, -1.0])
    product = sd.hvp(loop_with_an_empty_branch)(x, s, v)
    np.testing.assert_allclose(product, 6.0 * x * s * v, rtol=1e-12)


def straight_line(w, X, y):
    z = X @ w
    r = np.tanh(z) - y
    return np.mean(r ** 2) + 0.1 * np.sum(w * w) + np.sum(np.outer(w, w) @ w)


def vector_valued_line(a, b):
    return np.sin(a) * b + np.exp(a) * np.sum(a * b)


def reads_parts(p, x):
    W, b = p
    return np.sum(np.tanh(x @ W + b)) * x[0, 1] + np.sum(x[1:] ** 2) * b[0]


def recurrence(x, W):
    h = x
    for _ in range(3):
        h = np.tanh(W @ h + x)
    return np.sum(h * h)


def scalar_recurrence(x, s):
    t = 0.0
    k = 0
    while k < 4:
        t = t + np.sin(x * t + s)
        k += 1
    return t


def written_in_place(x, c):
    y = np.copy(c[:, None] * x)
    y[1, 1:] -= c  # forward over reverse once read a cotangent's view after zero_at emptied it
    y[0] = y[0] * x
    return np.sin(x) * np.sum(y)


def appended_and_stacked(x, s):
    rows = []
    for k in range(3):
        rows.append(np.sin(x * (k + 1.0)) * s)
    return np.sum(np.vstack(rows) ** 2) + np.sum(np.concatenate([x, rows[0]]) * x[0])


def list_arithmetic(x, s):
    pair = [x[0] * s, np.cos(x[1])] + [s * s]
    twice = [x[2], s] * 2
    return np.sum(np.array(pair) ** 2) + np.sum(np.array(twice) ** 3) + np.sum(x[[0, 2, 2]] * s)


def products_and_indices(x, A):
    total = np.dot(A, x) @ np.inner(x, A)
    for k in range(len(x) - 1):
        total = total + x[k + 1] * np.take(x, [k, k]).sum()
    return total * np.dot(x, x)


def reads_through_an_index_array(x, W):
    v = x * 1.0
    for k in range(3):
        v = 0.5 * v + 0.5 * W.sum(axis=0)[np.array([1, 2, 0])]
    return np.sum(v * v)


def loop_over_pairs(x):
    return sum(t * k for k, t in enumerate(x)) + sum(a * b for a, b in zip(x, x[::-1]))


@pytest.mark.parametrize("f, args, wrt", [
    (written_in_place, (np.array([0.3, -1.2, 0.7]), np.array([0.5, 1.5])), (0, 1)),
    (appended_and_stacked, (np.array([0.3, -1.2, 0.7]), 0.8), (0, 1)),
    (list_arithmetic, (np.array([0.3, -1.2, 0.7]), 0.8), (0, 1)),
    (products_and_indices, (np.array([0.3, -1.2, 0.7]), np.arange(9.0).reshape(3, 3) / 9.0), (0, 1)),
    (loop_over_pairs, (np.array([0.3, -1.2, 0.7]),), (0,)),
    (reads_through_an_index_array, (np.array([0.3, -1.2, 0.7]), np.arange(6.0).reshape(2, 3) / 6.0), (0, 1)),
    (recurrence, (np.array([0.3, -0.5]), np.array([[0.4, -1.2], [0.7, 0.2]])), (0, 1)),
    (scalar_recurrence, (0.3, 0.8), (0, 1)),
    (straight_line, (np.array([0.3, -0.5, 0.8]), np.arange(6.0).reshape(2, 3) / 5.0, np.array([0.1, -0.2])), 0),
    (straight_line, (np.array([0.3, -0.5, 0.8]), np.arange(6.0).reshape(2, 3) / 5.0, np.array([0.1, -0.2])), (0, 1)),
    (vector_valued_line, (np.array([0.4, 1.1]), np.array([-0.7, 0.2])), (0, 1)),
    (reads_parts, ((np.arange(6.0).reshape(3, 2) / 7.0, np.array([0.3, -0.1])), np.arange(6.0).reshape(2, 3) / 4.0),
     (0, 1))])
def test_forward_mode_over_reverse_mode_code(f, args, wrt):
    """sd.jvp of a generated vjp (its helpers' rules: the cotangent check, unbroadcast, unreduce,
    add_cotangents, cotangent_like, add_at for parts read, the cotangents of products, of in-place writes and
    of list arithmetic; its loops' stack of saved values, popped in step with a stack of their tangents;
    restore writing the tangent back in place): the derivative of Jᵀu along v, against central differences
    of the vjp. A wrt of one in a tuple gives a vjp function that is itself differentiated."""
    names = wrt if isinstance(wrt, tuple) else (wrt,)
    backward = sd.vjp(f, wrt)
    rng = np.random.default_rng(7)
    u = rng.standard_normal(np.shape(f(*args))) if np.ndim(f(*args)) else 1.0
    v = [map_leaves(lambda leaf: rng.standard_normal(np.shape(leaf)), args[p]) for p in names]
    _, (_, exact) = sd.jvp(backward, names)(*args, u, *v)
    eps = 1e-6

    def moved(step):
        shifted = list(args)
        for p, d in zip(names, v):
            shifted[p] = map_leaves(lambda a, t: a + step * t, args[p], d)
        return flat_cotangents(backward(*shifted, u)[1])

    np.testing.assert_allclose(flat_cotangents(exact), (moved(eps) - moved(-eps)) / (2 * eps), rtol=1e-6, atol=1e-8)


def quartic_and_sine(t):
    return t ** 4 + np.sin(t)


def sine_times_square(x):
    return np.sum(np.sin(x) * x[0] ** 2)


def test_third_derivatives_through_a_gradient():
    """A gradient's rules call the generated gradient of its tangent, whose source the modes read: reverse
    mode over it (grad of grad of grad), forward mode over it (jvp of jvp of a gradient)."""
    t = 0.5
    assert sd.grad(sd.grad(sd.grad(quartic_and_sine)))(t) == pytest.approx(24 * t - np.cos(t), rel=1e-12)
    (_, second), (_, third) = sd.jvp(sd.jvp(sd.grad(quartic_and_sine)))(t, 1.0, 1.0)
    assert (second, third) == pytest.approx((12 * t * t - np.sin(t), 24 * t - np.cos(t)), rel=1e-12)
    x, v, u = np.array([0.3, -0.7, 1.1]), np.array([1.0, 0.5, -0.2]), np.array([0.2, 0.1, 0.4])
    exact = sd.jvp(sd.jvp(sd.grad(sine_times_square)))(x, v, u)[1][1]  # D³f[u, v, ·]

    def hessian(y):  # of sum(sin(y) * y[0]**2), by hand
        h = np.diag(-np.sin(y) * y[0] ** 2)
        h[0, :] += 2 * y[0] * np.cos(y)
        h[:, 0] += 2 * y[0] * np.cos(y)
        h[0, 0] += 2 * np.sum(np.sin(y))
        return h

    step = 1e-4
    expected = (hessian(x + step * u) - hessian(x - step * u)) / (2 * step) @ v
    np.testing.assert_allclose(exact, expected, rtol=1e-7, atol=1e-9)


VJP_OF_SCALAR_RECURRENCE = sd.vjp(scalar_recurrence, (0, 1))
VJP_OF_RECURRENCE = sd.vjp(recurrence, (0, 1))
def product_of_parts(x, c):
    return x[0] * np.sin(x[1]) * c


VJP_OF_PARTS = sd.vjp(product_of_parts, (0, 1))


SCALES = np.array([0.5, -0.25, 1.5])


def returns_early_past_a_lambda(x, s):  # found by the fuzzer (seed 400000269, mode vjp_of_vjp)
    scaled = lambda t: SCALES * t  # noqa: E731
    v = scaled(np.cos(x)) * 2.0 + np.cos(x)
    if x[1] < 0.2:
        return np.sum(x / np.exp(np.tanh(x))) * s
    return np.sum(x) * s - 0.75 * np.sum(v)


VJP_OF_EARLY_RETURN = sd.vjp(returns_early_past_a_lambda, (0, 1))


def returns_early_past_an_outer_product(x):  # found by the fuzzer (seed 394000108, mode vjp_of_vjp)
    v = np.mean(x) * np.ones(3).reshape(1, 3) * x[:2][:, None]
    if x[1] < 0.5:
        return np.sum(x) * 0.5
    return np.sum(v)


VJP_OF_OUTER_PRODUCT = sd.vjp(returns_early_past_an_outer_product, (0,))


def tuple_made_an_array_on_a_branch(x, s):  # found by the fuzzer (seed 460000999, mode vjp_of_vjp)
    v = x[:2] * s
    if s < 0.5:
        v = 0.5 * v + 0.5 * np.array((np.sum(x * x),) + (-s,))
    if s > 0.2:
        return np.sum(x) * 0.5
    return np.sum(x) + 1.25 * np.sum(v * v)


VJP_OF_TUPLE_ARRAY = sd.vjp(tuple_made_an_array_on_a_branch, (0,))


def first_cotangent_of_tuple_array(x, s):
    """Past the early return, the cotangent of `0.5 * v` is 0.0, and reverse mode over the vjp gives it the
    cotangent of the tuple NumPy made an array of, which as_cotangent kept a list (TypeError: 0.5 * list)."""
    return np.sum(VJP_OF_TUPLE_ARRAY(x, s, 1.0)[1][0] * np.array([0.3, -0.2, 0.5]))


def first_cotangent_of_outer_product(x, s):
    """On the early return, the cotangent of v is 0.0 and its products with arrays have too few axes,
    which unbroadcast spreads; its transpose once broadcast them to the wrong shape (ValueError)."""
    return np.sum(VJP_OF_OUTER_PRODUCT(x * s, 0.7)[1][0] * np.array([0.3, -0.2, 0.5]))


def first_cotangent_of_early_return(x, s):
    """On the early return, the cotangent of the lambda's value is the 0.0 nothing reached, which
    the transposes of the vjp's helpers (factor_spread) once broadcast to its shape: ValueError."""
    return np.sum(VJP_OF_EARLY_RETURN(x, s, 1.0)[1][0] * np.array([0.3, -0.2, 0.5]))


def first_cotangent_of_scalar_recurrence(x, s):
    return VJP_OF_SCALAR_RECURRENCE(x, s, 1.0)[1][0]


def first_cotangent_of_recurrence(x, W):
    return np.sum(VJP_OF_RECURRENCE(x, W, 1.0)[1][0] * np.array([0.7, -0.4]))


def first_cotangent_of_parts(x, c):
    return np.sum(VJP_OF_PARTS(x, c, 1.0)[1][0])


@pytest.mark.parametrize("f, args", [
    (first_cotangent_of_scalar_recurrence, (0.3, 0.8)),
    (first_cotangent_of_recurrence, (np.array([0.3, -0.5]), np.array([[0.4, -1.2], [0.7, 0.2]]))),
    (first_cotangent_of_early_return, (np.array([0.5, 0.1, 0.3]), 0.8)),
    (first_cotangent_of_parts, (np.array([0.3, -1.2, 0.7]), 0.5)),
    (first_cotangent_of_outer_product, (np.array([0.5, 0.1, 0.3]), 1.3)),
    (first_cotangent_of_tuple_array, (np.array([0.5, 0.1, 0.3]), 0.3)),
    (first_cotangent_of_tuple_array, (np.array([0.5, 0.1, 0.3]), 0.1)),
    (first_cotangent_of_outer_product, (np.array([0.5, 0.9, 0.3]), 1.3)),
    (first_cotangent_of_early_return, (np.array([0.5, 0.9, 0.3]), 0.8))])
def test_reverse_mode_over_reverse_mode_code_that_changes_nothing_in_place(f, args):
    """A generated vjp with loops (its stack pushed and popped), or adding cotangents of parts in place
    (add_at, given a copy there), differentiated in reverse mode: the gradient of a component of Jᵀu,
    against central differences."""
    gradient = sd.grad(f, (0, 1))(*args)
    step = 1e-6
    for i, arg in enumerate(args):
        expected = np.zeros(np.shape(arg))
        for j in np.ndindex(np.shape(arg)):
            e = np.zeros(np.shape(arg))
            e[j] = step
            up, down = list(args), list(args)
            up[i], down[i] = arg + e, arg - e
            expected[j] = (f(*up) - f(*down)) / (2 * step)
        np.testing.assert_allclose(gradient[i], expected, rtol=1e-6, atol=1e-8)


def writes_an_element(x, c):
    y = x * 1.0
    y[0] = y[1] * c
    return np.sum(y * y)


VJP_OF_WRITE = sd.vjp(writes_an_element, (0, 1))


def first_cotangent_of_write(x, c):
    return np.sum(VJP_OF_WRITE(x, c, 1.0)[1][0])


def test_reverse_mode_over_a_vjp_that_writes_in_place_is_refused():
    """The vjp of an in-place write writes into the array its forward sweep shares with a saved view, and
    undoes the write in its backward sweep (restore): reverse mode over it refuses, located."""
    with pytest.raises(sd.UnsupportedSyntaxError, match="share memory|reverse mode over reverse-mode code is not "
                                                        "supported yet: restore") as refused:
        sd.grad(first_cotangent_of_write, (0, 1))(np.array([0.3, -1.2, 0.7]), 0.5)
    assert refused.value.lineno is not None


def scaled_sine_sum(x, s):
    return np.sum(np.sin(x) * x) * s


SCALED_SINE_HVP = sd.hvp(scaled_sine_sum)
DIRECTION = np.array([1.0, 0.5, -0.2])


def squared_hessian_product(x, s):
    return np.sum(SCALED_SINE_HVP(x, s, DIRECTION) ** 2)


def test_value_and_grad_and_hvp_results_are_differentiated_again():
    """sd.value_and_grad and sd.hvp results carry a generated caller of their code (sd_primal), which
    transforms of them, and code calling them, read: forward mode over reverse-mode code."""
    x, s, u = np.array([0.3, -0.7, 1.1]), 0.8, np.array([0.2, 0.1, 0.4])
    (_, _), (dvalue, dgradient) = sd.jvp(sd.value_and_grad(scaled_sine_sum))(x, s, DIRECTION)
    gradient = s * (np.cos(x) * x + np.sin(x))  # closed forms of ∇f and H v
    assert dvalue == pytest.approx(gradient @ DIRECTION, rel=1e-12)
    np.testing.assert_allclose(dgradient, s * (2 * np.cos(x) - x * np.sin(x)) * DIRECTION, rtol=1e-12)
    step = 1e-5
    _, third = sd.jvp(SCALED_SINE_HVP)(x, s, DIRECTION, u)  # the derivative of H v along u
    expected = (SCALED_SINE_HVP(x + step * u, s, DIRECTION) - SCALED_SINE_HVP(x - step * u, s, DIRECTION)) / (2 * step)
    np.testing.assert_allclose(third, expected, rtol=1e-7, atol=1e-9)
    _, along = sd.jvp(squared_hessian_product)(x, s, u)
    expected = (squared_hessian_product(x + step * u, s) - squared_hessian_product(x - step * u, s)) / (2 * step)
    assert along == pytest.approx(expected, rel=1e-7)


def sine_times_power(x, n=3.0):
    return np.sin(x) * x ** n


def test_forward_over_forward_of_a_function_with_defaults():
    """The inner sd.jvp binds n's default; the outer reads a caller taking every argument."""
    (_, first), (_, second) = sd.jvp(sd.jvp(sine_times_power))(0.7, 3.0, 1.0, 1.0)
    t = 0.7
    assert first == pytest.approx(np.cos(t) * t ** 3 + 3 * np.sin(t) * t ** 2, rel=1e-12)
    assert second == pytest.approx(-np.sin(t) * t ** 3 + 6 * np.cos(t) * t ** 2 + 6 * np.sin(t) * t, rel=1e-12)


def test_forward_mode_over_the_vjp_of_a_tuple_valued_lambda():
    """A tuple's cotangent is read part by part (cotangent_at, once without rules: refused)."""
    vjp = sd.vjp(lambda t: (t * t, np.sin(t) + 1.0))
    (value, cotangent), (dvalue, dcotangent) = sd.jvp(vjp)(0.5, (1.0, 2.0), 1.0)
    assert cotangent == pytest.approx(2 * 0.5 + 2.0 * np.cos(0.5))
    assert dvalue == pytest.approx((1.0, np.cos(0.5)))
    assert dcotangent == pytest.approx(2.0 - 2.0 * np.sin(0.5))  # d/dt of 2t + 2 cos t


def flat_cotangents(cotangents):
    leaves = []
    map_leaves(leaves.append, cotangents)
    return np.concatenate([np.ravel(c) for c in leaves])


def sinc_sum(x):
    return np.sum(np.sinc(x))


def test_the_hessian_of_sinc_at_zero():
    """np.sinc's tangent once divided by np.where(x == 0, 1, x), whose derivative at 0 is 0: the Hessian
    there was 0 instead of sinc''(0) = -pi**2/3. Its slope is now a helper with a rule of its own."""
    x = np.array([0.0, 0.5, -1.25])
    H = sd.hessian(sinc_sum)(x)
    h = 1e-4
    second = [(np.sinc(t + h) - 2 * np.sinc(t) + np.sinc(t - h)) / h ** 2 for t in x]
    np.testing.assert_allclose(np.diag(H), second, rtol=1e-6)
    assert H[0, 0] == pytest.approx(-np.pi ** 2 / 3, rel=1e-12)
    np.testing.assert_allclose(H - np.diag(np.diag(H)), 0.0, atol=0)
