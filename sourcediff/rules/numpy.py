"""Rules for NumPy reductions, linear algebra, shape manipulation and constructors."""
import numpy as np

from ..runtime import expand_reduced, unbroadcast
from .registry import F, adjoint, d, inactive, tangent

inactive(
    np.shape, np.ndim, np.size, np.sign, np.floor, np.ceil, np.round, np.rint, np.argmax, np.argmin,
    np.argsort, np.isnan, np.isfinite, np.isinf, np.zeros, np.ones, np.empty, np.eye,
    np.identity, np.zeros_like, np.ones_like, np.empty_like,
    np.less, np.greater, np.equal, np.logical_and, np.logical_or, np.logical_not, np.any, np.all,
    np.nonzero, np.count_nonzero,
)


@tangent(
    np.sum, np.mean, np.cumsum, np.transpose, np.reshape, np.squeeze, np.expand_dims, np.broadcast_to,
    np.diag, np.trace, np.ravel, np.copy, np.array, np.asarray, np.concatenate, np.stack, np.hstack,
    np.vstack, np.negative, np.real, linear=True,
)
def linear(z, x, *args, **kwargs):
    d[z] = F(d[x], *args, **kwargs)


@tangent(np.dot, np.matmul, np.outer, np.inner, np.multiply, np.kron, linear=True)
def bilinear(z, x, y):
    d[z] = F(d[x], y) + F(x, d[y])


@tangent(np.einsum, nargs=2, linear=True)
def einsum1(z, subscripts, x):
    d[z] = F(subscripts, d[x])


@tangent(np.einsum, nargs=3, linear=True)
def einsum2(z, subscripts, x, y):
    d[z] = F(subscripts, d[x], y) + F(subscripts, x, d[y])


@tangent(np.einsum, nargs=4, linear=True)
def einsum3(z, subscripts, x, y, w):
    d[z] = F(subscripts, d[x], y, w) + F(subscripts, x, d[y], w) + F(subscripts, x, y, d[w])


@tangent(np.add, elementwise=True)
def add(z, x, y):
    d[z] = d[x] + d[y]


@tangent(np.subtract, elementwise=True)
def subtract(z, x, y):
    d[z] = d[x] - d[y]


@tangent(np.divide, np.true_divide, elementwise=True)
def divide(z, x, y):
    d[z] = (d[x] - z * d[y]) / y


@adjoint(np.sum)
def sum_adjoint(z, x, axis=None, keepdims=False):
    d[x] = np.broadcast_to(expand_reduced(d[z], x, axis, keepdims), np.shape(x))


@adjoint(np.mean)
def mean_adjoint(z, x, axis=None, keepdims=False):
    d[x] = np.broadcast_to(expand_reduced(d[z], x, axis, keepdims), np.shape(x)) * (np.size(z) / np.size(x))


@tangent(np.prod)
def prod(z, x, axis=None, keepdims=False):
    d[z] = np.sum(d[x] * (expand_reduced(z, x, axis, keepdims) / x), axis=axis, keepdims=keepdims)


@tangent(np.max, np.min, np.amax, np.amin)
def max_(z, x, axis=None, keepdims=False):
    mask = x == expand_reduced(z, x, axis, keepdims)
    d[z] = np.sum(d[x] * mask, axis=axis, keepdims=keepdims) / np.sum(mask, axis=axis, keepdims=keepdims)


@tangent(np.linalg.norm)
def norm(z, x, ord=None, axis=None, keepdims=False):
    d[z] = np.sum(x * d[x], axis=axis, keepdims=keepdims) / z


@tangent(np.linalg.det)
def det(z, x):
    d[z] = z * np.trace(np.linalg.solve(x, d[x]), axis1=-2, axis2=-1)


@tangent(np.linalg.inv)
def inv(z, x):
    d[z] = -(z @ d[x] @ z)


@tangent(np.linalg.solve)
def solve(z, a, b):
    d[z] = np.linalg.solve(a, d[b] - d[a] @ z)


@tangent(np.full)
def full(z, shape, fill_value, *args, **kwargs):
    d[z] = np.full(shape, d[fill_value], *args, **kwargs)


@tangent(np.full_like)
def full_like(z, a, fill_value, *args, **kwargs):
    d[z] = np.full_like(a, d[fill_value], *args, **kwargs)
