"""Rules for the helpers reverse-mode code calls, so that forward mode differentiates a generated
gradient or vjp with its in-place writes, appends and loops (sd.jvp(sd.vjp(f))).

Each helper is linear in its cotangents (the values it is shaped after are read for their shapes
alone), so its tangent is the helper applied to the cotangents' tangents, and its adjoint is its
transpose: most come in pairs, each the other's transpose (cotangent_at and placed_at, split_like and
joined_like, ...). `restore` and `unpop` write into their first argument: their tangents write into the
tangent in place too, and reverse mode refuses the code that calls them (modes/reverse.py).
"""
import copy

import numpy as np

from ..runtime import (add_at, add_like, appended_cotangent, cotangent_at, cotangent_like, diff_cotangent,
                       einsum_cotangent, einsum_cotangent_tangent, einsum_cotangent_transposed, einsum_replaced,
                       dot_left_cotangent, dot_right_cotangent, embed_diagonal, factor_cotangent, factor_cotangent_along,
                       factor_cotangent_of_n, factor_spread, factor_spread_along,
                       gathered, inner_left_cotangent, pad_cotangent, repeat_cotangent, reshape_like,
                       take_along_axis_cotangent, tile_cotangent,
                       inner_right_cotangent, joined_like, matmul_left_cotangent, matmul_right_cotangent, overwritten,
                       placed_at, pop_cotangent, repeated_cotangent, restore, split_like, summand_cotangent,
                       summand_spread, take_cotangent, unbroadcast, unpop, unpopped_cotangent, popped_parts, unrepeat,
                       unsplit, zero_at)
from .registry import adjoint, array_cotangent, d, declare_linear, tangent


@tangent(add_like)
def add_like_tangent(z, g, x, value):
    d[z] = add_like(d[g], x, d[value])


@adjoint(add_like)
def add_like_adjoint(z, g, x, value):
    d[g] = add_like(d[g], g, d[z])
    d[value] = add_like(d[value], value, d[z])


@tangent(cotangent_at, constant=("index",))
def cotangent_at_tangent(z, g, index):
    d[z] = cotangent_at(d[g], index)


@adjoint(cotangent_at, constant=("index",))
def cotangent_at_adjoint(z, g, index):
    d[g] = add_like(d[g], g, placed_at(g, index, d[z]))


@tangent(placed_at, constant=("index",))
def placed_at_tangent(z, g, index, value):
    d[z] = placed_at(g, index, d[value])


@adjoint(placed_at, constant=("index",))
def placed_at_adjoint(z, g, index, value):
    d[value] = add_like(d[value], value, cotangent_at(d[z], index))


@tangent(zero_at, constant=("index",))
def zero_at_tangent(z, g, index):  # on a copy: a tangent that is g's own (`0 + d` is d) may share its memory
    d[z] = zero_at(copy.copy(d[g]), index)


@adjoint(zero_at, constant=("index",))
def zero_at_adjoint(z, g, index):
    d[g] = add_like(d[g], g, zero_at(copy.copy(d[z]), index))


@tangent(overwritten, constant=("index",))
def overwritten_tangent(z, x, index):
    d[z] = overwritten(cotangent_like(d[x], x), index)


@adjoint(overwritten, constant=("index",))
def overwritten_adjoint(z, x, index):
    d[x] = add_like(d[x], x, placed_at(x, index, d[z]))


@tangent(restore, constant=("index",))
def restore_tangent(z, x, index, old):  # a statement: the tangent restored in place with the value
    restore(d[x], index, d[old])


@tangent(unpop, constant=("index",))
def unpop_tangent(z, items, value, index=None):  # a statement: the tangent goes back into the tangent list
    unpop(d[items], d[value], index)


@tangent(unpopped_cotangent, constant=("index",))
def unpopped_cotangent_tangent(z, b, items, index=None):
    d[z] = unpopped_cotangent(d[b], items, index)


@adjoint(unpopped_cotangent, constant=("index",))
def unpopped_cotangent_adjoint(z, b, items, index=None):
    d[b] = add_like(d[b], b, popped_parts(d[z], items, index))


@tangent(popped_parts, constant=("index",))
def popped_parts_tangent(z, g, items, index=None):
    d[z] = popped_parts(d[g], items, index)


@adjoint(popped_parts, constant=("index",))
def popped_parts_adjoint(z, g, items, index=None):
    d[g] = add_like(d[g], g, unpopped_cotangent(d[z], items, index))


@tangent(summand_cotangent, constant=("i",))
def summand_cotangent_tangent(z, g, x, y, i):
    d[z] = summand_cotangent(d[g], x, y, i)


@adjoint(summand_cotangent, constant=("i",))
def summand_cotangent_adjoint(z, g, x, y, i):
    d[g] = add_like(d[g], g, summand_spread(d[z], g, x, y, i))


@tangent(summand_spread, constant=("i",))
def summand_spread_tangent(z, b, g, x, y, i):
    d[z] = summand_spread(d[b], g, x, y, i)


@adjoint(summand_spread, constant=("i",))
def summand_spread_adjoint(z, b, g, x, y, i):
    d[b] = add_like(d[b], b, summand_cotangent(d[z], x, y, i))


@tangent(factor_cotangent)  # n carries a derivative in a mixed second derivative (x * s differentiated in s)
def factor_cotangent_tangent(z, g, x, n):
    d[z] = factor_cotangent(d[g], x, n) + factor_cotangent_along(g, x, n, d[n])


@adjoint(factor_cotangent)
def factor_cotangent_adjoint(z, g, x, n):
    d[g] = add_like(d[g], g, factor_spread(d[z], g, x, n))
    d[n] = add_like(d[n], n, factor_cotangent_of_n(d[z], g, x, n))


@tangent(factor_spread)
def factor_spread_tangent(z, b, g, x, n):
    d[z] = factor_spread(d[b], g, x, n) + factor_spread_along(b, g, x, n, d[n])


@adjoint(factor_spread)
def factor_spread_adjoint(z, b, g, x, n):
    d[n] = add_like(d[n], n, factor_cotangent_of_n(b, d[z], x, n))
    d[b] = add_like(d[b], b, factor_cotangent(d[z], x, n))


@tangent(unrepeat, constant=("count",))
def unrepeat_tangent(z, g, count):
    d[z] = unrepeat(d[g], count)


@adjoint(unrepeat, constant=("count",))
def unrepeat_adjoint(z, g, count):
    d[g] = add_like(d[g], g, repeated_cotangent(d[z], g, count))


@tangent(repeated_cotangent, constant=("count",))
def repeated_cotangent_tangent(z, b, g, count):
    d[z] = repeated_cotangent(d[b], g, count)


@adjoint(repeated_cotangent, constant=("count",))
def repeated_cotangent_adjoint(z, b, g, count):
    d[b] = add_like(d[b], b, unrepeat(d[z], count))


@tangent(pop_cotangent)
def pop_cotangent_tangent(z, g):
    d[z] = pop_cotangent(d[g])


@adjoint(pop_cotangent)
def pop_cotangent_adjoint(z, g):
    d[g] = add_like(d[g], g, appended_cotangent(d[z], g))


@tangent(appended_cotangent)
def appended_cotangent_tangent(z, b, g):
    d[z] = appended_cotangent(d[b], g)


@adjoint(appended_cotangent)
def appended_cotangent_adjoint(z, b, g):
    d[b] = add_like(d[b], b, pop_cotangent(d[z]))


@tangent(split_like)
def split_like_tangent(z, g, xs, axis=0, ndmin=0):
    d[z] = split_like(d[g], xs, axis, ndmin)


@adjoint(split_like)
def split_like_adjoint(z, g, xs, axis=0, ndmin=0):
    d[g] = add_like(d[g], g, joined_like(d[z], g, xs, axis, ndmin))


@tangent(joined_like)
def joined_like_tangent(z, b, g, xs, axis=0, ndmin=0):
    d[z] = joined_like(d[b], g, xs, axis, ndmin)


@adjoint(joined_like)
def joined_like_adjoint(z, b, g, xs, axis=0, ndmin=0):
    d[b] = add_like(d[b], b, split_like(d[z], xs, axis, ndmin))


@tangent(unsplit)
def unsplit_tangent(z, g, pieces, axis):
    d[z] = unsplit(d[g], pieces, axis)


@adjoint(unsplit)
def unsplit_adjoint(z, g, pieces, axis):
    d[g] = add_like(d[g], g, split_like(d[z], pieces, axis))


@tangent(take_cotangent, constant=("indices",))
def take_cotangent_tangent(z, g, x, indices, axis=None):
    d[z] = take_cotangent(d[g], x, indices, axis)


@adjoint(take_cotangent, constant=("indices",))
def take_cotangent_adjoint(z, g, x, indices, axis=None):
    d[g] = np.take(d[z], indices, axis)


@tangent(reshape_like)
def reshape_like_tangent(z, g, x):
    d[z] = reshape_like(d[g], x)


@adjoint(reshape_like)
def reshape_like_adjoint(z, g, x):
    d[g] = add_like(d[g], g, reshape_like(d[z], g))


@tangent(gathered, constant=("index",))
def gathered_tangent(z, g, index):
    d[z] = gathered(d[g], index)


@adjoint(gathered, constant=("index",))
def gathered_adjoint(z, g, index):
    d[g] = add_at(d[g], g, index, d[z])


# the cotangent of an einsum's operand: linear in the cotangent and in the other operands
@tangent(einsum_cotangent, constant=("i",))
def einsum_cotangent_tangent_(z, subscripts, g, operands, i):
    d[z] = einsum_cotangent_tangent(subscripts, g, d[g], operands, d[operands], i)


@adjoint(einsum_cotangent, constant=("i",))
def einsum_cotangent_adjoint(z, subscripts, g, operands, i):
    d[g] = add_like(d[g], g, einsum_replaced(subscripts, operands, i, d[z]))
    d[operands] = add_like(d[operands], operands, einsum_cotangent_transposed(subscripts, g, operands, i, d[z]))


# the cotangents of linear NumPy functions: each transposes to the function itself
@tangent(tile_cotangent, constant=("reps",))
def tile_cotangent_tangent(z, g, x, reps):
    d[z] = tile_cotangent(d[g], x, reps)


@adjoint(tile_cotangent, constant=("reps",))
def tile_cotangent_adjoint(z, g, x, reps):
    d[g] = add_like(d[g], g, np.tile(d[z], reps))


@tangent(repeat_cotangent, constant=("repeats",))
def repeat_cotangent_tangent(z, g, x, repeats, axis=None):
    d[z] = repeat_cotangent(d[g], x, repeats, axis)


@adjoint(repeat_cotangent, constant=("repeats",))
def repeat_cotangent_adjoint(z, g, x, repeats, axis=None):
    d[g] = add_like(d[g], g, np.repeat(d[z], repeats, axis))


@tangent(diff_cotangent)
def diff_cotangent_tangent(z, g, x, n, axis):
    d[z] = diff_cotangent(d[g], x, n, axis)


@adjoint(diff_cotangent)
def diff_cotangent_adjoint(z, g, x, n, axis):
    d[g] = add_like(d[g], g, np.diff(d[z], n, axis))


@tangent(pad_cotangent, constant=("pad_width",))
def pad_cotangent_tangent(z, g, x, pad_width, mode):
    d[z] = pad_cotangent(d[g], x, pad_width, mode)


@adjoint(pad_cotangent, constant=("pad_width",))
def pad_cotangent_adjoint(z, g, x, pad_width, mode):
    d[g] = add_like(d[g], g, np.pad(d[z], pad_width, mode))


@tangent(take_along_axis_cotangent, constant=("indices",))
def take_along_axis_cotangent_tangent(z, g, x, indices, axis):
    d[z] = take_along_axis_cotangent(d[g], x, indices, axis)


@adjoint(take_along_axis_cotangent, constant=("indices",))
def take_along_axis_cotangent_adjoint(z, g, x, indices, axis):
    d[g] = add_like(d[g], g, np.take_along_axis(d[z], indices, axis))


@tangent(embed_diagonal)
def embed_diagonal_tangent(z, g, shape, k=0, axis1=0, axis2=1):
    d[z] = embed_diagonal(d[g], shape, k, axis1, axis2)


@adjoint(embed_diagonal)
def embed_diagonal_adjoint(z, g, shape, k=0, axis1=0, axis2=1):
    d[g] = add_like(d[g], g, np.diagonal(d[z], k, axis1, axis2))


# the cotangents of matrix, dot and inner products: linear in the cotangent and in the other operand
@tangent(matmul_left_cotangent)
def matmul_left_cotangent_tangent(z, g, x, y):  # g @ yᵀ, summed to x's shape: linear in g and in y
    d[z] = matmul_left_cotangent(d[g], x, y) + matmul_left_cotangent(g, x, d[y])


@adjoint(matmul_left_cotangent)
def matmul_left_cotangent_adjoint(z, g, x, y):
    d[g] = unbroadcast(np.matmul(d[z], y), g)
    d[y] = matmul_right_cotangent(g, d[z], y)


@tangent(matmul_right_cotangent)
def matmul_right_cotangent_tangent(z, g, x, y):  # xᵀ @ g, summed to y's shape: linear in g and in x
    d[z] = matmul_right_cotangent(d[g], x, y) + matmul_right_cotangent(g, d[x], y)


@adjoint(matmul_right_cotangent)
def matmul_right_cotangent_adjoint(z, g, x, y):
    d[g] = unbroadcast(np.matmul(x, d[z]), g)
    d[x] = matmul_left_cotangent(g, x, d[z])


@tangent(dot_left_cotangent)
def dot_left_cotangent_tangent(z, g, x, y):
    d[z] = dot_left_cotangent(d[g], x, y) + dot_left_cotangent(g, x, d[y])


@adjoint(dot_left_cotangent)
def dot_left_cotangent_adjoint(z, g, x, y):
    d[g] = unbroadcast(np.dot(d[z], y), g)
    d[y] = dot_right_cotangent(g, d[z], y)


@tangent(dot_right_cotangent)
def dot_right_cotangent_tangent(z, g, x, y):
    d[z] = dot_right_cotangent(d[g], x, y) + dot_right_cotangent(g, d[x], y)


@adjoint(dot_right_cotangent)
def dot_right_cotangent_adjoint(z, g, x, y):
    d[g] = unbroadcast(np.dot(x, d[z]), g)
    d[x] = dot_left_cotangent(g, x, d[z])


@tangent(inner_left_cotangent)
def inner_left_cotangent_tangent(z, g, x, y):
    d[z] = inner_left_cotangent(d[g], x, y) + inner_left_cotangent(g, x, d[y])


@adjoint(inner_left_cotangent)
def inner_left_cotangent_adjoint(z, g, x, y):
    d[g] = unbroadcast(np.inner(d[z], y), g)
    d[y] = inner_right_cotangent(g, d[z], y)


@tangent(inner_right_cotangent)
def inner_right_cotangent_tangent(z, g, x, y):
    d[z] = inner_right_cotangent(d[g], x, y) + inner_right_cotangent(g, d[x], y)


@adjoint(inner_right_cotangent)
def inner_right_cotangent_adjoint(z, g, x, y):
    d[g] = unbroadcast(np.inner(x, d[z]), g)
    d[x] = inner_left_cotangent(g, x, d[z])


array_cotangent(reshape_like, tile_cotangent, repeat_cotangent, diff_cotangent, take_along_axis_cotangent, embed_diagonal)
array_cotangent(einsum_cotangent)
array_cotangent(take_cotangent, matmul_left_cotangent, matmul_right_cotangent, dot_left_cotangent, dot_right_cotangent,
                inner_left_cotangent, inner_right_cotangent)
# zero in the cotangent gives zero out (in either linear operand of a product's cotangent)
declare_linear(cotangent_at, zero_at, overwritten, summand_cotangent, summand_spread, factor_cotangent, factor_spread,
               unrepeat, repeated_cotangent, split_like, joined_like, unsplit, take_cotangent, reshape_like, gathered,
               tile_cotangent, repeat_cotangent, diff_cotangent, pad_cotangent, take_along_axis_cotangent,
               embed_diagonal, unpopped_cotangent, popped_parts, positions={0})
declare_linear(placed_at, positions={2})
# read for their derivatives: the linearity drops the terms of a zero tangent or cotangent
declare_linear(factor_cotangent_along, positions={3})
declare_linear(factor_spread_along, positions={4})
declare_linear(factor_cotangent_of_n, positions={0, 1})
declare_linear(matmul_left_cotangent, dot_left_cotangent, inner_left_cotangent, positions={0, 2})
declare_linear(matmul_right_cotangent, dot_right_cotangent, inner_right_cotangent, positions={0, 1})
