"""Emission: deterministic source text with provenance comments, compiled from a real cached file."""
import ast
import hashlib
import linecache
import os
import re
import tempfile

import astor
import gast

from .frontend.parse import GENERATED
from .ir.build import const

_MARKER = "__sourcediff_comment__"
_MARKER_LINE = re.compile(r"^(\s*)(?:'|\"|\"\"\")" + _MARKER + r"(\d+)(?:'|\"|\"\"\")$")


def with_comments(body, comments):
    """body with a comment marker over each group of statements (from one user line) holding derivatives."""
    last_derivative = {}  # origin -> index of the last statement from it holding a derivative
    for i, stmt in enumerate(body):
        if getattr(stmt, "sd_derivative", False):
            last_derivative[getattr(stmt, "sd_origin", None)] = i
    out = []
    previous = None
    for i, stmt in enumerate(body):
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list) and getattr(stmt, field):
                setattr(stmt, field, with_comments(getattr(stmt, field), comments))
        origin = getattr(stmt, "sd_origin", None)
        compound = isinstance(stmt, (gast.If, gast.For, gast.While, gast.FunctionDef))
        if origin is not None and origin is not previous and not compound:
            text = getattr(origin, "sd_text", None)
            if text and last_derivative.get(origin, -1) >= i:  # the group from here on holds a derivative
                comments.append(text)
                out.append(gast.Expr(value=const(f"{_MARKER}{len(comments) - 1}")))
        previous = None if compound else origin
        out.append(stmt)
    return out


def to_ast(node):
    """The Python ast of a gast tree, for astor: the fields Python's node classes have, without source
    locations (the text is what gets compiled). A stand-in for gast.gast_to_ast, several times faster
    on the large functions generated code holds."""
    cls = node.__class__
    convert = _CONVERTERS.get(cls)
    if convert is None:
        target = getattr(ast, cls.__name__)
        convert = _CONVERTERS[cls] = _SPECIAL.get(cls.__name__) or _node_converter(target, target._fields)
    return convert(node)


def _value(value):
    if value.__class__ is list:
        return [to_ast(v) if isinstance(v, gast.AST) else v for v in value]
    return to_ast(value) if isinstance(value, gast.AST) else value


def _node_converter(target, fields):
    def convert(node):
        new = target.__new__(target)
        for field in fields:
            setattr(new, field, _value(getattr(node, field, None)))
        return new
    return convert


def _parameter(node):
    """gast writes parameters as Names; Python as `arg`s."""
    return None if node is None else ast.arg(arg=node.id, annotation=None, type_comment=None)


def _arguments(node):
    return ast.arguments(posonlyargs=[_parameter(a) for a in node.posonlyargs],
                         args=[_parameter(a) for a in node.args], vararg=_parameter(node.vararg),
                         kwonlyargs=[_parameter(a) for a in node.kwonlyargs], kw_defaults=_value(node.kw_defaults),
                         kwarg=_parameter(node.kwarg), defaults=_value(node.defaults))


def _except_handler(node):
    return ast.ExceptHandler(type=_value(node.type), name=node.name.id if node.name else None,
                             body=_value(node.body))


def _constant(node):
    """A constant written with a leading minus (-0.7, -0.0, -2j) becomes a negation of its absolute value:
    astor writes a negative constant as it is, and `-0.7 ** 2` is -(0.7 ** 2), where the tree says
    (-0.7) ** 2; a negation it puts in parentheses wherever precedence needs them."""
    value = node.value
    if type(value) in (int, float, complex) and repr(value).startswith("-"):
        return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=-value, kind=None))
    return ast.Constant(value=value, kind=None)


_CONVERTERS = {}
_SPECIAL = {"arguments": _arguments, "ExceptHandler": _except_handler, "Constant": _constant}


def to_source(functions):
    """Python source for a list of gast FunctionDefs, separated by blank lines."""
    comments = []
    chunks = []
    for fdef in functions:
        fdef.body = with_comments(fdef.body, comments)
        module = gast.Module(body=[fdef], type_ignores=[])
        chunks.append(astor.to_source(to_ast(module), pretty_source="".join))
    lines = []
    for line in "\n\n".join(chunks).splitlines():
        match = _MARKER_LINE.match(line)
        lines.append(f"{match.group(1)}# {comments[int(match.group(2))]}" if match else line)
    return "\n".join(lines).rstrip() + "\n"


def cache_directory():
    path = os.environ.get("SOURCEDIFF_CACHE") or os.path.join(tempfile.gettempdir(), f"sourcediff-{os.getuid()}")
    os.makedirs(path, exist_ok=True)
    return path


def compile_source(source, namespace, stem):
    """Execute source in a copy of namespace, from a file named by its hash (so tracebacks and
    inspect.getsource show it), and return the resulting globals."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    filename = os.path.join(cache_directory(), f"{stem}_{digest}.py")
    if not os.path.exists(filename):
        partial = f"{filename}.{os.getpid()}.tmp"
        with open(partial, "w") as f:
            f.write(source)
        os.replace(partial, filename)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec")
    scope = dict(namespace)
    scope[GENERATED] = True
    exec(code, scope)
    return scope
