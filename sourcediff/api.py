"""The public API: jvp, the tangent decorator, check_grads, and the cache of generated derivatives."""
import collections
import functools
import inspect
import types

import numpy as np

from .derivation import Derivation, collector_paused
from .emit import compile_source
from .modes.checkpoint import checkpoint_option
from .errors import SourceDiffError
from .frontend.parse import arguments_in_order, function_name, unbind
from .rules import registry
from .runtime import is_integral
from .structure import flatten, leaves, map_leaves



class RecentlyUsed:
    """A cache of at most `size` entries, the most recently used. Not a weak-keyed one: a generated
    derivative refers to its function (and a bound method to its instance), so weak keys would keep
    every function and instance alive for good."""

    def __init__(self, size):
        self.size = size
        self.entries = collections.OrderedDict()

    def get(self, key):
        value = self.entries.get(key)
        if value is not None:
            self.entries.move_to_end(key)
        return value

    def put(self, key, value):
        self.entries[key] = value
        self.entries.move_to_end(key)
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return value

    def __contains__(self, key):
        return key in self.entries

    def clear(self):
        self.entries.clear()


_CACHE = RecentlyUsed(128)  # function -> {(mode, wrt, options): (Derivation, generated function)}


def _signature(f):
    """The signature of what a caller passes to f and its derivatives: a bound method's or partial's fixed
    parameters left out, positional-only and keyword-only parameters ordinary ones (as the derivatives take
    them: see frontend.parse.parse_function)."""
    try:
        function, bound = unbind(f)
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        raise SourceDiffError(f"cannot read the parameters of {f!r}") from None
    kept = [p for p in signature.parameters.values() if p.name not in bound]
    ordinary = [p.replace(kind=p.POSITIONAL_OR_KEYWORD) if p.kind in (p.POSITIONAL_ONLY, p.KEYWORD_ONLY) else p
                for p in kept]
    try:
        return signature.replace(parameters=ordinary)
    except ValueError:  # a keyword-only parameter without a default after one with: refused where f is read
        return signature.replace(parameters=kept)


def _parameters(f):
    return list(_signature(f).parameters)


def _positional(signature, args, kwargs):
    """f's arguments, given by position and by name, as positions (its defaults filled in)."""
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    return arguments_in_order(bound)


def call_in_order(f, args):
    """f called with args in the order of its parameters, as its derivatives take them: those past its
    positional parameters go to its keyword-only ones by name."""
    params = list(inspect.signature(f).parameters.values())
    count = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
    if len(args) <= count or any(p.kind is p.VAR_POSITIONAL for p in params):
        return f(*args)
    named = [p.name for p in params if p.kind is p.KEYWORD_ONLY]
    return f(*args[:count], **dict(zip(named, args[count:])))


def _has_defaults(f):
    return any(p.default is not p.empty for p in _signature(f).parameters.values())


def _qualname(f):
    return unbind(f)[0].__qualname__


def resolve_wrt(f, wrt):
    """wrt as a tuple of parameter names; wrt is a position, a name, or a tuple of them."""
    params = _parameters(f)
    items = wrt if isinstance(wrt, (tuple, list)) else (wrt,)
    names = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool) and -len(params) <= item < len(params):
            names.append(params[item])
        elif isinstance(item, str) and item in params:
            names.append(item)
        else:
            raise SourceDiffError(f"wrt={item!r} is not a parameter of {_qualname(f)}; its parameters are "
                                  f"{', '.join(params)}")
    if len(set(names)) != len(names) or not names:
        raise SourceDiffError(f"wrt={wrt!r} must name distinct parameters of {_qualname(f)}")
    return tuple(names)


def _derive(f, mode, wrt_names, options=()):
    """The generated derivative of f, from the cache while f and what it reads are unchanged."""
    try:
        entries = _CACHE.get(f) or _CACHE.put(f, {})
    except TypeError:  # a callable object that cannot be a key: generated afresh
        entries = {}
    key = (mode, wrt_names, options)
    entry = entries.get(key)
    if entry is not None and entry[0].is_current():
        return entry[1]
    with collector_paused():
        derivation, generated = _generate(f, mode, wrt_names, options)
    entries[key] = (derivation, generated)
    return generated


def _generate(f, mode, wrt_names, options):
    if mode == "forward_gradient":
        directions, distribution, antithetic = options
        derivation = Derivation(directions)
        return derivation, derivation.compile(derivation.function_forward_gradient(f, wrt_names, distribution,
                                                                                   antithetic))
    if mode in ("jvp", "tangent_alone", "jvp_directions", "jvp_positional"):
        # tangent_alone: the tangent without the value, to differentiate again (sd.hvp); jvp_directions:
        # options[0] directions at once (sd.jacfwd); jvp_positional: tangent parameters never keyword-only
        # (for f with defaults: what sd.jvp's result is differentiated again through)
        derivation = Derivation(directions=options[0] if mode == "jvp_directions" else None,
                                positional=mode != "jvp")
        return derivation, derivation.compile(derivation.function_jvp(f, wrt_names, entry=True,
                                                                      tangent_only=mode == "tangent_alone")[0])
    derivation = Derivation(checkpoint=options[0] if options else None)  # options: (checkpoint,)
    if mode in ("vjp", "vjp_tuple"):  # vjp_tuple: one cotangent, in a tuple of one (sd.vjp(f, wrt=(0,)))
        return derivation, derivation.compile(derivation.function_grad(f, wrt_names, as_tuple=mode == "vjp_tuple"))
    # split motion: a forward and a backward function
    return derivation, derivation.compile(*derivation.function_grad(f, wrt_names, motion="split"))


def register_tangent(*primitives, nargs=None, elementwise=False, pointwise=False, linear=False):
    """Decorator: make a template the tangent of each primitive (see docs/custom-rules.md).

    The template is a function written in a .py file, `def rule(z, x, y): d[z] = ...`, whose first
    parameter names the output and the others the primitive's arguments; `d[x]` is the derivative of
    x. `nargs` restricts it to calls with that many positional arguments; `elementwise` marks a
    broadcasting primitive, `pointwise` one acting on each element of its single operand (both let
    forward gradients with several directions use the template as it is); `linear` one linear in each
    argument (zero in, zero out).
    """
    for primitive in primitives:
        if not callable(primitive):
            raise SourceDiffError(f"register_tangent takes the functions the rule is for, not {primitive!r}")
    _CACHE.clear()  # derivatives generated before may have refused or differentiated these calls
    return registry.tangent(*primitives, nargs=nargs, elementwise=elementwise, pointwise=pointwise, linear=linear)


def register_adjoint(*primitives, nargs=None):
    """Decorator: make a template the adjoint of each primitive (see docs/custom-rules.md).

    In the template `d[z]` is the output's cotangent and `d[x] = e` adds e, shaped like x (use
    `unbroadcast(e, x)` after broadcasting), to the cotangent of x.
    """
    for primitive in primitives:
        if not callable(primitive):
            raise SourceDiffError(f"register_adjoint takes the functions the rule is for, not {primitive!r}")
    _CACHE.clear()
    return registry.adjoint(*primitives, nargs=nargs)


def jvp(f, wrt=0):
    """Forward mode: `jvp(f, wrt)(*args, *tangents) -> (f(*args), tangent of f along tangents)`.

    One tangent per wrt entry, shaped like its argument (a tuple, list or dict of arrays for a
    structured argument). A tuple-valued f gives a tuple of tangents.
    """
    f = primal(f)
    wrt_names = resolve_wrt(f, wrt)
    generated = _derive(f, "jvp", wrt_names)
    if not _has_defaults(f):
        return generated  # (*args, *tangents) is its own signature, and it checks its arguments
    count = len(wrt_names)
    tangent_names = _tangent_parameters(generated)

    signature = _signature(f)

    def f_jvp(*args, **kwargs):
        """Bind the primal arguments (with f's defaults, some maybe by name), pass the tangents by name."""
        primals, tangents = args[:-count], args[-count:]
        if len(args) < count:
            primals, tangents = args, ()
        require_fit(generated, f, primals, f" followed by the tangent(s) {', '.join(tangent_names)}",
                    len(tangents) == count, kwargs)
        return generated(*_positional(signature, primals, kwargs), **dict(zip(tangent_names, tangents)))

    f_jvp.source = generated.source
    f_jvp.derivation = generated.derivation
    f_jvp.__wrapped__ = generated
    f_jvp.__name__ = f_jvp.__qualname__ = generated.__name__
    f_jvp.__doc__ = f"Tangent of {_qualname(f)} with respect to {', '.join(wrt_names)}."
    # what a transform of it reads: a caller of generated code whose tangents are ordinary parameters, taking
    # every argument (the defaults bound in f_jvp above are not there)
    positional = _derive(f, "jvp_positional", wrt_names)
    code = positional.__code__
    parameters = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD)
                  for n in code.co_varnames[:code.co_argcount]]
    f_jvp.sd_primal = generated_caller(f"{function_name(f)}_jvp", parameters,
                                       f"{positional.__name__}({', '.join(p.name for p in parameters)})",
                                       {positional.__name__: positional})
    return f_jvp


def require_fit(generated, f, args, followed_by="", given=True, kwargs=None):
    """Raise a TypeError saying what the generated function takes when args (and kwargs) do not fit the
    parameters of f (or the tangents or cotangent after them are missing: given False)."""
    signature = _signature(f)
    try:
        signature.bind(*args, **(kwargs or {}))
    except TypeError as exc:
        problem = str(exc)
    else:
        if given:
            return
        problem = f"missing{followed_by.replace(' followed by', '')}"
    raise TypeError(f"{generated.__name__}() takes the arguments of {f.__qualname__}{signature}{followed_by}: "
                    f"{problem}") from None


def forward_gradient_options(directions, distribution, antithetic):
    """The checked options of a forward gradient: (directions on a leading axis, or None for one
    direction without that axis; distribution; antithetic)."""
    if isinstance(directions, bool) or not isinstance(directions, int) or directions < 1:
        raise SourceDiffError(f"directions={directions!r}: give a positive number of directions")
    if distribution not in ("normal", "rademacher"):
        raise SourceDiffError(f"distribution={distribution!r}: use 'normal' or 'rademacher'")
    if antithetic and directions % 2:
        raise SourceDiffError(f"antithetic=True pairs each direction v with -v, so directions must be even, "
                              f"not {directions}")
    return None if directions == 1 else directions, distribution, bool(antithetic)


def forward_gradient(f, wrt=0, directions=1, distribution="normal", antithetic=False):
    """Forward gradient (Baydin et al. 2022): `(*args, rng=None) -> (f(*args), g)` with g = (∇f·v) v
    for a random direction v, an unbiased estimate of the gradient from one fused forward pass.

    v is drawn inside the generated function from rng (a numpy.random.Generator or a seed; a fresh
    generator when None): N(0, I) for distribution="normal", independent ±1 for "rademacher". With
    directions=k > 1 the tangents carry k directions on a leading axis, one primal pass serves them
    all, and g is the mean of the k estimates; antithetic=True draws k/2 directions and pairs each v
    with -v. f must return a scalar; g has the shape of the wrt argument (a tuple for a tuple wrt).
    """
    f = primal(f)
    wrt_names = resolve_wrt(f, wrt)
    generated = _derive(f, "forward_gradient", wrt_names, forward_gradient_options(directions, distribution, antithetic))
    if distribution == "normal":
        _draw_normals_natively()
    if isinstance(wrt, (tuple, list)) and len(wrt_names) == 1:
        return _attach(lambda *args, rng=None: (lambda value, g: (value, (g,)))(*generated(*args, rng=rng)),
                       generated, f, wrt_names)
    return generated


@functools.lru_cache(maxsize=None)
def _draw_normals_natively():
    """Once: let forward gradients draw their normal directions with sourcediff.native's fill, which
    gives the numbers NumPy gives, faster. Where it cannot be built, NumPy draws them as before."""
    try:
        from .native import jit, sampling
        return sampling.install(jit.machine())
    except (ImportError, OSError, RuntimeError, SourceDiffError):
        return False


def _tangent_parameters(generated):
    code = generated.__code__
    return code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]


def vjp(f, wrt=0, motion="joint", checkpoint=None):
    """Reverse mode: `vjp(f, wrt)(*args, cotangent) -> (f(*args), cotangents of the wrt arguments)`.

    The cotangent has the structure of f's value (a tuple of them for a tuple-valued f); the result is
    one cotangent per wrt entry, shaped like its argument (a tuple when wrt is a tuple). With
    motion="split" it returns `(forward, backward)`: `forward(*args) -> (value, saved)` runs the
    primal once, and `backward(saved, cotangent)` may then be called with many cotangents. With
    checkpoint=True (or a number of iterations per segment) the loops keep a copy of their state every
    √n iterations rather than what every iteration overwrites, and run each segment again in the
    backward sweep (docs/adjoint.md#checkpointing).
    """
    f = primal(f)
    wrt_names = resolve_wrt(f, wrt)
    single = not isinstance(wrt, (tuple, list))
    options = (checkpoint_option(checkpoint),) if checkpoint_option(checkpoint) is not None else ()
    if motion == "split":
        forward, backward = _derive(f, "split", wrt_names, options)

        def backward_fn(saved, cotangent):
            cotangents = backward(saved, cotangent)
            return cotangents[0] if single else cotangents

        backward_fn.source = backward.source
        forward.derivation = backward_fn.derivation = backward.derivation
        return forward, backward_fn
    if motion != "joint":
        raise SourceDiffError(f"motion={motion!r}: use 'joint' or 'split'")
    generated = _derive(f, _joint_mode(wrt, wrt_names), wrt_names, options)
    if _has_defaults(f):  # (*args, cotangent) with some of f's arguments left to their defaults
        signature = _signature(f)
        plain = generated

        def generated(*args, **kwargs):
            require_fit(plain, f, args[:-1], " followed by the cotangent", len(args) > 0, kwargs)
            return plain(*_positional(signature, args[:-1], kwargs), args[-1])

        _attach(generated, plain, f, wrt_names)
    return generated


def _joint_mode(wrt, wrt_names):
    """The derivation mode of a joint vjp: a tuple wrt of one name gives its cotangent in a tuple of one."""
    return "vjp_tuple" if isinstance(wrt, (tuple, list)) and len(wrt_names) == 1 else "vjp"


def _attach(fn, generated, f, wrt_names):
    fn.source = generated.source
    fn.derivation = generated.derivation
    fn.__wrapped__ = generated
    fn.__name__ = fn.__qualname__ = generated.__name__
    return fn


def value_and_grad(f, wrt=0, checkpoint=None):
    """`value_and_grad(f, wrt)(*args) -> (f(*args), gradient)` from one forward and one backward sweep.

    f must return a scalar; the gradient is shaped like its argument (a tuple when wrt is a tuple).
    checkpoint: see vjp.
    """
    f = primal(f)
    function = _gradient_function(f, wrt, with_value=True, checkpoint=checkpoint)
    wrt_names = resolve_wrt(f, wrt)
    options = (checkpoint_option(checkpoint),) if checkpoint_option(checkpoint) is not None else ()
    generated = _derive(f, _joint_mode(wrt, wrt_names), wrt_names, options)
    parameters = list(_signature(f).parameters.values())
    # what a transform of it reads: a caller of the generated vjp with the cotangent 1.0
    function.sd_primal = generated_caller(f"{function_name(f)}_value_and_grad", parameters,
                                          f"{generated.__name__}({', '.join(p.name for p in parameters)}, 1.0)",
                                          {generated.__name__: generated})
    return function


def grad(f, wrt=0, checkpoint=None):
    """`grad(f, wrt)(*args)`: the gradient of the scalar f with respect to the wrt arguments. It can be
    differentiated again, as a primitive whose derivatives are Hessian-vector products of f.
    checkpoint: see vjp."""
    from .higher_order import Gradient  # higher_order builds on this module
    f = primal(f)
    return Gradient(_gradient_function(f, wrt, with_value=False, checkpoint=checkpoint), f, resolve_wrt(f, wrt),
                    not isinstance(wrt, (tuple, list)))


def primal(f):
    """The function a transform reads: f's own (through decorators), or for a derivative that carries its
    own rules (sd.grad's), a generated function that calls it, which the modes differentiate by those rules."""
    if getattr(type(f), "sd_rule", None) is None:
        unwrapped = inspect.unwrap(f, stop=_made_by_sourcediff)
        if _made_by_sourcediff(unwrapped):
            caller = getattr(f, "sd_primal", None)  # sd.value_and_grad's and sd.hvp's: a caller of generated code
            if caller is None:
                raise SourceDiffError(f"{getattr(f, '__name__', f)!r} is a derivative sourcediff made that cannot be "
                                      "differentiated again yet: differentiate sd.grad(f) or sd.jvp(f) (or use "
                                      "sd.hvp, sd.hessian, sd.jacfwd, sd.jacrev)")
            return caller
        return unwrapped
    caller = getattr(f, "sd_caller", None)
    if caller is None:
        parameters = list(f.__signature__.parameters.values())
        caller = f.sd_caller = generated_caller(f.__name__, parameters,
                                                f"{f.__name__}_primitive({', '.join(p.name for p in parameters)})",
                                                {f"{f.__name__}_primitive": f})
    return caller


def generated_caller(name, parameters, returned, scope):
    """A generated function `name(parameters)` (with their defaults) returning the expression returned over
    them and the names scope binds: what transforms read in place of a derivative sourcediff made."""
    defaults = {f"default_{p.name}": p.default for p in parameters if p.default is not p.empty}
    listed = ", ".join(p.name + (f"=default_{p.name}" if f"default_{p.name}" in defaults else "") for p in parameters)
    return compile_source(f"def {name}({listed}):\n    return {returned}\n", {**scope, **defaults}, name)[name]


def _made_by_sourcediff(f):
    """A wrapper this package made around generated code (sd.vjp's, sd.value_and_grad's, sd.hvp's)."""
    return getattr(f, "__module__", None) in ("sourcediff.api", "sourcediff.higher_order")


def _gradient_function(f, wrt, with_value, checkpoint=None):
    f = primal(f)
    joint = vjp(f, wrt, checkpoint=checkpoint)
    signature = _signature(f)

    def gradient_fn(*args, **kwargs):
        if kwargs:  # f's arguments by name: in the order of its parameters, before the cotangent
            require_fit(joint, f, args, kwargs=kwargs)
            args = _positional(signature, args, kwargs)
        try:
            value, gradient = joint(*args, 1.0)
        except TypeError:
            require_fit(joint, f, args)  # a clearer error where the arguments do not fit f
            raise
        if type(value) is not float and (np.ndim(value) != 0 or isinstance(value, (tuple, list, dict))):
            raise SourceDiffError(f"grad needs {_qualname(f)} to return a scalar, but it returned a value of "
                                  f"shape {np.shape(value)}; use sd.vjp with a cotangent of that shape")
        return (value, gradient) if with_value else gradient

    return _attach(gradient_fn, joint, f, None)


class Transformed:
    """A function that still computes its primal and carries its derivatives as attributes."""

    def __init__(self, fn, wrt, mode):
        functools.update_wrapper(self, fn)
        self.fn = self.sd_primal = fn  # sd_primal: what a differentiated caller of this function reads
        self.wrt = wrt
        self.mode = mode
        self._derivatives = {}
        self._bound = RecentlyUsed(64)  # id(instance) -> (instance, this method bound to it, with its own cache)

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def __get__(self, instance, owner=None):
        """A decorated method, read from an instance: the same transform of the bound method (wrt counts
        the parameters after self, as for sd.grad(model.loss)), generated once per instance."""
        if instance is None:
            return self
        entry = self._bound.get(id(instance))  # by identity: equal instances may hold other constants
        if entry is None or entry[0] is not instance:
            entry = self._bound.put(id(instance), (instance, Transformed(types.MethodType(self.fn, instance),
                                                                         self.wrt, self.mode)))
        return entry[1]

    def _derivative(self, transform, key=None):
        """transform(fn, wrt), regenerated when the function or what it reads changes."""
        key = key or transform
        current = self._derivatives.get(key)
        if current is None or not current.derivation.is_current():
            current = self._derivatives[key] = transform(self.fn, self.wrt)
        return current

    def jvp(self, *args):
        """(value, tangent): see sd.jvp."""
        return self._derivative(jvp)(*args)

    def vjp(self, *args):
        """(value, cotangents): see sd.vjp."""
        return self._derivative(vjp)(*args)

    def grad(self, *args):
        """The gradient: see sd.grad."""
        return self._derivative(grad)(*args)

    def value_and_grad(self, *args):
        """(value, gradient): see sd.value_and_grad."""
        return self._derivative(value_and_grad)(*args)

    def hvp(self, *args):
        """The Hessian times v (the last argument): see sd.hvp."""
        from .higher_order import hvp  # higher_order builds on this module; its code is cached where it is generated
        return hvp(self.fn, self.wrt)(*args)

    def forward_gradient(self, *args, rng=None, directions=1, distribution="normal", antithetic=False):
        """(value, forward-gradient estimate): see sd.forward_gradient."""
        transform = functools.partial(forward_gradient, directions=directions, distribution=distribution,
                                      antithetic=antithetic)
        return self._derivative(transform, (forward_gradient, directions, distribution, antithetic))(*args, rng=rng)

    @property
    def source(self):
        """The generated derivative source (the tangent for @sd.tangent, the adjoint for @sd.adjoint)."""
        return self._derivative(jvp if self.mode == "tangent" else vjp).source


def tangent(fn=None, *, wrt=0):
    """Decorator: `@sd.tangent` or `@sd.tangent(wrt=...)`; the function gains `.jvp` and `.source`."""
    if fn is None:
        return lambda f: Transformed(f, wrt, "tangent")
    return Transformed(fn, wrt, "tangent")


def adjoint(fn=None, *, wrt=0):
    """Decorator: `@sd.adjoint` or `@sd.adjoint(wrt=...)`; the function gains `.grad`,
    `.value_and_grad`, `.vjp` and `.source`."""
    if fn is None:
        return lambda f: Transformed(f, wrt, "adjoint")
    return Transformed(fn, wrt, "adjoint")


def check_grads(f, args, wrt=None, *, modes=("forward", "reverse"), eps=1e-6, rtol=1e-5, atol=1e-6,
                directions=3, seed=0):
    """Compare sourcediff's derivatives with central finite differences along random directions.

    Forward mode: each element of the tangent against the finite difference. Reverse mode: the
    dot-product identity <u, J v> = <J^T u, v>, with J v by finite differences, for a random
    cotangent u. Raises AssertionError with a table of the disagreements; wrt defaults to every
    floating argument.
    """
    wrt_names, rows = compare_with_finite_differences(f, args, wrt, modes=modes, eps=eps, rtol=rtol, atol=atol,
                                                      directions=directions, seed=seed)
    failed = [row for row in rows if not row[-1]]
    if failed:
        raise AssertionError(f"derivatives of {_qualname(f)} disagree with finite differences "
                             f"(wrt {', '.join(wrt_names)}):\n" + format_comparison(failed))


def compare_with_finite_differences(f, args, wrt=None, *, modes=("forward", "reverse"), eps=1e-6, rtol=1e-5,
                                    atol=1e-6, directions=3, seed=0):
    """(wrt names, rows) for check_grads and `sourcediff check`: a row (mode, direction, compared,
    sourcediff, finite difference, abs error, ok) for each disagreement (up to 5 output elements per
    direction in forward mode), or for the closest call of a direction that agrees."""
    params = _parameters(f)
    if wrt is None:
        wrt = tuple(i for i, a in enumerate(args) if not any(is_integral(leaf) for leaf in leaves(a)))
    wrt_names = resolve_wrt(f, wrt)
    positions = [params.index(n) for n in wrt_names]
    rng = np.random.default_rng(seed)
    forward = jvp(f, wrt_names) if "forward" in modes else None
    backward = vjp(f, wrt_names) if "reverse" in modes else None
    rows = []
    for trial in range(directions):
        tangents = [map_leaves(lambda leaf: _random_like(rng, leaf), args[p]) for p in positions]
        numeric = (flatten(call_in_order(f, _shift(args, positions, tangents, eps)))
                   - flatten(call_in_order(f, _shift(args, positions, tangents, -eps)))) / (2 * eps)
        if forward is not None:
            exact = flatten(forward(*args, *tangents)[1])
            error = np.abs(exact - numeric)
            excess = error - (atol + rtol * np.abs(numeric))
            shown = np.flatnonzero(excess > 0)[:5] if np.any(excess > 0) else [int(np.argmax(excess))]
            rows.extend(("forward", trial, f"output {i}", exact[i], numeric[i], error[i], excess[i] <= 0)
                        for i in shown)
        if backward is not None:
            value = call_in_order(f, args)
            cotangent = map_leaves(lambda leaf: _random_like(rng, leaf), value)
            _, cotangents = backward(*args, cotangent)
            exact = sum(float(flatten(c) @ flatten(t)) for c, t in zip(cotangents, tangents))
            expected = float(flatten(cotangent) @ numeric)
            error = abs(exact - expected)
            rows.append(("reverse", trial, "<u, J v>", exact, expected, error, error <= atol + rtol * abs(expected)))
    return wrt_names, rows


def format_comparison(rows):
    """The rows of compare_with_finite_differences as a table."""
    header = (f"{'mode':>7} {'direction':>9} {'compared':>12} {'sourcediff':>14} {'finite diff':>14} "
              f"{'abs error':>10} {'agrees':>6}")
    lines = [f"{m:>7} {t:>9} {what:>12} {e:>14.7g} {n:>14.7g} {err:>10.3g} {'yes' if ok else 'NO':>6}"
             for m, t, what, e, n, err, ok in rows]
    return "\n".join([header, *lines])


def _random_like(rng, leaf):
    return rng.standard_normal(np.shape(leaf)) if np.ndim(leaf) else float(rng.standard_normal())


def _shift(args, positions, tangents, step):
    shifted = list(args)
    for p, t in zip(positions, tangents):
        shifted[p] = map_leaves(lambda a, v: a + step * v, args[p], t)
    return shifted
