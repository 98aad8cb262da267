"""docs/supported.md, generated from the rule registry so the page cannot drift from the code.

Regenerate with `python -m sourcediff.rules.catalog > docs/supported.md`.
"""
import astor
import gast

from . import RULES

CONSTRUCTS = [
    ("assignment, reassignment, augmented assignment (`+=`, `*=`, ...)", "augmented forms become plain ones"),
    ("tuple unpacking `a, b = b, a + b`, multiple targets", "every right-hand side is evaluated first"),
    ("`if` / `elif` / `else`, conditional expressions `a if c else b`", "a conditional expression becomes an if"),
    ("comparisons, chained comparisons `0 < x < 1`, `and` / `or` / `not` in conditions",
     "carry no derivative; `and`/`or` on differentiable values is refused"),
    ("`for` over `range(n)`, `range(a, b)`, `range(a, b, s)`", ""),
    ("`for` over arrays, lists and tuples, `enumerate`, `zip`, `enumerate(zip(...))`",
     "become loops over range with explicit indexing"),
    ("`while` with data-dependent trip counts, `break`, `continue`", ""),
    ("early and multiple `return`s, tuple returns", "a tuple-valued function has a tuple tangent"),
    ("lists: literals, indexing, `append`, list comprehensions", "a comprehension becomes a loop with append"),
    ("dict and tuple arguments (reading `params['W']`, `W, b = params`)", "their tangents have the same structure"),
    ("subscripts and slices, `np.newaxis` / `None`, negative indices, integer-array and boolean-mask indexing", ""),
    ("in-place subscript writes `x[i] = v`, `x[i] += v`, `x[:, j] *= s`", ""),
    ("`a @ b`", "becomes `np.matmul(a, b)`"),
    ("array methods `x.sum()`, `x.mean()`, `x.prod()`, `x.max()`, `x.min()`, `x.cumsum()`, `x.dot(y)`, "
     "`x.reshape(...)`, `x.transpose(...)`, `x.squeeze()`, `x.ravel()`, `x.flatten()`, `x.clip(a, b)`, "
     "`x.astype(float)`, `x.copy()`", "become the NumPy functions"),
    ("array attributes `x.T`, `x.shape`, `x.ndim`, `x.size`", "become `np.transpose`, `np.shape`, ..."),
    ("calls to user functions (keyword arguments, defaults, recursion, other modules)",
     "each callee is transformed for the arguments that carry derivatives"),
    ("nested `def`s and `lambda`s anywhere (assigned, called in place, passed to a helper), reading enclosing "
     "variables, nested at any depth", "a lambda becomes a def; a nested function is lifted in reverse mode"),
    ("a `lambda` as the function differentiated (`sd.grad(lambda x: ...)`, `f = lambda x: ...`)",
     "several lambdas on one line are told apart by their code's source positions"),
    ("`functools.partial` of a user function (given, global, or made inside), bound methods "
     "(`sd.grad(model.loss)`, `self.helper(x)`), instances of classes defining `__call__`",
     "the arguments they fix and `self` are constants"),
    ("functions passed to a user function (`apply(np.sin, x)`, `apply(helper, x)`, `apply(lambda t: t * a, x)`), "
     "closures over functions passed in", "the callee is specialised to them (a nested copy for a nested function)"),
    ("`f(*args)` of a user function, `*args` parameters of called functions, `for a, b in zip(*rows)`",
     "`*args` is spelled out per number of arguments"),
    ("module aliases (`import numpy as xp`, `from math import sin as s`)", "resolved to the objects they name"),
    ("`assert`, `raise`, `pass`, docstrings", "kept as written"),
]

REFUSED = ("try/except, with, yield, async, global and nonlocal declarations, del, class definitions, imports "
           "inside the function, `:=`, generator expressions, set and dict comprehensions, star-unpacking "
           "outside calls and where its length is unknown, `*args` parameters of the differentiated function "
           "and nested functions, `**kwargs` parameters, match, for/while ... else, functions whose source is unavailable, "
           "and calls with differentiable arguments to functions that have neither a rule nor Python source.")


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
            if not template.scope.get("__name__", "").startswith("sourcediff."):
                continue  # a user's rule, registered with sd.register_tangent
            adjoint = rule.adjoints.get(nargs)
            adjoint_text = f"`{tangent_text(adjoint)}`" if adjoint is not None else "(none)"
            out.append(f"| `{rule.name}` | {'any' if nargs is None else nargs} | `{tangent_text(template)}` "
                       f"| {adjoint_text} |")
    inactive = [f"`{r.name}`" for r in rules if r.inactive]
    out += ["", "## Primitives without a derivative", "",
            "Their results carry no derivative (shapes, counts, comparisons, rounding, constructors): "
            + ", ".join(inactive) + ".", ""]
    return "\n".join(out)


if __name__ == "__main__":
    print(catalog(), end="")
