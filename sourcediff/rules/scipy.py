"""Rules for scipy.special, scipy.stats and scipy.linalg.solve_triangular, registered when SciPy is
installed (rules/__init__.py).

sourcediff never reads a library's source, so these functions are differentiated only through the
rules below; the rest of SciPy is refused where it is called with differentiable arguments.
scipy.stats.norm.logpdf is a bound method, a new object at each read: the registry knows it by its
instance and function, so every spelling (`norm.logpdf`, `scipy.stats.norm.logpdf`) finds the rule.
"""
import numpy as np
import scipy.linalg
import scipy.special
import scipy.stats
from scipy.linalg import solve_triangular
from scipy.special import digamma, erf, erfc, expit, gammaln, logit, logsumexp, polygamma, xlogy
from scipy.stats import multivariate_normal, norm

from ..errors import NonDifferentiableError
from ..runtime import expand_reduced, read_for_derivatives, unbroadcast
from .linalg import symmetric_cotangent, symmetric_input, transposed
from .registry import F, adjoint, array_cotangent, d, declare_linear, inactive, rule_for, tangent


# --- scipy.special -----------------------------------------------------------------------------------

@tangent(logsumexp)
def logsumexp_(z, a, axis=None, b=None, keepdims=False):
    w = np.exp(a - expand_reduced(z, a, axis, keepdims))  # softmax weights, before b's
    d[z] = np.sum((w if b is None else b * w) * d[a] + w * d[b], axis=axis, keepdims=keepdims)


@adjoint(logsumexp)
def logsumexp_adjoint(z, a, axis=None, b=None, keepdims=False):
    w = np.exp(a - expand_reduced(z, a, axis, keepdims))
    g = expand_reduced(d[z], a, axis, keepdims)
    d[a] = unbroadcast((w if b is None else b * w) * g, a)
    d[b] = unbroadcast(w * g, b)


@tangent(expit, pointwise=True)
def expit_(z, x):
    d[z] = z * (1.0 - z) * d[x]


@tangent(logit, pointwise=True)
def logit_(z, x):
    d[z] = d[x] / (x * (1.0 - x))


@tangent(gammaln, pointwise=True)
def gammaln_(z, x):
    d[z] = digamma(x) * d[x]


@tangent(digamma, pointwise=True)
def digamma_(z, x):
    d[z] = polygamma(1, x) * d[x]


@tangent(polygamma, constant=("n",))
def polygamma_(z, n, x):  # digamma's tangent calls it: second derivatives of digamma need it
    d[z] = polygamma(n + 1, x) * d[x]


@adjoint(polygamma, constant=("n",))
def polygamma_adjoint(z, n, x):
    d[x] = unbroadcast(polygamma(n + 1, x) * d[z], x)


@tangent(erf, pointwise=True)
def erf_(z, x):
    d[z] = 1.1283791670955126 * np.exp(-(x * x)) * d[x]


@tangent(erfc, pointwise=True)
def erfc_(z, x):
    d[z] = -1.1283791670955126 * np.exp(-(x * x)) * d[x]


@tangent(xlogy, elementwise=True)
def xlogy_(z, x, y):  # xlogy(dx, y) is dx log y, and 0 where dx is
    d[z] = F(d[x], y) + x * d[y] / y


@adjoint(xlogy)
def xlogy_adjoint(z, x, y):
    d[x] = unbroadcast(F(d[z], y), x)
    d[y] = unbroadcast(d[z] * x / y, y)


# --- scipy.stats -------------------------------------------------------------------------------------

@tangent(norm.logpdf, elementwise=True)
def norm_logpdf(z, x, loc=0.0, scale=1.0):  # z = -u²/2 - log(scale) - log √(2π), u = (x - loc) / scale
    u = (x - loc) / scale
    d[z] = (-u * (d[x] - d[loc]) + (u * u - 1.0) * d[scale]) / scale


@adjoint(norm.logpdf)
def norm_logpdf_adjoint(z, x, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    g = d[z] / scale
    d[x] = unbroadcast(-u * g, x)
    d[loc] = unbroadcast(u * g, loc)
    d[scale] = unbroadcast((u * u - 1.0) * g, scale)


@tangent(norm.cdf, elementwise=True)
def norm_cdf(z, x, loc=0.0, scale=1.0):  # the standard normal density at u, over scale, times du
    u = (x - loc) / scale
    slope = np.exp(-0.5 * u * u - 0.9189385332046727) / scale
    d[z] = slope * (d[x] - d[loc] - u * d[scale])


@adjoint(norm.cdf)
def norm_cdf_adjoint(z, x, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    g = np.exp(-0.5 * u * u - 0.9189385332046727) / scale * d[z]
    d[x] = unbroadcast(g, x)
    d[loc] = unbroadcast(-g, loc)
    d[scale] = unbroadcast(-u * g, scale)


@tangent(norm.logcdf, elementwise=True)
def norm_logcdf(z, x, loc=0.0, scale=1.0):  # density over cdf, exp(logpdf - logcdf): stable in the lower tail
    u = (x - loc) / scale
    slope = np.exp(-0.5 * u * u - 0.9189385332046727 - z) / scale
    d[z] = slope * (d[x] - d[loc] - u * d[scale])


@adjoint(norm.logcdf)
def norm_logcdf_adjoint(z, x, loc=0.0, scale=1.0):
    u = (x - loc) / scale
    g = np.exp(-0.5 * u * u - 0.9189385332046727 - z) / scale * d[z]
    d[x] = unbroadcast(g, x)
    d[loc] = unbroadcast(-g, loc)
    d[scale] = unbroadcast(-u * g, scale)


@tangent(multivariate_normal.logpdf)
def multivariate_normal_logpdf(z, x, mean=None, cov=1):  # z = -(log det 2π cov + sᵀ cov s) / 2, s = cov⁻¹ (x - mean)
    s = precision_residual(x, mean, cov)
    d[z] = np.reshape(-np.sum(s * (d[x] - d[mean]), axis=-1) + gaussian_cov_tangent(s, cov, d[cov]), np.shape(z))


@adjoint(multivariate_normal.logpdf)
def multivariate_normal_logpdf_adjoint(z, x, mean=None, cov=1):
    s = precision_residual(x, mean, cov)
    g = np.reshape(d[z], np.shape(s)[:-1] + (1,))
    d[x] = unbroadcast(-g * s, x)
    d[mean] = unbroadcast(g * s, mean)
    d[cov] = gaussian_cov_cotangent(g, s, cov)


@read_for_derivatives
def precision_residual(x, mean, cov):
    """cov⁻¹ (x - mean) for each point (each row of x), refusing covariances given other than as a matrix."""
    if np.ndim(cov) != 2:
        raise NonDifferentiableError("the derivative of scipy.stats.multivariate_normal.logpdf needs cov as a matrix",
                                     hint="pass np.diag(v) or s * np.eye(n)")
    residual = x if mean is None else x - mean
    return np.linalg.solve(cov, np.expand_dims(residual, -1))[..., 0]


@read_for_derivatives
def gaussian_cov_tangent(s, cov, dcov):
    """(sᵀ dcov s - tr(cov⁻¹ dcov)) / 2 for each point, dcov read through its lower triangle as scipy reads cov."""
    dcov = symmetric_input(dcov)
    return 0.5 * (np.sum(s * (s @ dcov), axis=-1) - np.trace(np.linalg.solve(cov, dcov)))


@read_for_derivatives
def gaussian_cov_cotangent(g, s, cov):
    """(Σ g s sᵀ - (Σ g) cov⁻¹) / 2 over the points, through cov's lower triangle."""
    rows = np.reshape(s, (-1, np.shape(s)[-1]))
    outer = transposed(np.reshape(g, (-1, 1)) * rows) @ rows
    return symmetric_cotangent(0.5 * (outer - np.sum(g) * np.linalg.inv(cov)))



# --- scipy.linalg --------------------------------------------------------------------------------------

@tangent(solve_triangular)
def solve_triangular_(z, a, b, trans=0, lower=False, unit_diagonal=False, check_finite=True):
    d[z] = F(a, d[b] - as_solved(triangle(d[a], lower, unit_diagonal), trans) @ z, trans, lower, unit_diagonal)


@adjoint(solve_triangular)
def solve_triangular_adjoint(z, a, b, trans=0, lower=False, unit_diagonal=False, check_finite=True):
    g = F(a, d[z], transposed_system(trans), lower, unit_diagonal)
    d[a] = -triangle(as_solved(outer_columns(g, z), trans), lower, unit_diagonal)
    d[b] = g


def triangle(a, lower, unit_diagonal):
    """The part of a that solve_triangular reads and that varies (a unit diagonal is constant)."""
    part = np.tril(a) if lower else np.triu(a)
    return part - part * np.eye(np.shape(a)[-1]) if unit_diagonal else part


def as_solved(m, trans):
    """m as solve_triangular's trans applies it: transposed for 1, 2, 'T' or 'C' (real matrices)."""
    return transposed(m) if trans in (1, 2, "T", "C") else m


def transposed_system(trans):
    """The trans that solves with the transpose of the matrix trans solves with."""
    return 0 if trans in (1, 2, "T", "C") else 1


@read_for_derivatives
def outer_columns(g, z):
    """g zᵀ, each column of g against each of z (one column where they are vectors)."""
    return np.outer(g, z) if np.ndim(z) == 1 else g @ transposed(z)


declare_linear(gaussian_cov_tangent, positions={2})  # zero derivatives in, zero out
inactive(transposed_system)
declare_linear(triangle, as_solved, positions={0})


# How generated code, errors and docs/supported.md name these rules (rather than by __qualname__).
for _spelled in ("linalg.solve_triangular", "special.logsumexp", "special.expit", "special.logit",
                 "special.gammaln", "special.digamma", "special.polygamma", "special.erf", "special.erfc", "special.xlogy", "stats.norm.logpdf", "stats.norm.cdf",
                 "stats.norm.logcdf", "stats.multivariate_normal.logpdf"):
    _obj = scipy
    for _attr in _spelled.split("."):
        _obj = getattr(_obj, _attr)
    rule_for(_obj).name = "scipy." + _spelled

array_cotangent(solve_triangular, multivariate_normal.logpdf)


# the parts of solve_triangular's tangent (linear maps: a projection, a transpose), so that it nests
@tangent(triangle)
def triangle_tangent(z, a, lower, unit_diagonal):
    d[z] = triangle(d[a], lower, unit_diagonal)


@adjoint(triangle)
def triangle_adjoint(z, a, lower, unit_diagonal):
    d[a] = triangle(d[z], lower, unit_diagonal)


@tangent(as_solved)
def as_solved_tangent(z, m, trans):
    d[z] = as_solved(d[m], trans)


@adjoint(as_solved)
def as_solved_adjoint(z, m, trans):
    d[m] = as_solved(d[z], trans)


array_cotangent(triangle, as_solved)
