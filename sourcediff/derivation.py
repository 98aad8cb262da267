"""The pipeline for one generated module: parse, check, normalize, transform, emit, compile.

A Derivation holds the derivative of an entry function and of every user function it calls, each
specialised to the arguments that carry derivatives at its call sites.
"""
import contextlib
import gc

import gast

from .emit import compile_source, to_source
from .errors import NonDifferentiableError, UnsupportedSyntaxError
from .frontend.check import check_supported
from .frontend.parse import is_generated, parse_function
from .ir.build import clone, walk
from .ir.namespace import Namespace, NameGenerator
from .ir.normalize import normalize
from .modes.forward import ForwardMode, jvp_name
from .modes.forward_gradient import check_scalar_function, forward_gradient_function
from .modes.reverse import ReverseMode, is_scalar_code, written_arguments
from .modes.reverse_functions import joint, on_numbers, split
from .optimize import (eliminate_common_subexpressions, fold_negations, fold_zero_initializations, inline_single_use,
                       propagate_copies, propagate_local_copies, remove_dead_statements, use_reciprocals)


def fresh_copy(fdef):
    """A copy of a normalized function to transform: a transformation and its clean-up passes change the
    trees they are given, so each variant of a function (one per pattern) starts from its own copy."""
    copied = clone(fdef)
    copied.sd_temporaries, copied.sd_locals = set(fdef.sd_temporaries), set(fdef.sd_locals)
    return copied


def refuse_no_value(parsed):
    """An entry function must return what is differentiated: one without `return value` (a return
    forgotten) returns None, whose derivative would come out as zero. (A lambda returns its body.)"""
    if not isinstance(parsed.node, gast.FunctionDef):
        return
    pending = list(parsed.node.body)
    while pending:
        node = pending.pop()
        if isinstance(node, gast.Return) and node.value is not None \
                and not (isinstance(node.value, gast.Constant) and node.value.value is None):
            return
        if not isinstance(node, (gast.FunctionDef, gast.Lambda)):
            pending.extend(gast.iter_child_nodes(node))
    raise parsed.info.error(NonDifferentiableError, parsed.node, f"{parsed.node.name} returns None: it has no return "
                            "statement with a value", "return the value to differentiate")


@contextlib.contextmanager
def collector_paused():
    """Generation builds trees of small objects that all live until it ends: each full pass of Python's
    cyclic garbage collector traverses them again, which cost a third of the time at 1,000 lines.
    Generation makes no cycles worth collecting early; the collector runs again once it ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Derivation:
    def __init__(self, directions=None, optimize=True, positional=False, checkpoint=None):
        self.directions = directions  # vector mode (forward gradients): directions each tangent carries
        self.optimize = optimize  # False keeps the transformation's raw output (sourcediff show --no-optimize)
        self.positional = positional  # tangent parameters never keyword-only: the functions are differentiated again
        self.checkpoint = checkpoint  # reverse mode: None, or loop segments of this many iterations (0: √n)
        self.differentiates_derivatives = False  # some function read is generated code (prepare sets it)
        self.namespace = Namespace()
        self.functions = []  # generated FunctionDefs, callees before callers
        self.parsed = {}     # function -> ParsedFunction
        self.jvps = {}       # (function, active parameters) -> (name, {parameter: tangent name})
        self.restores_in_place = False  # whether some backward function undoes in-place writes
        self.writes_into = {}  # forward function name -> parameters whose argument the function writes into

    def prepare(self, fn, forward=False):
        """fn parsed and normalized; forward mode (forward=True) over sourcediff's own generated code follows
        its writes through shared memory as written, since the tangents share memory as the values do
        (reverse mode cannot: there it is checked as a user's code is)."""
        self.differentiates_derivatives |= hasattr(fn, "derivation")  # generated code, differentiated again
        parsed = parse_function(fn)
        check_supported(parsed)
        self.parsed[fn] = parsed
        generated = is_generated(parsed.function)
        fdef = normalize(parsed, self.namespace, check_shared=not (forward and generated),
                         copy_cotangents=generated and not forward)
        self.namespace.avoid_locals_of(fdef)
        return parsed, fdef

    def local_names(self, fdef):
        return NameGenerator({n.id for n in walk(fdef) if isinstance(n, gast.Name)}
                             | {n.name for n in walk(fdef) if isinstance(n, gast.FunctionDef)}
                             | set(self.namespace.objects), fdef.sd_temporaries)

    def function_jvp(self, fn, pattern, entry=False, tangent_only=False):
        """The name and tangent parameters of fn's tangent with respect to the parameters in pattern.

        The entry function (the one users call) refuses integer arguments where derivatives are asked for;
        with tangent_only it returns the tangent without the value.
        """
        key = (fn, tuple(pattern), tangent_only)  # a recursive call needs the variant returning (value, tangent)
        if key not in self.jvps:
            parsed, fdef = self.prepare(fn, forward=True)
            if entry:
                refuse_no_value(parsed)
            new_name = self.namespace.reserve(jvp_name(fdef, tuple(pattern)))
            names = self.local_names(fdef)
            mode = ForwardMode(self, parsed, fdef, pattern, {}, names)
            self.jvps[key] = (new_name, {p: mode.tangent_name(p) for p in pattern})
            checked_by = self.namespace.bind(parsed.name, parsed.function) if entry else None
            self.add(self.clean(mode.transform(new_name, checked_by, tangent_only=tangent_only), names), parsed)
        return self.jvps[key]

    def function_forward_gradient(self, fn, pattern, distribution="normal", antithetic=False):
        """The name of fn's fused forward gradient `(*args, rng=None) -> (value, estimate)` with respect
        to the parameters in pattern, its directions drawn from distribution (self.directions of them,
        or one without a leading axis when that is None)."""
        parsed, fdef = self.prepare(fn, forward=True)
        refuse_no_value(parsed)
        check_scalar_function(fdef, parsed)
        new_name = self.namespace.reserve(f"{fdef.name}_forward_gradient")
        names = self.local_names(fdef)
        mode = ForwardMode(self, parsed, fdef, pattern, {}, names)
        tangent = mode.transform(new_name, self.namespace.bind(parsed.name, parsed.function), tangents_given=False)
        fused = forward_gradient_function(tangent, {p: mode.tangent_name(p) for p in pattern}, len(pattern),
                                          self.directions, distribution, antithetic, names.fresh)
        self.add(self.clean(fused, names), parsed)
        return new_name

    def function_vjp(self, fn, pattern, lifted=None, entry=False):
        """The names of fn's forward and backward functions for the parameters in pattern.

        lifted is (parsed, normalized def) for a nested function lifted out of its enclosing one; fn is
        then that def's identity. The entry pair (the one users call) checks its arguments and cotangent."""
        key = ("vjp", fn, tuple(pattern))
        if key not in self.jvps:
            parsed, fdef = self.prepare(fn) if lifted is None else (lifted[0], fresh_copy(lifted[1]))
            checked_by = self.namespace.bind(parsed.name, parsed.function) if entry else None
            if entry:
                refuse_no_value(parsed)
            suffix = "" if tuple(pattern) == tuple(a.id for a in fdef.args.args) else "_" + "_".join(pattern)
            names = (self.namespace.reserve(f"{fdef.name}_forward{suffix}"),
                     self.namespace.reserve(f"{fdef.name}_backward{suffix}"))
            self.jvps[key] = names
            self.writes_into[names[0]] = written_arguments(fdef)
            mode = ReverseMode(self, parsed, fdef, pattern, self.local_names(fdef))
            for generated in split(mode, *names, checked_by=checked_by):
                self.add(self.clean(generated, mode.names, reverse=True), parsed)
        return self.jvps[key]

    def function_grad(self, fn, pattern, motion="joint", as_tuple=False):
        """The name of fn's joint vector-Jacobian product `(*args, bvalue) -> (value, cotangents)` (the
        cotangents a tuple even of one with as_tuple), or with motion="split" the names of its forward
        and backward functions."""
        if motion == "split":
            return self.function_vjp(fn, pattern, entry=True)
        parsed, fdef = self.prepare(fn)
        refuse_no_value(parsed)
        suffix = "" if tuple(pattern) == tuple(a.id for a in fdef.args.args) else "_" + "_".join(pattern)
        new_name = self.namespace.reserve(f"{fdef.name}_vjp{suffix}")
        checked_by = self.namespace.bind(parsed.name, parsed.function)
        # for scalar code (no NumPy), a variant for calls with only Python numbers: no broadcasting there
        scalar_name = scalar_def = None
        if is_scalar_code(fdef):
            scalar_name = self.namespace.reserve(f"{new_name}_scalars")
            scalar_def = fresh_copy(fdef)  # a copy of the same normalized function, not a second parse
        mode = ReverseMode(self, parsed, fdef, pattern, self.local_names(fdef))
        general = self.clean(joint(mode, new_name, checked_by, scalar_name, as_tuple), mode.names, reverse=True)
        if scalar_name is not None and not mode.stack_used:  # the general function, specialised
            self.add(self.clean_specialised(on_numbers(general, scalar_name), mode.names), parsed)
        elif scalar_name is not None:  # its own sweeps, which recompute popped values rather than push them
            scalar_mode = ReverseMode(self, parsed, scalar_def, pattern, self.local_names(scalar_def), scalars=True)
            self.add(self.clean(joint(scalar_mode, scalar_name, checked_by, as_tuple=as_tuple), scalar_mode.names,
                                  reverse=True), parsed)
        self.add(general, parsed)
        return new_name

    def add(self, fdef, parsed):
        """Add the cleaned fdef to the module, refusing a parameter that hides a helper it calls."""
        params = {a.id for a in fdef.args.args + fdef.args.kwonlyargs}
        # names called (f(...)) or dotted (np.sum): the helpers and modules the function reads
        used = {n.func.id if isinstance(n, gast.Call) else n.value.id for n in walk(fdef)
                if isinstance(n, gast.Call) and isinstance(n.func, gast.Name)
                or isinstance(n, gast.Attribute) and isinstance(n.value, gast.Name)}
        hidden = sorted(params & used & set(self.namespace.objects))
        if hidden:
            raise parsed.info.error(UnsupportedSyntaxError, parsed.node, f"the parameter name '{hidden[0]}' is one "
                                    "the generated code needs for its own use", f"rename the parameter '{hidden[0]}'")
        self.functions.append(fdef)

    def clean(self, fdef, names, reverse=False):
        """The clean-up passes (none with optimize=False); gradients also get their negations folded and
        divisions by a value whose reciprocal is at hand turned into products (tangents keep the
        templates' form)."""
        if not self.optimize:
            return fdef
        fdef = propagate_copies(eliminate_common_subexpressions(fold_zero_initializations(fdef)))
        fdef = inline_single_use(remove_dead_statements(propagate_local_copies(fdef)), names.temporaries)
        if not reverse:
            return fdef
        if self.differentiates_derivatives:  # once temporaries are inlined, an adjoint's part shows the value
            fdef = eliminate_common_subexpressions(fdef)  # a tangent computed (`1 - h * h` of a tanh, sd.hvp)
        return use_reciprocals(fold_negations(fdef))

    def clean_specialised(self, fdef, names):
        """The passes that find work in a cleaned function once on_numbers has specialised it: copies
        (`bsin_a = bb` from unbroadcast), temporaries now read once, negations now adjacent."""
        if not self.optimize:
            return fdef
        fdef = inline_single_use(remove_dead_statements(propagate_local_copies(propagate_copies(fdef))),
                                 names.temporaries)
        return fold_negations(fdef)

    def is_current(self):
        return all(parsed.is_current() for parsed in self.parsed.values())

    def compile(self, *entries):
        """Emit the module's source, compile it, and return the entry functions (one, or a tuple) with
        `.source` and `.derivation` set."""
        source = to_source(self.functions)
        # the trees are spent once emitted (emission writes comment markers into them); kept in the cache
        # they would hold about a hundred objects per generated line for the collector to traverse
        self.functions = []
        scope = compile_source(source, self.namespace.objects, entries[0])
        functions = tuple(scope[e] for e in entries)
        for fn in functions:
            fn.source = source
            fn.derivation = self
        return functions[0] if len(functions) == 1 else functions
