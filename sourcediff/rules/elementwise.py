"""Rules for elementwise functions shared by `math` (scalars) and NumPy (arrays).

`M` in a template is the module the primitive came from, so `math.sin` gets `math.cos` and
`np.sin` gets `np.cos`: scalar code stays on fast scalar functions.
"""
import math

import numpy as np

from .registry import M, adjoint, d, tangent


@tangent(np.exp, math.exp)
def exp(z, x):
    d[z] = z * d[x]


@adjoint(np.exp, math.exp)
def exp_adjoint(z, x):
    d[x] = z * d[z]


@tangent(np.log, nargs=None)
@tangent(math.log, nargs=1)
def log(z, x):
    d[z] = d[x] / x


@tangent(math.log, nargs=2)
def log_base(z, x, base):
    d[z] = (d[x] / x - z * d[base] / base) / math.log(base)


@tangent(np.log1p, math.log1p)
def log1p(z, x):
    d[z] = d[x] / (1.0 + x)


@tangent(np.expm1, math.expm1)
def expm1(z, x):
    d[z] = (z + 1.0) * d[x]


@tangent(np.log2, math.log2)
def log2(z, x):
    d[z] = d[x] / (x * 0.6931471805599453)


@tangent(np.log10, math.log10)
def log10(z, x):
    d[z] = d[x] / (x * 2.302585092994046)


@tangent(np.sqrt, math.sqrt)
def sqrt(z, x):
    d[z] = d[x] / (2.0 * z)


@tangent(np.square)
def square(z, x):
    d[z] = 2.0 * x * d[x]


@tangent(np.power, math.pow, elementwise=True)
def power(z, x, y):
    d[z] = y * M.pow(x, y - 1) * d[x] + z * M.log(x) * d[y]


@tangent(np.abs)
def abs_(z, x):
    d[z] = np.sign(x) * d[x]


@tangent(math.fabs)
def fabs(z, x):
    d[z] = d[x] if x >= 0.0 else -d[x]


@tangent(np.sin, math.sin)
def sin(z, x):
    d[z] = M.cos(x) * d[x]


@tangent(np.cos, math.cos)
def cos(z, x):
    d[z] = -M.sin(x) * d[x]


@tangent(np.tan, math.tan)
def tan(z, x):
    d[z] = (1.0 + z * z) * d[x]


@tangent(np.arcsin, math.asin)
def arcsin(z, x):
    d[z] = d[x] / M.sqrt(1.0 - x * x)


@tangent(np.arccos, math.acos)
def arccos(z, x):
    d[z] = -d[x] / M.sqrt(1.0 - x * x)


@tangent(np.arctan, math.atan)
def arctan(z, x):
    d[z] = d[x] / (1.0 + x * x)


@tangent(np.arctan2, math.atan2, elementwise=True)
def arctan2(z, y, x):
    d[z] = (x * d[y] - y * d[x]) / (x * x + y * y)


@tangent(np.sinh, math.sinh)
def sinh(z, x):
    d[z] = M.cosh(x) * d[x]


@tangent(np.cosh, math.cosh)
def cosh(z, x):
    d[z] = M.sinh(x) * d[x]


@tangent(np.tanh, math.tanh)
def tanh(z, x):
    d[z] = (1.0 - z * z) * d[x]


@tangent(math.erf)
def erf(z, x):
    d[z] = 1.1283791670955126 * math.exp(-(x * x)) * d[x]


@tangent(math.hypot, np.hypot, elementwise=True)
def hypot(z, x, y):
    d[z] = (x * d[x] + y * d[y]) / z


@tangent(np.logaddexp, elementwise=True)
def logaddexp(z, x, y):
    d[z] = d[x] * np.exp(x - z) + d[y] * np.exp(y - z)


@tangent(np.maximum, np.minimum, elementwise=True)
def maximum(z, x, y):
    d[z] = np.where(x == z, d[x], d[y])


@tangent(np.where, elementwise=True)
def where(z, condition, x, y):
    d[z] = np.where(condition, d[x], d[y])


@tangent(np.clip, elementwise=True)
def clip(z, x, low, high):
    d[z] = np.where(x < low, d[low], np.where(x > high, d[high], d[x]))
