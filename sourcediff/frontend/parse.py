"""Frontend: from a live function object to a gast tree whose free names are resolved to objects.

Names are resolved once, here, so that later stages see `np.exp` whatever alias the user wrote
(`import numpy as xp; xp.exp`, `from math import exp`) and know which calls go to user functions.
"""
import builtins
import copy
import inspect
import math
import os
import sysconfig
import textwrap
from dataclasses import dataclass, field

import gast
import numpy as np

from ..errors import UnsupportedSyntaxError

# Canonical spelling of every NumPy, math, copy and builtin object generated code may name. Where a
# module has aliases (np.concat, np.concatenate) the name the object calls itself wins.
CANONICAL = {}
PREFERRED = {"np.abs"}


def _rank(spelling, obj):
    short = spelling.rsplit(".", 1)[-1]
    return (spelling in PREFERRED, short == getattr(obj, "__name__", None), -spelling.count("."))


for _prefix, _module in (("math", math), ("np.linalg", np.linalg), ("np", np), ("copy", copy)):
    for _name in sorted(dir(_module)):
        _obj = getattr(_module, _name)
        if _name.startswith("_") or not (callable(_obj) or inspect.ismodule(_obj) or type(_obj) is float):
            continue
        _spelling = f"{_prefix}.{_name}"
        _known = CANONICAL.get(id(_obj))
        if _known is None or _rank(_spelling, _obj) > _rank(_known[1], _obj):
            CANONICAL[id(_obj)] = (_obj, _spelling)
CANONICAL[id(np)] = (np, "np")
CANONICAL[id(math)] = (math, "math")
CANONICAL[id(copy)] = (copy, "copy")
for _name in dir(builtins):
    _obj = getattr(builtins, _name)
    if callable(_obj) and not _name.startswith("_"):
        CANONICAL.setdefault(id(_obj), (_obj, _name))


def canonical_name(obj):
    """The spelling generated code uses for a NumPy, math or builtin object, or None."""
    entry = CANONICAL.get(id(obj))
    return entry[1] if entry is not None and entry[0] is obj else None


_STDLIB = os.path.join(os.path.realpath(sysconfig.get_paths()["stdlib"]), "")


def is_library_function(fn):
    """Whether fn comes from an installed package or the standard library. sourcediff never reads a
    library's source (it is written for speed and robustness, not for differentiation): a library
    function is differentiated through its rule, or refused."""
    path = os.path.realpath(fn.__code__.co_filename)
    return path.startswith(_STDLIB) or not {"site-packages", "dist-packages"}.isdisjoint(path.split(os.sep))


@dataclass
class SourceInfo:
    """Where a parsed function lives, to turn tree positions into file positions."""

    filename: str
    first_line: int
    indent: int
    lines: list

    def error(self, cls, node, message, hint=None):
        lineno = getattr(node, "lineno", None) or 1
        col = (getattr(node, "col_offset", None) or 0) + self.indent
        line = self.lines[lineno - 1] if 0 < lineno <= len(self.lines) else None
        return cls(message, filename=self.filename, lineno=self.first_line + lineno - 1,
                   col=col, line=line, hint=hint)


_MISSING = object()


@dataclass
class ParsedFunction:
    fn: object
    code: object
    node: gast.FunctionDef
    info: SourceInfo
    scope: dict = field(default_factory=dict)  # free name -> object (closure cells, globals)
    used: dict = field(default_factory=dict)   # the free names the function actually reads

    def is_current(self):
        """Whether fn's code and the objects its free names denote are unchanged since parsing."""
        if self.fn.__code__ is not self.code:
            return False
        cells = dict(zip(self.code.co_freevars, self.fn.__closure__ or ()))
        for name, obj in self.used.items():
            if name in cells:
                try:
                    current = cells[name].cell_contents
                except ValueError:
                    return False
            else:
                current = self.fn.__globals__.get(name, _MISSING)
            if current is not obj:
                return False
        return True

    @property
    def name(self):
        return self.node.name

    def lookup(self, name):
        """The object a free name refers to: closure cell, global, then builtin."""
        if name in self.scope:
            self.used[name] = self.scope[name]
            return True, self.scope[name]
        if hasattr(builtins, name):
            return True, getattr(builtins, name)
        return False, None

    def resolve(self, node, local_names):
        """The object an expression of free names and attributes denotes, else (False, None)."""
        if isinstance(node, gast.Name):
            if node.id in local_names:
                return False, None
            return self.lookup(node.id)
        if isinstance(node, gast.Attribute):
            found, base = self.resolve(node.value, local_names)
            if found and hasattr(base, node.attr):
                return True, getattr(base, node.attr)
        return False, None


def parse_function(fn):
    """Parse a Python function into a ParsedFunction, or raise UnsupportedSyntaxError."""
    fn = inspect.unwrap(fn)
    if not inspect.isfunction(fn):
        raise UnsupportedSyntaxError(
            f"{fn!r} is not a Python function, so sourcediff cannot read its source",
            hint="pass a function defined with def (or register a rule for it with sd.register_tangent)")
    code = fn.__code__
    if is_library_function(fn):
        raise UnsupportedSyntaxError(
            f"{fn.__module__}.{fn.__qualname__} is a library function: sourcediff reads only your own code",
            filename=code.co_filename, lineno=code.co_firstlineno,
            hint="call it from a function of yours (docs/supported.md lists the library functions with rules), "
                 "or register a rule for it with sd.register_tangent")
    try:
        lines, first_line = inspect.getsourcelines(fn)
    except (OSError, TypeError) as exc:
        raise UnsupportedSyntaxError(
            f"the source of {fn.__qualname__} is unavailable ({exc})",
            filename=code.co_filename, lineno=code.co_firstlineno,
            hint="define the function in a .py file (not in an interactive prompt or exec string)")
    source = "".join(lines)
    dedented = textwrap.dedent(source)
    indent = len(lines[0]) - len(lines[0].lstrip()) if lines else 0
    info = SourceInfo(code.co_filename, max(first_line, 1), indent, [l.rstrip("\n") for l in lines])
    try:
        module = gast.parse(dedented)
    except SyntaxError:
        module = None
    node = _find_definition(module, fn) if module is not None else None
    if node is None:
        raise UnsupportedSyntaxError(
            f"cannot isolate the definition of {fn.__qualname__} in its source",
            filename=code.co_filename, lineno=code.co_firstlineno,
            hint="define the function with def, or assign a single lambda to a name on its own line")
    return ParsedFunction(fn, code, node, info, free_scope(fn))


def free_scope(fn):
    """The objects fn's free names refer to right now: its globals and closure cells."""
    scope = dict(fn.__globals__)
    if fn.__closure__:
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
            try:
                scope[name] = cell.cell_contents
            except ValueError:  # an empty cell: the name is assigned after the definition
                pass
    return scope


def _find_definition(module, fn):
    """The FunctionDef for fn; a lambda becomes an equivalent FunctionDef."""
    for stmt in module.body:
        if isinstance(stmt, (gast.FunctionDef, gast.AsyncFunctionDef)):
            stmt.decorator_list = []
            return stmt
    lambdas = [n for n in gast.walk(module) if isinstance(n, gast.Lambda)]
    if len(lambdas) != 1:
        return None
    lam = lambdas[0]
    ret = gast.Return(value=lam.body)
    gast.copy_location(ret, lam.body)
    name = fn.__name__ if fn.__name__.isidentifier() else "lambda_"
    node = gast.FunctionDef(name=name, args=lam.args, body=[ret], decorator_list=[],
                            returns=None, type_comment=None, type_params=[])
    return gast.copy_location(node, lam)
