"""Which values provably have the same shape, so that reverse mode can drop `unbroadcast` calls
that would sum over nothing.

A shape is described as a set of *atoms*: names whose shapes are not known statically, broadcast
against each other (broadcasting is associative, commutative and idempotent, so a set describes it).
A number has the empty set: it broadcasts against anything. Two expressions whose sets are equal
have the same shape whatever the atoms hold; `None` means nothing is known.

Only names assigned once (never in a loop) are described by their definitions, and only when every
name those read is such a name too: their shapes never change. Any other name is its own atom,
which is sound only between values of one moment (the operands and result of one statement, as its
adjoint sees them).
"""
import math

import gast
import numpy as np

from ..frontend.parse import canonical_name

ELEMENTWISE_OPERATORS = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow, gast.Mod, gast.FloorDiv)
SIGN_OPERATORS = (gast.USub, gast.UAdd)


def called_function(node):
    """The NumPy or math function a call node calls, from its resolved callee or its spelling."""
    callee = getattr(node, "sd_callee", None)
    if callee is not None:
        return callee
    func = node.func
    if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
        module = {"np": np, "math": math}.get(func.value.id)
        return getattr(module, func.attr, None) if module is not None else None
    return None


class Shapes:
    """Shapes of expressions over the variables of one normalized function.

    definitions: {name: its one value expression, or None for a parameter or a part of a tuple} for
    the names assigned exactly once, never in a loop; floating: names known to hold floating-point
    numbers or arrays (never a list or an integer), with which `+` and `*` are elementwise.
    Expressions can also be read in a scope that overrides both (see reverse mode's adjoints)."""

    def __init__(self, definitions, floating):
        self.definitions = definitions
        self.floating = set(floating)
        self.cache = {}

    def shape(self, n):
        """The shape of variable n; a variable assigned more than once is its own atom."""
        if n not in self.cache:
            self.cache[n] = frozenset([n])  # also what a definition reading n itself would see
            value = self.definitions.get(n)
            if value is not None and all(m in self.definitions for m in _names(value)):
                found = self.of(value)
                if found is not None:
                    self.cache[n] = found
        return self.cache[n]

    def is_floating_name(self, n):
        return n in self.floating

    def of(self, node, scope=None):
        """The shape of an expression, None if unknown; names are looked up in scope (default self)."""
        scope = scope or self
        if isinstance(node, gast.Constant):
            return frozenset() if type(node.value) in (int, float, bool, complex) else None
        if isinstance(node, gast.Name):
            return scope.shape(node.id)
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, SIGN_OPERATORS):
            return self.of(node.operand, scope)
        if isinstance(node, gast.BinOp) and isinstance(node.op, ELEMENTWISE_OPERATORS):
            # `+` and `*` concatenate and repeat lists: only with a floating operand are they elementwise
            if not (self.is_floating(node.left, scope) or self.is_floating(node.right, scope)):
                return None
            return _union(self.of(node.left, scope), self.of(node.right, scope))
        if isinstance(node, gast.Call) and not node.keywords:
            function = called_function(node)
            # a generalized ufunc (np.matmul) works on core dimensions: not elementwise
            if isinstance(function, np.ufunc) and function.signature is None and function.nout == 1 \
                    and len(node.args) == function.nin:
                return _union(*(self.of(a, scope) for a in node.args))
            if (canonical_name(function) or "").startswith("math.") and function not in (math.frexp, math.modf):
                return frozenset()  # a Python number
        return None

    def is_floating(self, node, scope=None):
        scope = scope or self
        if isinstance(node, gast.Constant):
            return type(node.value) in (float, complex)
        if isinstance(node, gast.Name):
            return scope.is_floating_name(node.id)
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, SIGN_OPERATORS):
            return self.is_floating(node.operand, scope)
        if isinstance(node, gast.BinOp):
            return self.is_floating(node.left, scope) or self.is_floating(node.right, scope)
        return False

    def same(self, a, b, scope=None):
        """Whether expressions a and b provably have the same shape."""
        found = self.of(a, scope)
        return found is not None and found == self.of(b, scope)


class FloatingNames:
    """A scope in which exactly the names in the given sets are floating."""

    def __init__(self, *names):
        self.names = names

    def is_floating_name(self, n):
        return any(n in names for names in self.names)


def _names(node):
    """The variables an expression reads (not the modules of the functions it calls)."""
    if isinstance(node, gast.Call):
        return set().union(*(_names(a) for a in node.args), *(_names(k.value) for k in node.keywords))
    if isinstance(node, gast.Name):
        return {node.id}
    return set().union(*(_names(child) for child in gast.iter_child_nodes(node)))


def _union(*shapes):
    if any(s is None for s in shapes):
        return None
    return frozenset().union(*shapes)
