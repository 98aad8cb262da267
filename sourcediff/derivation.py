"""The pipeline for one generated module: parse, check, normalize, transform, emit, compile.

A Derivation holds the derivative of an entry function and of every user function it calls, each
specialised to the arguments that carry derivatives at its call sites.
"""
import gast

from .emit import compile_source, to_source
from .frontend.check import check_supported
from .frontend.parse import parse_function
from .ir.build import walk
from .ir.namespace import Namespace, NameGenerator
from .ir.normalize import normalize
from .modes.forward import ForwardMode, jvp_name
from .optimize import inline_single_use, propagate_copies, remove_dead_derivatives


class Derivation:
    def __init__(self):
        self.namespace = Namespace()
        self.functions = []  # generated FunctionDefs, callees before callers
        self.parsed = {}     # function -> ParsedFunction
        self.jvps = {}       # (function, active parameters) -> (name, {parameter: tangent name})

    def prepare(self, fn):
        parsed = parse_function(fn)
        check_supported(parsed)
        self.parsed[fn] = parsed
        return parsed, normalize(parsed, self.namespace)

    def local_names(self, fdef):
        return NameGenerator({n.id for n in walk(fdef) if isinstance(n, gast.Name)}
                             | {n.name for n in walk(fdef) if isinstance(n, gast.FunctionDef)}
                             | set(self.namespace.objects), fdef.sd_temporaries)

    def function_jvp(self, fn, pattern, entry=False):
        """The name and tangent parameters of fn's tangent with respect to the parameters in pattern.

        The entry function (the one users call) refuses integer arguments where derivatives are asked for.
        """
        key = (fn, tuple(pattern))
        if key not in self.jvps:
            parsed, fdef = self.prepare(fn)
            new_name = self.namespace.reserve(jvp_name(fdef, tuple(pattern)))
            names = self.local_names(fdef)
            mode = ForwardMode(self, parsed, fdef, pattern, {}, names)
            self.jvps[key] = (new_name, {p: mode.tangent_name(p) for p in pattern})
            checked_by = self.namespace.bind(fn.__name__, fn) if entry else None
            generated = remove_dead_derivatives(propagate_copies(mode.transform(new_name, checked_by)))
            self.functions.append(inline_single_use(generated, names.temporaries))
        return self.jvps[key]

    def is_current(self):
        return all(parsed.is_current() for parsed in self.parsed.values())

    def compile(self, entry):
        """Emit the module's source, compile it, and return the entry function with `.source` set."""
        source = to_source(self.functions)
        scope = compile_source(source, self.namespace.objects, entry)
        fn = scope[entry]
        fn.source = source
        return fn
