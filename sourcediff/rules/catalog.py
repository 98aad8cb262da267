"""docs/supported.md, generated from the rule registry so the page cannot drift from the code.

Regenerate with `python -m sourcediff.rules.catalog > docs/supported.md`.
"""
import builtins
import inspect
import math
import textwrap

import astor
import gast
import numpy as np

from ..ir.mutation import FOLLOWED_AT, ufunc_at
from ..ir.normalize import ITERATOR_BUILTINS
from . import RULES, rule_for, spelling
from .linalg import ASSUMPTIONS

CONSTRUCTS = [
    ("assignment, reassignment, augmented assignment (`+=`, `*=`, ...)", "augmented forms become plain ones"),
    ("tuple unpacking `a, b = b, a + b`, multiple targets", "every right-hand side is evaluated first"),
    ("`if` / `elif` / `else`, conditional expressions `a if c else b`", "a conditional expression becomes an if"),
    ("comparisons, chained comparisons `0 < x < 1`, `and` / `or` / `not` in conditions",
     "carry no derivative; `and`/`or` on differentiable values is refused"),
    ("`for` over `range(n)`, `range(a, b)`, `range(a, b, s)`", ""),
    ("`for` over arrays, lists and tuples, `enumerate` (with a start), `zip`, `enumerate(zip(...))`, "
     "`reversed`, `iter`, `map`, `filter`", "become loops over range with explicit indexing; `reversed` reads the "
     "sequence in place, as Python does"),
    ("`zip`, `enumerate`, `map`, `filter` and `reversed` passed to `list`, `tuple`, `sum`, `min`, `max`, `sorted`, "
     "`any` or `all`", "become list comprehensions; held in a variable they are refused"),
    ("`while` with data-dependent trip counts, `break`, `continue`", ""),
    ("early and multiple `return`s, tuple returns", "a tuple-valued function has a tuple tangent"),
    ("lists and tuples: literals, indexing, `append`, list comprehensions, passed to NumPy functions; "
     "generator expressions passed to `sum`, `min`, `max`, `list`, `tuple`, `sorted`, `any` or `all`",
     "a comprehension becomes a loop with append"),
    ("lists and tuples joined `xs + ys` or repeated `xs * n`; met by an array (`[a, b] * x`) they are "
     "arrays", "on arguments (or results of user functions), `+` and `*` join and repeat or add and multiply as "
     "their values decide"),
    ("dicts: literals `{'w': w}`, `dict(w=w)`, writes `d['w'] = v`", "`{**d}` of a differentiable dict is refused in "
     "reverse mode"),
    ("list, tuple and dict arguments, nested to any depth (`params['l1']['W']`, `params[0][1]`, `W, b = params`)",
     "their tangents and gradients have the same structure"),
    ("subscripts and slices, `np.newaxis` / `None`, negative indices, integer-array and boolean-mask indexing", ""),
    ("in-place subscript writes `x[i] = v`, `x[i] += v`, `x[:, j] *= s`", ""),
    ("writes at repeated integer indices `z[[0, 0, 1]] = v`, `z[index] += v`",
     "NumPy keeps one value per element, and so does the derivative"),
    ("in-place calls `z.fill(v)`, `items.extend(seq)`, `d.update(k=v)`, `d.update({'k': v})`, "
     "`np.add.at(z, index, v)`, `np.subtract.at(z, index, v)`",
     "become subscript writes and appends; other in-place calls, and writes through a name sharing memory "
     "with another one read later, are refused (errors.md)"),
    ("`a @ b`", "becomes `np.matmul(a, b)`"),
    ("array methods `x.sum()`, `x.mean()`, `x.prod()`, `x.max()`, `x.min()`, `x.cumsum()`, `x.cumprod()`, "
     "`x.var()`, `x.std()`, `x.dot(y)`, `x.reshape(...)`, `x.transpose(...)`, `x.swapaxes(a, b)`, `x.squeeze()`, "
     "`x.ravel()`, `x.flatten()`, `x.repeat(n)`, `x.trace()`, `x.diagonal()`, `x.clip(a, b)`, `x.conj()`, "
     "`x.round()`, `x.argmax()`, `x.argmin()`, `x.argsort()`, `x.nonzero()`, `x.all()`, `x.any()`, "
     "`x.take(i)`, "
     "`x.astype(float)`, `x.copy()`, `x.item()`", "become the NumPy functions (`x.item()` the helper `item(x)`); "
     "another method of a differentiable value is refused by name"),
    ("`pow(a, b)`", "becomes `a ** b`"),
    ("array attributes `x.T`, `x.shape`, `x.ndim`, `x.size`, `x.real`, `x.imag`",
     "become `np.transpose`, `np.shape`, ..."),
    ("`np.r_[a, b, 0:3]`, `np.c_[a, b]`", "become `concatenate_rows([...])`, `concatenate_columns([...])`; "
     "a directive string is refused"),
    ("`np.append(a, b)`, `np.append(a, b, axis)`", "become `np.concatenate` of the flattened `a` and `b`, or "
     "of `a` and `b` along axis"),
    ("`np.einsum` subscripts as a literal, a global string or a local variable that only holds one string", ""),
    ("calls to user functions (keyword arguments, defaults, recursion, other modules)",
     "each callee is transformed for the arguments that carry derivatives"),
    ("keyword-only and positional-only parameters (`def f(w, X, *, l2=0.1)`, `def f(w, /, s)`), of the "
     "differentiated function, its callees, nested `def`s and `lambda`s", "read as ordinary parameters in order: "
     "the derivatives take them by position and by name; one without a default after a parameter with one is "
     "refused"),
    ("nested `def`s and `lambda`s anywhere (assigned, called in place, passed to a helper), reading enclosing "
     "variables, nested at any depth", "a lambda becomes a def; a nested function is lifted in reverse mode"),
    ("a `lambda` as the function differentiated (`sd.grad(lambda x: ...)`, `f = lambda x: ...`)",
     "several lambdas on one line are told apart by their code's source positions"),
    ("`functools.partial` of a user function (given, global, or made inside), bound methods "
     "(`sd.grad(model.loss)`, `self.helper(x)`), instances of classes defining `__call__`",
     "the arguments a given or global partial fixes and `self` are constants; a partial made inside (assigned, "
     "called where it is made, or passed on) becomes a nested def, and the derivatives of what it fixes flow"),
    ("functions passed to a user function (`apply(np.sin, x)`, `apply(helper, x)`, `apply(lambda t: t * a, x)`), "
     "closures over functions passed in", "the callee is specialised to them (a nested copy for a nested function)"),
    ("`f(*args)` of a user function, `*args` parameters of called functions, `for a, b in zip(*rows)`",
     "`*args` is spelled out per number of arguments"),
    ("module aliases (`import numpy as xp`, `from math import sin as s`)", "resolved to the objects they name"),
    ("`assert`, `raise`, `pass`, docstrings", "kept as written"),
]

REFUSED = ("try/except, with, yield, async, global and nonlocal declarations, del, class definitions, imports "
           "inside the function, `:=`, other generator expressions, set and dict comprehensions, star-unpacking "
           "outside calls and where its length is unknown, `*args` parameters of the differentiated function "
           "and nested functions, `**kwargs` parameters, match, for/while ... else, functions whose source is "
           "unavailable, calls with differentiable arguments to functions that have neither a rule nor Python "
           "source of your own (a library's function, an installed package's or the standard library's, is never "
           "read, so it needs a rule), subscripts whose index carries a derivative (of an object other than an array, "
           "list, tuple or dict: checked where the code runs), methods called for their "
           "effect on a local value (`y.sort()`, `y.fill(0.0)`, `rng.shuffle(y)`: they may change it in place), "
           "and complex numbers (arguments, constants, globals and types; the rules are written for real values).")


def second_order_gaps(templates="tangents"):
    """{primitive: the helpers its tangent template calls that have no rules of their own}: the primitives
    whose second derivatives (a tangent differentiated again) are refused, naming the helper. With
    templates="adjoints", those of its adjoint: forward mode over reverse-mode code refuses them."""
    gaps = {}
    for rule in RULES.values():
        for template in filter(shipped, getattr(rule, templates).values()):
            for node in gast.walk(gast.Module(body=template.body, type_ignores=[])):
                if isinstance(node, gast.Call):
                    for module in (np, math):  # M in a template is either
                        called = _resolved(node.func, template.scope, module)
                        if callable(called):
                            gaps.setdefault(rule.name, set()).update(_undifferentiable(called))
    return {name: sorted(helpers) for name, helpers in sorted(gaps.items()) if helpers}


def _undifferentiable(obj, seen=None):
    """The spellings of what a call of obj reaches that forward mode cannot follow: obj itself, or for a
    helper read for its derivatives, what its source calls (transitively)."""
    if any(obj is f for f in ITERATOR_BUILTINS) or ufunc_at(obj) in FOLLOWED_AT:  # rewritten by normalization
        return set()
    if not getattr(obj, "sd_read_for_derivatives", False):
        return set() if _differentiable(obj) else {spelling(obj)}
    seen = set() if seen is None else seen
    if obj in seen:
        return set()
    seen.add(obj)
    tree = gast.parse(textwrap.dedent(inspect.getsource(obj)))
    missing = set()
    for node in gast.walk(tree):
        if isinstance(node, gast.Call):
            called = _resolved(node.func, obj.__globals__, np)
            if callable(called) and not isinstance(called, type(np)) and not _is_exception(called):
                missing |= _undifferentiable(called, seen)
    return missing


def _is_exception(obj):
    return isinstance(obj, type) and issubclass(obj, BaseException)


def _differentiable(obj):
    """Whether forward mode follows a call of obj: it has tangents, or carries no derivative (a rule that
    only declares linearity, as the vector-mode helpers have, is not enough)."""
    rule = rule_for(obj)
    return rule is not None and bool(rule.tangents or rule.inactive)


def shipped(template):
    """Whether the template is one of sourcediff's own (not a user's, registered with sd.register_tangent)."""
    return template.scope.get("__name__", "").startswith("sourcediff.")


def _resolved(node, scope, module):
    """The object a template's name or dotted name denotes (None for a local or a subscript)."""
    if isinstance(node, gast.Name):
        return module if node.id == "M" else scope.get(node.id, getattr(builtins, node.id, None))
    if isinstance(node, gast.Attribute):
        base = _resolved(node.value, scope, module)
        return getattr(base, node.attr, None) if base is not None else None
    return None


def _except(gaps, templates):
    """The end of a sentence on second derivatives: the primitives whose templates call a helper without rules."""
    if not gaps:
        return "."
    return (f" except these, whose {templates} calls a helper without rules of its own yet (refused, naming the "
            "helper): " + ", ".join(f"`{name}` ({', '.join(helpers)})" for name, helpers in gaps.items()) + ".")


def tangent_text(template):
    lines = [astor.to_source(gast.gast_to_ast(stmt), pretty_source="".join).strip() for stmt in template.body]
    return "; ".join(lines).replace("|", "\\|")


def catalog():
    """The Markdown text of docs/supported.md."""
    rules = sorted(RULES.values(), key=lambda r: r.name)
    out = ["# Supported constructs and primitives", "",
           "Generated from the rule registry by `python -m sourcediff.rules.catalog > docs/supported.md`; "
           "a test keeps it current.", "", "## Constructs", "", "| construct | how it is handled |", "|---|---|"]
    out += [f"| {what} | {how} |" for what, how in CONSTRUCTS]
    out += ["", f"Refused with an `UnsupportedSyntaxError` naming file, line and column: {REFUSED}", "",
            "## Primitives with derivative rules", "",
            "In a template, `z` is the output, `d[x]` the derivative of `x`, `M` the primitive's own module "
            "(`np` or `math`) and `F` the primitive itself. In an adjoint, `d[z]` is the output's cotangent and "
            "`d[x] = e` adds `e` to the cotangent of `x`.", "",
            "| primitive | positional arguments | tangent | adjoint |", "|---|---|---|---|"]
    for rule in rules:
        for nargs, template in sorted(rule.tangents.items(), key=lambda item: item[0] or 0):
            if not shipped(template):
                continue  # a user's rule, registered with sd.register_tangent
            adjoint = rule.adjoints.get(nargs)
            adjoint_text = f"`{tangent_text(adjoint)}`" if adjoint is not None else "(none)"
            out.append(f"| `{rule.name}` | {'any' if nargs is None else nargs} | `{tangent_text(template)}` "
                       f"| {adjoint_text} |")
    out += ["", "The `scipy.*` rules register only when SciPy is installed.", "",
            "## Where a derivative does not exist", ""] + [f"- {text}" for text in ASSUMPTIONS]
    out += ["", "## Second derivatives", "",
            "Every primitive above has second derivatives (sd.hvp, sd.hessian, sd.jvp of sd.jvp, docs/higher-order.md)"
            + _except(second_order_gaps(), "tangent") + " Helpers that are written in primitives with rules are "
            "differentiated by reading their source, as your functions are (`runtime.read_for_derivatives`).", "",
            "sd.jvp of a vjp or gradient function (forward mode over the generated reverse-mode code) follows every "
            "primitive above" + _except(second_order_gaps("adjoints"), "adjoint")]
    inactive = [f"`{r.name}`" for r in rules if r.inactive]
    out += ["", "## Primitives without a derivative", "",
            "Their results carry no derivative (shapes, counts, comparisons, rounding, constructors): "
            + ", ".join(inactive) + ".", ""]
    return "\n".join(out)


if __name__ == "__main__":
    print(catalog(), end="")
