"""The rule registry: one entry per primitive, its derivative templates written as plain Python.

A tangent template is a function whose first parameter names the primitive's output and whose other
parameters name its arguments (with the primitive's defaults; `*args` and `**kwargs` pass the call's
remaining arguments through). In its body `d[x]` is the derivative of `x`, `M` is the module the
primitive came from (`np` or `math`, so one template serves both), and `F` is the primitive itself.
Templates are parsed, never run.
"""
import inspect
import operator
import textwrap
from dataclasses import dataclass, field
from functools import cached_property

import gast
import numpy as np

from ..frontend.parse import canonical_name
from ..frontend.parse import is_user_function as reads_as_user_code
from .transpose import transposed

# Placeholders that make template modules importable; templates are parsed, never called.
d = M = F = None


@dataclass
class Template:
    params: list          # names of the output and argument parameters
    defaults: dict        # parameter name -> default value node
    star: str             # name of *args parameter or None
    starstar: str         # name of **kwargs parameter or None
    body: list            # gast statements
    source: str
    scope: dict           # the template's globals, for the free names it uses (np, math, helpers)
    # parameters that must carry no derivative (an index): refused if one does, except an index into a value that
    # carries one (only arrays, numbers, lists, tuples and dicts do; activity follows variables, not the
    # elements of a tuple, so `pair = (i, x[i])` makes the integer pair[0] active)
    constant: tuple = ()
    choices: dict = field(default_factory=dict)  # parameter -> the constant values the rule is written for
    transposed_from: object = None  # for an adjoint derived from a tangent (rules/transpose.py): that tangent

    @cached_property
    def given(self):
        """The parameters the body assigns a derivative (`d[x] = ...`); an adjoint gives the others none."""
        return {n.slice.id for stmt in self.body for n in gast.walk(stmt) if isinstance(n, gast.Subscript)
                and isinstance(n.ctx, gast.Store) and isinstance(n.value, gast.Name) and n.value.id == "d"
                and isinstance(n.slice, gast.Name)}

    @property
    def in_place(self):
        """Whether the body is calls that write into a tangent (restore's), not `d[z] = ...`."""
        return all(isinstance(stmt, gast.Expr) for stmt in self.body)

    @property
    def uses_output(self):
        """Whether the body reads the primitive's output (then it must run after the primal)."""
        out = self.params[0]
        return any(isinstance(n, gast.Name) and n.id == out for stmt in self.body
                   for n in gast.walk(stmt.value))


@dataclass
class Rule:
    key: object
    name: str                                     # how generated code spells the primitive
    tangents: dict = field(default_factory=dict)  # number of positional args (or None: any) -> Template
    adjoints: dict = field(default_factory=dict)  # the same, for reverse mode
    inactive: bool = False                        # output never depends differentiably on inputs
    array_cotangent: bool = False                 # the adjoint needs the output's cotangent as an array
    elementwise: bool = False                     # broadcasts its operands against each other
    pointwise: bool = False                       # acts on each element of its one operand alone
    vector_tangents: dict = field(default_factory=dict)  # tangents carrying several directions at once
    # the argument positions in which the primitive is linear (a zero there gives a zero result, which lets
    # zero derivatives vanish from templates), None for every argument, False where it is not linear
    linear: object = False

    def tangent_for(self, nargs):
        return self.tangents.get(nargs) or self.tangents.get(None)

    def vector_tangent_for(self, nargs):
        return self.vector_tangents.get(nargs) or self.vector_tangents.get(None)

    def adjoint_for(self, nargs):
        """The adjoint template for nargs positional arguments: registered, or for an elementwise or pointwise
        primitive whose tangent is linear in the derivatives, its transpose (rules/transpose.py)."""
        found = self.adjoints.get(nargs) or self.adjoints.get(None)
        if found is None and (self.elementwise or self.pointwise):
            key = nargs if nargs in self.tangents else None
            tangent = self.tangents.get(key)
            found = transposed(tangent, self.elementwise) if tangent is not None else None
            if found is not None:
                self.adjoints[key] = found
        return found


RULES = {}
NAMED = {}  # how generated code spells a primitive -> its rule (templates name primitives so)

# Python operators, as the normalized code spells them.
OPERATORS = {
    gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
    gast.Div: operator.truediv, gast.Pow: operator.pow, gast.FloorDiv: operator.floordiv,
    gast.Mod: operator.mod, gast.USub: operator.neg, gast.UAdd: operator.pos,
}
OPERATOR_SPELLING = {
    operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/",
    operator.pow: "**", operator.floordiv: "//", operator.mod: "%", operator.neg: "unary -",
    operator.pos: "unary +", operator.getitem: "x[i]", operator.setitem: "x[i] = v",
}


def spelling(key):
    """How messages and docs name a primitive: its rule's name (scipy.special.expit), else its own."""
    rule = rule_for(key)
    return rule.name if rule is not None else own_spelling(key)


def own_spelling(key):
    if isinstance(getattr(key, "__self__", None), np.ufunc):  # a ufunc's method: np.multiply.outer
        return f"np.{key.__self__.__name__}.{key.__name__}"
    return OPERATOR_SPELLING.get(key) or canonical_name(key) or getattr(key, "__qualname__", repr(key))


def identity(obj):
    """The registry's key for obj. A bound method (scipy.stats.norm.logpdf) is a new object at each
    attribute read, so it is known by its instance and function."""
    return (id(obj.__self__), id(obj.__func__)) if inspect.ismethod(obj) else id(obj)


def rule_for(obj):
    """obj's rule: registered, or carried by obj itself (a gradient sourcediff generated, whose rules are
    Hessian-vector products: see higher_order.Gradient)."""
    rule = RULES.get(identity(obj))
    if rule is not None and (rule.key is obj or inspect.ismethod(obj) and rule.key == obj):
        return rule
    own = getattr(type(obj), "sd_rule", None)
    return obj.sd_rule if own is not None else None


def is_user_function(obj):
    """Whether calls of obj are differentiated by reading its source: a function of the user's (or a
    bound method or partial of one) without rules (a library's function needs them; a rule that only declares
    linearity, as some of sourcediff's helpers read for their derivatives have, is not one)."""
    rule = rule_for(obj)
    return reads_as_user_code(obj) and (rule is None or not (rule.tangents or rule.adjoints or rule.inactive))


def _rule(key):
    rule = rule_for(key)
    if rule is None:
        rule = RULES[identity(key)] = Rule(key, own_spelling(key))
        NAMED.setdefault(rule.name, rule)
    return rule


def declare_linear(*keys, positions=None):
    """Declare primitives linear in the arguments at positions (None: in each): a zero derivative there
    gives a zero result, which lets zeros vanish from the templates that call them."""
    for key in keys:
        _rule(key).linear = None if positions is None else frozenset(positions)


def linear_positions(spelled):
    """The positions in which the primitive generated code spells so is linear: None for every
    argument, False where it is not declared linear."""
    rule = NAMED.get(spelled)
    return rule.linear if rule is not None else False


def parse_template(fn, constant=(), choices=None):
    return template_from_source(textwrap.dedent(inspect.getsource(fn)), fn.__globals__, constant, choices)


def template_from_source(source, scope, constant=(), choices=None):
    """The template a `def` in source defines, its free names looked up in scope."""
    node = gast.parse(source).body[0]
    args = node.args
    params = [a.id for a in args.args]
    defaults = dict(zip(params[len(params) - len(args.defaults):], args.defaults))
    return Template(params, defaults, args.vararg.id if args.vararg else None,
                    args.kwarg.id if args.kwarg else None, node.body, source, scope, tuple(constant),
                    dict(choices or {}))


def tangent(*keys, nargs=None, elementwise=False, pointwise=False, linear=False, constant=(), choices=None):
    """Register the decorated template as the tangent of each primitive in keys.

    `constant` names parameters whose derivative the rule does not follow (an index): a call where
    one carries a derivative is refused rather than differentiated as if it did not. `choices` maps a
    parameter to the constant values the rule is written for (np.pad's modes): others are refused.
    `linear` declares the primitives linear in each argument, which lets zero derivatives vanish.
    `elementwise` (operands broadcast against each other) and `pointwise` (one operand, acted on element
    by element) let vector mode reuse the template for tangents that carry several directions.
    """
    def register(fn):
        template = parse_template(fn, constant, choices)
        for key in keys:
            rule = _rule(key)
            if linear:
                rule.linear = None
            rule.tangents[nargs] = template
            if getattr(rule.adjoints.get(nargs), "transposed_from", None) is not None:
                del rule.adjoints[nargs]  # transposed from the tangent this one replaces
            rule.elementwise = rule.elementwise or elementwise
            rule.pointwise = rule.pointwise or pointwise
        return fn
    return register


def vector_tangent(*keys, nargs=None, constant=()):
    """Register the decorated template as the vector-mode tangent of each primitive in keys: there
    `d[x]` carries one direction per row of a leading axis. Primitives without one (and neither
    pointwise nor elementwise) apply their tangent template to each direction in turn."""
    def register(fn):
        template = parse_template(fn, constant)
        for key in keys:
            _rule(key).vector_tangents[nargs] = template
        return fn
    return register


def adjoint(*keys, nargs=None, constant=(), choices=None):
    """Register the decorated template as the adjoint of each primitive in keys.

    In an adjoint template `d[z]` (read) is the cotangent of the output, and `d[x] = e` contributes e
    to x's cotangent; e must already have x's shape (`unbroadcast(e, x)` sums a broadcast away).
    Contributions to arguments that carry no derivative are dropped.
    """
    def register(fn):
        template = parse_template(fn, constant, choices)
        for key in keys:
            _rule(key).adjoints[nargs] = template
        return fn
    return register


def derive_adjoints():
    """Give every rule without a registered adjoint the one its tangent transposes to, where there is one."""
    for rule in list(RULES.values()):
        for nargs in list(rule.tangents):
            rule.adjoint_for(nargs)


def inactive(*keys):
    """Declare primitives whose outputs carry no derivative (shapes, counts, comparisons, constructors)."""
    for key in keys:
        _rule(key).inactive = True


def array_cotangent(*keys):
    """Declare primitives whose adjoint needs its output's cotangent as an array, not the 0.0 that
    stands for zeros (it reshapes, transposes or multiplies it as a matrix): reverse mode makes it one
    where nothing proves it is (tests/test_rules.py checks that every other adjoint takes 0.0)."""
    for key in keys:
        _rule(key).array_cotangent = True


def is_inactive(obj):
    rule = rule_for(obj)
    return rule is not None and rule.inactive
