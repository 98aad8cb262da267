"""Rules for Python's operators and builtins."""
import builtins
import copy
import operator

import numpy as np

from ..runtime import add_at, add_like, aligned, as_directions, extreme_index, item, tangent_item, unbroadcast
from .registry import F, adjoint, d, inactive, tangent, vector_tangent

inactive(operator.floordiv, len, range, int, round, bool, isinstance, type, print, slice)


@tangent(operator.add, elementwise=True)
def add(z, x, y):
    d[z] = d[x] + d[y]


@tangent(operator.sub, elementwise=True)
def sub(z, x, y):
    d[z] = d[x] - d[y]


@tangent(operator.mul, elementwise=True)
def mul(z, x, y):
    d[z] = d[x] * y + x * d[y]


@tangent(operator.truediv, elementwise=True)
def truediv(z, x, y):
    d[z] = (d[x] - z * d[y]) / y


@adjoint(operator.truediv)
def truediv_adjoint(z, x, y):
    t = d[z] / y
    d[x] = unbroadcast(t, x)
    d[y] = unbroadcast(-(t * z), y)


@tangent(operator.pow, elementwise=True)
def pow_(z, x, y):
    d[z] = y * x ** (y - 1) * d[x] + z * np.log(x) * d[y]


@tangent(operator.mod, np.remainder, elementwise=True)
def mod(z, x, y):
    d[z] = d[x] - d[y] * (x // y)


@tangent(operator.neg, pointwise=True)
def neg(z, x):
    d[z] = -d[x]


@tangent(operator.pos, pointwise=True)
def pos(z, x):
    d[z] = +d[x]


@adjoint(operator.pos)
def pos_adjoint(z, x):
    d[x] = d[z]


@tangent(float, np.float64, item, list, tuple, copy.copy, copy.deepcopy, linear=True)
def identity_like(z, x):
    d[z] = F(d[x])


@vector_tangent(np.float64, copy.copy, copy.deepcopy)
def identity_like_directions(z, x):
    d[z] = copy.copy(d[x])


@vector_tangent(float, item)
def number_directions(z, x):  # x holds one number, maybe as an array of shape (1,) or (1, 1)
    d[z] = np.reshape(d[x], (-1,))


@adjoint(float, np.float64, item, list, tuple, copy.copy, copy.deepcopy)
def identity_like_adjoint(z, x):
    d[x] = add_like(d[x], x, d[z])


@tangent(operator.getitem, constant=("index",))
def getitem(z, x, index):
    d[z] = d[x][index]


@vector_tangent(operator.getitem, constant=("index",))
def getitem_directions(z, x, index):
    d[z] = tangent_item(d[x], index)


@adjoint(operator.getitem, constant=("index",))
def getitem_adjoint(z, x, index):
    d[x] = add_at(d[x], x, index, d[z])


@tangent(builtins.abs, pointwise=True)
def abs_(z, x):
    d[z] = np.sign(x) * d[x]


@tangent(builtins.max, builtins.min, nargs=2)
def max_of_two(z, x, y):
    d[z] = d[x] if z == x else d[y]


@adjoint(builtins.max, builtins.min, nargs=2)
def max_of_two_adjoint(z, x, y):
    d[x] = d[z] if z == x else 0.0
    d[y] = 0.0 if z == x else d[z]


@tangent(builtins.max, builtins.min, nargs=1)
def max_of_sequence(z, x):
    d[z] = d[x][extreme_index(F, x)]


@adjoint(builtins.max, builtins.min, nargs=1)
def max_of_sequence_adjoint(z, x):
    d[x] = add_at(d[x], x, extreme_index(F, x), d[z])


# Not `linear`: that is keyed by spelling, so it would also fold `sum(dx, 0.0)` (a start without a
# derivative) to zero; sum is additive, not linear in each argument.
@tangent(builtins.sum, nargs=1, linear=True)
def sum_(z, x):
    d[z] = F(d[x])


@vector_tangent(builtins.sum, nargs=1)
def sum_directions(z, x):  # sum adds up x's first axis, which is axis 1 of its tangent
    d[z] = np.sum(as_directions(d[x]), axis=1)


@adjoint(builtins.sum, nargs=1)
def sum_adjoint(z, x):
    d[x] = add_like(d[x], x, [d[z]] * len(x))


@tangent(builtins.sum, nargs=2, elementwise=True)
def sum_with_start(z, x, start):
    d[z] = F(d[x]) + d[start]


@vector_tangent(builtins.sum, nargs=2)
def sum_with_start_directions(z, x, start):
    d[z] = aligned(np.sum(as_directions(d[x]), axis=1), z) + aligned(d[start], z)


@adjoint(builtins.sum, nargs=2)
def sum_with_start_adjoint(z, x, start):
    d[x] = add_like(d[x], x, [d[z]] * len(x))
    d[start] = unbroadcast(d[z], start)

