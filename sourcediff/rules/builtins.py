"""Rules for Python's operators and builtins."""
import builtins
import copy
import operator

import numpy as np

from ..runtime import add_at, unbroadcast
from .registry import F, adjoint, d, inactive, tangent

inactive(operator.floordiv, len, range, int, round, bool, isinstance, enumerate, zip, type, print)


@tangent(operator.add, elementwise=True)
def add(z, x, y):
    d[z] = d[x] + d[y]


@adjoint(operator.add)
def add_adjoint(z, x, y):
    d[x] = unbroadcast(d[z], x)
    d[y] = unbroadcast(d[z], y)


@tangent(operator.sub, elementwise=True)
def sub(z, x, y):
    d[z] = d[x] - d[y]


@tangent(operator.mul, elementwise=True)
def mul(z, x, y):
    d[z] = d[x] * y + x * d[y]


@adjoint(operator.mul)
def mul_adjoint(z, x, y):
    d[x] = unbroadcast(d[z] * y, x)
    d[y] = unbroadcast(x * d[z], y)


@tangent(operator.truediv, elementwise=True)
def truediv(z, x, y):
    d[z] = (d[x] - z * d[y]) / y


@tangent(operator.pow, elementwise=True)
def pow_(z, x, y):
    d[z] = y * x ** (y - 1) * d[x] + z * np.log(x) * d[y]


@tangent(operator.mod, elementwise=True)
def mod(z, x, y):
    d[z] = d[x] - d[y] * (x // y)


@tangent(operator.neg)
def neg(z, x):
    d[z] = -d[x]


@tangent(operator.pos)
def pos(z, x):
    d[z] = +d[x]


@tangent(float, list, tuple, copy.copy, linear=True)
def identity_like(z, x):
    d[z] = F(d[x])


@tangent(operator.getitem)
def getitem(z, x, index):
    d[z] = d[x][index]


@adjoint(operator.getitem)
def getitem_adjoint(z, x, index):
    d[x] = add_at(d[x], x, index, d[z])


@tangent(builtins.abs)
def abs_(z, x):
    d[z] = np.sign(x) * d[x]


@tangent(builtins.max, builtins.min, nargs=2)
def max_of_two(z, x, y):
    d[z] = d[x] if z == x else d[y]


@tangent(builtins.max, builtins.min, nargs=1)
def max_of_sequence(z, x):
    d[z] = d[x][F(range(len(x)), key=x.__getitem__)]


@tangent(builtins.sum, nargs=1, linear=True)
def sum_(z, x):
    d[z] = F(d[x])


@tangent(builtins.sum, nargs=2)
def sum_with_start(z, x, start):
    d[z] = F(d[x], d[start])

