"""Rules for the helpers generated code calls, so that generated code can be differentiated again.

Tangent functions (sd.jvp) call a few: the entry checks, zeros, and reshapes of a derivative to its
value's shape. With these rules a tangent function is differentiated like any user function, which
is how sourcediff computes second derivatives (sd.hvp and sd.hessian run reverse mode over forward
mode; sd.jvp of sd.jvp forward over forward). Gradients call more: the cotangent check, the sums and
spreads of cotangents to their values' shapes and their additions, each linear in its cotangents,
with its transpose as adjoint (rules/reverse_helpers.py has the rules of the helpers only gradients
call, the matrix-product cotangents among them).
"""
from ..runtime import (add_at, add_cotangents, add_like, aligned, as_directions, broadcast_like, copy_saved,
                       cotangent_like, direction_axes, expand_reduced, extreme_index, gathered, matmul_directions_left,
                       matmul_directions_right, none_holds, reduce_like, reduced_count, refuse_complex,
                       repeats_a_list, require_cotangent, require_real, reshape_like, sample_fractions, spread_like,
                       tangent_item, unbroadcast, unreduce, zeros_like)
from .registry import adjoint, array_cotangent, d, declare_linear, inactive, tangent

# zeros shaped like a value hold no derivative of it; counts, positions, fractions, tests and checks return
# nothing differentiable
inactive(zeros_like, reduced_count, refuse_complex, extreme_index, sample_fractions, none_holds, direction_axes,
         repeats_a_list)


@tangent(require_real)
def require_real_tangent(z, value, name, function, tangent=None):
    d[z] = d[value]  # the argument itself, checked


@adjoint(require_real)
def require_real_adjoint(z, value, name, function, tangent=None):
    d[value] = add_like(d[value], value, d[z])  # as for copies: structured cotangents too


@tangent(broadcast_like, nargs=2)
def broadcast_like_tangent(z, t, like):
    d[z] = broadcast_like(d[t], like)


@adjoint(broadcast_like, nargs=2)
def broadcast_like_adjoint(z, t, like):
    d[t] = unbroadcast(d[z], t)


@tangent(expand_reduced)
def expand_reduced_tangent(z, reduced, x, axis, keepdims):
    d[z] = expand_reduced(d[reduced], x, axis, keepdims)


@adjoint(expand_reduced)
def expand_reduced_adjoint(z, reduced, x, axis, keepdims):
    d[reduced] = reshape_like(d[z], reduced)


array_cotangent(expand_reduced)  # the adjoint reshapes its cotangent


@tangent(require_cotangent)
def require_cotangent_tangent(z, cotangent, value, function):
    d[z] = cotangent_like(d[cotangent], value)  # the cotangent itself, checked, in the value's shape


@adjoint(require_cotangent)
def require_cotangent_adjoint(z, cotangent, value, function):
    d[cotangent] = add_like(d[cotangent], cotangent, d[z])


@tangent(cotangent_like)
def cotangent_like_tangent(z, g, x):
    d[z] = cotangent_like(d[g], x)


@adjoint(cotangent_like)
def cotangent_like_adjoint(z, g, x):
    d[g] = add_like(d[g], g, d[z])


@tangent(unbroadcast)
def unbroadcast_tangent(z, g, x):
    d[z] = unbroadcast(d[g], x)


@adjoint(unbroadcast)
def unbroadcast_adjoint(z, g, x):
    d[g] = spread_like(d[z], g, x)


@tangent(unreduce)
def unreduce_tangent(z, g, x, axis=None, keepdims=False, mean=False):
    d[z] = unreduce(d[g], x, axis, keepdims, mean)


@adjoint(unreduce)
def unreduce_adjoint(z, g, x, axis=None, keepdims=False, mean=False):
    d[g] = reduce_like(d[z], g, x, axis, keepdims, mean)


@tangent(reduce_like)
def reduce_like_tangent(z, b, g, x, axis=None, keepdims=False, mean=False):
    d[z] = reduce_like(d[b], g, x, axis, keepdims, mean)


@adjoint(reduce_like)
def reduce_like_adjoint(z, b, g, x, axis=None, keepdims=False, mean=False):
    d[b] = unreduce(d[z], x, axis, keepdims, mean)


@tangent(add_cotangents)
def add_cotangents_tangent(z, g, h):
    d[z] = add_cotangents(d[g], d[h])


@adjoint(add_cotangents)
def add_cotangents_adjoint(z, g, h):
    d[g] = add_like(d[g], g, d[z])
    d[h] = add_like(d[h], h, d[z])


array_cotangent(unreduce)


@tangent(copy_saved)
def copy_saved_tangent(z, saved):  # a copy: the identity on values, so on tangents and cotangents
    d[z] = copy_saved(d[saved])


@adjoint(copy_saved)
def copy_saved_adjoint(z, saved):
    d[saved] = add_like(d[saved], saved, d[z])


@tangent(add_at, constant=("index",))
def add_at_tangent(z, g, x, index, value):  # on a copy: add_at writes into an array g in place
    d[z] = add_at(copy_saved(cotangent_like(d[g], g)), x, index, d[value])


@adjoint(add_at, constant=("index",))
def add_at_adjoint(z, g, x, index, value):
    d[g] = add_like(d[g], g, d[z])
    d[value] = add_like(d[value], value, gathered(d[z], index))


# zero in one of the linear operands, zero out (a tangent template gets 0.0 for an operand without one)
declare_linear(reduce_like, copy_saved, spread_like, positions={0})
# vector-mode helpers that pass a tangent through linearly
declare_linear(aligned, as_directions, tangent_item, matmul_directions_left, positions={0})
declare_linear(matmul_directions_right, positions={1})
