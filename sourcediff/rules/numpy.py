"""Rules for NumPy reductions, linear algebra, shape manipulation and constructors."""
import numpy as np

from ..runtime import (add_like, broadcast_like, interp_fp_cotangent, interp_slope, concatenate_columns, concatenate_rows, cross_cotangent, cumprod_cotangent,
                       cumprod_tangent, diff_cotangent,
                       direction_axes, dot_left_cotangent, dot_right_cotangent, einsum_cotangent, embed_diagonal,
                       expand_reduced, gradient_cotangent, inner_left_cotangent, inner_right_cotangent, kron_cotangent,
                       matmul_directions_left, matmul_directions_right, matmul_left_cotangent, matmul_right_cotangent,
                       none_holds, pad_cotangent, product_of_others, reduced_count, repeat_cotangent, reshape_like,
                       rolled_axis, sample_fractions, select_cotangents, split_like, take_along_axis_cotangent,
                       take_cotangent, tensordot_cotangent, tile_cotangent, unbroadcast, unreduce, unsplit)
from .registry import F, adjoint, array_cotangent, d, declare_linear, inactive, tangent, vector_tangent

inactive(
    np.shape, np.broadcast_shapes, np.ndim, np.size, np.sign, np.floor, np.ceil, np.round, np.rint, np.argmax, np.argmin,
    np.argsort, np.isnan, np.isfinite, np.isinf, np.zeros, np.ones, np.empty, np.eye,
    np.identity, np.zeros_like, np.ones_like, np.empty_like,
    np.less, np.greater, np.equal, np.logical_and, np.logical_or, np.logical_not, np.any, np.all,
    np.nonzero, np.count_nonzero, np.around, np.fix, np.trunc, np.floor_divide, np.argpartition, np.argwhere,
    np.flatnonzero, np.searchsorted, np.digitize, np.isneginf, np.isposinf, np.isclose, np.allclose,
    np.array_equal, np.array_equiv, np.greater_equal, np.less_equal, np.not_equal, np.logical_xor,
    np.iscomplexobj, np.iscomplex, np.isreal, np.isscalar, np.result_type, np.tri, np.tril_indices,
    np.triu_indices, np.diag_indices, np.indices, np.unravel_index, np.ravel_multi_index,
)


@tangent(
    np.sum, np.mean, np.cumsum, np.transpose, np.reshape, np.squeeze, np.expand_dims, np.broadcast_to,
    np.diag, np.trace, np.ravel, np.copy, np.array, np.asarray, np.concatenate, np.stack, np.hstack,
    np.vstack, np.negative, np.real, concatenate_rows, concatenate_columns, np.moveaxis, np.swapaxes,
    np.rollaxis, np.tril, np.triu, np.diagonal, np.flip, np.fliplr, np.flipud, np.rot90, np.roll, np.repeat,
    np.tile, np.column_stack, np.dstack, np.split, np.array_split, np.hsplit, np.vsplit,
    np.dsplit, np.conjugate, np.real_if_close, np.positive, np.fft.fftshift, np.fft.ifftshift, linear=True,
)
@tangent(np.negative, np.real, np.copy, np.conjugate, np.real_if_close, np.positive, pointwise=True)
@tangent(np.atleast_1d, np.atleast_2d, np.atleast_3d, nargs=1, linear=True)
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


@adjoint(np.copy, np.real, np.conjugate, np.real_if_close, np.positive)
def copy_adjoint(z, x, *args, **kwargs):  # for real values (complex ones are refused where they enter)
    d[x] = d[z]


@adjoint(np.atleast_1d, np.atleast_2d, np.atleast_3d, nargs=1)
def atleast_adjoint(z, x):
    d[x] = reshape_like(d[z], x)


@adjoint(np.moveaxis)
def moveaxis_adjoint(z, x, source, destination):
    d[x] = np.moveaxis(d[z], destination, source)


@adjoint(np.swapaxes)
def swapaxes_adjoint(z, x, axis1, axis2):
    d[x] = np.swapaxes(d[z], axis1, axis2)


@adjoint(np.rollaxis)
def rollaxis_adjoint(z, x, axis, start=0):
    d[x] = np.moveaxis(d[z], rolled_axis(axis, start, np.ndim(x)), axis)


@adjoint(np.tril, np.triu)
def tril_adjoint(z, x, k=0):  # a vector x was broadcast to rows first
    d[x] = unbroadcast(F(d[z], k), x)


@adjoint(np.diagonal)
def diagonal_adjoint(z, x, offset=0, axis1=0, axis2=1):
    d[x] = embed_diagonal(d[z], np.shape(x), offset, axis1, axis2)


@adjoint(np.flip)
def flip_adjoint(z, x, axis=None):
    d[x] = np.flip(d[z], axis)


@adjoint(np.fliplr, np.flipud)
def fliplr_adjoint(z, x):
    d[x] = F(d[z])


@adjoint(np.rot90)
def rot90_adjoint(z, x, k=1, axes=(0, 1)):
    d[x] = np.rot90(d[z], -k, axes)


@adjoint(np.roll)
def roll_adjoint(z, x, shift, axis=None):
    d[x] = np.roll(d[z], np.negative(shift), axis)


@adjoint(np.fft.fftshift)
def fftshift_adjoint(z, x, axes=None):
    d[x] = np.fft.ifftshift(d[z], axes)


@adjoint(np.fft.ifftshift)
def ifftshift_adjoint(z, x, axes=None):
    d[x] = np.fft.fftshift(d[z], axes)


@adjoint(np.repeat)
def repeat_adjoint(z, x, repeats, axis=None):
    d[x] = repeat_cotangent(d[z], x, repeats, axis)


@adjoint(np.tile)
def tile_adjoint(z, x, reps):
    d[x] = tile_cotangent(d[z], x, reps)


@tangent(np.diff, linear=True)
def diff(z, x, n=1, axis=-1):  # prepend= and append= are refused: their tangents would be needed
    d[z] = np.diff(d[x], n, axis)


@adjoint(np.diff)
def diff_adjoint(z, x, n=1, axis=-1):
    d[x] = diff_cotangent(d[z], x, n, axis)


PAD_MODES = {"mode": ("constant", "edge", "reflect", "symmetric", "wrap")}  # each element a copy (or 0)


@tangent(np.pad, choices=PAD_MODES)
def pad(z, x, pad_width, mode="constant"):  # constant_values= and the other modes are refused
    d[z] = np.pad(d[x], pad_width, mode)


@adjoint(np.pad, choices=PAD_MODES)
def pad_adjoint(z, x, pad_width, mode="constant"):
    d[x] = pad_cotangent(d[z], x, pad_width, mode)


@adjoint(np.split, np.array_split)
def split_adjoint(z, x, indices_or_sections, axis=0):
    d[x] = unsplit(d[z], z, axis)


@adjoint(np.hsplit)
def hsplit_adjoint(z, x, indices_or_sections):
    d[x] = unsplit(d[z], z, 1 if np.ndim(x) > 1 else 0)


@adjoint(np.vsplit)
def vsplit_adjoint(z, x, indices_or_sections):
    d[x] = unsplit(d[z], z, 0)


@adjoint(np.dsplit)
def dsplit_adjoint(z, x, indices_or_sections):
    d[x] = unsplit(d[z], z, 2)


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


@adjoint(np.column_stack)
def column_stack_adjoint(z, x):  # a number or a vector is one column
    d[x] = add_like(d[x], x, split_like(d[z], x, 1, 2))


@adjoint(np.dstack)
def dstack_adjoint(z, x):  # a number, vector or matrix is one layer
    d[x] = add_like(d[x], x, split_like(d[z], x, 2, 3))


@adjoint(concatenate_rows)
def concatenate_rows_adjoint(z, x):  # np.r_[...]: a number is one row
    d[x] = add_like(d[x], x, split_like(d[z], x, 0, 1))


@adjoint(concatenate_columns)
def concatenate_columns_adjoint(z, x):  # np.c_[...]: a number or a vector is one column
    d[x] = add_like(d[x], x, split_like(d[z], x, -1, 2))


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


@tangent(np.tensordot, linear=True)
def tensordot(z, x, y, axes=2):
    d[z] = np.tensordot(d[x], y, axes) + np.tensordot(x, d[y], axes)


@adjoint(np.tensordot)
def tensordot_adjoint(z, x, y, axes=2):
    d[x] = tensordot_cotangent(d[z], x, y, axes, 0)
    d[y] = tensordot_cotangent(d[z], x, y, axes, 1)


@tangent(np.cross, linear=True)
def cross(z, x, y, *args, **kwargs):
    d[z] = np.cross(d[x], y, *args, **kwargs) + np.cross(x, d[y], *args, **kwargs)


@adjoint(np.cross)
def cross_adjoint(z, x, y, axisa=-1, axisb=-1, axisc=-1, axis=None):
    d[x] = cross_cotangent(d[z], x, y, 0, axisa, axisb, axisc, axis)
    d[y] = cross_cotangent(d[z], x, y, 1, axisa, axisb, axisc, axis)


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


@tangent(np.subtract, elementwise=True)
def subtract(z, x, y):
    d[z] = d[x] - d[y]


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
    d[z] = np.sum(d[x] * product_of_others(x, z, axis, keepdims), axis=axis, keepdims=keepdims)


@adjoint(np.prod)
def prod_adjoint(z, x, axis=None, keepdims=False):
    d[x] = expand_reduced(d[z], x, axis, keepdims) * product_of_others(x, z, axis, keepdims)


@tangent(np.var)
def var(z, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    centered = x - np.mean(x, axis, keepdims=True)
    d[z] = 2.0 * np.sum(centered * d[x], axis, keepdims=keepdims) / (reduced_count(x, axis) - ddof)


@adjoint(np.var)
def var_adjoint(z, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    scale = 2.0 * d[z] / (reduced_count(x, axis) - ddof)
    d[x] = (x - np.mean(x, axis, keepdims=True)) * expand_reduced(scale, x, axis, keepdims)


@tangent(np.std)
def std(z, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    centered = x - np.mean(x, axis, keepdims=True)
    d[z] = np.sum(centered * d[x], axis, keepdims=keepdims) / ((reduced_count(x, axis) - ddof) * z)


@adjoint(np.std)
def std_adjoint(z, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    scale = d[z] / ((reduced_count(x, axis) - ddof) * z)
    d[x] = (x - np.mean(x, axis, keepdims=True)) * expand_reduced(scale, x, axis, keepdims)


@tangent(np.cumprod)
def cumprod(z, x, axis=None, *args, **kwargs):  # z * np.cumsum(d[x] / x), exact at zeros
    d[z] = cumprod_tangent(d[x], x, z, axis)


@adjoint(np.cumprod)
def cumprod_adjoint(z, x, axis=None, *args, **kwargs):  # a reversed cumulative sum, as np.cumsum's
    d[x] = cumprod_cotangent(d[z], x, z, axis)


@tangent(np.take, constant=("indices",))
def take(z, x, indices, axis=None):  # mode= is refused: it changes which elements are read
    d[z] = np.take(d[x], indices, axis)


@adjoint(np.take, constant=("indices",))
def take_adjoint(z, x, indices, axis=None):
    d[x] = take_cotangent(d[z], x, indices, axis)


@tangent(np.sort)
def sort(z, x, axis=-1, kind=None, order=None):  # the permutation np.argsort gives
    d[z] = np.take_along_axis(d[x], np.argsort(x, axis, kind), axis)


@adjoint(np.sort)
def sort_adjoint(z, x, axis=-1, kind=None, order=None):
    d[x] = take_along_axis_cotangent(d[z], x, np.argsort(x, axis, kind), axis)


@tangent(np.take_along_axis, constant=("indices",))
def take_along_axis(z, arr, indices, axis):
    d[z] = np.take_along_axis(d[arr], indices, axis)


@adjoint(np.take_along_axis, constant=("indices",))
def take_along_axis_adjoint(z, arr, indices, axis):
    d[arr] = take_along_axis_cotangent(d[z], arr, indices, axis)


@tangent(np.partition)
def partition(z, x, kth, axis=-1, kind="introselect", order=None):
    d[z] = np.take_along_axis(d[x], np.argpartition(x, kth, axis, kind), axis)


@adjoint(np.partition)
def partition_adjoint(z, x, kth, axis=-1, kind="introselect", order=None):
    d[x] = take_along_axis_cotangent(d[z], x, np.argpartition(x, kth, axis, kind), axis)


@tangent(np.interp, constant=("xp",))
def interp(z, x, xp, fp):  # left=, right= and period= are refused
    d[z] = np.interp(x, xp, d[fp]) + interp_slope(x, xp, fp) * d[x]


@adjoint(np.interp, constant=("xp",))
def interp_adjoint(z, x, xp, fp):
    d[x] = unbroadcast(interp_slope(x, xp, fp) * d[z], x)
    d[fp] = interp_fp_cotangent(d[z], x, xp)


@tangent(np.nansum)
def nansum(z, x, axis=None, keepdims=False):  # the NaNs are left out, and so are their derivatives
    d[z] = np.sum(np.where(np.isnan(x), 0.0, d[x]), axis=axis, keepdims=keepdims)


@vector_tangent(np.nansum)
def nansum_directions(z, x, axis=None, keepdims=False):
    d[z] = np.sum(np.where(np.isnan(x), 0.0, d[x]), axis=direction_axes(axis, x), keepdims=keepdims)


@adjoint(np.nansum)
def nansum_adjoint(z, x, axis=None, keepdims=False):
    d[x] = np.where(np.isnan(x), 0.0, unreduce(d[z], x, axis, keepdims))


@tangent(np.nanmean)
def nanmean(z, x, axis=None, keepdims=False):
    d[z] = (np.sum(np.where(np.isnan(x), 0.0, d[x]), axis=axis, keepdims=keepdims)
            / np.sum(~np.isnan(x), axis=axis, keepdims=keepdims))


@vector_tangent(np.nanmean)
def nanmean_directions(z, x, axis=None, keepdims=False):
    d[z] = (np.sum(np.where(np.isnan(x), 0.0, d[x]), axis=direction_axes(axis, x), keepdims=keepdims)
            / np.sum(~np.isnan(x), axis=axis, keepdims=keepdims))


@adjoint(np.nanmean)
def nanmean_adjoint(z, x, axis=None, keepdims=False):
    d[x] = np.where(np.isnan(x), 0.0, unreduce(d[z] / np.sum(~np.isnan(x), axis=axis, keepdims=keepdims), x, axis,
                                               keepdims))


@tangent(np.max, np.min, np.amax, np.amin, np.nanmax, np.nanmin)
def max_(z, x, axis=None, keepdims=False):
    mask = x == expand_reduced(z, x, axis, keepdims)
    d[z] = np.sum(d[x] * mask, axis=axis, keepdims=keepdims) / np.sum(mask, axis=axis, keepdims=keepdims)


@vector_tangent(np.max, np.min, np.amax, np.amin, np.nanmax, np.nanmin)
def max_directions(z, x, axis=None, keepdims=False):
    mask = x == expand_reduced(z, x, axis, keepdims)
    d[z] = (np.sum(d[x] * mask, axis=direction_axes(axis, x), keepdims=keepdims)
            / np.sum(mask, axis=axis, keepdims=keepdims))


@adjoint(np.max, np.min, np.amax, np.amin, np.nanmax, np.nanmin)
def max_adjoint(z, x, axis=None, keepdims=False):  # shared equally among ties, as in the tangent
    mask = x == expand_reduced(z, x, axis, keepdims)
    d[x] = mask * expand_reduced(d[z] / np.sum(mask, axis=axis, keepdims=keepdims), x, axis, keepdims)


@tangent(np.linspace)
def linspace(z, start, stop, num=50, endpoint=True):  # retstep=, dtype= and axis= are refused
    t = sample_fractions(z, num, endpoint)
    d[z] = broadcast_like(d[start] * (1.0 - t) + d[stop] * t, z)


@adjoint(np.linspace)
def linspace_adjoint(z, start, stop, num=50, endpoint=True):
    t = sample_fractions(z, num, endpoint)
    d[start] = unbroadcast(np.sum(d[z] * (1.0 - t), 0), start)
    d[stop] = unbroadcast(np.sum(d[z] * t, 0), stop)


@tangent(np.gradient, constant=("spacing",))
def gradient(z, x, *spacing, **kwargs):  # spacing (a step or coordinates) carries no derivative
    d[z] = np.gradient(d[x], *spacing, **kwargs)


@adjoint(np.gradient, constant=("spacing",))
def gradient_adjoint(z, x, *spacing, **kwargs):
    d[x] = gradient_cotangent(d[z], x, *spacing, **kwargs)


declare_linear(np.select, positions={1})  # no derivative in the choices: none from np.select(conditions, 0)
declare_linear(np.interp, positions={2})
inactive(rolled_axis)  # an axis number


@tangent(np.select)
def select(z, condlist, choicelist, default=0):
    d[z] = np.select(condlist, d[choicelist]) + d[default] * none_holds(condlist)


@adjoint(np.select)
def select_adjoint(z, condlist, choicelist, default=0):
    d[choicelist] = add_like(d[choicelist], choicelist, select_cotangents(d[z], condlist, choicelist))
    d[default] = unbroadcast(np.where(none_holds(condlist), d[z], 0.0), default)


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


array_cotangent(
    np.atleast_1d, np.atleast_2d, np.atleast_3d, np.cross, np.cumsum, np.diag, np.diagonal, np.diff, np.dot,
    np.einsum, np.expand_dims, np.flip, np.fliplr, np.flipud, np.inner, np.kron, np.matmul, np.moveaxis, np.outer,
    np.ravel, np.repeat, np.reshape, np.roll, np.rollaxis, np.rot90, np.squeeze, np.stack, np.swapaxes, np.take,
    np.tensordot, np.tile, np.trace, np.transpose, np.tril, np.triu, np.fft.fftshift, np.fft.ifftshift)
