"""A grammar of user-shaped programs for the differential fuzzer (tests/test_fuzz.py, scripts/fuzz.py).

`generate(seed)` writes a module: global constants, helper functions (keywords, defaults, lambdas,
calls between them) and an entry function `f` over a vector `x` and maybe a scalar `s`, a matrix `A`,
a container `p` and an integer `n`. Every statement is drawn from the supported language (copies and
self-assignments, conditional expressions, swaps, augmented assignments, list and tuple literals and
comprehensions handed to NumPy, appends, loops with break and continue, early returns, in-place writes
through slices, masks and integer arrays, closures, nested containers, integer index arithmetic,
broadcasting) and every expression may call any primitive registered in sourcediff.rules, with its
arguments wrapped into the primitive's domain. Each statement records the constructs it uses, so a
run can be counted per construct and constructs can be switched off.

Values have four shapes: scalars S, vectors V (3,), short vectors W (2,) and matrices M (2, 3).
"""
import copy
import math
import random
import re
import warnings
from dataclasses import dataclass, field

import numpy as np

from sourcediff.rules import RULES

if any(rule.name.startswith("scipy.") for rule in RULES.values()):  # SciPy's rules, when it is importable
    import scipy.linalg
    import scipy.special
    import scipy.stats
else:
    scipy = None

SHAPES = {"S": (), "V": (3,), "W": (2,), "M": (2, 3)}

# construct -> what the grammar writes for it
CONSTRUCTS = {
    "assignment": "a new variable from an expression",
    "copy": "a plain copy `v = a`",
    "alias_write": "an in-place write to an array that another name also holds (`v = y; y += e`)",
    "self_assignment": "`a = a` and `best = v if v > best else best` (issue 10 defect 3)",
    "conditional_expression": "`a if cond else b`",
    "tuple_swap": "`a, b = b, a` and `a, b = b, a + b`",
    "augmented_assignment": "`a += e`, `a *= e`, `a -= e`, `a /= e`",
    "list_literal_to_numpy": "list and tuple literals of differentiable values fed to NumPy (defect 1), and met by "
                             "arrays in arithmetic (`[a, b, 1.0] * x`)",
    "list_comprehension": "comprehensions over arrays, range, enumerate and zip fed to NumPy",
    "append": "a list built with append in a loop, then stacked or summed",
    "list_pop": "an appended list loses an element to `pop()` or `pop(0)`, its value unused",
    "for_loop": "for over range, arrays, enumerate and zip",
    "iterator_builtins": "loops and comprehensions over reversed, iter, map, enumerate with a start and whole "
                         "pairs, and zip, enumerate and map consumed by list or sum",
    "break_continue": "break and continue, on loop counters and on data",
    "counter_reuse": "a loop counter named like a variable that carries a derivative before the loop (`i = 2.0 * s`, "
                     "then `for i in range(3)`, `i` read in the loop and after it)",
    "while_loop": "while loops with counted and data-dependent trip counts",
    "if_else": "if / elif / else on data",
    "early_return": "a return before the last statement, also inside a loop",
    "inplace_slice": "in-place writes through slices and indices (`y[1:] = e`, `B[:, 1] *= s`)",
    "inplace_mask": "in-place writes through boolean masks, also masks combined with `&` and `~`",
    "inplace_int_array": "in-place writes through integer arrays",
    "fancy_read": "reading through integer arrays and boolean masks, also masks combined with `|`",
    "helper_call": "calls between user functions of the module, positional",
    "keywords_defaults": "calls with keyword arguments and defaulted parameters",
    "keyword_only": "a helper's defaulted parameter keyword-only (`def h(a0, *, a1=0.5)`), passed by name or left out",
    "partial": "`functools.partial(h, a1=e)(a0)`: a helper's arguments by name (keyword-only ones too) fixed by "
               "a partial made where it is called",
    "varargs": "a helper with `*ws` and a keyword-only parameter after it (`def total_of(t, *ws, scale=1.0)`), called "
               "with none to two arguments for ws",
    "loop_call_shapes": "a helper called in a loop on arguments whose shape changes between iterations (defect 11)",
    "lambda": "lambdas, in the function and at module level, called (defect 8)",
    "lambda_entry": "the differentiated function itself is a lambda (`f = lambda x, s: ...`, defect 8)",
    "higher_order": "a lambda passed to a helper that calls it (`apply(g, x)`)",
    "closure": "a nested def reading an enclosing differentiable variable, called with variables",
    "closure_constant_call": "a nested def reading an enclosing variable, called with constants (defect 5)",
    "closure_two_variants": "a nested def called with a differentiable argument and with a constant, two "
                            "variants of one lifted function (their transformations shared its tree)",
    "container_parameter": "a tuple, list or dict parameter read by index, key and unpacking, and repeated (`(p * 2)[2]`)",
    "nested_container": "nested tuples and lists `p[0][1]` (defect 4)",
    "nested_dict": "nested dicts `p['l1']['W']` and dict literals of differentiable values (defect 10)",
    "tuple_concatenation": "`(x, y) + (z,)` fed to NumPy or indexed (defect 12)",
    "sequence_result": "a NumPy function's tuple or list result (svd, eigh, slogdet, split) put whole into two "
                       "containers or handed twice to a lambda (its cotangent gathers from each use)",
    "int_index_arithmetic": "slices and indices computed from integers, `W[3 * b:]` (defect 9), also by a call "
                            "and with `^` and `>>`",
    "r_c": "`np.r_[...]` and `np.c_[...]` (defect 2)",
    "broadcasting": "scalars, vectors and matrices combined by broadcasting",
    "name_reuse": "a local variable named like the function it is in (`def f(x): f = x[0] * 2.0`)",
    "global_constant": "module-level constants read by the functions",
    "method": "array methods and attributes (`e.sum()`, `A.T`, `x.dot(y)`, `v[1:2].item()`), and `pow(s, 2)`",
    "vector_output": "the entry function returns a vector rather than a scalar",
    "primitive": "a call of a registered primitive (counted per primitive as `prim:NAME`)",
    "scalar_code": "the entry function on Python floats only: arithmetic, the math module, branches and loops "
                   "over range (gradients dispatch to their variant for numbers)",
}

# Domains a primitive's arguments are wrapped into: real (any), positive (0.5 to 2.5),
# bounded (|t| < 1: for fast-growing functions), unit (|t| < 0.8), above1 (> 1.5).
DOMAIN_WRAPPERS = {
    "r": ["{}"],
    "+": ["(0.5 + {e} * {e})", "np.exp(np.tanh({e}))", "(1.5 + np.sin({e}))", "np.hypot({e}, 0.7)"],
    "~": ["np.tanh({e})", "np.sin({e})", "(0.8 * np.cos({e}))", "({e} / (1.0 + {e} * {e}))"],
    "u": ["(0.8 * np.tanh({e}))", "(0.7 * np.sin({e}))"],
    "1": ["(1.5 + {e} * {e})", "(2.0 + np.cos({e}))"],
}
PROBE_VALUES = {"r": (-2.0, 2.0), "+": (0.5, 2.5), "~": (-1.0, 1.0), "u": (-0.8, 0.8), "1": (1.5, 3.0)}

# Hand-written call templates: `{V}` a vector argument, `{M+}` a positive matrix, ...; the first
# letter of each entry is the output's shape. Rules registered later without an entry here are
# fuzzed through their pointwise/elementwise flags or a probe of plain calls (see primitive_templates).
EXPLICIT = {
    "np.sum": ["S np.sum({V})", "S np.sum({M})", "V np.sum({M}, axis=0)", "W np.sum({M}, axis=1)",
               "W np.sum({M}, axis=-1, keepdims=True)[:, 0]", "S {V}.sum()", "V {M}.sum(axis=0)"],
    "np.mean": ["S np.mean({V})", "V np.mean({M}, axis=0)", "W {M}.mean(axis=1)", "S {M}.mean()"],
    "np.prod": ["S np.prod({V~})", "V np.prod({M~}, axis=0)", "S {W~}.prod()"],
    "np.max": ["S np.max({V})", "W np.max({M}, axis=1)", "S {V}.max()", "V np.max({M}, axis=0)"],
    "np.min": ["S np.min({V})", "V np.min({M}, axis=0)", "S {M}.min()"],
    "np.amax": ["S np.amax({V})"], "np.amin": ["W np.amin({M}, axis=1)"],
    "np.cumsum": ["V np.cumsum({V})", "M np.cumsum({M}, axis=1)", "V {V}.cumsum()"],
    "np.cumprod": ["V np.cumprod({V~})", "M np.cumprod({M~}, axis=0)"],
    "np.transpose": ["M np.transpose(np.transpose({M}))", "V ({M}.T @ {W})", "M {M}.T.T"],
    "np.reshape": ["M np.reshape({V}, (1, 3)) * {W}[:, None]", "V np.reshape({M}, (6,))[1:4]",
                   "V {M}.reshape(3, 2)[:, 1]"],
    "np.ravel": ["V np.ravel({M})[::2]", "V {M}.ravel()[3:]"],
    "np.squeeze": ["V np.squeeze({M}[:1])", "W np.squeeze({M}[:, 1:2])"],
    "np.expand_dims": ["M np.expand_dims({V}, 0) * {W}[:, None]"],
    "np.broadcast_to": ["M np.broadcast_to({V}, (2, 3))"],
    "np.diag": ["V np.diag(np.outer({V}, {V}))", "S np.sum(np.diag({W}))"],
    "np.trace": ["S np.trace(np.outer({V}, {V}))", "S np.trace({M})"],
    "np.copy": ["V np.copy({V})", "M {M}.copy() #method"],
    "np.array": ["V np.array({V})", "V np.array([{S}, {S}, 1.0])", "M np.array([{V}, {V}])"],
    "np.asarray": ["V np.asarray({V})"],
    "np.concatenate": ["V np.concatenate([{W}, {V}[:1]])", "M np.concatenate(({M}[:1], {M}[1:]), axis=0)"],
    "np.stack": ["M np.stack([{V}, {V}])", "M np.stack(({W}, {W}, {W}), axis=1)"],
    "np.hstack": ["V np.hstack(({W}, {V}[2:]))", "M np.hstack(({M}[:, :1], {M}[:, 1:]))"],
    "np.vstack": ["M np.vstack(({V}, {V}))", "M np.vstack([{M}[:1], {V}])"],
    "np.dstack": ["M np.dstack(({M}, {M}))[:, :, 1]"],
    "np.column_stack": ["M np.column_stack(({W}, {W}, {W}))"],
    "np.dot": ["S np.dot({V}, {V})", "W np.dot({M}, {V})", "V {W}.dot({M})", "M np.dot({M}, np.outer({V}, {V}))"],
    "np.matmul": ["W np.matmul({M}, {V})", "S {V} @ {V}", "M np.outer({W}, {W}) @ {M}", "W {M} @ {V}"],
    "np.inner": ["S np.inner({V}, {V})", "W np.inner({M}, {V})"],
    "np.outer": ["M np.outer({W}, {V})"],
    "np.kron": ["V np.kron({W}, {V})[1:4]", "M np.kron({W}[:, None], {V})[:2]"],
    "np.einsum": ["S np.einsum('i,i->', {V}, {V})", "W np.einsum('ij,j->i', {M}, {V})",
                  "M np.einsum('ij->ij', {M})", "S np.einsum('ij,ij,j->', {M}, {M}, {V})"],
    "np.tensordot": ["W np.tensordot({M}, {V}, axes=1)", "S np.tensordot({M}, {M}, axes=2)"],
    "np.linalg.norm": ["S np.linalg.norm({V})", "S np.linalg.norm({M})", "W np.linalg.norm({M}, axis=1)",
                       "S np.linalg.norm({V}, ord=1) #ord", "S np.linalg.norm({M}, 'fro') #ord"],
    "np.linalg.det": ["S np.linalg.det(np.outer({W}, {W}) + 2.0 * np.eye(2))"],
    "np.linalg.inv": ["M np.linalg.inv(np.outer({W}, {W}) + 2.0 * np.eye(2)) @ {M}"],
    "np.linalg.solve": ["W np.linalg.solve(np.outer({W}, {W}) + 2.0 * np.eye(2), {W})",
                        "M np.linalg.solve(np.outer({W}, {W}) + 2.0 * np.eye(2), {M})"],
    "np.linalg.slogdet": ["S np.linalg.slogdet(np.outer({W}, {W}) + 2.0 * np.eye(2))[1]"],
    "np.linalg.pinv": ["M np.linalg.pinv({M}.T + np.eye(3, 2))"],
    "np.linalg.matrix_power": ["M np.linalg.matrix_power(0.5 * np.outer({W}, {W}), 2) @ {M}"],
    "np.where": ["V np.where({V} > 0.1, {V}, {V})", "M np.where({M} < {V}, {S}, {M})",
                 "V np.where(({V} > 0.1) | ({V} < -0.3), {V}, {V})"],
    "np.clip": ["V np.clip({V}, -0.5, 0.5)", "S np.clip({S}, -0.3, {S+})", "M {M}.clip(-0.4, 0.6)"],
    "np.full": ["V np.full(3, {S})"], "np.full_like": ["M np.full_like({M}, {S})"],
    "np.real": ["V np.real({V})"],
    "np.var": ["S np.var({V})", "V np.var({M}, axis=0)", "W np.var({M}, axis=1, ddof=1)"],
    "np.std": ["S np.std({V} + np.array([0.0, 1.0, 2.0]))", "W np.std({M} + np.array([0.0, 1.0, 2.0]), axis=1)"],
    "np.cross": ["V np.cross({V}, {V})"],
    "np.repeat": ["V np.repeat({W}, 2)[:3]", "M np.repeat({V}[None, :], 2, axis=0)"],
    "np.tile": ["M np.tile({V}, (2, 1))", "V np.tile({S}, 3)"],
    "np.roll": ["V np.roll({V}, 1)", "M np.roll({M}, -1, axis=1)"],
    "np.interp": ["V np.interp({V}, np.array([-1.0, 0.0, 1.0]), {V})", "S np.interp({S}, np.array([-0.5, 0.5, 1.5]), {V})"],
    "np.fft.fftshift": ["V np.fft.fftshift({V})", "M np.fft.fftshift({M}, axes=1)"],
    "np.fft.ifftshift": ["V np.fft.ifftshift({V})", "M np.fft.ifftshift({M})"],
    "np.diff": ["W np.diff({V})", "M np.diff(np.hstack(({W}[:, None], {M})), axis=1)"],
    "np.moveaxis": ["M np.moveaxis({M}.T, 0, 1)"], "np.swapaxes": ["M np.swapaxes({M}.T, 0, 1)"],
    "np.rollaxis": ["M np.rollaxis({M}.T, 1)"],
    "np.atleast_1d": ["V np.atleast_1d({V})"], "np.atleast_2d": ["M np.atleast_2d({V}) * {W}[:, None]"],
    "np.atleast_3d": ["M np.atleast_3d({M})[:, :, 0]"],
    "np.tril": ["M np.tril({M})"], "np.triu": ["M np.triu({M}, 1)"],
    "np.diagonal": ["W np.diagonal({M})"],
    "np.split": ["V np.split({M}, 2)[1][0]"], "np.array_split": ["W np.array_split({V}, 2)[0]"],
    "np.hsplit": ["M np.hsplit({M}, 3)[1] * {V}"], "np.vsplit": ["V np.vsplit({M}, 2)[0][0]"],
    "np.dsplit": ["M np.dsplit(np.dstack(({M}, {M})), 2)[1][:, :, 0]"],
    "np.remainder": ["V np.remainder({V}, 0.7)"], "np.mod": ["V np.mod({V}, 0.7)"], "np.fmod": ["V np.fmod({V}, 0.7)"],
    "%": ["V {V} % 0.7", "S {S} % 0.9"],
    "np.sort": ["V np.sort({V})", "M np.sort({M}, axis=1)"],
    "np.logsumexp": [],
    "np.linalg.eigh": ["W np.linalg.eigh(np.outer({W}, {W}) + np.diag([1.0, 3.0]))[0]"],
    "np.linalg.svd": ["W np.linalg.svd({M} + np.eye(2, 3) * np.array([[3.0], [1.0]]), compute_uv=False)"],
    "abs": ["S abs({S})"], "np.abs": ["V np.abs({V})"], "np.absolute": ["V np.absolute({V})"],
    "max": ["S max({S}, {S})", "S max([{S}, {S}, {S}])"], "min": ["S min({S}, {S})", "S min({V})"],
    "sum": ["S sum([{S}, {S}])", "V sum([{V}, {V}], {V})", "S sum({V})"],
    "float": ["S float({S})"], "list": ["S np.sum(list({V}))"], "tuple": ["S np.sum(tuple({V}))"],
    "copy.copy": [], "np.take_along_axis": ["V np.take_along_axis({V}, np.array([2, 0, 0]), 0)",
                                            "M np.take_along_axis({M}, np.array([[2, 2, 0], [1, 0, 0]]), 1)"],
    "copy.deepcopy": ["V copy.deepcopy({V})", "S copy.deepcopy({S})"],
    "scipy.special.polygamma": ["V scipy.special.polygamma(1, {V+})", "S scipy.special.polygamma(2, {S+})"], "math.log": ["S math.log({S+})", "S math.log({S+}, 2.0)"],
    "np.power": ["V np.power({V+}, 1.5)", "S np.power({S+}, {S~})", "M np.power({M}, 2)"],
    "math.pow": ["S math.pow({S+}, 1.5)", "S math.pow({S+}, {S~})"],
    "np.divide": ["V np.divide({V}, {V+})", "M np.divide({M}, {V+})"],
    "np.true_divide": ["V np.true_divide({V}, {S+})"],
    "scipy.special.logsumexp": ["S scipy.special.logsumexp({V})", "W scipy.special.logsumexp({M}, axis=1)"],
    "scipy.special.xlogy": ["V scipy.special.xlogy({V+}, {V+})"],
    "scipy.special.logit": ["V scipy.special.logit(1.0 / (1.0 + np.exp({V})))"],
    "scipy.linalg.solve_triangular": ["V scipy.linalg.solve_triangular(2.0 * np.eye(3) + np.triu(np.outer({V}, {V})) "
                                      "* 0.1, {V})", "V scipy.linalg.solve_triangular(np.diag({V+}) + 0.1 * "
                                      "np.tril(np.outer({V}, {V})), {V}, lower=True)"],
    "math.degrees": ["S 0.01 * math.degrees({S})"], "np.degrees": ["V np.degrees({V}) / 60.0"],
    "np.rad2deg": ["M 0.02 * np.rad2deg({M})"],
    "np.linalg.cholesky": ["M np.linalg.cholesky(np.outer({W}, {W}) + 2.0 * np.eye(2)) @ {M}",
                           "M np.linalg.cholesky(np.diag({V+}) + 2.0 * np.eye(3) + 0.1 * np.tril(np.outer({V}, "
                           "{V}), -1))[1:]"],
    "np.linspace": ["V np.linspace({S}, {S} + 1.0, 3)", "M np.linspace({V}, 2.0, 2)[:, :3] * 1.0"],
    "np.pad": ["V np.pad({W}, (1, 0))", "V np.pad({W}, (0, 1), mode='edge')"],
    "np.partition": ["V np.partition({V}, 1)"],
    "np.rot90": ["M np.rot90(np.rot90({M}))"],
    "np.select": ["V np.select([{V} > 0.0], [{V}], 0.5)"],
    "np.gradient": ["V np.gradient({V})", "M np.gradient({M}, axis=1)", "V np.gradient({V}, 0.5)"],
    "np.take": ["W np.take({V}, [0, 2])", "V {M}.take([0, 4, 5])"],
    "scipy.stats.multivariate_normal.logpdf": [
        "S scipy.stats.multivariate_normal.logpdf({V}, np.zeros(3), np.eye(3))"],
}
# Primitives with kinks or jumps: their arguments' distance to the kink is measured (see margins.py)
# so that points too close to one are redrawn.
OPERATOR_NAMES = {"+", "-", "*", "/", "**", "unary -", "unary +", "x[i]", "x[i] = v", "//"}
NO_TEMPLATE = {"copy.copy": "copy.copy of a differentiable value: `y = copy.copy(x)` is written by statements",
               "np.logsumexp": "not a NumPy function"}


def namespace():
    """The names generated code and templates may use."""
    names = {"np": np, "math": math, "copy": copy}
    if scipy is not None:
        names["scipy"] = scipy
    return names


def resolve(name):
    try:
        return eval(name, namespace())  # names like np.linalg.norm, spelled as the registry spells them
    except Exception:
        return None


@dataclass
class Template:
    name: str      # the primitive, as the registry spells it
    shape: str     # S, V, W or M
    text: str      # the call with holes: {V}, {M+}, ...
    tag: str = ""  # the name, or `name@variant` for a variant that can be switched off alone

    def __post_init__(self):
        self.text, _, variant = self.text.partition(" #")
        self.tag = self.name + ("@" + variant if variant else "")


HOLE = re.compile(r"\{([SVWM])([r+~u1]?)\}")
LITERAL = re.compile(r"(?<![\w\])}])[\[(]\{")  # a list or tuple literal holding an argument: `[{V}, {V}]`


def _probe_fill(text, rng):
    def value(match):
        lo, hi = PROBE_VALUES[match.group(2) or "r"]
        shape = SHAPES[match.group(1)]
        return f"np.array({rng.uniform(lo, hi, shape).tolist()!r})" if shape else repr(float(rng.uniform(lo, hi)))
    return HOLE.sub(value, text)


def _probe(text, shape=None):
    """The output shape letter of a template evaluated at random arguments of its domains, or None when it
    fails, is not finite, grows fast, or has another shape than expected."""
    rng = np.random.default_rng(0)
    out = None
    for _ in range(4):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                value = eval(_probe_fill(text, rng), namespace())
            value = np.asarray(value)
        except Exception:
            return None
        if value.dtype.kind != "f" or not np.all(np.isfinite(value)) or np.max(np.abs(value), initial=0) > 30.0:
            return None
        letters = [k for k, s in SHAPES.items() if s == value.shape]
        if not letters or (shape is not None and letters[0] != shape) or out not in (None, letters[0]):
            return None
        out = letters[0]
    return out


def _grows_fast(name, domain):
    """Whether name(t) leaves [-3|t| - 3, 3|t| + 3] on its domain (exp, sinh, tan...): such primitives
    get bounded arguments so that nested calls stay finite."""
    lo, hi = PROBE_VALUES[domain]
    t = np.linspace(lo, hi, 41)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = resolve(name)(t) if not name.startswith("math.") else np.array([resolve(name)(v) for v in t])
    return bool(np.any(np.abs(value) > 3 * np.abs(t) + 3))


def _finite_throughout(name, domain):
    """Whether name is finite on a grid over its domain, the domain's middle included: random probes
    miss a pole (np.reciprocal at 0), which programs then reach exactly (a sum over an empty mask)."""
    lo, hi = PROBE_VALUES[domain]
    t = np.linspace(lo, hi, 41)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = resolve(name)(t) if not name.startswith("math.") else np.array([resolve(name)(v) for v in t])
        except (ValueError, OverflowError, ZeroDivisionError):
            return False
    return bool(np.all(np.isfinite(value)))


def _pointwise_templates(name):
    """A pointwise primitive on every shape (scalars only for math), on the first domain it accepts."""
    shapes = "S" if name.startswith("math.") else "SVWM"
    for domain in "r+u1":
        if _probe(f"{name}({{S{domain}}})") == "S" and _finite_throughout(name, domain):
            if domain in "ru" and _grows_fast(name, domain):
                domain = "~"
            return [Template(name, s, f"{name}({{{s}{domain}}})") for s in shapes]
    return []


def _one_call(text):
    """Whether text is a single call `name(...)`, safe to index or to call a method on."""
    match = re.match(r"[\w.]+\(", text)
    if not match:
        return False
    depth = 0
    for position in range(match.end() - 1, len(text)):
        depth += {"(": 1, ")": -1}.get(text[position], 0)
        if depth == 0:
            return position == len(text) - 1
    return False


BROADCASTS = {"S": [("S", "S")], "V": [("V", "V"), ("S", "V"), ("V", "S")], "W": [("W", "W"), ("W", "S")],
              "M": [("M", "M"), ("M", "V"), ("V", "M"), ("S", "M"), ("M", "S")]}


def _elementwise_templates(name):
    """A binary elementwise primitive with every broadcast, on the first pair of domains it accepts."""
    for domains in ["rr", "r+", "+r", "++", "~~"]:
        probe = f"{name}({{S{domains[0]}}}, {{S{domains[1]}}})"
        if name.startswith("math.") and _probe(probe) == "S":
            return [Template(name, "S", probe)]
        if _probe(probe) == "S" and _probe(f"{name}({{V{domains[0]}}}, {{M{domains[1]}}})") == "M":
            a, b = domains
            return [Template(name, out, f"{name}({{{x}{a}}}, {{{y}{b}}})")
                    for out, pairs in BROADCASTS.items() for x, y in pairs]
    return []


def shipped(rule):
    """Whether sourcediff's own rules differentiate this primitive (not a rule a user or a test registered)."""
    return not rule.inactive and any(t.scope.get("__name__", "").startswith("sourcediff.")
                                     for t in rule.tangents.values())


GENERIC_CALLS = ["{V}", "{M}", "{V+}", "{M+}", "{V}, {V}", "{M}, {M}", "{M}, axis=0", "{M}, axis=1"]


def primitive_templates():
    """(templates, unfuzzed {name: reason}) for every primitive sourcediff registers with a derivative."""
    templates, unfuzzed = [], {}
    for rule in sorted(filter(shipped, RULES.values()), key=lambda r: r.name):
        name = rule.name
        if name in OPERATOR_NAMES:
            continue
        if name in NO_TEMPLATE:
            unfuzzed[name] = NO_TEMPLATE[name]
            continue
        if getattr(rule.key, "__module__", "").startswith("sourcediff."):
            unfuzzed[name] = ("a helper of generated code, reached through what normalization rewrites into it or by "
                              "the second-order modes, which differentiate generated tangents")
            continue
        if name in EXPLICIT:
            found = [Template(name, t[0], t[2:]) for t in EXPLICIT[name] if _probe(t[2:].partition(" #")[0], t[0])]
        elif resolve(name) is None:
            found = []
        elif rule.pointwise:
            found = _pointwise_templates(name)
        elif rule.elementwise:
            found = _elementwise_templates(name)
        else:
            found = []
            for args in GENERIC_CALLS:
                shape = _probe(f"{name}({args})")
                if shape:
                    found.append(Template(name, shape, f"{name}({args})"))
        if found:
            templates.extend(found)
        else:
            unfuzzed[name] = "no call template evaluates to a finite float of shape (), (3,), (2,) or (2, 3)"
    return templates, unfuzzed


TEMPLATES, UNFUZZED = primitive_templates()
BY_SHAPE = {s: {} for s in SHAPES}  # shape -> primitive -> its templates of that shape
for _template in TEMPLATES:
    BY_SHAPE[_template.shape].setdefault(_template.name, []).append(_template)


# ---- programs: statements that know what they use and define --------------------------------------

@dataclass
class Stmt:
    """A line, or a compound statement (header and bodies), with the constructs it uses."""
    text: str
    body: list = None           # statements of a compound statement
    orelse: list = None         # `else:` body
    constructs: set = field(default_factory=set)
    defines: dict = field(default_factory=dict)  # new variable -> shape letter (for the final return)
    fixed: bool = False         # kept when shrinking (a loop counter's increment)

    def lines(self, indent):
        pad = "    " * indent
        out = [pad + line for line in self.text.split("\n")]
        if self.body is None:
            return out
        for stmt in self.body or [Stmt("pass")]:
            out += stmt.lines(indent + 1)
        if self.orelse is not None:
            out.append(pad + "else:")
            for stmt in self.orelse or [Stmt("pass")]:
                out += stmt.lines(indent + 1)
        return out

    def all_constructs(self):
        found = set(self.constructs)
        for stmt in (self.body or []) + (self.orelse or []):
            found |= stmt.all_constructs()
        return found


@dataclass
class Function:
    header: str          # `def f(x, s):`
    body: list           # statements
    returns: str         # shape letter of the value returned at the end ("" for a helper's fixed return)
    final: str = ""      # a helper's return expression
    params: dict = field(default_factory=dict)  # parameter -> shape letter (leaves of containers omitted)
    constructs: set = field(default_factory=set)  # those of the helper's return expression

    def lines(self):
        if self.header.startswith("f = lambda"):
            return [self.header + " " + self.final]
        out = [self.header]
        for stmt in self.body:
            out += stmt.lines(1)
        out.append("    return " + (self.final or final_expression(self)))
        return out

    def all_constructs(self):
        found = set(self.constructs)
        for stmt in self.body:
            found |= stmt.all_constructs()
        return found


def final_expression(fn):
    """The entry's return: every float variable still defined contributes, so no statement is dead."""
    names = dict(fn.params)
    for stmt in fn.body:
        names.update(stmt.defines)
    scalars = [f"np.sum({n})" if shape != "S" else n for n, shape in names.items() if shape in SHAPES]
    total = " + ".join(f"{c} * {t}" for c, t in zip(_COEFFICIENTS, scalars)) or "0.0"
    if fn.returns == "V":
        return f"np.sin(x) * ({total}) + x"
    return total


_COEFFICIENTS = [1.0, 0.5, -0.75, 0.25, 1.25, -0.5, 0.3, 0.7, -0.4, 0.9, 0.2, -1.1] * 8


@dataclass
class Program:
    """A generated module: module-level items (constants, lambdas, helpers) and the entry function f."""
    items: list          # Stmt or Function
    entry: Function
    args: dict           # entry parameter -> how to draw its value: a shape letter or a container spec
    seed: int = 0

    def source(self):
        lines = []
        for item in self.items:
            lines += ["", ""] + (item.lines() if isinstance(item, Function) else item.lines(0))
        lines += ["", ""] + self.entry.lines()
        imports = ["import copy", "import functools", "import math", "", "import numpy as np"]
        if any("scipy." in line for line in lines):
            imports += ["import scipy.linalg", "import scipy.special", "import scipy.stats"]
        return "\n".join(imports + lines) + "\n"

    def constructs(self):
        found = set()
        for item in self.items + [self.entry]:
            found |= item.all_constructs() if isinstance(item, (Function, Stmt)) else set()
        if self.entry.returns == "V":
            found.add("vector_output")
        return found

    def wrt(self):
        return tuple(name for name, kind in self.args.items() if kind != "int")

    def draw_args(self, rng):
        return tuple(_draw(kind, rng) for kind in self.args.values())


def _draw(kind, rng):
    if kind == "int":
        return 1
    if isinstance(kind, str):
        shape = SHAPES[kind]
        return float(rng.uniform(-1, 1)) if shape == () else rng.uniform(-1, 1, shape)
    if isinstance(kind, dict):
        return {k: _draw(v, rng) for k, v in kind.items()}
    if isinstance(kind, list):
        return [_draw(v, rng) for v in kind]
    return tuple(_draw(v, rng) for v in kind)


# ---- the generator ---------------------------------------------------------------------------------

class Generator:
    """Draws one program. `enabled` is the set of constructs it may use (all when None), `without` the
    constructs and primitives it may not use: `prim:np.linalg.norm` is every call of the primitive,
    `prim:np.linalg.norm@ord` the templates tagged `#ord` in EXPLICIT."""

    def __init__(self, seed, enabled=None, without=(), size=None):
        self.rng = random.Random(seed)
        self.seed = seed
        self.enabled = (set(CONSTRUCTS) if enabled is None else set(enabled)) - set(without)
        self.without = set(without)
        self.size = size or self.rng.randint(2, 7)
        self.counter = 0
        self.helpers = []      # (name, [(param, shape)], {default params}, returns shape)
        self.globals = {}      # name -> shape
        self.lambdas = []      # module-level lambdas: (name, shape)
        self.scalar_only = False  # the entry function of scalar code: floats, arithmetic and math only

    def on(self, construct):
        if construct.startswith("prim:"):
            return construct not in self.without and construct.split("@")[0] not in self.without
        return construct in self.enabled

    def fresh(self, prefix="v"):
        self.counter += 1
        return f"{prefix}{self.counter}"

    def chance(self, p):
        return self.rng.random() < p

    # -- expressions: self.scope maps names to shape letters; self.uses collects constructs ----------

    def atom(self, shape):
        choices = [n for n, s in self.scope.items() if s == shape]
        choices += [a for a, s, c in self.accessors if s == shape and c <= self.enabled]
        if choices and not self.chance(0.08):
            text = self.rng.choice(choices)
            for a, s, c in self.accessors:
                if a == text:
                    self.uses |= c
            return text
        if shape in self.derived_atoms:
            return self.rng.choice(self.derived_atoms[shape])
        return {"S": "0.7", "V": "np.array([0.3, -0.5, 0.8])", "W": "np.array([0.6, -0.2])",
                "M": "np.full((2, 3), 0.5)"}[shape]

    def expr(self, shape, depth=2):
        if depth <= 0 or self.chance(0.25):
            return self.atom(shape)
        productions = [self.e_binary, self.e_primitive, self.e_primitive, self.e_unary_op]
        if self.scalar_only:
            productions += [self.e_conditional] if self.on("conditional_expression") else []
        elif shape == "S":
            productions += [self.e_index, self.e_reduce_literal, self.e_comprehension]
        if shape in "VWM":
            productions += [self.e_reshape_shape]
        if self.scalar_only:
            pass
        elif self.on("broadcasting"):
            productions.append(self.e_broadcast)
        if self.on("method") and not self.scalar_only:
            productions.append(self.e_method)
        if not self.scalar_only:
            productions += self.array_productions(shape)
        for _ in range(4):
            text = self.rng.choice(productions)(shape, depth - 1)
            if text is not None:
                return text
        return self.atom(shape)

    def array_productions(self, shape):
        """The productions of code on arrays, helpers and containers (none in scalar code)."""
        productions = []
        if self.on("global_constant") and self.globals:
            productions.append(self.e_global)
        if self.on("helper_call") and self.helpers:
            productions += [self.e_call, self.e_call]
        if self.on("lambda") and (self.lambdas or self.local_lambdas):
            productions.append(self.e_lambda_call)
        if self.on("tuple_concatenation"):
            productions.append(self.e_tuple_concat)
        if self.on("int_index_arithmetic") and self.ints:
            productions.append(self.e_int_index)
        if self.on("r_c") and shape in "VM":
            productions.append(self.e_r_c)
        if self.on("fancy_read"):
            productions.append(self.e_fancy)
        if self.on("conditional_expression"):
            productions.append(self.e_conditional)
        if self.varargs_helper and shape == "S":
            productions.append(self.e_varargs_call)
        return productions

    def e_varargs_call(self, shape, depth):
        """`total_of(t, *ws, scale=1.0)` called with none to two arguments for ws, and scale by name or not."""
        self.uses.add("varargs")
        extra = [self.expr("V", depth) for _ in range(self.rng.randint(0, 2))]
        scale = [f"scale={self.expr('S', depth)}"] if self.chance(0.5) else []
        return f"{self.varargs_helper}({', '.join([self.expr('V', depth)] + extra + scale)})"

    def domain(self, shape, domain, depth):
        inner = self.expr(shape, depth)
        if domain in ("", "r"):
            return inner
        wrapper = self.rng.choice(DOMAIN_WRAPPERS[domain])
        if self.scalar_only:  # the same wrappers, from the math module
            wrapper = wrapper.replace("np.", "math.")
        return wrapper.format(e=inner) if "{e}" in wrapper else wrapper.format(inner)

    def fill(self, text, depth, shape=None):
        """text with each hole ({V}, {M+}, {X~}: X is shape) replaced by an expression of its shape and domain."""
        pattern = HOLE if shape is None else re.compile(HOLE.pattern.replace("SVWM", "SVWMX"))
        return pattern.sub(lambda m: self.domain(shape if m.group(1) == "X" else m.group(1), m.group(2), depth), text)

    def pick(self, forms, depth, shape=None):
        """One of the forms, filled (only the chosen one is generated, so only its constructs count)."""
        return self.fill(self.rng.choice(forms), depth, shape)

    def e_primitive(self, shape, depth):
        if not self.on("primitive") or not BY_SHAPE[shape]:
            return None
        names = [n for n in sorted(BY_SHAPE[shape]) if self.on("prim:" + n)
                 and (not self.scalar_only or any(_on_numbers(t) for t in BY_SHAPE[shape][n]))]
        if not names:
            return None
        choices = [t for t in BY_SHAPE[shape][self.rng.choice(names)] if self.on("prim:" + t.tag)
                   and (not self.scalar_only or _on_numbers(t))]
        if not choices:
            return None
        template = self.rng.choice(choices)
        if LITERAL.search(template.text):
            if not self.on("list_literal_to_numpy"):
                return None
            self.uses.add("list_literal_to_numpy")
        self.uses |= {"primitive", "prim:" + template.name, "prim:" + template.tag}
        text = self.fill(template.text, depth)
        return text if _one_call(template.text) else f"({text})"

    def e_binary(self, shape, depth):
        x, y = self.rng.choice(BROADCASTS[shape]) if self.on("broadcasting") else (shape, shape)
        if x != y:
            self.uses.add("broadcasting")
        op = self.rng.choice(["+", "-", "*", "*", "/", "**"])
        a = self.expr(x, depth)
        if op == "/":
            return f"({a} / {self.domain(y, '+', depth)})"
        if op == "**":
            return self.pick(["({X} ** 2)", "({X+} ** 1.5)", "(2.0 ** {X~})"], depth, shape)
        return f"({a} {op} {self.expr(y, depth)})"

    def e_unary_op(self, shape, depth):
        return f"(-{self.expr(shape, depth)})" if self.chance(0.5) else f"(0.5 * {self.expr(shape, depth)} - 0.25)"

    def e_broadcast(self, shape, depth):
        self.uses.add("broadcasting")
        return self.pick({"M": ["({W}[:, None] * {V})", "({V}[np.newaxis, :] + {M})", "({M} * {S})"],
                          "S": ["np.sum({M} * {V})"], "V": ["({V} + {S})"], "W": ["({W} + {S})"]}[shape], depth)

    def e_reshape_shape(self, shape, depth):
        """Shapes from other shapes: rows, columns, slices, products."""
        return self.pick({"V": ["{M}[1]", "{M}[-1, :]", "{V}[::-1]", "({M}.T @ {W})"],
                          "W": ["{M}[:, 0]", "{V}[:2]", "{V}[1:]", "({M} @ {V})"],
                          "M": ["np.outer({W}, {V})", "{M}[::-1]", "{M}[:, [2, 0, 1]]"]}[shape], depth)

    def e_method(self, shape, depth):
        self.uses.add("method")
        form = self.rng.choice({"S": ["{V}.sum()", "{V}.dot({V})", "{M}.mean()", "{V}[1:2].item()", "pow({S}, 2)"],
                                "V": ["{M}.T[:, 1]", "{M}.sum(axis=0)"],
                                "W": ["{M}.dot({V})", "{M}.T[0]"],
                                "M": ["{M}.T.T", "{M}.copy()", "({V}.reshape(1, 3) * {W}[:, None])"]}[shape])
        if form == "{M}.copy()":
            if not self.on("prim:np.copy@method"):
                return None
            self.uses.add("prim:np.copy@method")
        return self.fill(form, depth)

    def e_index(self, shape, depth):
        source = self.rng.choice("VWM")
        array = self.expr(source, depth)
        index = self.rng.choice(["0", "1", "-1"])
        if source == "V" and self.loop_vars and self.chance(0.5):
            index = self.rng.choice(self.loop_vars)  # the counter of an enclosing loop over 3 elements
        return f"{array}[{index}, 1]" if source == "M" else f"{array}[{index}]"

    def e_reduce_literal(self, shape, depth):
        if not self.on("list_literal_to_numpy"):
            return None
        self.uses.add("list_literal_to_numpy")
        return self.pick(["np.sum([1.0, {S}, {S}])", "np.sum(({S}, 2.0 * {S}))", "np.mean([{S}, {S}])",
                          "np.prod(np.array([{S}, 0.5]))", "np.dot([{S}, {S}], [0.5, -1.0])", "np.max([{S}, {S}, -3.0])",
                          "np.sum([{S}, 1.0, {S}] * {V})", "np.dot([{S}, {S}, 0.5] + {V}, {V})"],
                         depth)

    def e_comprehension(self, shape, depth):
        if not self.on("list_comprehension"):
            return None
        self.uses.add("list_comprehension")
        saved = dict(self.scope)
        self.scope["t"] = "S"
        body = self.expr("S", depth)
        self.scope = saved
        forms = ["np.sum([BODY for t in {V}])", "np.mean(np.array([BODY * k for k, t in enumerate({V})]))",
                 "sum([t * w for t, w in zip({V}, [0.5, 1.0, -1.0])])", "np.sum([{V}[i] * (i + 1.0) for i in range(3)])"]
        iterators = ["np.sum([BODY for t in reversed({V})])", "sum(BODY * k for k, t in enumerate({V}, start=1))",
                     "np.sum(list(map(lambda t: BODY, {V})))", "np.sum(list(zip({V}, {V}))[1]) * 0.5",
                     "sum([BODY * k for k, t in list(enumerate({V}))])"]
        form = self.rng.choice(forms + iterators if self.on("iterator_builtins") else forms)
        if form in iterators:
            self.uses.add("iterator_builtins")
        return self.fill(form, depth).replace("BODY", body)

    def e_global(self, shape, depth):
        names = [n for n, s in self.globals.items() if s == shape]
        if not names:
            return None
        self.uses.add("global_constant")
        return f"({self.rng.choice(names)} * {self.expr(shape, depth)})"

    def e_call(self, shape, depth):
        fitting = [h for h in self.helpers if h[3] == shape]
        if not fitting:
            return None
        name, params, defaults, _ = self.rng.choice(fitting)
        self.uses.add("helper_call")
        positional = []
        keywords = []
        for p, s in params:
            value = self.expr(s, depth)
            if p in defaults and self.chance(0.5):
                self.uses.add("keywords_defaults")
                continue  # left to its default
            if (keywords or p in defaults or self.chance(0.3)) and self.on("keywords_defaults"):
                self.uses.add("keywords_defaults")
                keywords.append(f"{p}={value}")
            else:
                positional.append(value)
        if keywords and self.on("partial") and self.chance(0.3):  # the arguments by name fixed by a partial
            self.uses.add("partial")
            return f"functools.partial({name}, {', '.join(keywords)})({', '.join(positional)})"
        return f"{name}({', '.join(positional + keywords)})"

    def e_lambda_call(self, shape, depth):
        fitting = [n for n, s in self.lambdas + self.local_lambdas if s == shape]
        if not fitting:
            return None
        self.uses.add("lambda")
        return f"{self.rng.choice(fitting)}({self.expr(shape, depth)})"

    def e_tuple_concat(self, shape, depth):
        self.uses.add("tuple_concatenation")
        if shape == "V":
            return f"np.hstack(({self.expr('W', depth)},) + ({self.expr('V', depth)}[:1],))"
        if shape == "M":
            return f"np.stack(({self.expr('V', depth)}, {self.expr('V', depth)}) + ())"
        if shape == "S":
            return f"(({self.expr('S', depth)}, {self.expr('V', depth)}) + ({self.expr('S', depth)},))[2]"
        return f"np.array(({self.expr('S', depth)},) + ({self.expr('S', depth)},))"

    def e_int_index(self, shape, depth):
        self.uses.add("int_index_arithmetic")
        b = self.rng.choice(self.ints)  # each holds 1
        forms = {"V": ["{V}[3 * B - 3:]", "{M}[B - 1]", "np.outer({W}, {V}).ravel()[3 * B:]"],
                 "W": ["{V}[B:]", "{V}[B - 1:2 * B]", "{M}[:, 2 * B]", "{V}[(lambda i: i)(B):]"],
                 "S": ["{V}[2 * B]", "{M}[B, B + 1]", "({S} * B)", "{V}[(lambda i: 2 * i)(B)]"],
                 "M": ["{M}[B - 1:, :]", "{M}[:, B - 1:B + 2]"]}[shape]
        return self.pick([form.replace("B", b) for form in forms], depth)

    def e_r_c(self, shape, depth):
        self.uses.add("r_c")
        if shape == "V":
            return f"np.r_[{self.expr('W', depth)}, {self.expr('S', depth)}]"
        return f"np.c_[{self.expr('W', depth)}, {self.expr('W', depth)}, {self.expr('W', depth)}]"

    def e_fancy(self, shape, depth):
        self.uses.add("fancy_read")
        if shape == "S":
            v = self.expr("V", depth)
            return f"np.sum({v}[({v} > 0.1) | ({v} < -0.3)])" if self.chance(0.3) else f"np.sum({v}[{v} > 0.1])"
        return self.pick({"W": ["{V}[[2, 0]]"], "V": ["{V}[np.array([1, 2, 0])]", "{M}[[1, 0, 1], [0, 2, 1]]"],
                          "M": ["{M}[[1, 0]]"]}[shape], depth)

    def e_conditional(self, shape, depth):
        self.uses.add("conditional_expression")
        return f"({self.expr(shape, depth)} if {self.condition(depth)} else {self.expr(shape, depth)})"

    def condition(self, depth=1):
        """A comparison on data (its margin is checked before derivatives are compared)."""
        threshold = self.rng.choice(["0.0", "0.2", "-0.3", "0.5"])
        left = self.expr("S", min(depth, 1))
        op = self.rng.choice([">", "<", ">=", "<="])
        if self.chance(0.2):
            return f"{threshold} < {left} < 1.5"
        return f"{left} {op} {threshold}"

    # -- statements --------------------------------------------------------------------------------

    def statement(self, in_loop=False):
        """One statement at the top of a function body, or updating variables inside a block."""
        kinds = [(self.s_assign, 4), (self.s_augmented, 2), (self.s_copy, 1), (self.s_if, 1),
                 (self.s_for, 2), (self.s_while, 1), (self.s_swap, 1), (self.s_self_assign, 1), (self.s_alias, 1),
                 (self.s_append, 1), (self.s_inplace, 2), (self.s_closure, 1), (self.s_lambda, 1),
                 (self.s_dict_literal, 1), (self.s_early_return, 1), (self.s_int_local, 1), (self.s_layers, 1),
                 (self.s_sequence_result, 1)]
        if self.scalar_only:
            kinds = [(k, w) for k, w in kinds if k in (self.s_assign, self.s_augmented, self.s_copy, self.s_if,
                                                      self.s_for, self.s_while, self.s_swap, self.s_self_assign,
                                                      self.s_early_return)]
        weights = [w for _, w in kinds]
        outer = self.uses  # a compound statement's own constructs, while its body is drawn
        for attempt in range(11):
            self.uses = set()  # what a production that gave up had drawn does not count
            production = self.rng.choices([k for k, _ in kinds], weights)[0] if attempt < 10 else self.s_assign
            stmt = production(in_loop)
            if stmt is not None:
                break
        self.uses = outer
        return stmt

    def make(self, text, body=None, orelse=None, defines=None):
        stmt = Stmt(text, body, orelse, set(self.uses), defines or {})
        self.uses = set()
        return stmt

    def updatable(self, shape=None):
        return [n for n, s in self.scope.items() if s in SHAPES and n not in self.params and n not in self.frozen
                and (shape is None or s == shape)]

    def s_assign(self, in_loop):
        if in_loop:
            names = self.updatable()
            if not names:
                return None
            target = self.rng.choice(names)
            shape = self.scope[target]
            return self.make(f"{target} = 0.5 * {target} + 0.5 * {self.expr(shape)}")
        shape = "S" if self.scalar_only else self.rng.choice("SSVVWM")
        fresh = self.chance(0.4)  # arithmetic makes a new array, which may later be written in place
        text = self.e_binary(shape, 2) if fresh else self.expr(shape)
        if not fresh:  # maybe an alias or a view of an array written in place later: no longer written so
            self.owned -= set(re.findall(r"\w+", text))
        name = self.fresh()
        if self.on("name_reuse") and not self.helper_mode and "f" not in self.scope and self.chance(0.05):
            name = "f"
            self.uses.add("name_reuse")
        self.uses.add("assignment")
        self.scope[name] = shape
        if fresh:
            self.owned.add(name)
        return self.make(f"{name} = {text}", defines={name: shape})

    def s_copy(self, in_loop):
        if in_loop or not self.on("copy"):
            return None
        source = self.rng.choice([n for n, s in self.scope.items() if s in SHAPES])
        name = self.fresh()
        self.scope[name] = self.scope[source]
        self.owned.discard(source)  # an alias: neither may be written in place from now on
        self.frozen.add(name)
        self.uses.add("copy")
        return self.make(f"{name} = {source}", defines={name: self.scope[name]})

    def s_alias(self, in_loop):
        """Python's aliasing: `v = y` (or a view of y), then y written in place, which v sees."""
        names = sorted(n for n in self.owned if self.scope.get(n) in ("V", "M"))
        if in_loop or not names or not self.on("alias_write"):
            return None
        y, v = self.rng.choice(names), self.fresh()
        shape = self.scope[y]
        self.uses.add("alias_write")
        alias, out = self.rng.choice([(y, shape), (f"{y}[1:]", "W") if shape == "V" else (f"{y}[1]", "V")])
        write = self.pick([f"{y} += {{{shape}}}", f"{y}[0] = {{{'S' if shape == 'V' else 'V'}}}", f"{y} *= {{S+}}"], 1)
        self.owned.discard(y)
        self.scope[v] = out
        return self.make(f"{v} = {alias}\n{write}", defines={v: out})

    def s_self_assign(self, in_loop):
        if not self.on("self_assignment"):
            return None
        names = self.updatable("S")
        if not names:
            return None
        best = self.rng.choice(names)
        self.uses.add("self_assignment")
        if self.chance(0.3):
            return self.make(f"{best} = {best}")
        if in_loop or self.scalar_only or self.chance(0.5):
            v = self.expr("S", 1)
            return self.make(f"{best} = {v} if {v} > {best} else {best}")
        # the user's running maximum over a vector
        vector = self.expr("V", 1)
        return self.make(f"for t in {vector}:", body=[Stmt(f"{best} = t if t > {best} else {best}")])

    def s_augmented(self, in_loop):
        if not self.on("augmented_assignment"):
            return None
        names = [n for n in self.updatable() if self.scope[n] == "S" or n in self.owned]
        if not names:
            return None
        target = self.rng.choice(names)
        shape = self.scope[target]
        self.uses.add("augmented_assignment")
        op = self.rng.choice(["+=", "-=", "*=", "/="])
        value = self.domain(self.rng.choice([s for s, _ in BROADCASTS[shape] if s in "S" + shape]),
                            "+" if op in ("*=", "/=") else "r", 1)
        if op == "*=":
            value = f"(0.5 * {value})"
        return self.make(f"{target} {op} {value}")

    def s_swap(self, in_loop):
        if not self.on("tuple_swap"):
            return None
        for shape in self.rng.sample("SVWM", 4):
            names = self.updatable(shape)
            if len(names) >= 2:
                a, b = self.rng.sample(names, 2)
                self.uses.add("tuple_swap")
                self.owned -= {a, b}
                if self.chance(0.5):
                    return self.make(f"{a}, {b} = {b}, {a}")
                return self.make(f"{a}, {b} = {b}, 0.5 * {a} + 0.5 * {b}")
        return None

    def block(self, count):
        return [self.statement(in_loop=True) for _ in range(count)]

    def s_if(self, in_loop):
        if not self.on("if_else") or not self.updatable():
            return None
        self.uses.add("if_else")
        condition = self.condition()
        head = self.make(f"if {condition}:", body=[], orelse=None)
        head.body = self.block(self.rng.randint(1, 2))
        if self.chance(0.6):
            head.orelse = self.block(1)
        return head

    def s_for(self, in_loop):
        if not self.on("for_loop") or in_loop or not self.updatable():
            return None
        self.uses.add("for_loop")
        counter = "i"
        kinds = ["range", "range", "array", "enumerate", "zip"]
        if self.on("iterator_builtins"):
            kinds += ["reversed_range", "reversed", "enumerate_start", "pairs", "map"]
        if self.scalar_only:
            kinds = [k for k in kinds if "range" in k]
        kind = "range" if self.helper_mode else self.rng.choice(kinds)
        if kind in ("reversed_range", "reversed", "enumerate_start", "pairs", "map"):
            self.uses.add("iterator_builtins")
        header = {"range": f"for {counter} in range(3):", "array": "for t in x:",
                  "enumerate": f"for {counter}, t in enumerate(x):", "zip": "for t, u in zip(x, x[::-1]):",
                  "reversed_range": f"for {counter} in reversed(range(3)):", "reversed": "for t in reversed(x):",
                  "enumerate_start": f"for {counter}, t in enumerate(x, 1):", "pairs": "for pair in enumerate(x):",
                  "map": self.rng.choice(["for t in map(np.tanh, x):", "for t in map(lambda w: w * w, iter(x)):"])
                  }[kind]
        extra = {"zip": {"t": "S", "u": "S"}, "range": {}, "reversed_range": {}}.get(kind, {"t": "S"})
        if kind in ("range", "enumerate") and self.on("counter_reuse") and "i" not in self.scope and self.chance(0.3):
            self.uses.add("counter_reuse")  # i carries a derivative before the loop, and counts in it
            header = f"i = {self.expr('S', 1)}\n{header}"
            self.scope["i"] = "S"
        head = self.make(header, body=[])
        saved = dict(self.scope)
        self.scope.update(extra)
        # an expression of the counter that indexes the 3 elements of a vector
        index = {"range": counter, "enumerate": counter, "reversed_range": counter, "enumerate_start": f"{counter} - 1",
                 "pairs": "pair[0]"}.get(kind)
        if index is not None:
            self.loop_vars.append(index)
        # a counter named like a variable of the scope (i, counter_reuse) is not assigned in the body: it indexes
        freeze = index is not None and counter in self.scope and counter not in self.frozen
        if freeze:
            self.frozen.add(counter)
        body = self.block(self.rng.randint(1, 3))
        if freeze:
            self.frozen.discard(counter)
        if self.on("break_continue") and self.chance(0.4):
            self.uses.add("break_continue")
            if index is not None and self.chance(0.5):
                jump = Stmt(f"if {index} == 1:", body=[Stmt(self.rng.choice(["continue", "break"]))])
            else:
                jump = Stmt(f"if {self.condition(1)}:", body=[Stmt(self.rng.choice(["continue", "break"]))])
            jump.constructs = set(self.uses)
            self.uses = set()
            body.insert(self.rng.randint(0, len(body)), jump)
        if self.on("early_return") and self.chance(0.15):
            self.uses.add("early_return")
            body.append(self.make(f"if {self.condition(1)}:", body=[Stmt(f"return {self.return_expr()}")]))
        if kind == "pairs":  # first, before any jump reads t
            body.insert(0, Stmt("t = pair[1] * (pair[0] + 1.0)", fixed=True))
        head.body = body
        if index is not None:
            self.loop_vars.pop()
        self.scope = saved
        return head

    def s_while(self, in_loop):
        if not self.on("while_loop") or in_loop:
            return None
        names = self.updatable("S")
        self.uses.add("while_loop")
        k = self.fresh("k")
        if names and self.chance(0.5):
            acc = self.rng.choice(names)
            step = self.domain("S", "+", 1)
            body = [Stmt(f"{acc} = {acc} + 0.3 * {step}", fixed=True), Stmt(f"{k} += 1", fixed=True)]
            return self.make(f"{k} = 0\nwhile {acc} < 1.0 and {k} < 4:", body=body)
        if not self.updatable():
            return None
        body = self.block(self.rng.randint(1, 2)) + [Stmt(f"{k} += 1", fixed=True)]
        return self.make(f"{k} = 0\nwhile {k} < 2:", body=body)

    def s_append(self, in_loop):
        if not self.on("append") or in_loop:
            return None
        shape = self.rng.choice("SV")
        items = self.fresh("items")
        self.loop_vars.append("j")
        value = self.expr(shape, 1)
        self.loop_vars.pop()
        self.uses.add("append")
        name = self.fresh()
        if shape == "S":
            combine, out = self.rng.choice([(f"np.sum({items})", "S"), (f"np.array({items})", "V"),
                                           (f"sum({items})", "S")])
        else:
            combine, out = self.rng.choice([(f"np.stack({items})[1:]", "M"), (f"np.sum({items}, axis=0)", "V"),
                                           (f"np.vstack({items})[:2]", "M")])
        self.scope[name] = out
        self.owned.add(name)
        pop = ""
        if self.on("list_pop") and self.chance(0.3):  # one more element, popped again (its value unused)
            self.uses.add("list_pop")
            pop = f"{items}.append({items}[0] * 0.5)\n" + self.rng.choice(
                [f"{items}.pop()\n", f"last = {items}.pop()\n", f"{items}.pop(0)\n"])
        return self.make(f"{items} = []\nfor j in range(3):\n    {items}.append({value} * (j + 1.0))\n"
                         f"{pop}{name} = {combine}", defines={name: out})

    def s_inplace(self, in_loop):
        names = [n for n in self.owned if self.scope.get(n) in ("V", "M")] if self.owned else []
        kinds = [k for k in ("inplace_slice", "inplace_mask", "inplace_int_array") if self.on(k)]
        if not kinds:
            return None
        kind = self.rng.choice(kinds)
        self.uses.add(kind)
        if not names or self.chance(0.3):  # a fresh array to write into
            shape = self.rng.choice("VM")
            name = self.fresh("y")
            start = self.rng.choice([f"{self.expr(shape, 1)}.copy()", f"np.zeros({SHAPES[shape]})",
                                     f"np.array({self.atom(shape)})"] if shape == "V" else
                                    [f"np.copy({self.expr(shape, 1)})", f"np.zeros({SHAPES[shape]})"])
            prefix = f"{name} = {start}\n"
            defines = {name: shape}
            if not in_loop:
                self.scope[name] = shape
                self.owned.add(name)
            else:
                return None
        else:
            name, prefix, defines = self.rng.choice(sorted(names)), "", {}
        shape = self.scope.get(name) or defines[name]
        y = name
        forms = {"inplace_slice": {"V": [f"{y}[1:] = {{W}}", f"{y}[0] = {{S}}", f"{y}[:2] += {{W}}", f"{y}[::2] *= {{S+}}"],
                                   "M": [f"{y}[:, 1] *= {{S+}}", f"{y}[0] = {{V}}", f"{y}[1, 1:] -= {{W}}",
                                         f"{y}[:, 0] = {{W}}"]},
                 "inplace_mask": {"V": [f"{y}[{y} > 0.2] *= 0.5", f"{y}[{y} > 0.0] = {{S}}", f"{y}[{{V}} < 0.1] += 1.0",
                                        f"{y}[({y} > 0.2) & ~({{V}} < 0.1)] *= 0.5"],
                                  "M": [f"{y}[{y} < 0.0] = 0.0", f"{y}[{y} > 0.3] *= {{S}}"]},
                 "inplace_int_array": {"V": [f"{y}[[0, 2]] += {{W}}", f"idx = np.array([2, 0])\n{y}[idx] = {y}[idx] * {{S}}"],
                                       "M": [f"{y}[[1, 0], [2, 1]] = {{W}}", f"{y}[[1]] *= 0.5"]}}[kind][shape]
        return self.make(prefix + self.pick(forms, 1), defines=defines)

    def s_closure(self, in_loop):
        if in_loop or not (self.on("closure") or self.on("closure_constant_call") or self.on("closure_two_variants")):
            return None
        enclosing = [n for n, s in self.scope.items() if s == "S"] + [n for n, s in self.scope.items() if s == "V"]
        if not enclosing:
            return None
        a = self.rng.choice(enclosing)
        shape = self.scope[a]
        inner = self.fresh("inner")
        saved = dict(self.scope)
        self.scope = {"t": "S", a: shape}
        body = self.expr(shape, 1)
        self.scope = saved
        name = self.fresh()
        kinds = [k for k in ("closure", "closure_constant_call", "closure_two_variants") if self.on(k)]
        kind = self.rng.choice(kinds)
        self.uses.add(kind)
        if kind == "closure_constant_call":
            call = f"{inner}(2.0) + {inner}(3.0)"
        else:
            argument = self.expr("S", 1)
            if not set(re.findall(r"[A-Za-z_]\w*", argument)) & (set(self.scope) | {"p"}):
                argument = a if shape == "S" else f"{a}[0]"  # a constant argument is closure_constant_call
            call = f"{inner}({argument})"
            if kind == "closure_two_variants":
                call = self.rng.choice([f"{call} + {inner}(2.0)", f"{inner}(2.0) + {call}"])
        self.scope[name] = shape
        return self.make(f"def {inner}(t):\n    return t * {a} + {body}\n{name} = {call}", defines={name: shape})

    def s_lambda(self, in_loop):
        if in_loop or not self.on("lambda"):
            return None
        shape = self.rng.choice("SV")
        name = self.fresh("g")
        saved = dict(self.scope)
        self.scope["t"] = shape
        body = self.expr(shape, 1)
        self.scope = saved
        self.uses.add("lambda")
        self.local_lambdas.append((name, shape))
        if self.apply_helper and self.on("higher_order") and self.chance(0.4):
            result, argument = self.fresh(), self.expr(shape, 1)
            self.scope[result] = shape
            self.uses.add("higher_order")
            return self.make(f"{name} = lambda t: {body}\n{result} = {self.apply_helper}({name}, {argument})",
                             defines={result: shape})
        return self.make(f"{name} = lambda t: {body}")

    def s_dict_literal(self, in_loop):
        if in_loop or not self.on("nested_dict"):
            return None
        self.uses.add("nested_dict")
        d = self.fresh("d")
        a, b = self.expr("V", 1), self.expr("S", 1)
        name = self.fresh()
        self.scope[name] = "V"
        return self.make(f"{d} = {{'a': {a}, 'b': {b}}}\n{name} = {d}['a'] * {d}['b']", defines={name: "V"})

    def s_sequence_result(self, in_loop):
        """`z = np.linalg.svd(...)` (a tuple) or `np.split(...)` (a list), then z whole in two containers or
        handed twice to a lambda, and a part of it read through each."""
        if in_loop or not self.on("sequence_result"):
            return None
        matrix = self.expr("M", 1)
        a, z, name = self.fresh("m"), self.fresh("z"), self.fresh()
        # symmetric positive definite, 2 × 2; apart from {a}, distinct eigenvalues and singular values (where two
        # meet, as for a matrix of zeros, neither has a derivative)
        square = f"{a} @ {a}.T + np.diag([1.0, 3.0])"
        producer, part, shape = self.rng.choice([
            (f"np.linalg.svd({a} + np.array([[3.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), full_matrices=False)", "[1]", "W"),
            (f"np.linalg.eigh({square})", "[0]", "W"),
            (f"np.linalg.slogdet({square})", "[1]", "S"),
            (f"np.split({a}, 2)", "[1][0]", "V")]
            # a list or tuple parameter repeated (its cotangent's parts add up: `+` would join them)
            + ([("p * 2", "[2]", "V")] if isinstance(self.container, (tuple, list)) and self.container[0] == "V"
               else []))
        extra = self.expr(shape, 1)
        if self.on("lambda") and self.chance(0.5):
            self.uses.add("lambda")
            pick = self.fresh("pick")
            use = f"{pick} = lambda t: t{part}\n{name} = {pick}({z}) * {extra} + {pick}({z})"
        else:  # the second container maybe on a branch, where z's cotangent may still be 0.0 after it
            pair, other = self.fresh("pair"), self.fresh("other")
            use = f"{other} = ({z}, 2.0)\n{name} = {other}[0]{part} * {other}[1]\n"
            use += f"if {self.condition()}:\n    " if self.chance(0.5) else ""
            use += f"{pair} = [{z}, {extra}]\n" + ("    " if use.endswith("    ") else "")
            use += f"{name} = {name} + {pair}[0]{part} * {pair}[1]"
        self.uses.add("sequence_result")
        self.scope[name] = shape
        return self.make(f"{a} = {matrix}\n{z} = {producer}\n{use}", defines={name: shape})

    def s_layers(self, in_loop):
        """Layers of different widths through one helper: `for W in layers: h = act(h @ W)`."""
        if in_loop or not self.activation or self.helper_mode:
            return None
        self.uses.add("loop_call_shapes")
        h, name = self.fresh("h"), self.fresh()
        start, first, second, bias = self.expr("V", 1), self.expr("M", 1), self.expr("M", 1), self.expr("S", 1)
        self.scope[name] = "V"
        return self.make(f"{h} = {start}\nfor W in ({first}.T, {second}):  # widths 3, 2, 3\n"
                         f"    {h} = {self.activation}({h} @ W + {bias})\n{name} = {h} * 1.0", defines={name: "V"})

    def s_early_return(self, in_loop):
        if in_loop or not self.on("early_return") or self.helper_mode:
            return None
        self.uses.add("early_return")
        return self.make(f"if {self.condition(1)}:", body=[Stmt(f"return {self.return_expr()}")])

    def s_int_local(self, in_loop):
        if in_loop or not self.on("int_index_arithmetic") or self.ints or self.helper_mode:
            return None
        name = self.fresh("b")
        self.ints.append(name)
        return self.make(self.rng.choice([f"{name} = len(x) // 3", f"{name} = x.shape[0] - 2", f"{name} = 1",
                                                    f"{name} = len(x) ^ 2", f"{name} = len(x) >> 1"]))

    def return_expr(self):
        """An early return's value: the same shape as the final one."""
        if self.scalar_only:
            return f"{self.expr('S', 1)} * 0.5"
        return self.expr(self.returns, 1) if self.returns != "S" else f"np.sum({self.expr('V', 1)}) * 0.5"

    # -- functions and the module ------------------------------------------------------------------

    def begin(self, params, returns, helper_mode=False):
        self.scope = dict(params)
        self.params = set(params)
        self.accessors = []
        self.frozen = set()
        self.owned = set()
        self.ints = []
        self.loop_vars = []
        self.local_lambdas = []
        self.uses = set()
        self.returns = returns
        self.helper_mode = helper_mode
        self.container = None
        self.derived_atoms = {"S": ["x[1]", "np.mean(x)"], "W": ["x[:2]"], "V": ["x"], "M": ["np.outer(x[1:], x)"]}
        if "x" not in params:
            self.derived_atoms = {}

    def helper(self):
        """A module-level helper taking two or three parameters, some with defaults."""
        name = self.fresh("h")
        shapes = [self.rng.choice("SVWM") for _ in range(self.rng.randint(1, 3))]
        params = [(f"a{i}", s) for i, s in enumerate(shapes)]
        defaults = {}
        if self.on("keywords_defaults") and shapes[-1] == "S" and self.chance(0.7):
            defaults[params[-1][0]] = "0.5"
        returns = self.rng.choice("SVWM")
        self.begin(dict(params), returns, helper_mode=True)
        self.derived_atoms = {}
        # each parameter reachable from every shape so helpers use their arguments
        for p, s in params:
            self.derived_atoms.setdefault(s, []).append(p)
            if s == "V":
                self.derived_atoms.setdefault("S", []).append(f"{p}[0]")
            if s == "M":
                self.derived_atoms.setdefault("V", []).append(f"{p}[1]")
        body = [self.statement() for _ in range(self.rng.randint(0, 2))]
        final = self.expr(returns, 2)
        header = ", ".join(f"{p}={defaults[p]}" if p in defaults else p for p, _ in params)
        if defaults and len(params) > 1 and self.on("keyword_only") and self.chance(0.5):  # callers name it
            header = header.replace(f"{params[-1][0]}=", f"*, {params[-1][0]}=")
            self.uses.add("keyword_only")
        fn = Function(f"def {name}({header}):", body, returns, final=final, constructs=set(self.uses))
        self.uses = set()
        self.helpers.append((name, params, defaults, returns))
        return fn

    def entry_params(self):
        """Parameter -> kind (a shape letter, 'int', or a container spec) and the accessors reading them."""
        args = {"x": "V"}
        if self.chance(0.6):
            args["s"] = "S"
        if self.chance(0.4):
            args["A"] = "M"
        accessors = []
        kinds = []
        if self.on("container_parameter"):
            kinds += ["tuple", "dict", "list"]
        if self.on("nested_container"):
            kinds.append("nested")
        if self.on("nested_dict"):
            kinds.append("nested_dict")
        if kinds and self.chance(0.45):
            kind = self.rng.choice(kinds)
            use = {"container_parameter"} | ({"nested_container"} if kind == "nested" else set()) \
                | ({"nested_dict"} if kind == "nested_dict" else set())
            if kind == "tuple":
                args["p"] = ("V", "S")
                accessors = [("p[0]", "V", use), ("p[1]", "S", use), ("(p * 2)[2]", "V", use)]
            elif kind == "dict":
                args["p"] = {"W": "M", "c": "W"}
                accessors = [("p['W']", "M", use), ("p['c']", "W", use)]
            elif kind == "list":
                args["p"] = ["V", "V"]
                accessors = [("p[0]", "V", use), ("p[-1]", "V", use), ("(p[0] + p[1])", "V", use),
                             ("(2 * p)[3]", "V", use)]
            elif kind == "nested":
                args["p"] = (("M", "W"), ["V", "S"])
                accessors = [("p[0][0]", "M", use), ("p[0][1]", "W", use), ("p[1][0]", "V", use),
                             ("p[1][1]", "S", use)]
            else:
                args["p"] = {"l1": {"W": "M", "b": "W"}, "l2": {"w": "W"}}
                accessors = [("p['l1']['W']", "M", use), ("p['l1']['b']", "W", use), ("p['l2']['w']", "W", use)]
        if self.on("int_index_arithmetic") and self.chance(0.2):
            args["n"] = "int"
        return args, accessors

    def program(self):
        items = []
        if self.on("global_constant") and self.chance(0.5):
            name = "C0"
            items.append(Stmt(f"{name} = np.array([0.5, -0.25, 1.5])", constructs={"global_constant"}))
            self.globals[name] = "V"
            items.append(Stmt("K0 = 0.75", constructs={"global_constant"}))
            self.globals["K0"] = "S"
        self.apply_helper = None
        self.varargs_helper = None
        self.activation = None
        if self.on("loop_call_shapes") and self.chance(0.2):
            self.activation = "act"
            items.append(Function("def act(z):", [], "", final="np.tanh(z) + 0.1 * z"))
        if self.on("helper_call"):
            for _ in range(self.rng.choice([0, 1, 1, 2])):
                items.append(self.helper())
        if self.on("lambda") and self.chance(0.3):
            name = self.fresh("L")
            self.begin({"t": "V"}, "V", helper_mode=True)
            self.derived_atoms = {"V": ["t"], "S": ["t[0]"]}
            body = self.expr("V", 1)
            items.append(Stmt(f"{name} = lambda t, c=1.0: c * {body}", constructs={"lambda"}))
            self.lambdas.append((name, "V"))
        if self.on("higher_order") and self.on("lambda") and self.chance(0.3):
            self.apply_helper = "apply"
            items.append(Function("def apply(fn, t):", [], "", final="fn(t) * 2.0 + t"))
        if self.on("varargs") and self.chance(0.3):
            self.varargs_helper = "total_of"
            items.append(Function("def total_of(t, *ws, scale=1.0):", [], "",
                                  final="scale * (np.sum(t) + sum([np.sum(w * t) for w in ws]))"))
        self.scalar_only = self.on("scalar_code") and self.chance(0.1)
        args, accessors = ({"x": "S", "s": "S"} if self.chance(0.6) else {"x": "S"}, []) if self.scalar_only \
            else self.entry_params()
        returns = "V" if self.on("vector_output") and not self.scalar_only and self.chance(0.25) else "S"
        params = {k: v for k, v in args.items() if isinstance(v, str) and v != "int"}
        self.begin(params, returns)
        self.accessors = accessors
        self.container = args.get("p")  # the container parameter's structure, if any
        if self.scalar_only:
            self.derived_atoms = {"S": ["x", "(0.5 * x)"]}
        if "n" in args:
            self.ints.append("n")
        if self.on("lambda_entry") and not self.scalar_only and self.chance(0.08):
            final = self.expr(returns, 3)
            self.uses.add("lambda_entry")
            return Program(items, Function(f"f = lambda {', '.join(args)}:", [], returns, final=final,
                                           params=params, constructs=set(self.uses)), args, self.seed)
        body = [self.statement() for _ in range(self.size)]
        entry = Function(f"def f({', '.join(args)}):", body, returns, params=params,
                         constructs={"scalar_code"} if self.scalar_only else set())
        return Program(items, entry, args, self.seed)


def _on_numbers(template):
    """Whether a primitive's template works on Python floats alone, giving one (a math function, a builtin)."""
    holes = set(HOLE.findall(template.text))
    return (template.name.startswith("math.") or "." not in template.name) and "np." not in template.text \
        and holes <= {("S", domain) for domain in ("", "r", "+", "~", "u", "1")}


def generate(seed, enabled=None, without=(), size=None):
    """The program of this seed, using only the enabled constructs (all when None) but those without."""
    return Generator(seed, enabled, without, size).program()


if __name__ == "__main__":
    import sys
    print(generate(int(sys.argv[1]) if len(sys.argv) > 1 else 0).source())
