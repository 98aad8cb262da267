"""Rules for the helpers generated code calls, so that generated code can be differentiated again.

Tangent functions (sd.jvp) call a few: the entry checks, zeros, and reshapes of a derivative to its
value's shape. With these rules a tangent function is differentiated like any user function, which
is how sourcediff computes second derivatives (sd.hvp and sd.hessian run reverse mode over forward
mode; sd.jvp of sd.jvp forward over forward).
"""
from ..runtime import (add_like, broadcast_like, direction_axes, expand_reduced, extreme_index, none_holds,
                       reduced_count, refuse_complex, require_real, reshape_like, sample_fractions, unbroadcast,
                       zeros_like)
from .registry import adjoint, array_cotangent, d, inactive, tangent

# zeros shaped like a value hold no derivative of it; counts, positions, fractions, tests and checks return
# nothing differentiable
inactive(zeros_like, reduced_count, refuse_complex, extreme_index, sample_fractions, none_holds, direction_axes)


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
