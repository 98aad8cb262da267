"""Rules for elementwise functions shared by `math` (scalars) and NumPy (arrays).

`M` in a template is the module the primitive came from, so `math.sin` gets `math.cos` and
`np.sin` gets `np.cos`: scalar code stays on fast scalar functions.
"""
import math

import numpy as np

from ..runtime import sinc_curvature, sinc_slope, unbroadcast
from .registry import M, adjoint, d, inactive, tangent

# For real values (complex ones are refused where they enter) the imaginary part and the angle are
# piecewise constant.
inactive(np.imag, np.angle)


@tangent(np.exp, math.exp, pointwise=True)
def exp(z, x):
    d[z] = z * d[x]


@tangent(np.log, nargs=None, pointwise=True)
@tangent(math.log, nargs=1, pointwise=True)
def log(z, x):
    d[z] = d[x] / x


@tangent(math.log, nargs=2)
def log_base(z, x, base):
    d[z] = (d[x] / x - z * d[base] / base) / math.log(base)


@adjoint(math.log, nargs=2)
def log_base_adjoint(z, x, base):
    t = d[z] / math.log(base)
    d[x] = t / x
    d[base] = -(t * z / base)


@tangent(np.log1p, math.log1p, pointwise=True)
def log1p(z, x):
    d[z] = d[x] / (1.0 + x)


@tangent(np.expm1, math.expm1, pointwise=True)
def expm1(z, x):
    d[z] = (z + 1.0) * d[x]


@tangent(np.log2, math.log2, pointwise=True)
def log2(z, x):
    d[z] = d[x] / (x * 0.6931471805599453)


@tangent(np.log10, math.log10, pointwise=True)
def log10(z, x):
    d[z] = d[x] / (x * 2.302585092994046)


@tangent(np.exp2, pointwise=True)
def exp2(z, x):
    d[z] = 0.6931471805599453 * z * d[x]


@tangent(np.reciprocal, pointwise=True)
def reciprocal(z, x):
    d[z] = -(z * z) * d[x]


@tangent(np.deg2rad, np.radians, math.radians, pointwise=True)
def radians(z, x):
    d[z] = 0.017453292519943295 * d[x]


@tangent(np.rad2deg, np.degrees, math.degrees, pointwise=True)
def degrees(z, x):
    d[z] = 57.29577951308232 * d[x]


@tangent(np.sinc, pointwise=True)
def sinc(z, x):  # sin(pi x) / (pi x)
    d[z] = sinc_slope(x) * d[x]


@tangent(sinc_slope, pointwise=True)
def sinc_slope_tangent(z, x):  # sinc_curvature has no rules: a third derivative of np.sinc is refused by name
    d[z] = sinc_curvature(x) * d[x]


@tangent(np.nan_to_num, pointwise=True)
def nan_to_num(z, x, *args, **kwargs):  # the replaced values are constants
    d[z] = np.where(np.isfinite(x), d[x], 0.0)


@adjoint(np.nan_to_num)
def nan_to_num_adjoint(z, x, *args, **kwargs):
    d[x] = np.where(np.isfinite(x), d[z], 0.0)


@tangent(np.sqrt, math.sqrt, pointwise=True)
def sqrt(z, x):
    d[z] = d[x] / (2.0 * z)


@tangent(np.square, pointwise=True)
def square(z, x):
    d[z] = 2.0 * x * d[x]


@tangent(np.power, math.pow, elementwise=True)
def power(z, x, y):
    d[z] = y * M.pow(x, y - 1) * d[x] + z * M.log(x) * d[y]


@adjoint(math.pow)
def math_pow_adjoint(z, x, y):  # scalars only: nothing to unbroadcast
    d[x] = y * math.pow(x, y - 1) * d[z]
    d[y] = z * math.log(x) * d[z]


@tangent(np.abs, np.fabs, pointwise=True)
def abs_(z, x):
    d[z] = np.sign(x) * d[x]


@tangent(math.fabs, pointwise=True)
def fabs(z, x):
    d[z] = d[x] if x >= 0.0 else -d[x]


@adjoint(math.fabs)
def fabs_adjoint(z, x):
    d[x] = d[z] if x >= 0.0 else -d[z]


@tangent(np.sin, math.sin, pointwise=True)
def sin(z, x):
    d[z] = M.cos(x) * d[x]


@tangent(np.cos, math.cos, pointwise=True)
def cos(z, x):
    d[z] = -M.sin(x) * d[x]


@tangent(np.tan, math.tan, pointwise=True)
def tan(z, x):
    d[z] = (1.0 + z * z) * d[x]


@tangent(np.arcsin, math.asin, pointwise=True)
def arcsin(z, x):
    d[z] = d[x] / M.sqrt(1.0 - x * x)


@tangent(np.arccos, math.acos, pointwise=True)
def arccos(z, x):
    d[z] = -d[x] / M.sqrt(1.0 - x * x)


@adjoint(np.arccos, math.acos)
def arccos_adjoint(z, x):
    d[x] = -d[z] / M.sqrt(1.0 - x * x)


@tangent(np.arctan, math.atan, pointwise=True)
def arctan(z, x):
    d[z] = d[x] / (1.0 + x * x)


@tangent(np.arctan2, math.atan2, elementwise=True)
def arctan2(z, y, x):
    d[z] = (x * d[y] - y * d[x]) / (x * x + y * y)


@adjoint(np.arctan2)
def arctan2_adjoint(z, y, x):
    t = d[z] / (x * x + y * y)
    d[y] = unbroadcast(x * t, y)
    d[x] = unbroadcast(-(y * t), x)


@adjoint(math.atan2)
def atan2_adjoint(z, y, x):
    t = d[z] / (x * x + y * y)
    d[y] = x * t
    d[x] = -(y * t)


@tangent(np.arcsinh, math.asinh, pointwise=True)
def arcsinh(z, x):
    d[z] = d[x] / M.sqrt(x * x + 1.0)


@tangent(np.arccosh, math.acosh, pointwise=True)
def arccosh(z, x):
    d[z] = d[x] / M.sqrt(x * x - 1.0)


@tangent(np.arctanh, math.atanh, pointwise=True)
def arctanh(z, x):
    d[z] = d[x] / (1.0 - x * x)


@tangent(np.sinh, math.sinh, pointwise=True)
def sinh(z, x):
    d[z] = M.cosh(x) * d[x]


@tangent(np.cosh, math.cosh, pointwise=True)
def cosh(z, x):
    d[z] = M.sinh(x) * d[x]


@tangent(np.tanh, math.tanh, pointwise=True)
def tanh(z, x):
    d[z] = (1.0 - z * z) * d[x]


@tangent(math.erf, pointwise=True)
def erf(z, x):
    d[z] = 1.1283791670955126 * math.exp(-(x * x)) * d[x]


@tangent(math.hypot, np.hypot, elementwise=True)
def hypot(z, x, y):
    d[z] = (x * d[x] + y * d[y]) / z


@adjoint(np.hypot)
def hypot_adjoint(z, x, y):
    t = d[z] / z
    d[x] = unbroadcast(x * t, x)
    d[y] = unbroadcast(y * t, y)


@adjoint(math.hypot)
def math_hypot_adjoint(z, x, y):
    t = d[z] / z
    d[x] = x * t
    d[y] = y * t


@tangent(np.logaddexp, elementwise=True)
def logaddexp(z, x, y):
    d[z] = d[x] * np.exp(x - z) + d[y] * np.exp(y - z)


@tangent(np.logaddexp2, elementwise=True)
def logaddexp2(z, x, y):
    d[z] = d[x] * np.exp2(x - z) + d[y] * np.exp2(y - z)


@tangent(np.fmod, elementwise=True)
def fmod(z, x, y):  # x - y * trunc(x / y): the quotient is piecewise constant
    d[z] = d[x] - d[y] * np.trunc(x / y)


# np.fmax and np.fmin return the operand that is not NaN, which the test x == z also picks
@tangent(np.maximum, np.minimum, np.fmax, np.fmin, elementwise=True)
def maximum(z, x, y):
    d[z] = np.where(x == z, d[x], d[y])


@adjoint(np.maximum, np.minimum, np.fmax, np.fmin)
def maximum_adjoint(z, x, y):  # ties go to x, as in the tangent
    d[x] = unbroadcast(np.where(x == z, d[z], 0.0), x)
    d[y] = unbroadcast(np.where(x == z, 0.0, d[z]), y)


@tangent(np.where, elementwise=True)
def where(z, condition, x, y):
    d[z] = np.where(condition, d[x], d[y])


@adjoint(np.where)
def where_adjoint(z, condition, x, y):
    d[x] = unbroadcast(np.where(condition, d[z], 0.0), x)
    d[y] = unbroadcast(np.where(condition, 0.0, d[z]), y)


@tangent(np.clip, elementwise=True)
def clip(z, x, low, high):
    d[z] = np.where(x < low, d[low], np.where(x > high, d[high], d[x]))


@adjoint(np.clip)
def clip_adjoint(z, x, low, high):  # where x < low and x > high both hold, low wins, as in the tangent
    d[x] = unbroadcast(np.where((x < low) | (x > high), 0.0, d[z]), x)
    d[low] = unbroadcast(np.where(x < low, d[z], 0.0), low)
    d[high] = unbroadcast(np.where((x > high) & (x >= low), d[z], 0.0), high)
