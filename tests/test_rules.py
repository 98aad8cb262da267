"""Every built-in derivative rule, in both modes, on a table of sample calls.

Each sample call of a primitive is turned into two tiny functions by instantiating the rule's
templates the way the modes do: a VJP (`z = F(...)`, cotangents start at 0.0, the adjoint template's
statements) and a JVP (the tangent template's statements). Both are checked against central finite
differences of the primitive itself: the VJP through the dot-product identity <bz, J v> = sum <b_i, v_i>
(each cotangent having exactly its argument's structure and shape, a float for a float), the JVP
directly, and the vector-mode JVP (tangents carrying three directions, as forward gradients use) one
direction at a time. Every sample runs with all its float arguments differentiated and, where there are several,
with each alone (so that contributions to arguments without derivatives are dropped cleanly).

Each rule also runs at shape classes derived from its samples (`shape_classes`): 0-d arrays in place of
floats and, for pointwise and elementwise rules, empty, size-1 and broadcast shapes, wherever the
primitive accepts them; hand-written samples give reductions, products and shape functions empty and
size-1 axes.

A new rule needs a table entry: a test checks that the table covers every rule and nargs variant,
and that every rule with tangents has adjoints for the same variants.
"""
import builtins
import copy
import functools
import itertools
import math
import operator
import warnings
from dataclasses import dataclass

import astor
import gast
import numpy as np
import pytest

import sourcediff as sd
from sourcediff.emit import compile_source
from sourcediff.frontend.parse import canonical_name
from sourcediff.ir.analysis import SEQUENCE_RESULTS
from sourcediff.ir.build import const, dotted, name
from sourcediff.ir.namespace import NameGenerator, Namespace
from sourcediff.modes.directions import operand_in_form, over_directions, vector_template
from sourcediff.modes.reverse import IN_PLACE
from sourcediff.rules import RULES, rule_for, spelling
from sourcediff.rules.catalog import second_order_gaps
from sourcediff.rules.instantiate import instantiate, instantiate_adjoint
from sourcediff.rules.linalg import reciprocal_off_diagonal, symmetric_input, transposed
from sourcediff.runtime import sinc_slope
from sourcediff.runtime import (add_at, add_cotangents, add_like, added_at, appended_cotangent, broadcast_like, copy_saved,
                                concatenate_columns, concatenate_rows, cotangent_at, cotangent_like, diff_cotangent,
                                dot_left_cotangent, dot_right_cotangent, einsum_cotangent, embed_diagonal, expand_reduced,
                                factor_cotangent, factor_spread, gathered, inner_left_cotangent,
                                inner_right_cotangent, item, joined_like, matmul_left_cotangent,
                                matmul_right_cotangent, overwritten, pad_cotangent, placed_at, pop_cotangent,
                                popped_parts, reduce_like, repeat_cotangent, repeated_cotangent, require_cotangent,
                                require_real, reshape_like, split_like, summand_cotangent, summand_spread,
                                take_along_axis_cotangent, take_cotangent, tile_cotangent, unbroadcast,
                                unpopped_cotangent, unreduce, unrepeat, unsplit, zero_at)

STEP = 1e-6
VECTOR_DIRECTIONS = 7  # a size no sample has, so a misplaced direction axis cannot broadcast by chance
rng = np.random.default_rng(20240611)
# np.cross of 2-vectors is deprecated in NumPy 2 and removed in 2.5; its rule covers them where NumPy does
pytestmark = pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors:DeprecationWarning")


# ---------------------------------------------------------------------------------------------------
# Sample values: a shape () gives a Python float
# ---------------------------------------------------------------------------------------------------

def _draw(values):
    return float(values) if np.ndim(values) == 0 else values


def N(*shape):
    """Standard normal."""
    return _draw(rng.standard_normal(shape))


def U(low, high, *shape):
    return _draw(rng.uniform(low, high, shape))


def P(*shape):
    """Positive, away from zero."""
    return U(0.5, 2.0, *shape)


def S(*shape):
    """Either sign, away from zero (abs, prod, divisors)."""
    return _draw(rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2.0, shape))


def W(*batch, n=3):
    """Well-conditioned square matrices."""
    return rng.standard_normal(batch + (n, n)) + 3.0 * np.eye(n)


def MOD(*shape):
    """(x, y) for x % y with x / y well away from an integer, where x // y jumps."""
    y = P(*shape)
    k = rng.integers(-3, 3, shape)
    return _draw(y * (k + rng.uniform(0.2, 0.8, shape))), y


def differentiable(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind == "f"
    if isinstance(value, (list, tuple)):
        return len(value) > 0 and all(differentiable(v) for v in value)
    if isinstance(value, dict):
        return len(value) > 0 and all(differentiable(v) for v in value.values())
    return False


@dataclass(eq=False)  # hashed by identity, so that build() can cache what it builds for a sample
class Call:
    args: tuple
    kwargs: dict
    active: tuple  # positions of the arguments that carry derivatives
    tangent_gaps: dict  # active positions -> why the tangent template is known to be wrong there
    kink: bool  # at a tie or kink: no finite differences, only adjoint and tangent agreeing on a convention

    def describe(self):
        def short(v):
            if isinstance(v, np.ndarray):
                return f"{v.dtype.kind}{v.shape}"
            if isinstance(v, (list, tuple)):
                inner = ",".join(short(e) for e in v)
                return f"[{inner}]" if isinstance(v, list) else f"({inner})"
            if isinstance(v, dict):
                return "{" + ",".join(f"{k}:{short(e)}" for k, e in v.items()) + "}"
            if isinstance(v, float):
                return "f"
            return repr(v).replace(" ", "")
        parts = [short(a) for a in self.args] + [f"{k}={short(v)}" for k, v in self.kwargs.items()]
        return ",".join(parts)


def call(*args, active=None, tangent_gaps=None, kink=False, **kwargs):
    if active is None:
        active = tuple(i for i, a in enumerate(args) if differentiable(a))
    return Call(args, kwargs, active, tangent_gaps or {}, kink)


def ties(*args, **kwargs):
    return call(*args, kink=True, **kwargs)


def broadcasting(x=N, y=N):
    """Binary elementwise samples: equal shapes, (3,1) x (4,), scalar x array, array x scalar, scalars."""
    return [call(x(3), y(3)), call(x(3, 1), y(4)), call(x(), y(2, 3)), call(x(2, 3), y()),
            call(x(2, 1, 3), y(4, 1)), call(x(), y())]


def unary(gen, scalar_only=False):
    return [call(gen())] if scalar_only else [call(gen()), call(gen(3)), call(gen(2, 3))]


XP = np.array([0.0, 0.5, 1.2, 2.5])  # np.interp's increasing sample points (they carry no derivative)


def reductions(gen=N, size_one=True):
    """size_one: also over an axis of size one (np.std has no derivative there: it is 0, a kink)."""
    return [call(gen(5)), call(gen(2, 3), axis=0), call(gen(2, 3), 1), call(gen(2, 3), axis=1, keepdims=True),
            call(gen(2, 3, 4), axis=(0, 2)), call(gen(2, 3), axis=-1)] + \
        ([call(gen(1, 3), axis=0), call(gen(2, 1), 1, keepdims=True)] if size_one else [])


def empty_reductions(gen=N):
    """Over an empty axis (for the reductions that have a value there), and along one."""
    return [call(gen(0, 3), axis=0), call(gen(0, 3), axis=1), call(gen(0))]


def mod_samples():
    samples = []
    for shape in [(3,), (2, 3), ()]:
        x, y = MOD(*shape)
        samples.append(call(x, y))
    samples.append(call(1.7, np.array([0.75, 1.1, 2.3])))
    samples.append(call(np.array([2.5, -1.3, 0.4]), 0.9))
    return samples


TABLE = {
    # Python operators and builtins
    operator.add: broadcasting(),
    operator.sub: broadcasting(),
    operator.mul: broadcasting(),
    operator.truediv: broadcasting(N, S),
    operator.pow: broadcasting(P, N) + [call(N(3), 2), call(N(2, 3), 3), call(P(), 0.5), call(P(3), -1.5)],
    operator.mod: mod_samples(),
    operator.neg: unary(N),
    operator.pos: unary(N),
    float: [call(N()), call(np.array(N())), call(np.float64(N()))],
    np.float64: [call(N()), call(np.array(N())), call(N(3)), call(N(2, 3))],
    item: [call(N()), call(N(1)), call(np.array(N())), call(N(1, 1))],
    list: [call(N(3)), call(N(2, 3)), call((N(2), N()))],
    tuple: [call([N(2), N(3)]), call(N(3))],
    copy.copy: [call(N(3)), call(N()), call([N(2), N()]), call({"a": N(2), "b": N()})],
    copy.deepcopy: [call(N(3)), call(N()), call([N(2), N()]), call({"a": N(2), "b": {"c": N(2, 2)}})],
    operator.getitem: [call(N(5), slice(3, 3)), call(N(0, 2), (slice(None), 1)), call(N(5), 2), call(N(5), -1),
                       call(N(5), slice(1, 4)), call(N(4, 3), (slice(None), 1)),
                       call(N(5), np.array([0, 2, 2])), call(N(4), np.array([True, False, True, True])),
                       call(N(3, 4), (None, slice(1, 3))), call(N(2, 3), (np.array([1, 1]), np.array([0, 2]))),
                       call([N(2), N(3), N()], 1), call((N(2), N()), 0), call({"w": N(2), "b": N()}, "w")],
    builtins.abs: unary(S) + [ties(0.0), ties(np.array([0.0, 1.0]))],
    builtins.max: [call(N(), N()), call([N(), N(), N()]), call(N(5)), call((N(), N())), ties(2.0, 2.0),
                   ties([1.0, 3.0, 3.0])],
    builtins.min: [call(N(), N()), call([N(), N(), N()]), call(N(5)), ties(2.0, 2.0), ties(np.array([1.0, 0.5, 0.5]))],
    builtins.sum: [call([N(3), N(3), N()]), call(N(4)), call([N(2, 3), N(3)]), call(N(2, 3)),
                   call([N(3), N(3)], N(3)),
                   call([N(), N()], N()),
                   call([N(2), N(2)], N())],

    # elementwise functions
    np.exp: unary(N), math.exp: unary(N, True),
    np.log: unary(P), math.log: [call(P()), call(P(), U(1.5, 3.0)), call(P(), 10)],
    np.log1p: unary(lambda *s: U(-0.5, 2.0, *s)), math.log1p: [call(U(-0.5, 2.0))],
    np.expm1: unary(N), math.expm1: unary(N, True),
    np.log2: unary(P), math.log2: unary(P, True),
    np.log10: unary(P), math.log10: unary(P, True),
    np.exp2: unary(N), np.reciprocal: unary(S), np.sinc: unary(N) + [call(np.array([0.0, 0.5, -1.5]))],
    sinc_slope: unary(N) + [call(np.array([0.0, 0.5, -1.5]))],
    np.deg2rad: unary(N), np.radians: unary(N), np.rad2deg: unary(N), np.degrees: unary(N),
    math.radians: unary(N, True), math.degrees: unary(N, True),
    np.nan_to_num: unary(N) + [call(np.array([np.nan, 1.0, np.inf, -2.0]))],
    np.sqrt: unary(P), math.sqrt: unary(P, True),
    np.square: unary(N),
    np.power: broadcasting(P, N) + [call(N(3), 2), call(P(2, 3), 2.5)],
    math.pow: [call(P(), N()), call(N(), 3.0, active=(0,)), call(P(), 2)],
    np.abs: unary(S) + [ties(np.array([0.0, -1.0]))],
    math.fabs: [call(S()), call(-1.3), call(0.7), ties(0.0)],
    np.fabs: unary(S) + [ties(np.array([0.0, -1.0]))],
    np.sin: unary(N), math.sin: unary(N, True),
    np.cos: unary(N), math.cos: unary(N, True),
    np.tan: unary(lambda *s: U(-1.0, 1.0, *s)), math.tan: [call(U(-1.0, 1.0))],
    np.arcsin: unary(lambda *s: U(-0.8, 0.8, *s)), math.asin: [call(U(-0.8, 0.8))],
    np.arccos: unary(lambda *s: U(-0.8, 0.8, *s)), math.acos: [call(U(-0.8, 0.8))],
    np.arctan: unary(N), math.atan: unary(N, True),
    np.arctan2: broadcasting(), math.atan2: [call(N(), N())],
    np.arcsinh: unary(N), math.asinh: unary(N, True),
    np.arccosh: unary(lambda *s: U(1.2, 3.0, *s)), math.acosh: [call(U(1.2, 3.0))],
    np.arctanh: unary(lambda *s: U(-0.8, 0.8, *s)), math.atanh: [call(U(-0.8, 0.8))],
    np.sinh: unary(N), math.sinh: unary(N, True),
    np.cosh: unary(N), math.cosh: unary(N, True),
    np.tanh: unary(N), math.tanh: unary(N, True),
    math.erf: unary(N, True),
    math.hypot: [call(N(), N())], np.hypot: broadcasting(S, S),
    np.logaddexp: broadcasting(), np.logaddexp2: broadcasting(),
    np.remainder: mod_samples(), np.fmod: mod_samples(),
    np.fmax: broadcasting() + [ties(np.array([1.0, 2.0]), np.array([1.0, 3.0])),
                               call(np.array([np.nan, 2.0]), np.array([1.0, np.nan]))],
    np.fmin: broadcasting() + [call(np.array([np.nan, 2.0]), np.array([1.0, np.nan]))],
    np.maximum: broadcasting() + [ties(np.array([1.0, 2.0]), np.array([1.0, 3.0])),
                                  ties(np.array([[1.0], [2.0]]), 2.0)],
    np.minimum: broadcasting() + [ties(np.array([1.0, 2.0]), np.array([1.0, 3.0])), ties(1.0, np.array([1.0, 0.0]))],
    np.where: [call(rng.random(4) > 0.5, N(4), N(4)), call(rng.random((3, 1)) > 0.5, N(4), N()),
               call(np.array([True, False]), N(), N(2)), call(rng.random((2, 3)) > 0.5, N(3), N(2, 1))],
    np.clip: [call(N(5), U(-0.6, -0.4), U(0.4, 0.6)), call(N(2, 3), U(-0.6, -0.4, 3), U(0.4, 0.6, 2, 1)),
              call(N(6), -0.5, 0.5, active=(0,)), call(N(), -0.5, 0.5),
              ties(np.array([-0.5, 0.2, 0.5, 0.7]), -0.5, 0.5), ties(np.array([0.1, 0.25]), 0.3, 0.2)],

    # reductions, shapes, constructors
    np.sum: reductions() + empty_reductions(),
    np.mean: reductions() + [call(N(0, 3), axis=1)],
    np.prod: reductions(S) + empty_reductions(S) + [  # with zeros, where prod / x is nan
        call(np.array([0.0, 1.5, -2.0])), call(np.array([[0.0, 1.5, 0.0], [2.0, -1.0, 0.5]]), axis=1),
        call(np.array([[0.0, 1.5], [0.0, 2.0], [3.0, 0.5]]), axis=(0, 1)), call(np.array(0.0))],
    np.max: reductions() + [call(N()), ties(np.array([1.0, 3.0, 3.0, 2.0])),
                            ties(np.array([[1.0, 2.0], [2.0, 2.0]]), axis=1),
                            ties(np.array([[1.0, 1.0], [2.0, 0.0]]), axis=0, keepdims=True)],
    np.min: reductions() + [ties(np.array([1.0, 0.0, 0.0]))],
    np.amax: reductions() + [ties(np.array([[1.0, 2.0], [2.0, 2.0]]), axis=1)],
    np.amin: reductions() + [ties(np.array([0.0, 0.0]))],
    np.interp: [call(np.array([0.15, 0.6, 1.3, 2.2]), XP, N(4), active=(0, 2)), call(0.7, XP, N(4), active=(0, 2)),
                call(np.array([[0.3, 1.9], [-0.5, 2.6]]), XP, N(4), active=(0, 2)),  # held outside [0, 2.5]
                call(np.array([0.4, 1.1]), XP, np.array([1.0, 2.0, 0.5, 0.5]), active=(2,)),
                call(np.array([0.2, 0.8]), np.array([0.5]), N(1), active=(0, 2))],
    np.nansum: reductions() + [call(np.array([1.5, np.nan, -2.0])), call(np.array([[np.nan, 1.0], [2.0, 0.5]]), axis=0)],
    np.nanmean: reductions() + [call(np.array([1.5, np.nan, -2.0])),
                                call(np.array([[np.nan, 1.0], [2.0, 0.5]]), axis=1, keepdims=True)],
    np.nanmax: reductions() + [call(np.array([1.5, np.nan, -2.0])), ties(np.array([[np.nan, 1.0], [2.0, 2.0]]), axis=1)],
    np.nanmin: reductions() + [call(np.array([[np.nan, 1.0], [2.0, 0.5]]), axis=0)],
    np.var: reductions() + [call(N(4), ddof=1), call(N(2, 3), axis=0, ddof=1, keepdims=True), call(N())],
    np.std: reductions(size_one=False) + [call(N(4), ddof=1), call(N(2, 3), 1, None, None, 1)],
    np.cumprod: [call(S(5)), call(S(2, 3)), call(S(2, 3), axis=1), call(S(2, 3), 0), call(S(2, 3, 2), axis=-2)],
    np.take: [call(N(5), [0, 2, 2]), call(N(3, 4), np.array([[1, 0], [3, 3]]), axis=1), call(N(3, 4), 2, 0),
              call(N(2, 3), np.array([5, -1])), call(N(4), np.array([], dtype=int)), call(N(2, 3, 2), [1, 1], -2)],
    np.sort: [call(N(0)), call(N(1, 3), axis=0), call(N(5)), call(N(2, 3)), call(N(2, 3), axis=0),
              call(N(2, 3), None), call(N(3, 4), -1, "stable"),
              ties(np.array([1.0, 3.0, 1.0, 2.0]))],
    np.partition: [call(N(5), 2), call(N(3, 4), 1, axis=0), call(N(2, 5), (1, 3))],
    np.cumsum: [call(N(0)), call(N(2, 0), axis=1), call(N(5)), call(N(2, 3)), call(N(2, 3), axis=1),
                call(N(2, 3), 0), call(N(2, 3, 2), axis=-2)],
    np.transpose: [call(N(0, 2)), call(N(2, 3)), call(N(2, 3, 4), (1, 2, 0)), call(N(2, 3, 4), axes=(2, 0, 1)),
                   call(N(2, 3, 4), (0, -1, 1)), call(N(3))],
    np.reshape: [call(N(0, 3), (3, 0)), call(N(2, 3), (3, 2)), call(N(6), (2, -1)), call(N(2, 3), (3, 2), order="F"),
                 call(N(2, 3), shape=(6,)), call(N(1, 1), ())],
    np.squeeze: [call(N(1, 3, 1)), call(N(1, 3), axis=0), call(N(3, 1), 1)],
    np.expand_dims: [call(N(3), 0), call(N(2, 3), axis=-1), call(N(), 0), call(N(2, 3), (0, 3))],
    np.broadcast_to: [call(N(3), (2, 3)), call(N(2, 1), (2, 4)), call(N(), (3,)), call(N(2, 1), shape=(3, 2, 2))],
    np.diag: [call(N(3)), call(N(3), 1), call(N(3), k=-2), call(N(3, 3)), call(N(3, 4), 1), call(N(4, 3), -1)],
    np.trace: [call(N(3, 3)), call(N(3, 4), 1), call(N(2, 3, 3), axis1=1, axis2=2), call(N(3, 2, 3), 0, 0, 2)],
    np.ravel: [call(N(2, 3)), call(N(2, 3), "F"), call(N(2, 3), order="F")],
    np.copy: [call(N(3)), call(N(2, 3))],
    np.array: [call([N(), N(), N()]), call([N(2), N(2)]), call(N(2, 3)), call(N(3), dtype=float),
               call([[N(), N()], [N(), N()]]), call((N(2), N(2)))],
    np.asarray: [call([N(2), N(2)]), call(N(3)), call([N(), N()])],
    np.concatenate: [call([N(0, 3), N(2, 3)]), call([N(3), N(2)]), call([N(2, 3), N(1, 3)], axis=0),
                     call([N(2, 3), N(2, 1)], 1),
                     call([N(2, 2), N(3)], axis=None), call([N(2, 3), N(2, 2)], axis=-1), call((N(2), N(3))),
                     call(N(2, 3))],
    np.stack: [call([N(3), N(3)]), call([N(2, 3), N(2, 3)], axis=1), call([N(3), N(3), N(3)], -1), call([N(), N()]),
               call(N(2, 3), axis=1)],
    np.hstack: [call([N(3), N(2)]), call([N(2, 3), N(2, 1)]), call([N(), N(2)]), call((N(2, 1), N(2, 2)))],
    concatenate_rows: [call([N(3), N(2)]), call([N(), N(3), N()]), call([N(2, 3), N(1, 3)]), call((N(), N()))],
    concatenate_columns: [call([N(3), N(3)]), call([N(2, 2), N(2)]), call([N(), N()]), call([N(2, 3, 2), N(2, 3, 1)])],
    np.vstack: [call([N(3), N(3)]), call([N(2, 3), N(3)]), call([N(1, 2), N(2, 2)]), call([N(), N()])],
    np.column_stack: [call([N(3), N(3)]), call([N(3, 2), N(3)]), call((N(2, 1), N(2, 2))), call([N(), N()])],
    np.dstack: [call([N(3), N(3)]), call([N(2, 3), N(2, 3, 2)]), call([N(), N()])],
    np.pad: [call(N(3), 1), call(N(2, 3), ((1, 0), (2, 1))), call(N(4), 2, "reflect"), call(N(2, 3), 1, mode="edge"),
             call(N(3), (2, 3), "symmetric"), call(N(2, 2), 3, "wrap"), call(N(0, 2), ((1, 1), (0, 0)))],
    np.split: [call(N(0, 2), 2, axis=1), call(N(6), 3), call(N(4, 3), [1, 3]), call(N(2, 6), 2, axis=1),
               call(N(5), [2, 2])],
    np.array_split: [call(N(5), 3), call(N(3, 4), 2, 1)],
    np.hsplit: [call(N(6), 2), call(N(2, 4), [1])],
    np.vsplit: [call(N(4, 2), 2)],
    np.dsplit: [call(N(2, 2, 4), [1, 3])],
    np.moveaxis: [call(N(2, 3, 4), 0, -1), call(N(2, 3, 4), (0, 1), (2, 0)), call(N(3), 0, 0)],
    np.swapaxes: [call(N(2, 3), 0, 1), call(N(2, 3, 4), -1, 0)],
    np.rollaxis: [call(N(2, 3, 4), 2), call(N(2, 3, 4), 0, 2), call(N(2, 3, 4), -1, 1), call(N(2, 3, 4), 1, 3),
                  call(N(2, 3, 4), 0, -1)],
    np.atleast_1d: [call(N()), call(N(3)), call(N(2, 3))],
    np.atleast_2d: [call(N()), call(N(3)), call(N(2, 3))],
    np.atleast_3d: [call(N()), call(N(3)), call(N(2, 3)), call(N(2, 1, 3, 1))],
    np.tril: [call(N(3, 3)), call(N(3, 4), 1), call(N(2, 3, 3), k=-1), call(N(3))],
    np.triu: [call(N(3, 3)), call(N(4, 3), -1), call(N(3))],
    np.diagonal: [call(N(3, 3)), call(N(3, 4), 1), call(N(2, 3, 3), 0, 1, 2), call(N(3, 2, 4), -1, axis1=2, axis2=0)],
    np.flip: [call(N(3)), call(N(2, 3), 1), call(N(2, 3), axis=(0, 1))],
    np.fliplr: [call(N(2, 3))],
    np.flipud: [call(N(2, 3)), call(N(3))],
    np.rot90: [call(N(2, 3)), call(N(2, 3), 3), call(N(2, 3, 4), 1, (1, 2))],
    np.roll: [call(N(5), 2), call(N(2, 3), -1, axis=1), call(N(2, 3), 4), call(N(2, 3), (1, 2), (0, 1))],
    np.fft.fftshift: [call(N(5)), call(N(2, 3)), call(N(2, 3), axes=1), call(N(3, 4), (0, 1)), call(N(1))],
    np.fft.ifftshift: [call(N(5)), call(N(2, 3)), call(N(2, 3), axes=0), call(N(3, 4), -1), call(N(0))],
    np.repeat: [call(N(0), 2), call(N(3), 0), call(N(3), 2), call(N(2, 3), [1, 0, 2], axis=1), call(N(2, 3), 2),
                call(N(), 3),
                call(N(2, 3), 2, -2)],
    np.tile: [call(N(0, 2), 2), call(N(3), 2), call(N(2, 3), (2, 1)), call(N(3), (2, 2)), call(N(), 3),
              call(N(2, 1, 3), 2)],
    np.diff: [call(N(1)), call(N(0, 3), axis=0), call(N(5)), call(N(5), 2), call(N(2, 4), axis=0), call(N(3, 4), 2, 1)],
    np.tensordot: [call(N(2, 3), N(3, 4), 1), call(N(2, 3, 4), N(3, 4, 5)), call(N(3), N(4), 0),
                   call(N(2, 3, 4), N(4, 2, 5), ([0, 2], [1, 0])), call(N(3, 2), N(3), (0, 0)),
                   call(N(2, 3), N(2, 3), axes=2)],
    np.cross: [call(N(3), N(3)), call(N(4, 3), N(3)), call(N(3, 4), N(4, 3), axisa=0), call(N(4, 3), N(4, 3), axisc=0)]
    + ([call(N(2), N(2)), call(N(2), N(3)), call(N(3, 2), N(3, 2), axis=0), call(N(5, 2), N(2))]
       if np.lib.NumpyVersion(np.__version__) < "2.5.0" else []),
    np.negative: unary(N),
    np.real: unary(N),
    np.conjugate: unary(N), np.real_if_close: unary(N), np.positive: unary(N),
    np.linspace: [call(N(), N(), 5), call(N(), N(), 4, False), call(N(3), N(), 3), call(N(2, 1), N(3), num=4),
                  call(0.0, N(), 6, active=(1,)), call(N(), N(), 1)],
    np.gradient: [call(N(5)), call(N(5), 0.5, active=(0,)), call(N(6), edge_order=2),
                  call(N(4), np.cumsum(P(4)), active=(0,)), call(N(3, 4)), call(N(3, 4), 2.0, axis=1, active=(0,)),
                  call(N(3, 4), 1.0, 0.5, edge_order=2, active=(0,)), call(N(2, 3, 4), axis=(0, 2)), call(N(2)),
                  call(N(3), np.array([0.0, 0.5, 2.0]), edge_order=2, active=(0,))],
    np.select: [call([rng.random(4) > 0.5, rng.random(4) > 0.5], [N(4), N(4)]),
                call([rng.random((2, 3)) > 0.5, rng.random(3) > 0.5], [N(3), N(2, 1)], N()),
                call([rng.random(3) > 0.5], [N(3)], N(3)), call([rng.random(3) > 0.5], [N()], N(3), active=(2,)),
                call([rng.random(3) > 0.5], [np.zeros(3)], N(3), active=(2,)),
                call([rng.random(3) > 0.5], [N(3)], 1.0, active=(1,))],
    np.full: [call((2, 3), N()), call((2, 3), N(3)), call((2, 3), N(2, 1)), call(3, N(), dtype=float)],
    np.full_like: [call(N(2, 3), N(), active=(1,)), call(N(2, 3), N(3), active=(1,)),
                   call(np.zeros((2, 2), dtype=int), N(), dtype=float)],

    # products and linear algebra
    np.dot: [call(N(0), N(0)), call(N(2, 0), N(0, 3)), call(N(3), N(3)), call(N(2, 3), N(3)),
             call(N(3), N(3, 2)), call(N(2, 3), N(3, 4)), call(N(), N(3)),
             call(N(2, 3), N()), call(N(), N()), call(N(2, 2, 3), N(3)), call(N(2, 3), N(4, 3, 2)),
             call(N(2, 2, 3), N(4, 3, 5))],
    np.matmul: [call(N(2, 0), N(0, 3)), call(N(0, 2), N(2, 3)), call(N(1, 1), N(1, 3)), call(N(2, 3), N(3, 4)),
                call(N(3), N(3, 4)), call(N(2, 3), N(3)), call(N(3), N(3)),
                call(N(5, 2, 3), N(3, 4)), call(N(2, 3), N(5, 3, 4)), call(N(5, 1, 2, 3), N(4, 3, 2)),
                call(N(3), N(5, 3, 4)), call(N(5, 2, 3), N(3))],
    np.outer: [call(N(3), N(4)), call(N(2, 2), N(3)), call(N(3), N(1))],
    np.inner: [call(N(3), N(3)), call(N(2, 3), N(3)), call(N(2, 3), N(4, 3)), call(N(), N(3)),
               call(N(2, 2, 3), N(4, 3)), call(N(3), N(2, 4, 3))],
    np.multiply: broadcasting(),
    np.kron: [call(N(2), N(3)), call(N(2, 2), N(2, 3)), call(N(3), N(2, 2)), call(N(2, 2), N(3)), call(N(), N(2))],
    np.einsum: [call("ij->ji", N(2, 3)), call("ii->i", N(3, 3)), call("ii", N(3, 3)), call("ij->i", N(2, 3)),
                call("...ij->...ji", N(4, 2, 3)), call("ijk->", N(2, 3, 2)), call("ij", N(2, 3)),
                call("ij,jk->ik", N(2, 3), N(3, 4)), call("i,i", N(3), N(3)), call("ij,jk", N(2, 3), N(3, 4)),
                call("i,j->ij", N(2), N(3)), call("...ij,...jk->...ik", N(5, 2, 3), N(3, 4)),
                call("ij,ik->j", N(2, 3), N(2, 4)), call("ii,i->i", N(3, 3), N(3)),
                call("...ij,...jk->...ik", N(1, 2, 3), N(4, 3, 2)), call(" ij , j -> i ", N(2, 3), N(3)),
                call(",i->i", N(), N(3)),
                call("ij,jk,kl->il", N(2, 3), N(3, 4), N(4, 2)), call("i,i,i", N(3), N(3), N(3)),
                call("bij,bjk,bk->bi", N(2, 2, 3), N(2, 3, 4), N(2, 4))],
    np.add: broadcasting(),
    np.subtract: broadcasting(),
    np.divide: broadcasting(N, S),
}


# ---------------------------------------------------------------------------------------------------
# np.linalg and scipy.special / scipy.stats (rules/linalg.py, rules/scipy.py)
# ---------------------------------------------------------------------------------------------------

def SPD(*batch, n=3):
    """Symmetric positive definite matrices."""
    a = rng.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def SYM(*batch, n=3):
    """Symmetric matrices with eigenvalues at least 1 apart (eigenvector derivatives divide by the gaps)."""
    q, _ = np.linalg.qr(rng.standard_normal(batch + (n, n)))
    w = np.arange(n) * 1.5 + rng.uniform(-0.2, 0.2, batch + (n,))
    return (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)


TABLE.update({
    np.linalg.norm: [call(N(3)), call(N(2, 3)), call(N(2, 3), axis=1), call(N(2, 3), axis=0, keepdims=True),
                     call(N(2, 3, 4), axis=(1, 2)), call(S()),
                     call(S(4), 1), call(S(4), ord=np.inf), call(S(4), ord=-np.inf), call(S(4), ord=3.0),
                     call(S(4), ord=0.5), call(S(4), -1), call(S(4), 0), call(S(2, 3), 3, 1), call(S(2, 3), 2, 0, True),
                     call(N(2, 3), "fro"), call(N(3, 3), "nuc"), call(N(3, 4), 2), call(N(4, 3), -2),
                     call(S(3, 3), 1), call(S(3, 3), -1), call(S(3, 4), ord=np.inf), call(S(4, 3), ord=-np.inf),
                     call(N(2, 3, 4), "nuc", (0, 2)), call(S(2, 3, 4), 1, axis=(2, 1), keepdims=True),
                     call(S(2, 3, 4), ord=np.inf, axis=(-1, 0)), call(N(2, 3, 4), 2, (1, 2)),
                     call(S(2, 3), ord=np.inf, axis=1, keepdims=True),
                     ties(np.array([1.0, -3.0, 3.0]), ord=np.inf), ties(np.array([[1.0, 2.0], [-2.0, 1.0]]), 1)],
    np.linalg.det: [call(W()), call(W(2)), call(W(n=2)), call(-W())],
    np.linalg.slogdet: [call(W()), call(W(2)), call(-W()), call(W(n=1))],
    np.linalg.inv: [call(W()), call(W(2))],
    np.linalg.solve: [call(W(), N(3)), call(W(), N(3, 2)), call(W(2), N(2, 3, 2)), call(W(), N(2, 3, 2)),
                      call(W(2), N(3))],
    np.linalg.pinv: [call(N(3, 3)), call(N(4, 3)), call(N(3, 5)), call(N(2, 4, 3)), call(N(4, 3), 1e-10, active=(0,))],
    np.linalg.matrix_power: [call(W(), 3), call(W(2), 2), call(W(), 0), call(W(), 1), call(W(), -2), call(W(2), n=-1)],
    np.linalg.cholesky: [call(SPD()), call(SPD(2)), call(SPD(n=1))],
    np.linalg.eigh: [call(SYM()), call(SYM(2)), call(SYM(), "U"), call(SYM(n=2), UPLO="U")],
    transposed: [call(N(2, 3)), call(N(4, 2, 3))],
    symmetric_input: [call(N(3, 3)), call(N(2, 3, 3), "U"), call(N(3, 3), UPLO="L")],
    reciprocal_off_diagonal: [call(N(3, 3)), call(N(2, 3, 3))],
    np.take_along_axis: [call(N(4), np.array([2, 0, 0, 3]), 0), call(N(2, 3), np.array([[2, 2], [0, 1]]), 1),
                         call(N(3, 2), np.array([[1, 0]]), 0), call(N(1, 3), np.array([[0], [2]]), 1),
                         call(N(2, 3), np.array([5, 0, 5]), None), call(N(2, 3), np.array([[1], [0]]), axis=-1)],
    np.linalg.svd: [call(N(3, 3)), call(N(4, 3), full_matrices=False), call(N(3, 5), full_matrices=False),
                    call(N(2, 4, 3), full_matrices=False), call(N(3, 4), compute_uv=False),
                    call(N(2, 3, 3), False, False)],
    # np.add.at(z, index, v) as a new array (ir/mutation.py): repeated indices add up
    added_at: [call(N(5), [0, 0, 3], N(3)), call(N(4), np.array([2, 2]), N()), call(N(2, 3), ([0, 0, 1], [2, 2, 0]), N(3)),
               call(N(3, 2), [1, 1], N(2)), call(N(3), slice(0, 2), N(2))],
    # helpers of generated tangent code (rules/runtime.py), which higher-order derivatives differentiate
    require_real: [call(N(3), "x", len), call(N(), "x", len), call([N(2), N()], "x", len)],
    # helpers of generated gradients, linear in their cotangents (the value they are shaped after is read for
    # its shape alone)
    require_cotangent: [call(N(3), N(3), len, active=(0,)), call(N(), N(), len, active=(0,)),
                        call([N(2), N()], [N(2), N()], len, active=(0,))],
    cotangent_like: [call(N(2, 3), N(2, 3), active=(0,)), call(N(), N(3), active=(0,)),
                     call([N(2), N()], [N(2), N()], active=(0,))],
    unbroadcast: [call(N(4, 3), N(3), active=(0,)), call(N(2, 3), N(1, 3), active=(0,)), call(N(3), N(), active=(0,)),
                  call(N(2, 3), N(2, 3), active=(0,))],
    unreduce: [call(N(), N(3), active=(0,)), call(N(3), N(2, 3), 0, False, active=(0,)),
               call(N(1, 3), N(2, 3), 0, True, active=(0,)), call(N(2), N(2, 3), 1, False, True, active=(0,))],
    reduce_like: [call(N(2, 3), N(3), N(2, 3), 0, False, active=(0,)), call(N(3), N(), N(3), active=(0,)),
                  call(N(2, 3), N(2, 1), N(2, 3), 1, True, True, active=(0,))],
    copy_saved: [call(N(3)), call([N(2), N()]), call((N(2, 3), {"a": N(2)}))],
    add_cotangents: [call(N(3), N(3)), call([N(2), N()], [N(2), N()]), call(N(), N())],
    add_at: [call(N(4), N(4), 1, N(), active=(0, 3)), call(N(3, 2), N(3, 2), ([0, 0, 1], [1, 1, 0]), N(3), active=(0, 3)),
             call(N(4), N(4), slice(1, 3), N(2), active=(0, 3)), call(N(4), N(4), [2, 2], N(), active=(0, 3)),
             call([N(2), N()], [N(2), N()], 0, N(2), active=(0, 3)),
             call({"a": N(2), "b": N()}, {"a": N(2), "b": N()}, "b", N(), active=(0, 3))],
    matmul_left_cotangent: [call(N(2, 4), N(2, 3), N(3, 4), active=(0, 2)), call(N(4), N(3), N(3, 4), active=(0, 2)),
                            call(N(2), N(2, 3), N(3), active=(0, 2)),
                            call(N(5, 2, 4), N(5, 2, 3), N(3, 4), active=(0, 2))],
    matmul_right_cotangent: [call(N(2, 4), N(2, 3), N(3, 4), active=(0, 1)), call(N(4), N(3), N(3, 4), active=(0, 1)),
                             call(N(2), N(2, 3), N(3), active=(0, 1)),
                             call(N(5, 2, 4), N(5, 2, 3), N(3, 4), active=(0, 1))],
    # (the value whose shape they take is read for its shape alone: its cotangent stays the 0.0 of zeros)
    broadcast_like: [call(N(3), N(2, 3), active=(0,)), call(N(), N(3), active=(0,)), call(N(1, 3), N(2, 3), active=(0,)),
                     call(N(2), N(2), active=(0,))],
    expand_reduced: [call(N(3), N(2, 3), 0, False, active=(0,)), call(N(2), N(2, 3), 1, False, active=(0,)),
                     call(N(), N(2, 3), None, False, active=(0,)), call(N(1, 3), N(2, 3), 0, True, active=(0,)),
                     call(N(2), N(2, 3, 4), (1, 2), False, active=(0,))],
    # helpers of reverse-mode code (rules/reverse_helpers.py), which sd.jvp(sd.vjp(f)) differentiates: linear in the
    # cotangents (and a product's cotangent in the other operand); the values they are shaped after are read for
    # their shapes alone
    add_like: [call(N(3), N(3), N(3), active=(0, 2)), call(N(2, 3), N(2, 3), N(3), active=(0, 2)),
               call(N(3), N(3), N(2, 3), active=(0, 2)), call(N(), N(), N(), active=(0, 2)),
               call([N(2), N()], [N(2), N()], [N(2), N()], active=(0, 2)),
               call({"a": N(2), "b": N()}, {"a": N(2), "b": N()}, {"a": N(2), "b": N()}, active=(0, 2))],
    cotangent_at: [call(N(4), 1, active=(0,)), call(N(4), slice(1, 3), active=(0,)),
                   call(N(3, 2), ([0, 0, 1], [1, 1, 0]), active=(0,)), call(N(4), [2, 2], active=(0,)),
                   call([N(2), N()], 0, active=(0,)), call({"a": N(2), "b": N()}, "b", active=(0,))],
    placed_at: [call(N(4), 1, N(), active=(2,)), call(N(4), slice(1, 3), N(2), active=(2,)),
                call(N(4), [2, 2], N(2), active=(2,)), call(N(3, 2), (slice(None), 1), N(), active=(2,)),
                call([N(2), N()], 0, N(2), active=(2,)), call([N(2), N(), N()], slice(1, None), [N(), N()], active=(2,)),
                call({"a": N(2), "b": N()}, "b", N(), active=(2,))],
    zero_at: [call(N(4), 1, active=(0,)), call(N(3, 2), (slice(None), 1), active=(0,)), call([N(2), N()], 1, active=(0,)),
              call({"a": N(2), "b": N()}, "a", active=(0,))],
    overwritten: [call(N(4), 1, active=(0,)), call(N(3, 2), (0, slice(None)), active=(0,)),
                  call([N(2), N()], 0, active=(0,)), call({"a": N(2), "b": N()}, "a", active=(0,))],
    summand_cotangent: [call(N(2, 3), N(3), N(2, 3), 0, active=(0,)), call(N(2, 3), N(3), N(2, 3), 1, active=(0,)),
                        call([N(), N(2), N()], [N(), N(2)], [N()], 0, active=(0,)),
                        call([N(), N(2), N()], [N(), N(2)], [N()], 1, active=(0,))],
    summand_spread: [call(N(3), N(2, 3), N(3), N(2, 3), 0, active=(0,)), call(N(), N(3), N(), N(3), 0, active=(0,)),
                     call([N(), N(2)], [N(), N(2), N()], [N(), N(2)], [N()], 0, active=(0,)),
                     call([N()], [N(), N(2), N()], [N(), N(2)], [N()], 1, active=(0,))],
    factor_cotangent: [call(N(3), N(3), 2.5, active=(0,)), call(N(2, 3), N(3), N(2, 1), active=(0,)),
                       call(N(2, 3), N(3), N(2, 1), active=(0, 2)), call(N(3), N(3), 2.5, active=(0, 2)),
                       call(N(), N(3), N(3), active=(0,)),
                       call([N(), N(2), N(), N(2)], [N(), N(2)], 2, active=(0,)),
                       call(N(3), [N(), N(), N()], N(3), active=(0,))],
    factor_spread: [call(N(3), N(3), N(3), 2.5, active=(0,)), call(N(3), N(2, 3), N(3), N(2, 1), active=(0,)),
                    call(N(3), N(2, 3), N(3), N(2, 1), active=(0, 3)), call(N(3), N(3), N(3), 2.5, active=(0, 3)),
                    call(N(3), N(), N(3), N(3), active=(0,)),
                    call([N(), N(2)], [N(), N(2), N(), N(2)], [N(), N(2)], 2, active=(0,))],
    unrepeat: [call([N(), N(2), N(), N(2)], 2, active=(0,)), call(N(4, 3), 2, active=(0,))],
    repeated_cotangent: [call([N(), N(2)], [N(), N(2), N(), N(2)], 2, active=(0,)),
                         call(N(2, 3), N(4, 3), 2, active=(0,))],
    pop_cotangent: [call([N(2), N(), N()], active=(0,)), call(N(3, 2), active=(0,))],
    appended_cotangent: [call((N(), [N(2), N()]), [N(2), N(), N()], active=(0,)),
                         call((N(2), N(2, 2)), N(3, 2), active=(0,))],
    split_like: [call(N(5), [N(2), N(3)], 0, active=(0,)), call(N(2, 5), [N(2, 2), N(2, 3)], 1, active=(0,)),
                 call(N(2, 3), [N(3), N(3)], 0, 2, active=(0,)), call(N(3, 2), [N(3), N(3)], 1, 2, active=(0,)),
                 call(N(1, 3, 2), [N(3), N(3)], 2, 3, active=(0,)), call(N(5), [N(2), N(3)], None, active=(0,))],
    joined_like: [call([N(2), N(3)], N(5), [N(2), N(3)], 0, active=(0,)),
                  call([N(2, 2), N(2, 3)], N(2, 5), [N(2, 2), N(2, 3)], 1, active=(0,)),
                  call([N(3), N(3)], N(2, 3), [N(3), N(3)], 0, 2, active=(0,)),
                  call([N(3), N(3)], N(1, 3, 2), [N(3), N(3)], 2, 3, active=(0,)),
                  call([N(2), N(1, 3)], N(5), [N(2), N(1, 3)], None, active=(0,))],
    unsplit: [call([N(2), N(3)], [N(2), N(3)], 0, active=(0,)), call([N(2, 1), N(2, 2)], [N(2, 1), N(2, 2)], 1, active=(0,))],
    einsum_cotangent: [call("ij,jk->ik", N(2, 2), (N(2, 3), N(3, 2)), 0, active=(1, 2)),
                       call("ij,jk->ik", N(2, 2), (N(2, 3), N(3, 2)), 1, active=(1, 2)),
                       call("ii->i", N(3), (N(3, 3),), 0, active=(1, 2)), call("i,i", N(), (N(3), N(3)), 1, active=(1, 2)),
                       call("ij,jk,k->i", N(2), (N(2, 3), N(3, 4), N(4)), 1, active=(1, 2))],
    take_cotangent: [call(N(3), N(5), [0, 2, 2], active=(0,)), call(N(2, 2), N(2, 4), [1, 3], 1, active=(0,))],
    reshape_like: [call(N(6), N(2, 3), active=(0,)), call(N(1, 1), N(), active=(0,))],
    unpopped_cotangent: [call((N(), [N(2), N()]), [N(2), N(), N()], None, active=(0,)),
                         call((N(2), [N(), N()]), [N(), N(2), N()], 1, active=(0,)),
                         call((N(), [N(), N()]), [N(), N(), N()], -1, active=(0,)),
                         call((N(), {"b": N(2)}), {"a": N(), "b": N(2)}, "a", active=(0,))],
    popped_parts: [call([N(2), N(), N()], [N(2), N(), N()], None, active=(0,)),
                   call([N(), N(2), N()], [N(), N(2), N()], 1, active=(0,)),
                   call({"a": N(), "b": N(2)}, {"a": N(), "b": N(2)}, "a", active=(0,))],
    gathered: [call(N(4), [1, 1, 2], active=(0,)), call(N(3, 2), (slice(None), 1), active=(0,)),
               call([N(2), N()], 0, active=(0,)), call({"a": N(2), "b": N()}, "a", active=(0,))],
    tile_cotangent: [call(N(2, 6), N(2, 3), (1, 2), active=(0,)), call(N(6), N(3), 2, active=(0,)),
                     call(N(2, 3), N(3), (2, 1), active=(0,))],
    repeat_cotangent: [call(N(6), N(3), 2, active=(0,)), call(N(2, 6), N(2, 3), 2, 1, active=(0,)),
                       call(N(5), N(3), [1, 3, 1], active=(0,)), call(N(4, 3), N(2, 3), 2, 0, active=(0,))],
    diff_cotangent: [call(N(4), N(5), 1, -1, active=(0,)), call(N(2, 3), N(2, 5), 2, 1, active=(0,)),
                     call(N(1, 3), N(3, 3), 2, 0, active=(0,))],
    pad_cotangent: [call(N(7), N(4), (1, 2), "constant", active=(0,)), call(N(7), N(4), (1, 2), "edge", active=(0,)),
                    call(N(4, 5), N(2, 3), 1, "reflect", active=(0,)), call(N(8), N(4), 2, "wrap", active=(0,)),
                    call(N(6), N(4), 1, "symmetric", active=(0,))],
    take_along_axis_cotangent: [call(N(2, 3), N(2, 4), np.array([[0, 3, 3], [1, 0, 2]]), 1, active=(0,)),
                                call(N(3), N(5), np.array([4, 0, 4]), None, active=(0,)),
                                call(N(2, 2), N(1, 4), np.array([[0, 1], [2, 3]]), 1, active=(0,))],
    embed_diagonal: [call(N(3), (3, 3), active=(0,)), call(N(2), (3, 3), 1, active=(0,)),
                     call(N(2, 3), (2, 3, 3), 0, 1, 2, active=(0,))],
    dot_left_cotangent: [call(N(2, 4), N(2, 3), N(3, 4), active=(0, 2)), call(N(4), N(3), N(3, 4), active=(0, 2)),
                         call(N(2), N(2, 3), N(3), active=(0, 2)), call(N(3), N(), N(3), active=(0, 2)),
                         call(N(3), N(3), N(), active=(0, 2))],
    dot_right_cotangent: [call(N(2, 4), N(2, 3), N(3, 4), active=(0, 1)), call(N(4), N(3), N(3, 4), active=(0, 1)),
                          call(N(2), N(2, 3), N(3), active=(0, 1)), call(N(3), N(), N(3), active=(0, 1)),
                          call(N(3), N(3), N(), active=(0, 1))],
    inner_left_cotangent: [call(N(2, 4), N(2, 3), N(4, 3), active=(0, 2)), call(N(), N(3), N(3), active=(0, 2)),
                           call(N(2), N(2, 3), N(3), active=(0, 2)), call(N(3), N(), N(3), active=(0, 2))],
    inner_right_cotangent: [call(N(2, 4), N(2, 3), N(4, 3), active=(0, 1)), call(N(), N(3), N(3), active=(0, 1)),
                            call(N(2), N(2, 3), N(3), active=(0, 1)), call(N(3), N(), N(3), active=(0, 1))],
})

try:
    import scipy.linalg
    import scipy.special
    import scipy.stats
    from sourcediff.rules.scipy import as_solved, triangle
except ImportError:  # the SciPy rules register only when SciPy is installed
    pass
else:
    def positive_pairs():
        return [call(N(3), P(3)), call(N(3, 1), P(4)), call(N(), P(2, 3)), call(N(2, 3), P()), call(N(), P())]

    def locations_and_scales():
        return [call(N(4)), call(N(), active=(0,)), call(N(3), N(), P()), call(N(2, 3), N(3), P(2, 1)),
                call(N(3), loc=N(3), scale=P()), call(N(), N(), P()), call(N(3), 0.5, 2.0, active=(0,))]

    TABLE.update({
        scipy.special.logsumexp: [call(N(4)), call(N(2, 3), axis=1), call(N(2, 3), 0, keepdims=True),
                                  call(N(2, 3, 2), axis=(0, 2)), call(N(3), b=P(3)), call(N(2, 3), 1, P(3)),
                                  call(N(2, 3), axis=-1, b=P(2, 1), keepdims=True), call(N())],
        scipy.special.expit: unary(N), scipy.special.logit: unary(lambda *s: U(0.1, 0.9, *s)),
        scipy.special.gammaln: unary(P), scipy.special.digamma: unary(P),
        scipy.special.erf: unary(N), scipy.special.erfc: unary(N),
        scipy.special.xlogy: positive_pairs() + [call(np.array([0.0, 1.5]), P(2))],
        scipy.stats.norm.logpdf: locations_and_scales(), scipy.stats.norm.cdf: locations_and_scales(),
        scipy.stats.norm.logcdf: locations_and_scales() + [call(np.array([-30.0, -8.0, 5.0]))],
        scipy.linalg.solve_triangular: [call(np.tril(W()), N(3), lower=True), call(np.triu(W()), N(3, 2)),
                                        call(W(), N(3), trans=1, lower=True), call(W(), N(3, 2), "T"),
                                        call(W(), N(3), lower=False, unit_diagonal=True),
                                        call(W(), N(3, 2), 1, True, True)]
        + ([call(W(2), N(2, 3, 2), lower=True)]  # stacked matrices from SciPy 1.16 on
           if np.lib.NumpyVersion(scipy.__version__) >= "1.16.0" else []),
        scipy.stats.multivariate_normal.logpdf: [call(N(3), N(3), SPD()), call(N(5, 3), N(3), SPD()),
                                                 call(N(4, 2), cov=SPD(n=2)), call(N(1, 3), mean=N(3), cov=SPD())],
        scipy.special.polygamma: [call(1, P(3)), call(2, P()), call(0, P(2, 2)), call(np.array([1, 2]), P(2))],
        # parts of solve_triangular's tangent, so that it nests
        triangle: [call(N(3, 3), True, False), call(N(3, 3), False, True), call(N(2, 3, 3), True, True)],
        as_solved: [call(N(3, 3), 0), call(N(3, 3), "T"), call(N(2, 3, 3), 1)],
    })


# ---------------------------------------------------------------------------------------------------
# Trees and finite differences, independent of sourcediff
# ---------------------------------------------------------------------------------------------------

def tree_map(f, *trees):
    first = trees[0]
    if isinstance(first, (list, tuple)):  # a named tuple (np.linalg.slogdet's) maps to a plain one
        return (list if isinstance(first, list) else tuple)(tree_map(f, *items) for items in zip(*trees))
    if isinstance(first, dict):
        return {k: tree_map(f, *(t[k] for t in trees)) for k in first}
    return f(*trees)


def flat(tree):
    if isinstance(tree, (list, tuple)):
        parts = [flat(t) for t in tree]
    elif isinstance(tree, dict):
        parts = [flat(tree[k]) for k in sorted(tree)]
    else:
        return np.ravel(np.asarray(tree, dtype=float))
    return np.concatenate(parts) if parts else np.zeros(0)


def pairing(b, v):
    """<b, v> over v's structure; a part of b that is still a scalar 0.0 pairs to zero."""
    if isinstance(v, (list, tuple)):
        return 0.0 if type(b) is float and b == 0.0 else sum(pairing(bi, vi) for bi, vi in zip(b, v))
    if isinstance(v, dict):
        return sum(pairing(b[k], v[k]) for k in b)
    return float(np.sum(np.asarray(b, dtype=float) * v))


def random_like(tree):
    return tree_map(lambda leaf: rng.standard_normal(np.shape(leaf)) if np.ndim(leaf) else float(rng.standard_normal()),
                    tree)


def moved(x, v, h):
    def step(leaf, direction):
        if isinstance(leaf, np.ndarray):
            return leaf + h * direction
        return type(leaf)(leaf + h * direction)  # float stays float, np.float64 stays np.float64
    return tree_map(step, x, v)


def evaluate(key, c, args):
    return key(*copy.deepcopy(args), **c.kwargs)


def finite_difference(key, c, active, directions):
    def at(h):
        args = list(c.args)
        for i, v in zip(active, directions):
            args[i] = moved(args[i], v, h)
        return flat(evaluate(key, c, args))
    return (at(STEP) - at(-STEP)) / (2 * STEP)


def assert_like(b, x, what, inside=False, zero_d_for_float=False):
    """b has x's structure, each leaf x's shape, a float where x is a float (or, with zero_d_for_float,
    a 0-d array). Inside a container a part that received nothing may still be the 0.0 it started as
    (add_at leaves it so)."""
    if inside and type(b) is float and b == 0.0:
        return
    if isinstance(x, (list, tuple)):
        assert isinstance(b, (list, tuple)) and isinstance(b, list) == isinstance(x, list) and len(b) == len(x), \
            f"{what}: {type(b).__name__} for a {type(x).__name__}"
        for i, (bi, xi) in enumerate(zip(b, x)):
            assert_like(bi, xi, f"{what}[{i}]", True, zero_d_for_float)
    elif isinstance(x, dict):
        assert isinstance(b, dict) and set(b) <= set(x), f"{what}: {b!r} for a dict"
        for k in b:
            assert_like(b[k], x[k], f"{what}[{k!r}]", True, zero_d_for_float)
    elif isinstance(x, float):
        assert isinstance(b, float) or zero_d_for_float and np.shape(b) == (), \
            f"{what}: {type(b).__name__} for a float"
    else:
        assert isinstance(b, (np.ndarray, float)) and np.shape(b) == np.shape(x), \
            f"{what}: shape {np.shape(b)} for shape {np.shape(x)}"


# ---------------------------------------------------------------------------------------------------
# One primitive's VJP and JVP, built from its templates as the modes build them
# ---------------------------------------------------------------------------------------------------

OPERATOR_FORMS = {operator.add: "{} + {}", operator.sub: "{} - {}", operator.mul: "{} * {}",
                  operator.truediv: "{} / {}", operator.pow: "{} ** {}", operator.mod: "{} % {}",
                  operator.neg: "-{}", operator.pos: "+{}", operator.getitem: "{}[{}]"}


def source(node):
    return astor.to_source(gast.gast_to_ast(node)).strip()


@functools.lru_cache(maxsize=None)
def build(key, c, active, mode, lists=True):
    """(function, source): vjp(a0.., k_.., bz) -> cotangents, or jvp(a0.., k_.., d0..) -> (z, dz)."""
    rule = rule_for(key)
    # a library function without a NumPy-style spelling (scipy.special.expit) is called as `primitive`
    spelled = canonical_name(key) or (None if key in OPERATOR_FORMS else "primitive")

    def inline(v):  # a plain constant that no derivative is asked of is written into the code
        return v is None or type(v) in (int, float, str, bool)

    args = [const(a) if i not in active and inline(a) else name(f"a{i}") for i, a in enumerate(c.args)]
    keywords = [gast.keyword(arg=k, value=const(v) if inline(v) else name(f"k_{k}")) for k, v in c.kwargs.items()]
    texts = [source(a) for a in args] + [f"{kw.arg}={source(kw.value)}" for kw in keywords]
    primal = OPERATOR_FORMS[key].format(*texts) if key in OPERATOR_FORMS else f"{spelled}({', '.join(texts)})"
    func = dotted(spelled) if spelled else None
    module = "math" if (spelled or "").startswith("math.") else "np"
    prefix = "b" if mode == "vjp" else "d"
    own = {f"a{i}": f"{prefix}{i}" for i in active}
    own["z"] = prefix + "z"

    def derivative_of(node):
        return name(own[node.id]) if isinstance(node, gast.Name) and node.id in own else None

    namespace = Namespace()
    params = [f"a{i}" for i in range(len(c.args))] + [f"k_{k}" for k in c.kwargs]
    names = NameGenerator(set(params) | set(own) | set(own.values()))
    if mode == "vjp":
        instance = instantiate_adjoint(rule.adjoint_for(len(args)), name("z"), args, keywords, derivative_of,
                                       names.fresh, namespace.bind, module, func)
        body = [f"z = {primal}"] + [f"b{i} = 0.0" for i in active] + [source(s) for s in instance.statements]
        body.append(f"return ({''.join(f'b{i}, ' for i in active)})")
        params.append("bz")
    elif mode == "jvp":
        instance = instantiate(rule.tangent_for(len(args)), name("z"), args, keywords, derivative_of,
                               names.fresh, namespace.bind, module, func)
        body = [f"z = {primal}"] + [source(s) for s in instance.statements]
        if rule.elementwise and instance.zeroed:  # forward mode keeps the value's shape the same way
            body.append("dz = broadcast_like(dz, z)")
        body.append("return z, dz")
        params += [f"d{i}" for i in active]
    else:  # vector mode, as modes/forward.py drives it; with lists, any argument may be a list, else
        # only those that are (as the analysis of a function knows them)
        operand_names = [a.id for a in args if isinstance(a, gast.Name)]
        may_be_list = [n for n in operand_names if lists or isinstance(c.args[int(n[1:])], (list, tuple))]
        template, form = vector_template(rule, len(args), operand_names, (spelled or "").startswith("np.")
                                         and bool(may_be_list))

        def in_form(node):
            found = derivative_of(node)
            if found is None or node.id == "z" or form == "stacked" and node.id not in may_be_list:
                return found
            return operand_in_form(found, form, "z", "j")

        instance = instantiate(template, name("z"), args, keywords, in_form, names.fresh, namespace.bind, module, func)
        final = instance.statements[-1]
        if form == "direction":
            final.value = over_directions(final.value, "j", VECTOR_DIRECTIONS, instance.statements[:-1])
        body = [f"z = {primal}"] + [source(s) for s in instance.statements]
        if rule.elementwise and instance.zeroed:
            body.append(f"dz = broadcast_like(dz, z, {VECTOR_DIRECTIONS})")
        body.append("return z, dz")
        params += [f"d{i}" for i in active]
    text = f"def {mode}({', '.join(params)}):\n" + "".join(f"    {line}\n" for line in body)
    scope = dict(namespace.objects, broadcast_like=broadcast_like, primitive=key)
    exec(compile(text, f"<{mode} of {rule.name}>", "exec"), scope)
    return scope[mode], text


def variants(c):
    """All differentiated arguments together, then (where there are several) each alone."""
    return [c.active] + ([(i,) for i in c.active] if len(c.active) > 1 else [])


# ---------------------------------------------------------------------------------------------------
# Shape classes: 0-d arrays, size-1 and empty axes, broadcasting, derived from the table's samples
# ---------------------------------------------------------------------------------------------------

def accepts(key, c):
    """Whether the primitive computes a finite value, without a warning, at the sample."""
    try:
        with warnings.catch_warnings(), np.errstate(all="raise"):
            warnings.simplefilter("error")
            z = evaluate(key, c, c.args)
    except Exception:  # noqa: BLE001 - a shape or value the primitive refuses
        return False
    return bool(np.all(np.isfinite(flat(z))))


def resized(value, shape):
    """An array of the given shape drawn from value's own elements (so that it stays in the domain)."""
    return np.resize(np.asarray(value, dtype=float), shape) if np.size(value) else N(*shape)


ELEMENTWISE_SHAPES = [((0,), ()), ((2, 0), (1,)), ((1, 1), (3,)), ((4, 1), (1, 1)), ((), (0, 2))]
POINTWISE_SHAPES = [(0,), (1, 1), (2, 0, 3)]


def shape_classes(key, calls):
    """More samples of a rule: its first sample with every float a 0-d array, and for pointwise and
    elementwise rules its first sample of arrays and floats at empty, size-1 and broadcast shapes. Only
    those the primitive accepts are kept."""
    rule = rule_for(key)
    found = []
    with_floats = next((c for c in calls if any(type(a) is float for a in c.args) and not c.kink), None)
    if with_floats is not None:
        args = tuple(np.array(a) if type(a) is float else a for a in with_floats.args)
        found.append(call(*args, active=with_floats.active, **with_floats.kwargs))
    numeric = next((c for c in calls if not c.kink and c.args and c.active == tuple(range(len(c.args)))
                    and all(type(a) is float or isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in c.args)),
                   None)
    if numeric is not None and rule.pointwise and len(numeric.args) == 1:
        found += [call(resized(numeric.args[0], shape), **numeric.kwargs) for shape in POINTWISE_SHAPES]
    if numeric is not None and rule.elementwise and len(numeric.args) == 2:
        found += [call(resized(numeric.args[0], a), resized(numeric.args[1], b), **numeric.kwargs)
                  for a, b in ELEMENTWISE_SHAPES]
    return [c for c in found if accepts(key, c)]


TABLE = {key: calls + shape_classes(key, calls) for key, calls in TABLE.items()}
SAMPLES = [(key, c) for key, calls in TABLE.items() for c in calls]
IDS = [f"{spelling(key)}({c.describe()})" for key, c in SAMPLES]


@pytest.mark.parametrize("key, c", SAMPLES, ids=IDS)
def test_adjoint_satisfies_the_dot_product_identity(key, c):
    """<bz, J v> = sum <b_i, v_i>, with J v from finite differences of the primitive (except at kinks)
    and, separately, from the tangent template (the two templates must share conventions at ties)."""
    z = evaluate(key, c, c.args)
    for active in variants(c):
        vjp, text = build(key, c, active, "vjp")
        bz = random_like(z)
        directions = [random_like(c.args[i]) for i in active]
        cotangents = vjp(*copy.deepcopy(c.args), *c.kwargs.values(), bz)
        for i, b in zip(active, cotangents):
            assert_like(b, c.args[i], f"cotangent of argument {i}\n{text}")
        rhs = sum(pairing(b, v) for b, v in zip(cotangents, directions))
        if not c.kink:
            jv = finite_difference(key, c, active, directions)
            lhs = float(flat(bz) @ jv)
            scale = float(np.abs(flat(bz)) @ np.abs(jv)) + 1.0
            assert abs(lhs - rhs) <= 1e-6 * scale, f"<bz, Jv> = {lhs}, sum <b, v> = {rhs}\n{text}"
        if active not in c.tangent_gaps:
            jvp, tangent_text = build(key, c, active, "jvp")
            _, dz = jvp(*copy.deepcopy(c.args), *c.kwargs.values(), *copy.deepcopy(directions))
            lhs = float(flat(bz) @ flat(dz))
            scale = float(np.abs(flat(bz)) @ np.abs(flat(dz))) + 1.0
            assert abs(lhs - rhs) <= 1e-10 * scale, \
                f"<bz, tangent> = {lhs}, sum <b, v> = {rhs}\n{text}\n{tangent_text}"


def takes_the_zero_cotangent(key, c):
    """Whether the adjoint, given the 0.0 that stands for a cotangent of zeros, gives zero cotangents."""
    vjp, _ = build(key, c, c.active, "vjp")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cotangents = vjp(*copy.deepcopy(c.args), *c.kwargs.values(), 0.0)
    except (ValueError, IndexError, TypeError, AttributeError, np.exceptions.AxisError):
        return False
    return all(not np.any(flat(b)) for b in cotangents)


@pytest.mark.parametrize("key, c", SAMPLES, ids=IDS)
def test_adjoint_takes_the_zero_cotangent_unless_declared(key, c):
    """A cotangent nothing reached is 0.0 in generated code (a part of a tuple not used, a branch not
    taken). Every adjoint takes it and gives zeros, except those declared array_cotangent, for which
    reverse mode makes it an array first."""
    if not rule_for(key).array_cotangent:
        assert takes_the_zero_cotangent(key, c), build(key, c, c.active, "vjp")[1]


def test_rules_declared_array_cotangent_need_one():
    """The declaration is kept to the rules that need it: each fails on 0.0 at one of its samples."""
    for key, calls in TABLE.items():
        if rule_for(key).array_cotangent:
            assert not all(takes_the_zero_cotangent(key, c) for c in calls), rule_for(key).name


def test_numpy_functions_returning_sequences_are_known():
    """Reverse mode adds the cotangents of a NumPy call's result with `+` unless analysis.SEQUENCE_RESULTS
    names the function: every sample of a NumPy rule that gives a tuple or list must be named there (`+`
    joins tuples: a helper called twice with an svd result got half its gradient)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = {spelling(key): key(*copy.deepcopy(c.args), **c.kwargs) for key, c in SAMPLES
                   if spelling(key).startswith(("np.", "math."))}
    sequences = {name for name, value in results.items() if isinstance(value, (list, tuple))}
    assert sequences <= SEQUENCE_RESULTS, sorted(sequences - SEQUENCE_RESULTS)


def check_tangent(key, c, active):
    jvp, text = build(key, c, active, "jvp")
    directions = [random_like(c.args[i]) for i in active]
    z, dz = jvp(*copy.deepcopy(c.args), *c.kwargs.values(), *copy.deepcopy(directions))
    # np.where-based tangents (maximum, minimum, clip) give 0-d arrays for float values: harmless
    assert_like(dz, z, f"tangent\n{text}", zero_d_for_float=True)
    if not c.kink:
        np.testing.assert_allclose(flat(dz), finite_difference(key, c, active, directions), rtol=1e-6, atol=1e-6,
                                   err_msg=text)


@pytest.mark.parametrize("key, c", SAMPLES, ids=IDS)
def test_tangent_matches_finite_differences(key, c):
    for active in variants(c):
        gap = c.tangent_gaps.get(active)
        if gap is None:
            check_tangent(key, c, active)
            continue
        try:
            check_tangent(key, c, active)
        except Exception:  # noqa: BLE001 - the known gap: any failure is the expected one
            continue
        pytest.fail(f"the known tangent gap is fixed, remove it from TABLE: {gap}")


@pytest.mark.parametrize("key, c", SAMPLES, ids=IDS)
def test_vector_mode_tangent_matches_finite_differences_along_each_direction(key, c):
    """Tangents carrying several directions on a leading axis (forward gradients' vector mode): each
    direction of the result against finite differences (at kinks, against the one-direction tangent)."""
    for active, lists in itertools.product(variants(c), (True, False)):
        if active in c.tangent_gaps:
            continue
        vector, text = build(key, c, active, "vector", lists)
        directions = [[random_like(c.args[i]) for i in active] for _ in range(VECTOR_DIRECTIONS)]
        stacked = [tree_map(lambda *leaves: np.stack(leaves), *[d[n] for d in directions]) for n in range(len(active))]
        z, dz = vector(*copy.deepcopy(c.args), *c.kwargs.values(), *stacked)

        def shaped_like(t, value):  # directions first, then the value's shape (a zero may be 0.0)
            assert np.ndim(t) == 0 or np.shape(t) == (VECTOR_DIRECTIONS,) + np.shape(value), (np.shape(t), text)
        tree_map(shaped_like, dz, z)
        jvp, _ = build(key, c, active, "jvp")
        for j, along in enumerate(directions):
            got = flat(tree_map(lambda t: t[j] if np.ndim(t) else t, dz))
            expected = flat(jvp(*copy.deepcopy(c.args), *c.kwargs.values(), *copy.deepcopy(along))[1]) if c.kink \
                else finite_difference(key, c, active, along)
            np.testing.assert_allclose(got * np.ones_like(expected), expected, rtol=1e-6, atol=1e-6, err_msg=text)


# ---------------------------------------------------------------------------------------------------
# Completeness
# ---------------------------------------------------------------------------------------------------

def builtin_rules():
    """The rules sourcediff itself registers (tests may add user rules to the same registry)."""
    return [r for r in RULES.values()
            if any(t.scope.get("__name__", "").startswith("sourcediff.") for t in r.tangents.values())]


def writes_in_place(rule):
    """restore's rule: its tangent writes into a tangent as the helper writes into its argument. Reverse mode
    refuses the code that calls it (reverse-mode code, whose stack it cannot pop); test_higher_order checks
    the tangent."""
    return any(t.in_place for t in rule.tangents.values())


def test_every_rule_with_tangents_has_adjoints_for_the_same_variants():
    for rule in builtin_rules():
        if writes_in_place(rule):
            assert not rule.adjoints, rule.name
            continue
        assert set(rule.adjoints) == set(rule.tangents), rule.name
    for rule in RULES.values():
        if rule.inactive:
            assert not rule.adjoints, rule.name


def test_the_table_covers_every_rule_and_variant():
    missing = []
    for rule in filter(lambda r: not writes_in_place(r), builtin_rules()):
        calls = TABLE.get(rule.key, [])
        for nargs in rule.tangents:
            if not any(nargs is None or len(c.args) == nargs for c in calls):
                missing.append(f"{rule.name} with {nargs} positional arguments" if nargs else rule.name)
    assert not missing, f"add samples to TABLE for: {', '.join(missing)}"


# ---------------------------------------------------------------------------------------------------
# Second order: each rule's tangent, instantiated as the modes do, differentiated again in reverse mode
# ---------------------------------------------------------------------------------------------------

SECOND_ORDER_STEP = 1e-4
SECOND_ORDER_GAPS = second_order_gaps()  # primitives whose tangents call helpers without rules: refused


def check_second_order(key, c, active):
    """<w, D(dz)[u]> from reverse mode over the sample's generated tangent (what sd.hvp runs) against
    central differences of that tangent along u."""
    jvp, text = build(key, c, active, "jvp")
    tangent = compile_source(text, jvp.__globals__, "rule_tangent")["jvp"]
    args = [copy.deepcopy(a) for a in c.args] + list(c.kwargs.values())
    directions = [random_like(c.args[i]) for i in active]
    z, dz = tangent(*copy.deepcopy(args), *copy.deepcopy(directions))
    w, us = random_like(dz), [random_like(c.args[i]) for i in active]
    backward = sd.vjp(tangent, tuple(f"a{i}" for i in active))
    _, cotangents = backward(*copy.deepcopy(args), *copy.deepcopy(directions), (tree_map(np.zeros_like, z), w))
    exact = sum(pairing(b, u) for b, u in zip(cotangents, us))

    def along(h):
        moved_args = list(args)
        for i, u in zip(active, us):
            moved_args[i] = moved(args[i], u, h)
        return flat(tangent(*copy.deepcopy(moved_args), *copy.deepcopy(directions))[1])
    def slope(h):
        return float(flat(w) @ ((along(h) - along(-h)) / (2 * h)))
    # Richardson-extrapolated differences at a step large enough that the tangent's rounding (a helper
    # cancelling near 0, as sinc_curvature does) stays below the tolerance
    expected = (4 * slope(SECOND_ORDER_STEP / 2) - slope(SECOND_ORDER_STEP)) / 3
    assert exact == pytest.approx(expected, rel=1e-5, abs=1e-6 * max(1.0, float(np.abs(flat(w)).sum()))), text


@pytest.mark.parametrize("key, c", SAMPLES, ids=IDS)
def test_second_order_of_the_tangent(key, c):
    """order=2: every rule's tangent is itself differentiable, through the rules of what it calls."""
    if c.kink or spelling(key) in SECOND_ORDER_GAPS or c.tangent_gaps:
        pytest.skip("at a kink, with a tangent gap, or a documented second-order gap")
    if key in IN_PLACE:
        pytest.skip("a helper of reverse-mode code that changes its argument in place: reverse mode refuses it")
    check_second_order(key, c, c.active)


ADJOINT_GAPS = second_order_gaps("adjoints")  # primitives whose adjoints call helpers without rules: refused


def check_forward_over_the_adjoint(key, c, active):
    """D(cotangents)[u], from forward mode over the sample's generated adjoint (what sd.jvp of a vjp, and
    so sd.hessian's columns of a gradient, run), against Richardson differences of that adjoint along u,
    the cotangent of the result held fixed."""
    vjp, text = build(key, c, active, "vjp")
    adjoint = compile_source(text, vjp.__globals__, "rule_adjoint")["vjp"]
    args = [copy.deepcopy(a) for a in c.args] + list(c.kwargs.values())
    bz = random_like(evaluate(key, c, c.args))
    us = [random_like(c.args[i]) for i in active]
    _, exact = sd.jvp(adjoint, tuple(f"a{i}" for i in active))(*copy.deepcopy(args), bz, *copy.deepcopy(us))

    def along(h):
        moved_args = list(args)
        for i, u in zip(active, us):
            moved_args[i] = moved(args[i], u, h)
        return adjoint(*copy.deepcopy(moved_args), copy.deepcopy(bz))

    def slope(h):
        return [(flat(plus) - flat(minus)) / (2 * h) for plus, minus in zip(along(h), along(-h))]
    for part, coarse, fine in zip(exact, slope(SECOND_ORDER_STEP), slope(SECOND_ORDER_STEP / 2)):
        expected = (4 * fine - coarse) / 3
        got = flat(part)  # a zero tangent, or a part of one, may be 0.0 (a dict's {}) standing for zeros
        if got.size not in (1, expected.size):
            assert not np.any(got), text
            got = np.zeros_like(expected)
        got = np.broadcast_to(got, expected.shape)
        np.testing.assert_allclose(got, expected, rtol=1e-5,
                                   atol=1e-6 * max(1.0, float(np.abs(expected).max(initial=0))), err_msg=text)


@pytest.mark.parametrize("key, c", SAMPLES, ids=IDS)
def test_forward_over_the_adjoint(key, c):
    """Every rule's adjoint is itself differentiable in forward mode, through the rules of what it calls."""
    if c.kink or spelling(key) in ADJOINT_GAPS:
        pytest.skip("at a kink, or a documented gap of forward mode over reverse-mode code")
    if key in IN_PLACE:
        pytest.skip("a helper of reverse-mode code that changes its argument in place")
    check_forward_over_the_adjoint(key, c, c.active)
