"""Rules for np.linalg: norms, inverses and solves, determinants, factorizations, powers.

Matrices may be stacked wherever NumPy allows it: every formula acts on the last two axes. The
helpers below are what the templates call; generated code calls them by name. Where a function has
no derivative the rules assume what users usually do (ASSUMPTIONS, listed in docs/supported.md).
"""
import numpy as np

from ..errors import NonDifferentiableError
from ..runtime import cotangent_at, expand_reduced, read_for_derivatives, unbroadcast, zeros_like
from .registry import adjoint, array_cotangent, d, declare_linear, tangent


ASSUMPTIONS = [
    "`np.linalg.eigh`: distinct eigenvalues (the derivatives of the eigenvectors divide by their gaps).",
    "`np.linalg.svd`: distinct, nonzero singular values, and factors that are unique: `full_matrices=False`, or a "
    "square matrix (the extra singular vectors of a non-square matrix are refused when the derivative runs).",
    "`np.linalg.pinv`: a rank that does not change near the point.",
    "`np.linalg.norm` at a kink (a zero vector; a tie for the largest or smallest element, column sum or row sum; "
    "a repeated largest or smallest singular value for `ord=2` and `ord=-2`): tied elements share the derivative "
    "equally, as with `np.max`; the 2-norm of a zero vector has none (NaN).",
    "`np.linalg.cholesky` and `np.linalg.eigh` read only the lower triangle of their input (eigh the upper one "
    "with `UPLO='U'`), and so do their derivatives: the other triangle gets a zero cotangent. "
    "`scipy.stats.multivariate_normal.logpdf` reads its `cov` the same way.",
]


def transposed(a):
    """Each matrix of a stack transposed."""
    return np.swapaxes(a, -1, -2)


@tangent(transposed)
def transposed_tangent(z, a):
    d[z] = transposed(d[a])


@adjoint(transposed)
def transposed_adjoint(z, a):
    d[a] = transposed(d[z])


declare_linear(transposed)
array_cotangent(transposed)


@read_for_derivatives
def diagonal_matrix(v):
    """The diagonal matrices holding a stack of vectors."""
    return np.expand_dims(v, -1) * np.eye(np.shape(v)[-1])


@read_for_derivatives
def diagonal(a):
    return np.diagonal(a, axis1=-2, axis2=-1)


def symmetric_input(a, UPLO="L"):
    """The symmetric matrix a function sees that reads only a's lower (UPLO='L') or upper triangle."""
    lower = a if UPLO == "L" else transposed(a)
    return np.tril(lower) + transposed(np.tril(lower, -1))


@read_for_derivatives
def symmetric_cotangent(m, UPLO="L"):
    """The cotangent of a from m, the cotangent of symmetric_input(a, UPLO): the adjoint of that map."""
    lower = np.tril(m) + np.tril(transposed(m), -1)
    return lower if UPLO == "L" else transposed(lower)


@tangent(symmetric_input)
def symmetric_input_tangent(z, a, UPLO="L"):  # a part of the tangents of eigh and cholesky: linear in a
    d[z] = symmetric_input(d[a], UPLO)


@adjoint(symmetric_input)
def symmetric_input_adjoint(z, a, UPLO="L"):
    d[a] = symmetric_cotangent(d[z], UPLO)


array_cotangent(symmetric_input)


@read_for_derivatives
def lower_half(m):
    """The lower triangle of m with its diagonal halved: the part X of X + Xᵀ that is lower triangular."""
    return np.tril(m) - 0.5 * m * np.eye(np.shape(m)[-1])


@read_for_derivatives
def sandwich_solve(l, m):
    """l⁻¹ m l⁻ᵀ."""
    return transposed(np.linalg.solve(l, transposed(np.linalg.solve(l, m))))


@read_for_derivatives
def inverse_gaps(w):
    """F[i, j] = 1 / (w[j] - w[i]) off the diagonal and 0 on it (infinite for a repeated value: the
    vectors' derivatives do not exist there)."""
    return reciprocal_off_diagonal(np.expand_dims(w, -2) - np.expand_dims(w, -1))


def reciprocal_off_diagonal(gaps):
    """1 / gaps off the diagonal of the last two axes and 0 on it (infinite where an off-diagonal gap is 0)."""
    eye = np.eye(np.shape(gaps)[-1])
    with np.errstate(divide="ignore"):
        return (1.0 - eye) / (gaps + eye)


@tangent(reciprocal_off_diagonal)
def reciprocal_off_diagonal_tangent(z, gaps):  # d(1/g) = -dg / g², and 0 on the diagonal, where z is
    d[z] = -(z * z) * d[gaps]


@adjoint(reciprocal_off_diagonal)
def reciprocal_off_diagonal_adjoint(z, gaps):
    d[gaps] = unbroadcast(-(z * z) * d[z], gaps)


@read_for_derivatives
def reached(g, i):
    """Part i of the cotangent g of a tuple output, or None where nothing reached it (every part of
    these outputs is an array, so a float 0.0 is the zero a cotangent starts as)."""
    part = cotangent_at(g, i)
    return None if type(part) is float and part == 0.0 else part


# --- norms -----------------------------------------------------------------------------------------

@read_for_derivatives
def norm_gradient(x, z, ord, axis, keepdims):
    """The derivative of z = np.linalg.norm(x, ord, axis, keepdims) with respect to each element of x."""
    x = np.asarray(x, dtype=float)
    axes = tuple(range(x.ndim)) if axis is None else (axis,) if np.ndim(axis) == 0 else tuple(axis)
    axes = tuple(a % x.ndim for a in axes)
    zk = expand_reduced(z, x, axis, keepdims)
    sign = np.sign(x)
    if ord is None or ord == "fro" or ord == 2 and len(axes) == 1:
        return x / zk
    if len(axes) == 1:
        if ord == 0:
            return np.zeros_like(x)
        if ord == 1:
            return sign
        if np.isinf(ord):
            return sign * tied_share(np.abs(x) == zk, axes)
        return sign * (np.abs(x) / zk) ** (ord - 1)
    rows, cols = axes
    if ord in ("nuc", 2, -2):
        return singular_gradient(x, axes, ord)
    if ord in (1, -1):  # the largest (smallest) column sum of |x|
        return sign * tied_share(np.sum(np.abs(x), axis=rows, keepdims=True) == zk, (cols,))
    return sign * tied_share(np.sum(np.abs(x), axis=cols, keepdims=True) == zk, (rows,))  # ord = ±inf: rows


@read_for_derivatives
def tied_share(mask, axes):
    """The weight of each element the max (min) of a reduction over axes picked, shared among ties."""
    return mask / np.sum(mask, axis=axes, keepdims=True)


@read_for_derivatives
def singular_gradient(x, axes, ord):
    """The derivative of the nuclear norm (U Vᵀ), or of the largest (ord=2) or smallest (ord=-2)
    singular value (u vᵀ of its singular vectors), of the matrices of x spanning axes."""
    u, s, vh = np.linalg.svd(np.moveaxis(x, axes, (-2, -1)), full_matrices=False)
    if ord != "nuc":
        keep = [0] if ord == 2 else [-1]
        u, vh = u[..., :, keep], vh[..., keep, :]
    return np.moveaxis(u @ vh, (-2, -1), axes)


@tangent(np.linalg.norm)
def norm(z, x, ord=None, axis=None, keepdims=False):
    d[z] = (np.sum(x * d[x], axis=axis, keepdims=keepdims) / z if ord is None
            else np.sum(norm_gradient(x, z, ord, axis, keepdims) * d[x], axis=axis, keepdims=keepdims))


@adjoint(np.linalg.norm)
def norm_adjoint(z, x, ord=None, axis=None, keepdims=False):
    d[x] = (x * expand_reduced(d[z] / z, x, axis, keepdims) if ord is None
            else norm_gradient(x, z, ord, axis, keepdims) * expand_reduced(d[z], x, axis, keepdims))


# --- inverses, solves, determinants ------------------------------------------------------------------

@tangent(np.linalg.inv)
def inv(z, x):
    d[z] = -(z @ d[x] @ z)


@adjoint(np.linalg.inv)
def inv_adjoint(z, x):
    t = transposed(z)
    d[x] = -(t @ d[z] @ t)


@tangent(np.linalg.solve)
def solve(z, a, b):  # a 1-D b is one right-hand side (a column), solved against each matrix of a's stack
    d[z] = (np.linalg.solve(a, d[b] - d[a] @ z) if np.ndim(b) > 1
            else np.linalg.solve(a, np.expand_dims(d[b], -1) - d[a] @ np.expand_dims(z, -1))[..., 0])


declare_linear(np.linalg.solve, positions={1})  # in b: a zero right-hand side solves to zero


@adjoint(np.linalg.solve)
def solve_adjoint(z, a, b):
    g = np.linalg.solve(transposed(a), np.expand_dims(d[z], -1) if np.ndim(b) == 1 else d[z])
    d[a] = unbroadcast(-np.matmul(g, transposed(np.expand_dims(z, -1) if np.ndim(b) == 1 else z)), a)
    d[b] = unbroadcast(g[..., 0] if np.ndim(b) == 1 else g, b)


@tangent(np.linalg.det)
def det(z, x):
    d[z] = z * np.trace(np.linalg.solve(x, d[x]), axis1=-2, axis2=-1)


@adjoint(np.linalg.det)
def det_adjoint(z, x):
    d[x] = np.expand_dims(d[z] * z, (-2, -1)) * transposed(np.linalg.inv(x))


@tangent(np.linalg.slogdet)
def slogdet(z, x):  # (sign, log|det|): the sign is piecewise constant
    d[z] = (zeros_like(z[0]), np.trace(np.linalg.solve(x, d[x]), axis1=-2, axis2=-1))


@adjoint(np.linalg.slogdet)
def slogdet_adjoint(z, x):
    d[x] = np.expand_dims(cotangent_at(d[z], 1), (-2, -1)) * transposed(np.linalg.inv(x))


@tangent(np.linalg.pinv)
def pinv(z, x, rcond=None, rtol=None):
    d[z] = pinv_tangent(x, z, d[x])


@adjoint(np.linalg.pinv)
def pinv_adjoint(z, x, rcond=None, rtol=None):
    d[x] = pinv_cotangent(x, z, d[z])


@read_for_derivatives
def pinv_tangent(a, p, da):
    """The tangent of p = pinv(a) at constant rank: -p da p + p pᵀ daᵀ (I - a p) + (I - p a) daᵀ pᵀ p."""
    dat, pt = transposed(da), transposed(p)
    return (-(p @ da @ p) + p @ pt @ dat @ (np.eye(np.shape(a)[-2]) - a @ p)
            + (np.eye(np.shape(a)[-1]) - p @ a) @ dat @ pt @ p)


@read_for_derivatives
def pinv_cotangent(a, p, g):
    """The cotangent of a from the cotangent g of p = pinv(a): the adjoint of pinv_tangent."""
    gt, pt = transposed(g), transposed(p)
    return (-(pt @ g @ pt) + (np.eye(np.shape(a)[-2]) - a @ p) @ gt @ p @ pt
            + pt @ p @ gt @ (np.eye(np.shape(a)[-1]) - p @ a))


@tangent(np.linalg.matrix_power)
def matrix_power(z, x, n):
    d[z] = matrix_power_tangent(x, n, d[x])


@adjoint(np.linalg.matrix_power)
def matrix_power_adjoint(z, x, n):
    d[x] = matrix_power_cotangent(x, n, d[z])


@read_for_derivatives
def matrix_power_tangent(a, n, da):
    """The sum over k < |n| of b^k db b^(|n|-1-k), with b = a, db = da (n >= 0) or b = a⁻¹, db = -b da b."""
    if n < 0:
        a = np.linalg.inv(a)
        da = -(a @ da @ a)
    return _sandwiched(_powers(a, abs(n)), da, abs(n))


@read_for_derivatives
def matrix_power_cotangent(a, n, g):
    """The adjoint of matrix_power_tangent."""
    b = np.linalg.inv(a) if n < 0 else a
    powers = [transposed(p) for p in _powers(b, abs(n))]
    gb = _sandwiched(powers, g, abs(n))
    return -(transposed(b) @ gb @ transposed(b)) if n < 0 else gb


@read_for_derivatives
def _sandwiched(powers, m, n):
    """The sum over k < n of powers[k] @ m @ powers[n - 1 - k] (zeros for n = 0)."""
    total = 0.0 * m
    for k in range(n):
        total = total + powers[k] @ m @ powers[n - 1 - k]
    return total


@read_for_derivatives
def _powers(a, n):
    """[a⁰, a¹, ..., a^(n-1)], stacked like a."""
    powers = [np.broadcast_to(np.eye(np.shape(a)[-1]), np.shape(a))]
    for _ in range(n - 1):
        powers.append(powers[-1] @ a)
    return powers


# --- factorizations ----------------------------------------------------------------------------------

@tangent(np.linalg.cholesky)
def cholesky(z, x):  # a = l lᵀ gives l⁻¹ da l⁻ᵀ = X + Xᵀ with X = l⁻¹ dl lower triangular
    d[z] = z @ lower_half(sandwich_solve(z, symmetric_input(d[x])))


@adjoint(np.linalg.cholesky)
def cholesky_adjoint(z, x):
    d[x] = symmetric_cotangent(sandwich_solve(transposed(z), lower_half(transposed(z) @ d[z])))


@tangent(np.linalg.eigh)
def eigh(z, x, UPLO="L"):
    d[z] = eigh_tangent(z[0], z[1], symmetric_input(d[x], UPLO))


@adjoint(np.linalg.eigh)
def eigh_adjoint(z, x, UPLO="L"):
    d[x] = symmetric_cotangent(eigh_cotangent(d[z], z), UPLO)


@read_for_derivatives
def eigh_tangent(w, v, da):
    """(dw, dv) for a = v diag(w) vᵀ: with p = vᵀ da v, dw = diag(p) and dv = v (F ∘ p), F the inverse gaps."""
    p = transposed(v) @ da @ v
    return diagonal(p), v @ (inverse_gaps(w) * p)


@read_for_derivatives
def eigh_cotangent(g, z):
    """v (diag(bw) + F ∘ (vᵀ bv)) vᵀ from the cotangent g = (bw, bv) of z = (w, v). Without bv the gaps
    are not needed, so eigenvalues alone are differentiable where they repeat."""
    (w, v), bw, bv = z, reached(g, 0), reached(g, 1)
    inner = diagonal_matrix(np.zeros_like(w) if bw is None else bw)
    if bv is not None:
        inner = inner + inverse_gaps(w) * (transposed(v) @ bv)
    return v @ inner @ transposed(v)


@tangent(np.linalg.svd)
def svd(z, x, full_matrices=True, compute_uv=True):
    d[z] = svd_tangent(z, d[x]) if compute_uv else singular_values_tangent(x, d[x])


@adjoint(np.linalg.svd)
def svd_adjoint(z, x, full_matrices=True, compute_uv=True):
    d[x] = svd_cotangent(d[z], z) if compute_uv else singular_values_cotangent(d[z], x)


@read_for_derivatives
def reduced_factors(z):
    """(u, s, v) of an svd result, refusing the non-unique extra columns of full_matrices=True."""
    u, s, vh = z
    if np.shape(u)[-1] != np.shape(s)[-1] or np.shape(vh)[-2] != np.shape(s)[-1]:
        raise NonDifferentiableError(
            "np.linalg.svd of a non-square matrix with full_matrices=True has no derivative: its extra "
            "singular vectors are not unique", hint="call np.linalg.svd(a, full_matrices=False)")
    return u, s, transposed(vh)


@read_for_derivatives
def svd_tangent(z, da):
    """(du, ds, dvh) for a = u diag(s) vᵀ (Townsend, 2016), with p = uᵀ da v and F[i, j] = 1/(s_j² - s_i²)."""
    u, s, v = reduced_factors(z)
    p = transposed(u) @ da @ v
    f = inverse_gaps(s ** 2)
    ps, sp = p * np.expand_dims(s, -2), np.expand_dims(s, -1) * p  # p diag(s), diag(s) p
    du = u @ (f * (ps + transposed(ps))) + (da @ v - u @ p) / np.expand_dims(s, -2)
    dv = v @ (f * (sp + transposed(sp))) + (transposed(da) @ u - v @ transposed(p)) / np.expand_dims(s, -2)
    return du, diagonal(p), transposed(dv)


@read_for_derivatives
def svd_cotangent(g, z):
    """The cotangent of a from the cotangent g = (bu, bs, bvh) of z = svd(a): the adjoint of svd_tangent.
    The parts for bu and bv divide by gaps and are left out where nothing reached them."""
    u, s, v = reduced_factors(z)
    bu, bs, bvh = reached(g, 0), reached(g, 1), reached(g, 2)
    inverse_s = 1.0 / np.expand_dims(s, -2)
    core = diagonal_matrix(np.zeros_like(s) if bs is None else bs)
    outside = 0.0  # what bu and bv hold outside the spans of u and v
    if bu is not None:
        ut_bu = transposed(u) @ bu
        core = core + inverse_gaps(s ** 2) * (ut_bu - transposed(ut_bu)) * np.expand_dims(s, -2)
        outside = outside + (bu - u @ ut_bu) * inverse_s @ transposed(v)
    if bvh is not None:
        bv = transposed(bvh)
        vt_bv = transposed(v) @ bv
        core = core + np.expand_dims(s, -1) * (inverse_gaps(s ** 2) * (vt_bv - transposed(vt_bv)))
        outside = outside + u @ transposed((bv - v @ vt_bv) * inverse_s)
    return u @ core @ transposed(v) + outside


@read_for_derivatives
def singular_values_tangent(a, da):
    """The tangent of np.linalg.svd(a, compute_uv=False): diag(uᵀ da v)."""
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(u * (da @ transposed(vh)), axis=-2)


@read_for_derivatives
def singular_values_cotangent(g, a):
    """u diag(g) vᵀ (g may be the 0.0 that stands for zeros)."""
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return (u * np.expand_dims(np.broadcast_to(g, np.shape(s)), -2)) @ vh


array_cotangent(np.linalg.cholesky, np.linalg.inv, np.linalg.matrix_power, np.linalg.pinv, np.linalg.solve)
