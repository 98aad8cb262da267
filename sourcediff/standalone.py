"""A standalone module: generated derivatives with everything they call written out as source.

The module imports only NumPy and the standard library. It holds the runtime helpers the derivatives
call (copied from sourcediff's own source, with what they call in turn), the user's functions they
call (the entry functions' primals, inactive helpers) and the user's constants. An object that cannot
be written as source (an array, a closure, a module outside NumPy and the standard library) raises
StandaloneError naming where the user's code reads it.
"""
import ast
import functools
import inspect
import math
import sys
import textwrap

import numpy as np

from .errors import SourceDiffError
from .frontend.parse import canonical_name, function_name, locate_lambda

# The modules a canonical spelling's prefix stands for.
_SPELLED_MODULES = {"np": "numpy", "np.linalg": "numpy.linalg", "math": "math", "copy": "copy"}
_LITERALS = (bool, int, float, complex, str, bytes, type(None))


class StandaloneError(SourceDiffError):
    """Something the derivatives need cannot be written into a standalone module."""


def standalone_module(generated_source, namespace, header, user_functions=()):
    """The text of a module that defines generated_source's functions without importing sourcediff.

    namespace maps the generated code's global names to objects (a Derivation's namespace.objects);
    header is the comment block it starts with; user_functions are the differentiated functions, to
    point errors at the line that reads an object.
    """
    module = _Module(user_functions)
    tree = ast.parse(generated_source)
    defined = {node.name for node in tree.body}
    for name in defined:
        module.claim(name, ("generated", name))
    for name in _free_names(tree):
        if name not in defined and name in namespace:
            module.require(name, namespace[name], None)
    sections = [header.rstrip("\n") + "\n" + "\n".join(module.import_lines())]
    if module.library:
        origins = ", ".join(m.__name__.replace(".", "/") + ".py" for m in reversed(module.modules))
        sections.append(f"# Helpers the derivatives call, copied from {origins}.\n\n\n"
                        + "\n\n\n".join(module.library_sources()))
    if module.constants or module.user:
        comment = "# The user's code the derivatives call." + "".join("\n" + line for line in module.constants)
        sections.append("\n\n\n".join([comment] + module.user))
    sections.append("# The derivatives.\n\n\n" + generated_source.rstrip("\n"))
    return "\n\n\n".join(sections) + "\n"


@functools.lru_cache(maxsize=None)
def _module_source(module):
    source = inspect.getsource(module)
    return source, ast.parse(source)


def _free_names(tree):
    """Global names a module's top-level definitions read, in a fixed order (breadth first)."""
    names = {}
    for top in tree.body:
        local = set()
        for node in ast.walk(top):
            if isinstance(node, (ast.FunctionDef, ast.Lambda)):
                arguments = node.args
                local |= {a.arg for a in arguments.args + arguments.kwonlyargs + arguments.posonlyargs
                          + [arguments.vararg, arguments.kwarg] if a is not None}
            if isinstance(node, ast.FunctionDef) and node is not top:
                local.add(node.name)
            elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                local.add(node.id)
        for node in ast.walk(top):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in local:
                names.setdefault(node.id)
    return list(names)


def _same(a, b):
    return a is b or (type(a) in _LITERALS and type(a) is type(b) and a == b)


class _Module:
    """The top-level names of the module being written, and the source that defines each."""

    def __init__(self, user_functions):
        self.user_functions = list(user_functions)
        self.names = {}      # top-level name -> the object it must denote
        self.imports = set()
        self.library = {}    # (module rank, line) -> source of a sourcediff definition
        self.modules = []    # sourcediff modules whose definitions are copied, in order of discovery
        self.constants = []  # assignments of the user's constants: first, as defaults may read them
        self.user = []       # sources of user functions, in order of discovery

    def claim(self, name, obj, reader=None):
        """Reserve name for obj; False if it already denotes obj (nothing more to write)."""
        if name in self.names:
            if _same(self.names[name], obj):
                return False
            raise self.error(f"two different objects are named '{name}': a standalone module has one "
                             "namespace for all of them", name, reader,
                             "rename one of them, or use the derivative in-process (sd.vjp, sd.jvp)")
        self.names[name] = obj
        return True

    def require(self, name, obj, reader):
        """Write a definition of name denoting obj; reader is the user function that reads it (or None)."""
        if callable(obj) and hasattr(obj, "__wrapped__"):
            obj = inspect.unwrap(obj)  # a decorated function (@sd.adjoint): its source is copied without decorators
        if not self.claim(name, obj, reader):
            return
        if inspect.ismodule(obj):
            line = _import_line(obj.__name__, name)
            if line is None:
                raise self.error(f"'{name}' is the module {obj.__name__}, which a standalone module cannot import",
                                 name, reader, "standalone modules import only NumPy and the standard library")
            self.imports.add(line)
        elif (getattr(obj, "__module__", None) or "").split(".")[0] == "sourcediff" and (
                inspect.isfunction(obj) or inspect.isclass(obj)):
            self.copy_library(sys.modules[obj.__module__], obj.__name__, name)
        elif canonical_name(obj) is not None:
            prefix, _, attr = canonical_name(obj).rpartition(".")
            if not prefix:
                if attr != name:
                    self.constants.append(f"{name} = {attr}")
            else:
                self.imports.add(f"from {_SPELLED_MODULES[prefix]} import {attr}" + (f" as {name}" if attr != name else ""))
        elif inspect.isfunction(obj):
            self.copy_function(name, obj, reader)
        elif isinstance(obj, functools.partial) and not obj.args:
            self.copy_specialisation(name, obj, reader)
        elif _is_literal(obj):
            self.constants.append(f"{name} = {obj!r}")
        else:
            raise self.error(f"'{name}' is {_describe(obj)}, which cannot be written as source into a "
                             "standalone module", name, reader,
                             f"pass {name} as an argument of the function, or use the derivative in-process "
                             "(sd.vjp, sd.jvp)")

    def copy_function(self, name, fn, reader):
        """Write fn's own source (without decorators), then what it reads."""
        if fn.__closure__:
            raise self.error(f"'{name}' is a closure ({fn.__qualname__}); a standalone module holds only "
                             "module-level functions", name, reader,
                             "define it at module level, passing what it captures as arguments")
        if fn.__name__ == "<lambda>":
            lines, lam, _ = locate_lambda(fn)
            text = f"{name} = {ast.get_source_segment(''.join(lines), lam)}"
        else:
            try:
                lines, _ = inspect.getsourcelines(fn)
            except (OSError, TypeError):
                raise self.error(f"the source of '{name}' ({fn.__qualname__}) is unavailable", name, reader,
                                 "define it in a .py file") from None
            text = textwrap.dedent("".join(lines))
            node = ast.parse(text).body[0]
            text = "".join(text.splitlines(True)[node.lineno - 1:])
            if fn.__name__ != name:
                text += f"\n\n{name} = {fn.__name__}"
                self.claim(fn.__name__, fn, reader)
        self.user.append(text.rstrip("\n"))
        self.user_functions.append(fn)
        for free in _free_names(ast.parse(text)):
            if free in fn.__globals__:
                self.require(free, fn.__globals__[free], fn)

    def copy_specialisation(self, name, partial, reader):
        """`name = functools.partial(f, h=g)`, a user function specialised to the functions passed to it."""
        spelled = []
        for obj in (partial.func, *partial.keywords.values()):
            canonical = canonical_name(obj)
            if canonical is not None and "." in canonical:
                self.require(canonical.split(".")[0], {"np": np, "math": math}[canonical.split(".")[0]], reader)
                spelled.append(canonical)
            else:
                spelled.append(function_name(obj))
                self.require(spelled[-1], obj, reader)
        self.imports.add("import functools")
        keywords = "".join(f", {k}={v}" for k, v in zip(partial.keywords, spelled[1:]))
        self.user.append(f"{name} = functools.partial({spelled[0]}{keywords})")

    def copy_library(self, module, attr, name):
        """Copy sourcediff's top-level definition of attr (and what it reads) from module's source."""
        if attr != name:
            raise self.error(f"'{name}' is sourcediff's {attr} under another name", name, None,
                             "import it under its own name")
        if module not in self.modules:
            self.modules.append(module)
        source, tree = _module_source(module)
        node = next((node for node in tree.body if _defines(node, attr)), None)
        if node is None:
            raise self.error(f"cannot find the definition of {attr} in {module.__name__}", name, None)
        self.library[(self.modules.index(module), node.lineno)] = ast.get_source_segment(source, node)
        for free in sorted({n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}):
            if free == attr or not hasattr(module, free):
                continue
            value = getattr(module, free)
            if inspect.ismodule(value) or inspect.isfunction(value) or inspect.isclass(value):
                self.require(free, value, None)
            elif self.claim(free, value):  # a constant of the module, such as MISSING = object()
                self.copy_library(module, free, free)

    def library_sources(self):
        """sourcediff's definitions, the modules discovered last (what the others import) first."""
        return [self.library[key] for key in sorted(self.library, key=lambda k: (-k[0], k[1]))]

    def import_lines(self):
        """Standard-library imports first, then NumPy; in each group `import` before `from`, sorted."""
        return sorted(self.imports, key=lambda line: (line.split()[1].split(".")[0] == "numpy",
                                                      line.startswith("from"), line))

    def error(self, message, name, reader, hint=None):
        """A StandaloneError at the first place a user function reads name."""
        for fn in ([reader] if reader is not None else self.user_functions):
            location = _location(fn, name)
            if location is not None:
                return StandaloneError(message, hint=hint, **location)
        return StandaloneError(message, hint=hint)


def _import_line(module_name, name):
    """The import that binds the module to name, or None for a module outside NumPy and the standard library."""
    root = module_name.split(".")[0]
    if root != "numpy" and root not in sys.stdlib_module_names:
        return None
    if module_name == name:
        return f"import {module_name}"
    return f"import {module_name} as {name}"


def _defines(node, attr):
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return node.name == attr
    return isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == attr for t in node.targets)


def _is_literal(obj):
    if type(obj) in (tuple, list):
        return all(_is_literal(v) for v in obj)
    if type(obj) is dict:
        return all(_is_literal(k) and _is_literal(v) for k, v in obj.items())
    if type(obj) is float:
        return repr(obj) not in ("nan", "inf", "-inf")
    return type(obj) in _LITERALS


def _describe(obj):
    if hasattr(obj, "shape") and hasattr(obj, "dtype"):
        return f"a {type(obj).__module__.split('.')[0]}.{type(obj).__name__} of shape {obj.shape}"
    return f"a {type(obj).__qualname__} object"


def _location(fn, name):
    """filename, lineno, col and line of the first read of the global name in fn's source, or None."""
    try:
        lines, first = inspect.getsourcelines(fn)
    except (OSError, TypeError):
        return None
    indent = len(lines[0]) - len(lines[0].lstrip())
    try:
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except SyntaxError:
        return None
    reads = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == name]
    if not reads:
        return None
    node = min(reads, key=lambda n: (n.lineno, n.col_offset))
    return {"filename": fn.__code__.co_filename, "lineno": max(first, 1) + node.lineno - 1,
            "col": node.col_offset + indent, "line": lines[node.lineno - 1].rstrip("\n")}
