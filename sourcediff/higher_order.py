"""Second derivatives and Jacobians, built on the first-order transforms.

Generated tangent functions can be differentiated again (rules/runtime.py gives their helpers rules), so
a Hessian-vector product is reverse mode over forward mode: the gradient, with respect to x, of the
tangent ∇f(x)·v that sd.jvp generates. It costs a few evaluations of f and never forms the Hessian; the
Hessian is one such product per element of x. Jacobians take all basis directions in one vector-mode
forward pass (jacfwd), or one backward sweep per output element after a single forward sweep (jacrev).
"""
import functools
import inspect

import numpy as np

from .api import _derive, _positional, _qualname, _signature, generated_caller, primal, resolve_wrt
from .errors import ArgumentError, SourceDiffError
from .frontend.parse import function_name
from .jacobians import by_columns, by_rows, filled, flat, outputs, paired
from .rules.registry import Rule, template_from_source


class SecondOrder:
    """A higher-order transform of f: callable, with the generated source it runs as `.source`; with caller
    (a function making a generated caller of that code), differentiable again through it (`sd_primal`)."""

    def __init__(self, f, name, run, source, caller=None):
        self.__name__ = self.__qualname__ = name
        self._run, self._source, self._caller = run, source, caller
        self.__doc__ = f"{name.rsplit('_', 1)[-1]} of {_qualname(f)}"

    @functools.cached_property
    def sd_primal(self):
        """What a transform of this one reads (api.primal), or a caller in differentiated code."""
        if self._caller is None:
            raise AttributeError("sd_primal")
        return self._caller()

    def __call__(self, *args, **kwargs):
        return self._run(*args, **kwargs)

    @property
    def source(self):
        """The generated functions this transform calls (for jacfwd, those of its last call)."""
        return self._source()


def hvp(f, wrt=0):
    """`hvp(f, wrt)(*args, v) -> H v`: the Hessian of the scalar f with respect to the wrt arguments
    times v (shaped like the wrt argument, a tuple of them for a tuple wrt), without forming H."""
    f = primal(f)
    wrt_names = resolve_wrt(f, wrt)
    single = not isinstance(wrt, (tuple, list))
    signature = _signature(f)

    def backward():
        """The gradient, with respect to the wrt arguments, of the tangent ∇f·v: H v (generated at first use)."""
        return _derive(_derive(f, "tangent_alone", wrt_names), "vjp", wrt_names)

    def run(*args, **kwargs):
        if not args:
            raise TypeError(f"{_qualname(f)}_hvp() takes the arguments of {_qualname(f)}{signature} followed by v")
        primals = _positional(signature, args[:-1], kwargs)
        directions = (args[-1],) if single else tuple(args[-1])
        if len(directions) != len(wrt_names):
            raise ArgumentError(f"v holds {len(directions)} directions for the {len(wrt_names)} arguments "
                                f"{', '.join(wrt_names)} of {_qualname(f)}")
        try:
            _, product = backward()(*primals, *directions, 1.0)
        except ArgumentError as exc:
            if "cotangent" not in str(exc):
                raise
            raise SourceDiffError(f"hvp needs {_qualname(f)} to return a scalar") from None
        return (product,) if not single and len(wrt_names) == 1 else product

    def caller():
        """`f_hvp(*args, v)`, calling the generated code with the cotangent 1.0: read by transforms of it."""
        # every parameter given (v follows them), as the generated code takes them
        parameters = [p.replace(default=p.empty) for p in signature.parameters.values()]
        v = next(name for name in ("v", "direction", "hvp_direction") if name not in signature.parameters)
        directions = v if single else ", ".join(f"{v}[{i}]" for i in range(len(wrt_names)))
        generated = backward()
        product = f"{generated.__name__}({', '.join(p.name for p in parameters)}, {directions}, 1.0)[1]"
        returned = f"({product},)" if not single and len(wrt_names) == 1 else product
        direction = inspect.Parameter(v, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        return generated_caller(f"{function_name(f)}_hvp", parameters + [direction], returned,
                                {generated.__name__: generated})

    return SecondOrder(f, f"{_qualname(f)}_hvp", run, lambda: backward().source, caller)


def hessian(f, wrt=0):
    """`hessian(f, wrt)(*args) -> H`: the Hessian of the scalar f, shaped x.shape + x.shape for one wrt
    argument x; for a tuple wrt, or an argument holding a tuple, list or dict of arrays, the same
    structure of rows of blocks, H[i][j] shaped x_i.shape + x_j.shape (as JAX gives it). One
    Hessian-vector product per element."""
    f = primal(f)
    wrt_names = resolve_wrt(f, wrt)
    product = hvp(f, wrt)
    signature = _signature(f)

    def run(*args, **kwargs):
        primals = _positional(signature, args, kwargs)
        tree = _wrt_tree(f, wrt, wrt_names, primals)
        return by_columns(lambda direction: product(*primals, direction), tree, tree)

    return SecondOrder(f, f"{_qualname(f)}_hessian", run, lambda: product.source)


def jacfwd(f, wrt=0):
    """`jacfwd(f, wrt)(*args) -> J`: the Jacobian of f, shaped value.shape + x.shape; for a value or wrt
    arguments holding tuples, lists or dicts, the value's structure of the arguments' structure of blocks.
    One forward pass carries every basis direction."""
    f = primal(f)
    wrt_names = resolve_wrt(f, wrt)
    signature = _signature(f)
    last = {}

    def run(*args, **kwargs):
        primals = _positional(signature, args, kwargs)
        tree = _wrt_tree(f, wrt, wrt_names, primals)
        xs = flat(tree)
        count = sum(np.size(x) for x in xs)
        tangent = last["generated"] = _derive(f, "jvp_directions", wrt_names, (count,))
        rows, offset = [], 0
        for x in xs:
            identity = np.zeros((count, np.size(x)))
            identity[offset:offset + np.size(x)] = np.eye(np.size(x))
            rows.append(identity.reshape((count,) + np.shape(x)))
            offset += np.size(x)
        directions = filled(tree, rows)
        value, tangents = tangent(*primals, *(directions if isinstance(wrt, (tuple, list)) else (directions,)))
        return filled(value, [filled(tree, _columns(y, t, xs, count)) for y, t in paired(value, tangents)])

    def source():
        if "generated" not in last:
            raise AttributeError("jacfwd generates its source for the number of directions a call needs: call it first")
        return last["generated"].source

    return SecondOrder(f, f"{_qualname(f)}_jacfwd", run, source)


def jacrev(f, wrt=0):
    """`jacrev(f, wrt)(*args) -> J`, shaped as jacfwd's: one forward sweep, then one backward sweep per
    element of f's value."""
    return _by_rows(f, wrt, "jacrev")


def jacobian(f, wrt=0):
    """`jacobian(f, wrt)(*args) -> J`, by jacfwd where f has at least as many outputs as inputs (one
    forward pass), by jacrev otherwise (one backward sweep per output)."""
    return _by_rows(f, wrt, "jacobian", jacfwd(f, wrt))


def _by_rows(f, wrt, kind, forward_jacobian=None):
    """The Jacobian from one backward sweep per element of f's value after one forward sweep, or from
    forward_jacobian where f has at least as many outputs as inputs."""
    f = primal(f)
    wrt_names = resolve_wrt(f, wrt)
    forward, backward = _derive(f, "split", wrt_names)
    signature = _signature(f)

    def run(*args, **kwargs):
        primals = _positional(signature, args, kwargs)
        tree = _wrt_tree(f, wrt, wrt_names, primals)
        value, saved = forward(*primals)
        if forward_jacobian is not None and sum(np.size(y) for y in outputs(value, _qualname(f))) >= sum(
                np.size(x) for x in flat(tree)):
            return forward_jacobian(*primals)
        return by_rows(value, saved, backward, tree, isinstance(wrt, (tuple, list)), _qualname(f))

    return SecondOrder(f, f"{_qualname(f)}_{kind}", run, lambda: backward.source)


def _wrt_tree(f, wrt, wrt_names, primals):
    """The wrt argument (a tuple of them for a tuple wrt), refused unless its leaves are floats or float
    arrays (the Jacobians and the Hessian are arrays of their elements)."""
    parameters = list(_signature(f).parameters)
    xs = [primals[parameters.index(n)] for n in wrt_names]
    for n, x in zip(wrt_names, xs):
        for leaf in flat(x):
            if not (isinstance(leaf, float) or isinstance(leaf, np.ndarray) and leaf.dtype.kind == "f"):
                raise SourceDiffError(f"argument '{n}' of {_qualname(f)} holds a {type(leaf).__name__}: Jacobians and "
                                      "Hessians are taken with respect to floats and float arrays (or tuples, lists "
                                      "and dicts of them)")
    return tuple(xs) if isinstance(wrt, (tuple, list)) else xs[0]


def _columns(y, t, xs, count):
    """The Jacobian blocks of output y, one per leaf in xs, from its vector-mode tangent t (a row per
    basis direction)."""
    t = np.broadcast_to(np.asarray(t, dtype=float), (count,) + np.shape(y))  # a zero tangent: 0.0
    blocks, offset = [], 0
    for x in xs:
        part = t[offset:offset + np.size(x)].reshape((np.size(x), np.size(y)))
        blocks.append(np.ascontiguousarray(part.T).reshape(np.shape(y) + np.shape(x)))
        offset += np.size(x)
    return blocks


class Gradient:
    """sd.grad(f, wrt): f's gradient, and a primitive whose derivatives are Hessian-vector products of f
    (its Jacobian is the Hessian, which is symmetric: the tangent and the adjoint are both H times the
    incoming derivative). So `sd.jvp(sd.grad(f))`, `sd.grad(sd.grad(f))` for a function of a number, and
    user code calling a gradient are differentiated without differentiating reverse-mode code."""

    def __init__(self, run, f, wrt_names, single):
        functools.update_wrapper(self, run)
        self.__name__ = self.__qualname__ = f"{function_name(f)}_grad"
        self.__signature__ = _signature(f)
        self.run, self.f, self.wrt_names, self.single = run, f, wrt_names, single

    def __call__(self, *args, **kwargs):
        return self.run(*args, **kwargs)

    @functools.cached_property
    def sd_rule(self):
        """Tangent `d[z] = H (d[w1], ...)` and adjoint `d[w1], ... = H d[z]`, H the Hessian with respect to the
        wrt arguments; the other parameters of f must carry no derivative (the rule refuses them)."""
        from .runtime import cotangent_like
        parameters = list(self.__signature__.parameters.values())
        wrt = self.wrt_names
        # the generated gradient of the tangent ∇f·v with respect to wrt, (*args, *v, 1.0) -> (∇f·v, H v): code
        # whose source the modes read, so that a third derivative differentiates it again
        scope = {"hessian_product": _derive(_derive(self.f, "tangent_alone", wrt), "vjp_tuple", wrt),
                 "cotangent_like": cotangent_like}
        scope.update((f"default_{p.name}", p.default) for p in parameters if p.default is not p.empty)
        signature = ", ".join(p.name + ("" if p.default is p.empty else f"=default_{p.name}") for p in parameters)
        arguments = ", ".join(p.name for p in parameters)
        directions = "".join(f"cotangent_like(d[{w}], {w}), " for w in wrt)  # zeros in w's structure for 0.0
        like = wrt[0] if self.single else f"({', '.join(wrt)},)"
        ahead = "[0]" if self.single else ""
        tangent = (f"def tangent(z, {signature}):\n"
                   f"    d[z] = hessian_product({arguments}, {directions}1.0)[1]{ahead}\n")
        parts = "".join(f"cotangent_like(d[z], {like})" + ("" if self.single else f"[{i}]") + ", "
                        for i in range(len(wrt)))
        adjoint = (f"def adjoint(z, {signature}):\n"
                   f"    product = hessian_product({arguments}, {parts}1.0)[1]\n"
                   + "".join(f"    d[{w}] = product[{i}]\n" for i, w in enumerate(wrt)))
        constant = [p.name for p in parameters if p.name not in wrt]
        rule = Rule(self, self.__name__)
        rule.tangents[None] = template_from_source(tangent, scope, constant)
        rule.adjoints[None] = template_from_source(adjoint, scope, constant)
        return rule
