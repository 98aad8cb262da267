"""Rules for NumPy reductions, linear algebra, shape manipulation and constructors."""
import numpy as np

from ..runtime import (add_like, direction_axes, dot_left_cotangent, dot_right_cotangent, einsum_cotangent,
                       embed_diagonal, expand_reduced, inner_left_cotangent, inner_right_cotangent, kron_cotangent,
                       matmul_directions_left, matmul_directions_right, matmul_left_cotangent, matmul_right_cotangent,
                       split_like, unbroadcast, unreduce)
from .registry import F, adjoint, d, inactive, tangent, vector_tangent

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
@tangent(np.negative, np.real, np.copy, pointwise=True)
def linear(z, x, *args, **kwargs):
    d[z] = F(d[x], *args, **kwargs)


@vector_tangent(np.sum, np.mean)
def reduction_directions(z, x, axis=None, *args, **kwargs):
    d[z] = F(d[x], direction_axes(axis, x), *args, **kwargs)


# The linear primitives share a tangent but each has an adjoint of its own (np.sum and np.mean: below).

@adjoint(np.cumsum)
def cumsum_adjoint(z, x, axis=None, *args, **kwargs):  # a reversed cumulative sum (of the flattened x for axis=None)
    d[x] = np.reshape(np.flip(np.cumsum(np.flip(d[z], axis), axis), axis), np.shape(x))


@adjoint(np.transpose)
def transpose_adjoint(z, x, axes=None):
    d[x] = np.transpose(d[z]) if axes is None else np.transpose(d[z], np.argsort(np.mod(axes, np.ndim(z))))


@adjoint(np.reshape)
def reshape_adjoint(z, x, shape=None, order="C", **kwargs):
    d[x] = np.reshape(d[z], np.shape(x), order=order)


@adjoint(np.squeeze, np.expand_dims)
def squeeze_adjoint(z, x, *args, **kwargs):
    d[x] = np.reshape(d[z], np.shape(x))


@adjoint(np.broadcast_to)
def broadcast_to_adjoint(z, x, *args, **kwargs):
    d[x] = unbroadcast(d[z], x)


@adjoint(np.diag)
def diag_adjoint(z, x, k=0):
    d[x] = np.diagonal(d[z], k) if np.ndim(x) == 1 else embed_diagonal(d[z], np.shape(x), k)


@adjoint(np.trace)
def trace_adjoint(z, x, offset=0, axis1=0, axis2=1, *args, **kwargs):
    d[x] = np.moveaxis(np.expand_dims(d[z], (-2, -1)) * np.eye(np.shape(x)[axis1], np.shape(x)[axis2], offset),
                       (-2, -1), (axis1, axis2))


@adjoint(np.ravel)
def ravel_adjoint(z, x, order="C"):
    d[x] = np.reshape(d[z], np.shape(x), order=order)


@adjoint(np.copy, np.real)
def copy_adjoint(z, x, *args, **kwargs):
    d[x] = d[z]


@adjoint(np.array, np.asarray)
def array_adjoint(z, x, *args, **kwargs):  # x may be a (nested) list of floats and arrays
    d[x] = add_like(d[x], x, d[z])


@adjoint(np.concatenate)
def concatenate_adjoint(z, x, axis=0, *args, **kwargs):
    d[x] = add_like(d[x], x, split_like(d[z], x, axis))


@adjoint(np.stack)
def stack_adjoint(z, x, axis=0, *args, **kwargs):
    d[x] = add_like(d[x], x, np.moveaxis(d[z], axis, 0))


@adjoint(np.hstack)
def hstack_adjoint(z, x, *args, **kwargs):
    d[x] = add_like(d[x], x, split_like(d[z], x, 0 if np.ndim(x[0]) <= 1 else 1, 1))


@adjoint(np.vstack)
def vstack_adjoint(z, x, *args, **kwargs):
    d[x] = add_like(d[x], x, split_like(d[z], x, 0, 2))


@adjoint(np.negative)
def negative_adjoint(z, x, *args, **kwargs):
    d[x] = -d[z]


@tangent(np.dot, np.matmul, np.outer, np.inner, np.multiply, np.kron, linear=True)
@tangent(np.multiply, elementwise=True)
def bilinear(z, x, y):
    d[z] = F(d[x], y) + F(x, d[y])


@vector_tangent(np.matmul)
def matmul_directions(z, x, y):
    d[z] = matmul_directions_left(d[x], y) + matmul_directions_right(x, d[y])


@adjoint(np.multiply)
def multiply_adjoint(z, x, y):
    d[x] = unbroadcast(d[z] * y, x)
    d[y] = unbroadcast(x * d[z], y)


@adjoint(np.matmul)
def matmul_adjoint(z, x, y):
    d[x] = matmul_left_cotangent(d[z], x, y)
    d[y] = matmul_right_cotangent(d[z], x, y)


@adjoint(np.dot)
def dot_adjoint(z, x, y):
    d[x] = dot_left_cotangent(d[z], x, y)
    d[y] = dot_right_cotangent(d[z], x, y)


@adjoint(np.inner)
def inner_adjoint(z, x, y):
    d[x] = inner_left_cotangent(d[z], x, y)
    d[y] = inner_right_cotangent(d[z], x, y)


@adjoint(np.outer)
def outer_adjoint(z, x, y):  # operands are flattened
    d[x] = np.reshape(np.dot(d[z], np.ravel(y)), np.shape(x))
    d[y] = np.reshape(np.dot(np.ravel(x), d[z]), np.shape(y))


@adjoint(np.kron)
def kron_adjoint(z, x, y):
    d[x] = kron_cotangent(d[z], (x, y), 0)
    d[y] = kron_cotangent(d[z], (x, y), 1)


@tangent(np.einsum, nargs=2, linear=True)
def einsum1(z, subscripts, x):
    d[z] = F(subscripts, d[x])


@adjoint(np.einsum, nargs=2)
def einsum1_adjoint(z, subscripts, x):
    d[x] = einsum_cotangent(subscripts, d[z], (x,), 0)


@tangent(np.einsum, nargs=3, linear=True)
def einsum2(z, subscripts, x, y):
    d[z] = F(subscripts, d[x], y) + F(subscripts, x, d[y])


@adjoint(np.einsum, nargs=3)
def einsum2_adjoint(z, subscripts, x, y):
    d[x] = einsum_cotangent(subscripts, d[z], (x, y), 0)
    d[y] = einsum_cotangent(subscripts, d[z], (x, y), 1)


@tangent(np.einsum, nargs=4, linear=True)
def einsum3(z, subscripts, x, y, w):
    d[z] = F(subscripts, d[x], y, w) + F(subscripts, x, d[y], w) + F(subscripts, x, y, d[w])


@adjoint(np.einsum, nargs=4)
def einsum3_adjoint(z, subscripts, x, y, w):
    d[x] = einsum_cotangent(subscripts, d[z], (x, y, w), 0)
    d[y] = einsum_cotangent(subscripts, d[z], (x, y, w), 1)
    d[w] = einsum_cotangent(subscripts, d[z], (x, y, w), 2)


@tangent(np.add, elementwise=True)
def add(z, x, y):
    d[z] = d[x] + d[y]


@adjoint(np.add)
def add_adjoint(z, x, y):
    d[x] = unbroadcast(d[z], x)
    d[y] = unbroadcast(d[z], y)


@tangent(np.subtract, elementwise=True)
def subtract(z, x, y):
    d[z] = d[x] - d[y]


@adjoint(np.subtract)
def subtract_adjoint(z, x, y):
    d[x] = unbroadcast(d[z], x)
    d[y] = unbroadcast(-d[z], y)


@tangent(np.divide, np.true_divide, elementwise=True)
def divide(z, x, y):
    d[z] = (d[x] - z * d[y]) / y


@adjoint(np.divide, np.true_divide)
def divide_adjoint(z, x, y):
    t = d[z] / y
    d[x] = unbroadcast(t, x)
    d[y] = unbroadcast(-(t * z), y)


@adjoint(np.sum)
def sum_adjoint(z, x, axis=None, keepdims=False):
    d[x] = unreduce(d[z], x, axis, keepdims)


@adjoint(np.mean)
def mean_adjoint(z, x, axis=None, keepdims=False):
    d[x] = unreduce(d[z], x, axis, keepdims, mean=True)


@tangent(np.prod)
def prod(z, x, axis=None, keepdims=False):
    d[z] = np.sum(d[x] * (expand_reduced(z, x, axis, keepdims) / x), axis=axis, keepdims=keepdims)


@adjoint(np.prod)
def prod_adjoint(z, x, axis=None, keepdims=False):
    d[x] = expand_reduced(d[z] * z, x, axis, keepdims) / x


@tangent(np.max, np.min, np.amax, np.amin)
def max_(z, x, axis=None, keepdims=False):
    mask = x == expand_reduced(z, x, axis, keepdims)
    d[z] = np.sum(d[x] * mask, axis=axis, keepdims=keepdims) / np.sum(mask, axis=axis, keepdims=keepdims)


@vector_tangent(np.max, np.min, np.amax, np.amin)
def max_directions(z, x, axis=None, keepdims=False):
    mask = x == expand_reduced(z, x, axis, keepdims)
    d[z] = (np.sum(d[x] * mask, axis=direction_axes(axis, x), keepdims=keepdims)
            / np.sum(mask, axis=axis, keepdims=keepdims))


@adjoint(np.max, np.min, np.amax, np.amin)
def max_adjoint(z, x, axis=None, keepdims=False):  # shared equally among ties, as in the tangent
    mask = x == expand_reduced(z, x, axis, keepdims)
    d[x] = mask * expand_reduced(d[z] / np.sum(mask, axis=axis, keepdims=keepdims), x, axis, keepdims)


@tangent(np.full)
def full(z, shape, fill_value, *args, **kwargs):
    d[z] = np.full(shape, d[fill_value], *args, **kwargs)


@adjoint(np.full)
def full_adjoint(z, shape, fill_value, *args, **kwargs):
    d[fill_value] = unbroadcast(d[z], fill_value)


@tangent(np.full_like)
def full_like(z, a, fill_value, *args, **kwargs):
    d[z] = np.full_like(a, d[fill_value], *args, **kwargs)


@adjoint(np.full_like)
def full_like_adjoint(z, a, fill_value, *args, **kwargs):
    d[fill_value] = unbroadcast(d[z], fill_value)
