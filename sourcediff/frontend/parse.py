"""Frontend: from a live function object to a gast tree whose free names are resolved to objects.

Names are resolved once, here, so that later stages see `np.exp` whatever alias the user wrote
(`import numpy as xp; xp.exp`, `from math import exp`) and know which calls go to user functions.
"""
import ast
import builtins
import copy
import dis
import functools
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


for _prefix, _module in (("math", math), ("np.linalg", np.linalg), ("np.fft", np.fft), ("np", np), ("copy", copy)):
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
# sourcediff's own package: its runtime helpers, which generated code calls, have rules or are refused
_PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "")


def is_library_function(fn):
    """Whether fn comes from an installed package, the standard library or sourcediff itself. sourcediff
    never reads a library's source (it is written for speed and robustness, not for differentiation): a
    library function is differentiated through its rule, or refused. sourcediff's helpers marked
    read_for_derivatives are read as a user's function is."""
    if getattr(fn, "sd_read_for_derivatives", False):
        return False
    path = os.path.realpath(fn.__code__.co_filename)
    return path.startswith((_STDLIB, _PACKAGE)) or not {"site-packages", "dist-packages"}.isdisjoint(path.split(os.sep))


@dataclass
class SourceInfo:
    """Where a parsed function lives, to turn tree positions into file positions."""

    filename: str
    first_line: int
    indent: int
    lines: list

    def error(self, cls, node, message, hint=None):
        # a node of another function copied into this one (ir.normalize) is located in that one's file
        other = getattr(node, "sd_info", None) or getattr(getattr(node, "sd_origin", None), "sd_info", None)
        if other is not None and other is not self:
            return other.error(cls, node, message, hint)
        lineno = getattr(node, "lineno", None) or 1
        col = (getattr(node, "col_offset", None) or 0) + self.indent
        line = self.lines[lineno - 1] if 0 < lineno <= len(self.lines) else None
        return cls(message, filename=self.filename, lineno=self.first_line + lineno - 1,
                   col=col, line=line, hint=hint)


_MISSING = object()


@dataclass
class ParsedFunction:
    fn: object        # what the user gave: a function, a bound method or a functools.partial of one
    function: object  # the Python function whose source this is
    node: gast.FunctionDef
    info: SourceInfo
    scope: dict = field(default_factory=dict)  # free name -> object (closure cells, globals, bound arguments)
    bound: dict = field(default_factory=dict)  # parameters fixed by a bound method or partial -> their objects
    used: dict = field(default_factory=dict)   # the free names the function actually reads

    def __post_init__(self):
        self.code = self.function.__code__

    def is_current(self):
        """Whether the function's code and the objects its free names denote are unchanged since parsing."""
        if self.function.__code__ is not self.code:
            return False
        cells = dict(zip(self.code.co_freevars, self.function.__closure__ or ()))
        for name, obj in self.used.items():
            if name in self.bound:
                continue  # fixed for the lifetime of the bound method or partial
            if name in cells:
                try:
                    current = cells[name].cell_contents
                except ValueError:
                    return False
            else:
                current = self.function.__globals__.get(name, _MISSING)
            if current is not obj:
                return False
        return True

    @property
    def name(self):
        return self.node.name

    def lookup(self, name):
        """The object a free name refers to: bound argument, closure cell, global, then builtin."""
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


@dataclass(frozen=True)
class WithArity:
    """A function with a *args parameter, called with count arguments in its place: differentiated as a
    def of its own per count, whose parameters args_0, args_1, ... make the tuple args."""

    function: object
    count: int

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)


def unbind(fn):
    """(the Python function under fn, {parameter: object} that fn fixes): a bound method fixes its first
    parameter (self), a functools.partial the parameters its arguments and keywords fill, and a callable
    instance is its bound __call__."""
    if inspect.ismethod(fn):
        function, bound = unbind(fn.__func__)
        first = next(iter(free_parameters(function, bound)), None)
        if first is None:
            raise UnsupportedSyntaxError(f"{fn!r} takes no parameter to bind its instance to")
        return function, {**bound, first: fn.__self__}
    if isinstance(fn, functools.partial):
        function, bound = unbind(fn.func)
        positional = free_parameters(function, bound)
        if len(fn.args) > len(positional):
            raise UnsupportedSyntaxError(f"{fn!r} gives more arguments than {function.__qualname__} takes")
        bound = {**bound, **dict(zip(positional, fn.args))}
        for keyword, value in fn.keywords.items():
            if keyword not in free_parameters(function, bound):
                raise UnsupportedSyntaxError(f"{fn!r} gives the keyword '{keyword}', which is not a free parameter "
                                             f"of {function.__qualname__}")
            bound[keyword] = value
        return function, bound
    if isinstance(fn, WithArity):
        return unbind(fn.function)
    if not inspect.isclass(fn) and inspect.ismethod(getattr(fn, "__call__", None)):
        return unbind(fn.__call__)  # an instance of a class defining __call__
    return fn, {}


def free_parameters(function, bound, count=0, positional=False):
    """The names of function's parameters that bound leaves to the caller, in order, with count
    parameters args_0, args_1, ... in the place of a *args parameter (positional: only those a caller
    may pass by position, before the keyword-only ones)."""
    names = []
    for p in inspect.signature(function).parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            names += vararg_names(p.name, count)
        elif p.name not in bound and not (positional and p.kind is p.KEYWORD_ONLY):
            names.append(p.name)
    return names


def vararg_names(name, count):
    return [f"{name}_{i}" for i in range(count)]


def parameters(fn):
    """The parameters a caller passes to fn (a function, bound method, partial or WithArity), in order."""
    return free_parameters(*unbind(fn), fn.count if isinstance(fn, WithArity) else 0)


GENERATED = "__sourcediff_generated__"  # a key in the globals of the modules sourcediff generates


def is_generated(fn):
    """Whether fn is sourcediff's own generated code (a derivative differentiated again): its stacks and
    in-place helpers are written to be followed as they are, not checked as a user's code is."""
    return getattr(fn, "__globals__", {}).get(GENERATED, False)


def is_user_function(obj):
    """Whether obj is a Python function of the user's (not a library's), or a bound method or
    functools.partial of one: what sourcediff may read."""
    try:
        function = unbind(obj)[0]
    except (TypeError, ValueError, UnsupportedSyntaxError):
        return False
    return inspect.isfunction(function) and not is_library_function(function)


def function_name(fn):
    """A name for fn in generated code: its own, or for a lambda the name it is assigned to."""
    function, _ = unbind(fn)
    if isinstance(fn, functools.partial) and hasattr(fn, "__name__"):
        return fn.__name__
    if function.__name__.isidentifier():
        return function.__name__
    try:
        return locate_lambda(function)[2]
    except UnsupportedSyntaxError:
        return ANONYMOUS


def parse_function(fn, ordinary_parameters=True):
    """Parse a Python function (or a bound method or partial of one) into a ParsedFunction, or raise
    UnsupportedSyntaxError. Parameters a bound method or partial fixes become free names denoting
    their objects. With ordinary_parameters, the keyword-only and positional-only parameters of the
    user's functions become ordinary ones, as the derivatives take them (native code keeps them)."""
    function, bound = unbind(inspect.unwrap(fn))
    if not inspect.isfunction(function):
        raise UnsupportedSyntaxError(
            f"{fn!r} is not a Python function, so sourcediff cannot read its source",
            hint="pass a function defined with def or lambda (or register a rule for it with sd.register_tangent)")
    if is_library_function(function):
        code = function.__code__
        raise UnsupportedSyntaxError(
            f"{function.__module__}.{function.__qualname__} is a library function: sourcediff reads only your "
            "own code", filename=code.co_filename, lineno=code.co_firstlineno,
            hint="call it from a function of yours (docs/supported.md lists the library functions with rules), "
                 "or register a rule for it with sd.register_tangent")
    if function.__name__ == "<lambda>":
        lines, lam, assigned = locate_lambda(function)
        info = SourceInfo(function.__code__.co_filename, 1, 0, [l.rstrip("\n") for l in lines])
        node = lambda_definition(gast.ast_to_gast(lam), assigned)
    else:
        info, node = _parse_definition(function)
    if isinstance(fn, WithArity):
        _spell_out_vararg(node, fn.count)
    # after the spelled-out *args, which a keyword-only parameter follows, and before a partial's
    # keywords are removed, which may name one
    for definition in gast.walk(node) if ordinary_parameters and not is_generated(function) else ():
        if isinstance(definition, (gast.FunctionDef, gast.Lambda)):
            _as_ordinary_parameters(definition, info)
    if bound:
        remove_parameters(node, bound, info)
        node.name = getattr(fn, "__name__", node.name)  # a partial named after what it fixes
    return ParsedFunction(fn, function, node, info, {**free_scope(function), **bound}, bound)


def arguments_in_order(bound):
    """The arguments of a bound signature (its defaults applied) in the order of the parameters, keyword-only
    ones included: the positional arguments of the derivatives, which take them as ordinary parameters."""
    values = []
    for name, parameter in bound.signature.parameters.items():
        if parameter.kind is parameter.VAR_POSITIONAL:
            values.extend(bound.arguments.get(name, ()))
        elif name in bound.arguments:
            values.append(bound.arguments[name])
    return tuple(values)


def _as_ordinary_parameters(definition, info):
    """Positional-only and keyword-only parameters as ordinary ones, in order: the derivatives then take
    them both ways, as every call the function accepts passes them. A keyword-only parameter without a
    default after a parameter with one has no ordinary spelling, and is refused."""
    args = definition.args
    if not (args.posonlyargs or args.kwonlyargs):
        return
    required = [a.id for a, default in zip(args.kwonlyargs, args.kw_defaults) if default is None]
    if required and (args.defaults or any(d is not None for d in args.kw_defaults)):
        raise info.error(UnsupportedSyntaxError, definition,
                         f"the keyword-only parameter {required[0]} has no default, but a parameter before it has "
                         "one", f"give {required[0]} a default, or make it an ordinary parameter before the defaults")
    args.args = args.posonlyargs + args.args + args.kwonlyargs
    args.defaults = args.defaults + [d for d in args.kw_defaults if d is not None]
    args.posonlyargs, args.kwonlyargs, args.kw_defaults = [], [], []


def _parse_definition(function):
    code = function.__code__
    try:
        lines, first_line = inspect.getsourcelines(function)
    except (OSError, TypeError) as exc:
        raise UnsupportedSyntaxError(
            f"the source of {function.__qualname__} is unavailable ({exc})",
            filename=code.co_filename, lineno=code.co_firstlineno,
            hint="define the function in a .py file (not in an interactive prompt or exec string)")
    indent = len(lines[0]) - len(lines[0].lstrip()) if lines else 0
    info = SourceInfo(code.co_filename, max(first_line, 1), indent, [l.rstrip("\n") for l in lines])
    module = gast.parse(textwrap.dedent("".join(lines)))
    node = module.body[0]
    node.decorator_list = []
    return info, node


ANONYMOUS = "anonymous"


def locate_lambda(function):
    """(the lines of the file defining function, its ast.Lambda, the name it is assigned to or
    "anonymous"). Several lambdas starting on one line are told apart by the source positions of
    their code and by their parameters."""
    code = function.__code__
    try:
        lines, _ = inspect.findsource(function)
    except (OSError, TypeError) as exc:
        raise UnsupportedSyntaxError(
            f"the source of {function.__qualname__} is unavailable ({exc})",
            filename=code.co_filename, lineno=code.co_firstlineno,
            hint="define the lambda in a .py file (not in an interactive prompt or exec string)")
    tree = ast.parse("".join(lines))
    parameters = list(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])
    positions = code.co_positions() if hasattr(code, "co_positions") else ()  # Python 3.11 and later
    spans = [(l, c, el, ec) for l, el, c, ec in positions if None not in (l, el, c, ec) and (l, c) < (el, ec)]
    candidates = [n for n in ast.walk(tree) if isinstance(n, ast.Lambda) and n.lineno == code.co_firstlineno
                  and [a.arg for a in n.args.posonlyargs + n.args.args + n.args.kwonlyargs] == parameters
                  and all(_within(span, n.body) for span in spans)]
    if spans:  # a lambda within another contains the inner one's code too: the innermost is the one
        candidates = [min(candidates, key=_extent)] if candidates else []
    elif len(candidates) > 1:  # no positions (Python 3.10): what its code reads tells them apart
        candidates = [n for n in candidates if _reads(n) == _code_reads(code)] or candidates
    if len(candidates) != 1:
        what = "several lambdas that could be" if candidates else "no lambda that matches"
        raise UnsupportedSyntaxError(
            f"line {code.co_firstlineno} holds {what} {function.__qualname__}, so sourcediff cannot tell which "
            "to differentiate", filename=code.co_filename, lineno=code.co_firstlineno,
            line=lines[code.co_firstlineno - 1].rstrip("\n"),
            hint="assign the lambda to a name on a line of its own, or define it with def")
    return lines, candidates[0], _assigned_name(tree, candidates[0])


def _reads(lam):
    """The names (with repeats) and constants a lambda's body reads, lambdas nested in it excluded."""
    nodes, pending = [], [lam.body]
    while pending:
        node = pending.pop()
        nodes.append(node)
        if not isinstance(node, ast.Lambda):
            pending.extend(ast.iter_child_nodes(node))
    names = [n.id for n in nodes if isinstance(n, ast.Name)] + [n.attr for n in nodes if isinstance(n, ast.Attribute)]
    return sorted(names), sorted(repr(n.value) for n in nodes if isinstance(n, ast.Constant) and n.value is not None)


def _code_reads(code):
    """The same read off the lambda's bytecode."""
    loads = [i for i in dis.get_instructions(code) if i.opname.startswith("LOAD_")]
    names = [i.argval for i in loads if i.opname != "LOAD_CONST" and isinstance(i.argval, str)]
    constants = [repr(i.argval) for i in loads if i.opname == "LOAD_CONST" and i.argval is not None
                 and not inspect.iscode(i.argval)]
    return sorted(names), sorted(constants)


def _within(span, node):
    line, col, end_line, end_col = span
    return (node.lineno, node.col_offset) <= (line, col) and (end_line, end_col) <= (node.end_lineno, node.end_col_offset)


def _extent(node):
    return (node.end_lineno - node.lineno, node.end_col_offset - node.col_offset)


def _assigned_name(tree, lam):
    """The name `name = lambda ...` (or `a, b = lambda ..., lambda ...`) gives lam, else "anonymous"."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            pairs = [(node.targets[0], node.value)]
            if isinstance(node.value, ast.Tuple) and isinstance(node.targets[0], ast.Tuple) and \
                    len(node.value.elts) == len(node.targets[0].elts):
                pairs = zip(node.targets[0].elts, node.value.elts)
            for target, value in pairs:
                if value is lam and isinstance(target, ast.Name):
                    return target.id
    return ANONYMOUS


def lambda_definition(lam, name):
    """The def equivalent to a gast Lambda: `def name(args): return body`."""
    ret = gast.copy_location(gast.Return(value=lam.body), lam.body)
    node = gast.FunctionDef(name=name, args=lam.args, body=[ret], decorator_list=[],
                            returns=None, type_comment=None, type_params=[])
    return gast.copy_location(node, lam)


def remove_parameters(node, bound, info):
    """Drop the parameters bound fixes (and their defaults) from a def: they become free names."""
    args = node.args
    defaults = dict(zip([a.id for a in args.args][len(args.args) - len(args.defaults):], args.defaults))
    args.args = [a for a in args.args if a.id not in bound]
    args.defaults = [defaults[a.id] for a in args.args if a.id in defaults]
    for n in gast.walk(node):
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store) and n.id in bound:
            raise info.error(UnsupportedSyntaxError, n, f"'{n.id}' is fixed (by a bound method, a functools.partial "
                             "or a function passed in) and assigned here",
                             f"assign the new value to another name than '{n.id}'")


def _spell_out_vararg(node, count):
    """`def f(a, *xs)` as `def f(a, xs_0, xs_1): xs = (xs_0, xs_1)` for calls with two arguments for xs."""
    vararg = node.args.vararg
    spelled = vararg_names(vararg.id, count)
    node.args.args += [gast.Name(id=n, ctx=gast.Param(), annotation=None, type_comment=None) for n in spelled]
    node.args.vararg = None
    if count:  # arguments for the *args parameter fill every parameter before it
        node.args.defaults = []
    pack = gast.Assign(targets=[gast.Name(id=vararg.id, ctx=gast.Store(), annotation=None, type_comment=None)],
                       value=gast.Tuple(elts=[gast.Name(id=n, ctx=gast.Load(), annotation=None, type_comment=None)
                                              for n in spelled], ctx=gast.Load()), type_comment=None)
    node.body.insert(0, gast.copy_location(pack, node))


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
