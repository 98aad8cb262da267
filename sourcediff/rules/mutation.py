"""Rules for the primitives that stand for in-place NumPy calls (ir/mutation.py writes them)."""
from ..runtime import added_at, broadcast_like, unbroadcast
from .registry import adjoint, d, tangent


@tangent(added_at)
def added_at_tangent(z, x, index, values):
    d[z] = added_at(broadcast_like(d[x], x), index, d[values])


@adjoint(added_at)
def added_at_adjoint(z, x, index, values):
    d[x] = d[z]
    d[values] = unbroadcast(d[z][index], values)
