"""The sourcediff command: show, emit (as a standalone module) and check the derivatives of functions
in a file or module.

Exit codes: 0 success; 1 a function cannot be differentiated (or, for check, its derivatives disagree
with finite differences); 2 a usage error (unknown function, unreadable file, bad option).
"""
import argparse
import copy
import importlib
import importlib.util
import inspect
import os
import shlex
import sys
import tempfile
import traceback
from dataclasses import dataclass

import gast
import numpy as np

from . import __version__
from .api import call_in_order, compare_with_finite_differences, format_comparison, forward_gradient_options, resolve_wrt
from .derivation import Derivation, collector_paused
from .emit import to_source
from .errors import SourceDiffError, UnsupportedSyntaxError
from .frontend.parse import function_name
from .jacobians import jacobian
from .modes.checkpoint import checkpoint_option
from .spec import HELP as SPEC_HELP, SpecError, parse_spec
from .standalone import standalone_module
from .structure import flatten


class UsageError(Exception):
    """A mistake in the command line: reported in one line, exit status 2."""


@dataclass(frozen=True)
class Mode:
    """A transformation the command offers: derive(derivation, fn, wrt_names, options) adds fn's
    derivative to the derivation and returns the names of its entry functions."""

    title: str
    signature: str
    derive: object
    motions: tuple = ()


def _forward(derivation, fn, wrt_names, options):
    return (derivation.function_jvp(fn, wrt_names, entry=True)[0],)


def _reverse(derivation, fn, wrt_names, options):
    if options.motion == "split":
        return derivation.function_grad(fn, wrt_names, motion="split")
    return (derivation.function_grad(fn, wrt_names),)


def _forward_gradient(derivation, fn, wrt_names, options):
    return (derivation.function_forward_gradient(fn, wrt_names, options.distribution, options.antithetic),)


def _hvp(derivation, fn, wrt_names, options):
    """Reverse mode over fn's tangent returning ∇f·v alone (as sd.hvp): the tangent is generated and
    compiled first, then read like any function."""
    inner = Derivation(optimize=derivation.optimize, positional=True)
    tangent = inner.compile(inner.function_jvp(fn, wrt_names, entry=True, tangent_only=True)[0])
    return (derivation.function_grad(tangent, wrt_names),)


def _jacobian(derivation, fn, wrt_names, options):
    """fn's tangent and split vector-Jacobian product, and `fn_jacobian(*args) -> J` that assembles the
    Jacobian from them (jacobians.jacobian, copied into the module: by columns, one tangent per input
    element, where fn has at least as many outputs as inputs, else by rows, one backward sweep per output
    element)."""
    tangent = derivation.function_jvp(fn, wrt_names, entry=True)[0]
    forward, backward = derivation.function_grad(fn, wrt_names, motion="split")
    forward_def = next(d for d in derivation.functions if d.name == forward)
    params = [a.id for a in forward_def.args.args]
    entry = derivation.namespace.reserve(f"{function_name(fn)}_jacobian")
    assemble = derivation.namespace.bind("jacobian", jacobian)
    positions = tuple(params.index(n) for n in wrt_names)
    text = (f"def {entry}():\n    return {assemble}({tangent}, {forward}, {backward}, ({', '.join(params)},), "
            f"{positions}, {len(wrt_names) > 1}, {function_name(fn)!r})\n")
    fdef = gast.parse(text).body[0]
    fdef.args = copy.deepcopy(forward_def.args)
    derivation.add(fdef, derivation.parsed[fn])
    return (entry,)


MODES = {
    "forward": Mode("forward mode (tangents)", "(*args, *tangents) -> (value, tangent)", _forward),
    "reverse": Mode("reverse mode (adjoints)", "(*args, cotangent) -> (value, cotangents), or with --motion split "
                    "forward(*args) -> (value, saved) and backward(saved, cotangent) -> cotangents",
                    _reverse, motions=("joint", "split")),
    "forward-gradient": Mode("forward gradient", "(*args, rng=None) -> (value, (∇f·v) v for random directions v)",
                             _forward_gradient),
    "hvp": Mode("Hessian-vector product", "(*args, v, 1.0) -> (∇f·v, H v), v shaped like the wrt arguments",
                _hvp),
    "jacobian": Mode("Jacobian", "(*args) -> J, shaped value.shape + x.shape (a tuple of blocks for several --wrt "
                     "arguments)", _jacobian),
}


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2) and examples kept as written."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs)

    def error(self, message):
        raise UsageError(f"{message} (see {self.prog} --help)")


def _parser():
    parser = _Parser(prog="sourcediff", description=__doc__.split("\n\n")[0],
                     epilog="example:\n  sourcediff show examples/logistic_regression.py loss --mode reverse")
    parser.add_argument("--version", action="version", version=f"sourcediff {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{show,emit,check}",
                                     parser_class=_Parser)
    common = _Parser(add_help=False)
    common.add_argument("target", metavar="TARGET", help="a Python file (models/loss.py) or an importable module (pkg.models)")
    common.add_argument("--traceback", action="store_true", help="show Python's traceback with an error")
    derive = _Parser(add_help=False)
    derive.add_argument("funcs", nargs="+", metavar="FUNC", help="functions of TARGET to differentiate")
    derive.add_argument("--wrt", default="0", help="the parameters to differentiate with respect to: names or "
                        "positions separated by commas (default: the first parameter)")
    derive.add_argument("--mode", required=True, choices=sorted(MODES),
                        help="; ".join(f"{name}: {mode.signature}" for name, mode in MODES.items()))
    derive.add_argument("--motion", choices=("joint", "split"),
                        help="reverse mode only: one joint function (default), or a forward and a backward one")
    derive.add_argument("--checkpoint", nargs="?", type=_positive, const=True, default=None, metavar="K",
                        help="reverse mode only: keep each loop's state every K iterations (default √n) and run "
                        "the segments again backwards, rather than save every iteration")
    derive.add_argument("--directions", type=_positive, default=1,
                        help="forward gradient only: directions per call, on a leading axis when more than one")
    derive.add_argument("--distribution", choices=("normal", "rademacher"), default="normal",
                        help="forward gradient only: of the directions' entries (default normal)")
    derive.add_argument("--antithetic", action="store_true",
                        help="forward gradient only: pair each direction v with -v (an even --directions)")
    derive.add_argument("--no-optimize", action="store_true",
                        help="skip the clean-up passes (copy propagation, dead-code removal, folding)")

    commands.add_parser("show", parents=[common, derive], help="print the generated source",
                        description="Print the generated derivative source (highlighted on a terminal when "
                                    "pygments is installed).",
                        epilog="example:\n  sourcediff show examples/logistic_regression.py loss --mode forward "
                               "--wrt w,b")
    emit = commands.add_parser("emit", parents=[common, derive], help="write a standalone module",
                               description="Write the derivatives into a module that needs only NumPy: the "
                                           "runtime helpers and the user functions they call are copied in.",
                               epilog="example:\n  sourcediff emit examples/mlp.py mlp_loss --mode reverse "
                                      "--wrt params -o mlp_grad.py")
    emit.add_argument("-o", "--output", required=True, metavar="OUT.py", help="the module to write")
    emit.add_argument("--force", action="store_true", help="overwrite OUT.py if it exists")
    check = commands.add_parser("check", parents=[common], help="compare with finite differences",
                                description="Evaluate the derivatives at the inputs --args describes and "
                                            "compare them with central finite differences.\n\n" + SPEC_HELP,
                                epilog="example:\n  sourcediff check examples/logistic_regression.py loss "
                                       "--args 'w=(5,), b=0.1, X=(20, 5), y=(20,)' --wrt w,b")
    check.add_argument("func", metavar="FUNC", help="the function of TARGET to check")
    check.add_argument("--args", required=True, metavar="SPEC", help="the inputs (see above)")
    check.add_argument("--mode", choices=("forward", "reverse"), help="check one mode only (default: both)")
    check.add_argument("--seed", type=int, default=0, help="seed of the random inputs and directions")
    check.add_argument("--directions", type=_positive, default=3, help="random directions to compare along")
    check.add_argument("--wrt", help="names or positions separated by commas (default: every argument that "
                       "holds no integers)")
    return parser


def _positive(text):
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def main(argv=None):
    """Run the command; return its exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    show_traceback = "--traceback" in argv
    try:
        options = _parser().parse_args(argv)
        return COMMANDS[options.command](options, argv)
    except UsageError as exc:
        message = str(exc).replace("\n", " ")  # one line, whatever the user's module raised
        print(f"sourcediff: error: {message}", file=sys.stderr)
        return 2
    except SourceDiffError as exc:
        if show_traceback:
            traceback.print_exc()
        else:
            print(exc, file=sys.stderr)
        return 1


def _show(options, argv):
    derivation, _, _ = _derive(options)
    source = to_source(derivation.functions)
    sys.stdout.write(_highlighted(source, sys.stdout))
    return 0


def _emit(options, argv):
    if os.path.exists(options.output) and not options.force:
        raise UsageError(f"{options.output} exists; pass --force to overwrite it")
    derivation, functions, entries_by_function = _derive(options)
    entries = [name for names in entries_by_function for name in names]
    header = [f"# Generated by sourcediff {__version__}: sourcediff {shlex.join(argv)}",
              "# It needs only NumPy. Regenerate it with that command rather than edit it.",
              f"# The {MODES[options.mode].title} of {', '.join(function_name(fn) for fn in functions)}:"]
    header += [f"#   {', '.join(names)}: {function_name(fn)} with respect to {', '.join(_wrt_names(options, fn))}"
               for fn, names in zip(functions, entries_by_function)]
    text = standalone_module(to_source(derivation.functions), derivation.namespace.objects, "\n".join(header),
                             functions)
    write_atomically(options.output, text, options.force)
    print(f"wrote {options.output}: {', '.join(entries)}")
    return 0


def _check(options, argv):
    fn = _function(_load(options.target), options.target, options.func)
    try:
        args = parse_spec(options.args, fn, np.random.default_rng(options.seed))
    except SpecError as exc:
        raise UsageError(f"--args {options.args!r}: {exc}") from None
    try:
        with np.errstate(all="ignore"):
            value = call_in_order(fn, copy.deepcopy(args))
    except Exception as exc:
        raise UsageError(f"{fn.__qualname__}({options.args}) raised {type(exc).__name__}: {exc}") from None
    if not np.all(np.isfinite(flatten(value))):
        raise UsageError(f"{fn.__qualname__}({options.args}) is not finite; choose inputs in its domain, e.g. "
                         "uniform(0.5, 2, (3,)) for positive values")
    wrt = _wrt(options.wrt) if options.wrt is not None else None
    if wrt is not None:
        _resolve(fn, wrt)
    modes = (options.mode,) if options.mode else ("forward", "reverse")
    wrt_names, rows = compare_with_finite_differences(fn, args, wrt, modes=modes, directions=options.directions,
                                                      seed=options.seed)
    print(f"{fn.__qualname__}({options.args}), with respect to {', '.join(wrt_names)}, against central "
          "finite differences:")
    print(format_comparison(rows))
    failed = sum(not row[-1] for row in rows)
    if failed:
        print(f"{failed} of {len(rows)} comparisons disagree")
        return 1
    print(f"all {len(rows)} comparisons agree")
    return 0


COMMANDS = {"show": _show, "emit": _emit, "check": _check}


def _derive(options):
    """One Derivation holding the derivatives of every FUNC: (derivation, functions, the names of each
    one's entry functions)."""
    mode = MODES[options.mode]
    if options.motion is not None and options.motion not in mode.motions:
        raise UsageError(f"--motion applies to reverse mode only, not --mode {options.mode}")
    module = _load(options.target)
    functions = list(dict.fromkeys(_function(module, options.target, name) for name in options.funcs))

    def derive(derivation, fn):
        with collector_paused():
            return mode.derive(derivation, fn, _wrt_names(options, fn), options)

    directions = None
    if options.mode == "forward-gradient":
        try:
            directions = forward_gradient_options(options.directions, options.distribution, options.antithetic)[0]
        except SourceDiffError as exc:
            raise UsageError(str(exc)) from None
    elif options.directions != 1 or options.antithetic or options.distribution != "normal":
        raise UsageError("--directions, --distribution and --antithetic apply to --mode forward-gradient only")
    if options.checkpoint is not None and options.mode != "reverse":
        raise UsageError(f"--checkpoint applies to --mode reverse only, not --mode {options.mode}")
    derivation = Derivation(directions, optimize=not options.no_optimize, checkpoint=checkpoint_option(options.checkpoint))
    entries = {fn: derive(derivation, fn) for fn in _callees_first(functions, derive)}
    return derivation, functions, [entries[fn] for fn in functions]


def _callees_first(functions, derive):
    """functions ordered so that each comes before those that call it: a FUNC first derived as another's
    callee would be that callee's version, without the entry's check of its arguments."""
    if len(functions) == 1:
        return functions
    calls = {}
    for fn in functions:
        probe = Derivation()
        derive(probe, fn)
        calls[fn] = [other for other in functions if other is not fn and other in probe.parsed]
    ordered = []

    def visit(fn, path):
        if fn not in ordered and fn not in path:
            for callee in calls[fn]:
                visit(callee, path | {fn})
            ordered.append(fn)

    for fn in functions:
        visit(fn, frozenset())
    return ordered


def _wrt(text):
    items = tuple(int(item) if item.strip().lstrip("-").isdigit() else item.strip() for item in text.split(","))
    return items if len(items) > 1 else items[0]


def _wrt_names(options, fn):
    return _resolve(fn, _wrt(options.wrt))


def _resolve(fn, wrt):
    try:
        return resolve_wrt(fn, wrt)
    except SourceDiffError as exc:
        raise UsageError(f"--wrt: {exc}") from None


def _load(target):
    """The module TARGET names: a path to a .py file, or a module importable from the current folder."""
    is_path = target.endswith(".py") or os.sep in target or os.path.exists(target)
    try:
        if is_path:
            if not os.path.isfile(target):
                raise UsageError(f"cannot read {target}: " + ("a folder, not a Python file" if os.path.isdir(target)
                                                              else "no such file"))
            directory, filename = os.path.split(os.path.abspath(target))
            sys.path.insert(0, directory)
            name = os.path.splitext(filename)[0]
            spec = importlib.util.spec_from_file_location(name, target)
            module = importlib.util.module_from_spec(spec)
            if getattr(sys.modules.get(name), "__file__", spec.origin) == spec.origin:
                sys.modules[name] = module  # not where it would shadow another module (a file named copy.py)
            spec.loader.exec_module(module)
            return module
        sys.path.insert(0, os.getcwd())
        return importlib.import_module(target)
    except UsageError:
        raise
    except ModuleNotFoundError as exc:
        if not is_path and exc.name is not None and target.startswith(exc.name):
            raise UsageError(f"cannot import {target}: no module named {exc.name}") from None
        raise UsageError(f"importing {target} failed: {type(exc).__name__}: {exc}") from None
    except Exception as exc:
        raise UsageError(f"importing {target} failed: {type(exc).__name__}: {exc}") from None


def _function(module, target, name):
    """The function FUNC names in module; a method (Class.method) is refused, as it needs an instance."""
    head, _, rest = name.partition(".")
    obj = getattr(module, head, None)
    if obj is None or not head.isidentifier():
        functions = sorted(n for n, v in vars(module).items()
                           if inspect.isfunction(inspect.unwrap(v)) and not n.startswith("_")
                           and inspect.unwrap(v).__module__ == module.__name__)
        raise UsageError(f"{target} has no function '{head}'; its functions are: {', '.join(functions) or 'none'}")
    if rest:
        method = getattr(obj, rest, None) if inspect.isclass(obj) else None
        if method is None:
            raise UsageError(f"'{name}': name a function of {target}, or Class.method")
        code = getattr(inspect.unwrap(method), "__code__", None)
        raise UnsupportedSyntaxError(
            f"{name} is a method, and sourcediff does not differentiate methods from the command line: they "
            "need an instance",
            filename=code.co_filename if code else None, lineno=code.co_firstlineno if code else None,
            hint="move the computation into a module-level function (taking what it reads from self as "
                 "arguments) and differentiate that, or call sd.grad(instance.method) in Python")
    fn = inspect.unwrap(obj)
    if not inspect.isfunction(fn):
        raise UsageError(f"'{name}' in {target} is not a function but {type(obj).__name__}")
    return fn


def write_atomically(path, text, force):
    """Write text to path through a temporary file in the same folder renamed into place, so that an
    interrupted run leaves either the old file or the new one, never a partial module."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        descriptor, partial = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(descriptor, "w") as f:
            _write_text(f, text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(partial, 0o666 & ~umask)
        if not force and os.path.exists(path):
            raise UsageError(f"{path} exists; pass --force to overwrite it")
        os.replace(partial, path)
    except OSError as exc:
        os.unlink(partial)
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        os.unlink(partial)
        raise


def _write_text(f, text):
    f.write(text)


def _highlighted(source, stream):
    """source with terminal colours when stream is a terminal and pygments is installed."""
    if not stream.isatty() or os.environ.get("NO_COLOR"):
        return source
    try:
        from pygments import highlight
        from pygments.formatters import TerminalFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return source
    return highlight(source, PythonLexer(), TerminalFormatter())
