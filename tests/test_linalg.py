"""np.linalg (and, when SciPy is installed, scipy.special and scipy.stats) in functions shaped like
users' code: likelihoods, Gaussian processes, PCA-like losses, softmax losses. Each gradient (reverse
mode) and tangent (forward mode) is checked against autograd, evaluating the same function with its
module names bound to autograd's, and against central finite differences."""
import types

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import sourcediff as sd

rng = np.random.default_rng(7)


def with_autograd(f, **modules):
    """f with np (and the names in modules) bound to autograd's wrappers."""
    return types.FunctionType(f.__code__, {**f.__globals__, "np": anp, **modules}, f.__name__, f.__defaults__,
                              f.__closure__)


def directional_difference(f, args, wrt, directions, h=1e-6):
    def at(step):
        moved = list(args)
        for i, v in zip(wrt, directions):
            moved[i] = args[i] + step * v
        return f(*moved)
    return (at(h) - at(-h)) / (2 * h)


def check(f, args, wrt=(0,), reference=True):
    """sd.grad (and the split-motion vjp) against finite differences and autograd's gradient of reference
    (by default f itself, evaluated by autograd; False where autograd lacks the rule); sd.jvp against
    finite differences."""
    reference = with_autograd(f) if reference is True else reference
    gradients = sd.grad(f, wrt=wrt)(*args)  # a tuple, as wrt is
    assert isinstance(gradients, tuple) and len(gradients) == len(wrt)
    forward, backward = sd.vjp(f, wrt=wrt, motion="split")
    for split, g in zip(backward(forward(*args)[1], 1.0), gradients):
        np.testing.assert_allclose(split, g, rtol=1e-12, atol=1e-12)
    for i, g in zip(wrt, gradients if reference else ()):
        np.testing.assert_allclose(g, autograd.grad(reference, i)(*args), rtol=1e-6, atol=1e-8)
    directions = [rng.standard_normal(np.shape(args[i])) for i in wrt]
    expected = directional_difference(f, args, wrt, directions)
    assert np.isclose(sum(np.sum(g * v) for g, v in zip(gradients, directions)), expected, rtol=1e-5, atol=1e-7)
    value, tangent = sd.jvp(f, wrt=wrt)(*args, *directions)
    assert np.isclose(value, f(*args))
    assert np.isclose(tangent, expected, rtol=1e-5, atol=1e-7)


def spd(n):
    a = rng.standard_normal((n, n))
    return a @ a.T + n * np.eye(n)


# --- np.linalg ---------------------------------------------------------------------------------------

def gaussian_log_likelihood(X, mu, L):
    """Mean log-density of the rows of X under N(mu, L Lᵀ + 0.1 I)."""
    cov = L @ L.T + 0.1 * np.eye(len(mu))
    sign, logdet = np.linalg.slogdet(cov)
    R = X - mu
    quad = np.sum(R * np.linalg.solve(cov, R.T).T, axis=1)
    return np.mean(-0.5 * (quad + logdet + len(mu) * np.log(2 * np.pi)))


def test_gaussian_log_likelihood_with_slogdet_and_solve():
    X, mu, L = rng.standard_normal((6, 3)), rng.standard_normal(3), rng.standard_normal((3, 3))
    check(gaussian_log_likelihood, (X, mu, L), wrt=(0, 1, 2))


def gp_negative_log_marginal_likelihood(params, X, y):
    """A squared-exponential GP; params = [log lengthscale, log signal variance, log noise variance]."""
    lengthscale, signal, noise = np.exp(params[0]), np.exp(params[1]), np.exp(params[2])
    sq = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    K = signal * np.exp(-0.5 * sq / lengthscale ** 2) + noise * np.eye(len(y))
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(L))) + 0.5 * len(y) * np.log(2 * np.pi)


def test_gaussian_process_marginal_likelihood_with_cholesky():
    X, y = rng.standard_normal((7, 2)), rng.standard_normal(7)
    check(gp_negative_log_marginal_likelihood, (np.array([0.1, -0.2, -1.0]), X, y), wrt=(0, 1, 2))


def pca_loss(X, W):
    """Reconstruction error of X on W's columns, plus the top eigenvalues and singular values of X."""
    C = X.T @ X / len(X)
    eigenvalues, eigenvectors = np.linalg.eigh(C)
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    top = eigenvectors[:, -2:]
    projected = X @ W @ W.T
    return (np.sum((X - projected) ** 2) - np.sum(eigenvalues[-2:]) + np.sum(s[:2])
            + np.sum((top @ top.T - W @ W.T) ** 2) + np.sum(Vt[0] * (U[:, 0] @ X)) ** 2)


def test_pca_like_loss_with_eigh_and_svd():
    check(pca_loss, (rng.standard_normal((8, 4)), rng.standard_normal((4, 2))), wrt=(0, 1))


def matrix_functions(A, B):
    P = np.linalg.matrix_power(A, 3)
    return (np.trace(P) + np.linalg.det(A) + np.sum(np.linalg.inv(A) ** 2) + np.sum(np.linalg.pinv(B) * 2.0)
            + np.linalg.slogdet(A)[1] + np.sum(np.linalg.matrix_power(A, -2)))


def test_inverse_determinant_pseudo_inverse_and_powers():
    """autograd has no rule for matrix_power: finite differences only."""
    A = rng.standard_normal((3, 3)) + 3.0 * np.eye(3)
    check(matrix_functions, (A, rng.standard_normal((4, 3))), wrt=(0, 1), reference=False)


def stacked(As, b, B):
    """Stacked matrices: one vector right-hand side solved against each, batched determinants."""
    x = np.linalg.solve(As, b)
    Y = np.linalg.solve(As, B)
    return np.sum(x ** 2) + np.sum(Y * Y) + np.sum(np.log(np.abs(np.linalg.det(As))))


def test_stacked_matrices():
    """The tangent of a stacked solve with a 1-D right-hand side used to treat the stacked solution as one
    matrix (test_rules.py listed it as a known gap). autograd's own rule fails on it under NumPy 2."""
    As = rng.standard_normal((4, 3, 3)) + 3.0 * np.eye(3)
    check(stacked, (As, rng.standard_normal(3), rng.standard_normal((4, 3, 2))), wrt=(0, 1, 2), reference=False)


def norms(x, M):
    return (np.linalg.norm(x) + np.linalg.norm(x, 1) + np.linalg.norm(x, ord=np.inf) + np.linalg.norm(x, -np.inf)
            + np.linalg.norm(x, 3) + np.linalg.norm(M, "fro") + np.linalg.norm(M, "nuc") + np.linalg.norm(M, 2)
            + np.linalg.norm(M, -2) + np.linalg.norm(M, 1) + np.linalg.norm(M, np.inf)
            + np.sum(np.linalg.norm(M, axis=1)) + np.sum(np.linalg.norm(M, 1, axis=0, keepdims=True)))


def test_norms_of_every_order():
    """Checked against finite differences only: autograd has no matrix 2-norms."""
    x, M = rng.standard_normal(5), rng.standard_normal((4, 3))
    directions = [rng.standard_normal(5), rng.standard_normal((4, 3))]
    expected = directional_difference(norms, (x, M), (0, 1), directions)
    gx, gM = sd.grad(norms, wrt=(0, 1))(x, M)
    assert np.isclose(np.sum(gx * directions[0]) + np.sum(gM * directions[1]), expected, rtol=1e-6)
    assert np.isclose(sd.jvp(norms, wrt=(0, 1))(x, M, *directions)[1], expected, rtol=1e-6)


def test_norm_with_the_order_in_a_variable():
    def loss(x, p):
        return np.linalg.norm(x, ord=p) ** 2
    x = rng.standard_normal(4)
    for p in (None, 1, 3, np.inf):
        expected = directional_difference(lambda v: loss(v, p), (x,), (0,), [np.ones(4)])
        assert np.isclose(np.sum(sd.grad(loss)(x, p)), expected, rtol=1e-6)


def test_svd_full_matrices_of_a_non_square_matrix_is_refused():
    def top(X):
        U, s, Vt = np.linalg.svd(X)
        return np.sum(U[:, 0] * X[:, 0])
    with pytest.raises(sd.NonDifferentiableError, match="full_matrices=False"):
        sd.grad(top)(rng.standard_normal((4, 3)))


def eigenvalue_energy(A):
    return np.sum(np.linalg.eigh(A)[0] ** 2)


def singular_value_sum(A):
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    return np.sum(s)


def test_eigenvalues_and_singular_values_alone_are_differentiable_at_ties():
    """Only the eigenvector (singular vector) derivatives divide by gaps: a loss of the values alone has a
    gradient where values repeat (the identity, an orthogonal matrix), not NaN."""
    np.testing.assert_allclose(sd.grad(eigenvalue_energy)(np.eye(3)), 2.0 * np.eye(3))
    Q, _ = np.linalg.qr(rng.standard_normal((4, 3)))
    np.testing.assert_allclose(sd.grad(singular_value_sum)(Q), Q, atol=1e-12)

class Softplus:
    """An object whose method has a rule of its own, as scipy.stats.norm.logpdf does."""

    def __init__(self, sharpness):
        self.sharpness = sharpness

    def apply(self, x):
        return np.logaddexp(0.0, self.sharpness * x) / self.sharpness


SOFTPLUS = Softplus(2.0)


@sd.register_tangent(SOFTPLUS.apply)
def softplus_tangent(z, x):
    d[z] = d[x] / (1.0 + np.exp(-2.0 * x))  # noqa: F821  (d is template syntax)


@sd.register_adjoint(SOFTPLUS.apply)
def softplus_adjoint(z, x):
    d[x] = d[z] / (1.0 + np.exp(-2.0 * x))  # noqa: F821


def uses_a_bound_method(x):
    return np.sum(SOFTPLUS.apply(x) ** 2)


def test_a_rule_for_a_bound_method_is_found_at_every_read():
    """`SOFTPLUS.apply` is a new object at each read: the registry knows it by instance and function."""
    assert SOFTPLUS.apply is not SOFTPLUS.apply
    check(uses_a_bound_method, (rng.standard_normal(4),), reference=False)

# --- scipy.special and scipy.stats (their rules register only when SciPy is installed) -----------------

scipy = pytest.importorskip("scipy")
import autograd.scipy.linalg as autograd_linalg  # noqa: E402
import autograd.scipy.special as autograd_special  # noqa: E402
import autograd.scipy.stats as autograd_stats  # noqa: E402
import scipy.special  # noqa: E402
import scipy.stats  # noqa: E402
import scipy as sp  # noqa: E402
from scipy import special  # noqa: E402
from scipy.linalg import solve_triangular  # noqa: E402
from scipy.special import digamma, erf, erfc, expit, gammaln, logit, logsumexp, xlogy  # noqa: E402
from scipy.stats import multivariate_normal, norm  # noqa: E402

AUTOGRAD_SCIPY = dict(logsumexp=autograd_special.logsumexp, expit=autograd_special.expit,
                      logit=autograd_special.logit, gammaln=autograd_special.gammaln,
                      digamma=autograd_special.digamma, erf=autograd_special.erf, erfc=autograd_special.erfc,
                      norm=autograd_stats.norm, multivariate_normal=autograd_stats.multivariate_normal,
                      special=autograd_special)


def gp_with_triangular_solves(params, X, y):
    """The marginal likelihood as GP code often writes it, with scipy.linalg.solve_triangular."""
    K = np.exp(params[1]) * np.exp(-0.5 * np.sum((X[:, None] - X[None]) ** 2, -1) / np.exp(2 * params[0]))
    L = np.linalg.cholesky(K + np.exp(params[2]) * np.eye(len(y)))
    v = solve_triangular(L, y, lower=True)
    alpha = solve_triangular(L, v, trans="T", lower=True)
    return 0.5 * v @ v + np.sum(np.log(np.diag(L))) + 1e-3 * np.sum(alpha ** 2)


def test_gaussian_process_with_triangular_solves():
    X, y = rng.standard_normal((6, 2)), rng.standard_normal(6)
    check(gp_with_triangular_solves, (np.array([0.1, -0.2, -1.0]), X, y), wrt=(0, 2),
          reference=with_autograd(gp_with_triangular_solves, solve_triangular=autograd_linalg.solve_triangular))


def softmax_cross_entropy(W, b, X, labels):
    logits = X @ W + b
    return np.mean(logsumexp(logits, axis=1) - logits[np.arange(len(labels)), labels])


def test_softmax_loss_with_logsumexp():
    """logsumexp used to be read from SciPy's source and refused for its with statement."""
    X, labels = rng.standard_normal((6, 3)), rng.integers(0, 4, 6)
    check(softmax_cross_entropy, (rng.standard_normal((3, 4)), rng.standard_normal(4), X, labels), wrt=(0, 1),
          reference=with_autograd(softmax_cross_entropy, **AUTOGRAD_SCIPY))


def weighted_log_partition(a, b):
    return np.sum(logsumexp(a, axis=0, b=b, keepdims=True) ** 2) + logsumexp(a[0], b=b[:3, 0])


def test_logsumexp_with_weights():
    """autograd has no derivative for b: finite differences only."""
    check(weighted_log_partition, (rng.standard_normal((4, 3)), rng.uniform(0.5, 2.0, (4, 1))), wrt=(0, 1),
          reference=False)


def special_functions(x, a):
    p = expit(x)
    return (np.sum(logit(0.25 + 0.5 * p)) + np.sum(gammaln(a) * digamma(a)) + np.sum(erf(x) * erfc(0.5 * x))
            + special.gammaln(a[0]))


def test_special_functions():
    check(special_functions, (rng.standard_normal(4), rng.uniform(0.5, 3.0, 4)), wrt=(0, 1),
          reference=with_autograd(special_functions, **AUTOGRAD_SCIPY))


def logistic_regression(w, X, y):
    p = expit(X @ w)
    return -np.sum(xlogy(y, p) + xlogy(1.0 - y, 1.0 - p))


def test_logistic_regression_with_expit_and_xlogy():
    """autograd has no xlogy: finite differences only."""
    X, y = rng.standard_normal((8, 3)), (rng.random(8) > 0.5).astype(float)
    check(logistic_regression, (rng.standard_normal(3), X, y), reference=False)


def normal_likelihoods(x, mu, log_sigma):
    sigma = np.exp(log_sigma)
    return (np.sum(norm.logpdf(x, mu, sigma)) + np.sum(norm.logcdf(x, loc=mu, scale=sigma))
            + np.sum(norm.cdf(x / sigma)) + norm.logpdf(x[0], 0, 1))


def normal_likelihoods_positionally(x, mu, log_sigma):
    """The same, for autograd, whose primitives take differentiable arguments only by position."""
    sigma = np.exp(log_sigma)
    return (np.sum(norm.logpdf(x, mu, sigma)) + np.sum(norm.logcdf(x, mu, sigma))
            + np.sum(norm.cdf(x / sigma)) + norm.logpdf(x[0], 0, 1))


def test_normal_distribution_functions():
    check(normal_likelihoods, (rng.standard_normal(5), rng.standard_normal(5), rng.standard_normal()),
          wrt=(0, 1, 2), reference=with_autograd(normal_likelihoods_positionally, **AUTOGRAD_SCIPY))


def multivariate_normal_likelihood(X, mu, L):
    cov = L @ L.T + 0.1 * np.eye(len(mu))
    return np.mean(multivariate_normal.logpdf(X, mu, cov)) + multivariate_normal.logpdf(X[0], mean=mu, cov=cov)


def multivariate_normal_likelihood_positionally(X, mu, L):
    cov = L @ L.T + 0.1 * np.eye(len(mu))
    return np.mean(multivariate_normal.logpdf(X, mu, cov)) + multivariate_normal.logpdf(X[0], mu, cov)


def mean_multivariate_normal_logpdf(X, mu, L):
    return np.mean(multivariate_normal.logpdf(X, mu, L @ L.T + 0.1 * np.eye(3)))


def test_multivariate_normal_logpdf_matches_the_same_likelihood_written_with_slogdet_and_solve():
    X, mu, L = rng.standard_normal((6, 3)), rng.standard_normal(3), rng.standard_normal((3, 3))
    check(multivariate_normal_likelihood, (X, mu, L), wrt=(0, 1, 2),
          reference=with_autograd(multivariate_normal_likelihood_positionally, **AUTOGRAD_SCIPY))
    written_out = sd.grad(gaussian_log_likelihood, wrt=(0, 1, 2))(X, mu, L)
    with_scipy = sd.grad(mean_multivariate_normal_logpdf, wrt=(0, 1, 2))(X, mu, L)
    for a, b in zip(written_out, with_scipy):
        np.testing.assert_allclose(a, b, rtol=1e-9)


def spellings(x):
    """The same functions through every import style."""
    return (scipy.special.logsumexp(x) + sp.special.expit(x[0]) + special.erf(x[1])
            + scipy.stats.norm.logpdf(x[2], 0, 1) + sp.stats.norm.cdf(x[0]) + np.sum(scipy.special.xlogy(2.0, x * x)))


def test_every_spelling_of_a_scipy_function_finds_its_rule():
    x = rng.uniform(0.5, 1.5, 3)
    check(spellings, (x,), reference=False)
    expected = [directional_difference(spellings, (x,), (0,), [e]) for e in np.eye(3)]
    np.testing.assert_allclose(sd.grad(spellings)(x), expected, rtol=1e-6)


def uses_softmax(x):
    return np.sum(scipy.special.softmax(x) * x)


def test_a_library_function_without_a_rule_is_refused_at_its_call():
    """Not read from the library's source: refused where the user's code calls it."""
    for transform in (sd.grad, sd.jvp):
        with pytest.raises(sd.NonDifferentiableError, match="no .*rule for softmax") as info:
            transform(uses_softmax)(np.ones(3), *([np.ones(3)] if transform is sd.jvp else []))
        assert info.value.filename == __file__
        assert "scipy.special.softmax(x)" in str(info.value)


def test_a_library_function_is_not_differentiated_from_its_source():
    with pytest.raises(sd.UnsupportedSyntaxError, match="library function"):
        sd.grad(scipy.special.softmax)


def fill_by_keyword(a):
    b = a * 2.0
    return np.sum(np.full(3, fill_value=a)) + np.sum(np.full_like(np.ones(2), fill_value=b)) + b * a


def test_a_differentiable_keyword_argument_adds_to_its_cotangent():
    """A rule's contribution to an argument passed by keyword (norm.logcdf(x, loc=mu, scale=sigma) above,
    np.full(3, fill_value=a) here) used to replace the cotangent gathered so far instead of adding to it."""
    a = 0.7
    assert np.isclose(sd.grad(fill_by_keyword)(a), directional_difference(fill_by_keyword, (a,), (0,), [1.0]))


def log_partition_with_sign(x):
    value, sign = logsumexp(x, return_sign=True)
    return value


def test_a_scipy_option_without_a_rule_is_refused_where_it_is_written():
    with pytest.raises(sd.NonDifferentiableError, match="return_sign") as info:
        sd.grad(log_partition_with_sign)
    assert info.value.filename == __file__ and "logsumexp(x, return_sign=True)" in str(info.value)
