"""Rules for the primitives that stand for in-place NumPy calls (ir/mutation.py writes them)."""
from ..runtime import added_at, broadcast_like, unbroadcast
from .registry import adjoint, array_cotangent, d, tangent


@tangent(added_at)
def added_at_tangent(z, x, index, values):
    d[z] = added_at(broadcast_like(d[x], x), index, d[values])


@adjoint(added_at)
def added_at_adjoint(z, x, index, values):
    d[x] = d[z]
    d[values] = unbroadcast(d[z][index], values)


array_cotangent(added_at)  # every element a repeated index names takes its cotangent: no cotangent_at here
