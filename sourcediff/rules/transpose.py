"""Adjoints derived from tangents by transposition, as JAX derives reverse mode from linear JVPs.

A tangent template whose value is linear in the operands' derivatives, a sum of terms each holding one
`d[x]` reached through products, quotients (as the numerator) and negations, `d[z] = c1 * d[x] - d[y] / c2`,
transposes term by term: `d[x] = c1 * d[z]` and `d[y] = -(d[z] / c2)`. For an elementwise primitive
(operands broadcast against each other) each contribution is summed back to its operand's shape with
`unbroadcast`; a pointwise one (one operand, acted on element by element) needs none. Statements before
the last that compute coefficients (no `d[...]` in them) are kept. Templates of another shape have no
derived adjoint: their rule registers one by hand, as do rules whose hand-written adjoint reads better.
"""
import copy

import gast

from ..ir.build import call, name, walk
from ..runtime import unbroadcast


def transposed(template, elementwise):
    """The adjoint template of a linear tangent template, or None where its shape is not the one above."""
    *coefficients, last = template.body
    output = template.params[0]
    if any(_reads_derivative(s) for s in coefficients) or not (
            isinstance(last, gast.Assign) and len(last.targets) == 1 and _derivative_of(last.targets[0]) == output):
        return None
    terms = _terms(last.value)
    if not terms:
        return None
    by_operand = {}
    for negated, operand, term in terms:
        if operand == output or operand not in template.params:
            return None
        contribution = _replaced(term, operand, output)
        if negated:
            contribution = gast.UnaryOp(op=gast.USub(), operand=contribution)
        by_operand.setdefault(operand, []).append(contribution)
    body = [copy.deepcopy(s) for s in coefficients]
    for operand in sorted(by_operand, key=template.params.index):
        total = by_operand[operand][0]
        for contribution in by_operand[operand][1:]:
            total = gast.BinOp(left=total, op=gast.Add(), right=contribution)
        if elementwise:
            total = call("unbroadcast", [total, name(operand)])
        place = gast.Subscript(value=name("d"), slice=name(operand), ctx=gast.Store())
        body.append(gast.Assign(targets=[place], value=total, type_comment=None))
    scope = dict(template.scope, unbroadcast=unbroadcast) if elementwise else template.scope
    return type(template)(list(template.params), dict(template.defaults), template.star, template.starstar, body,
                          template.source, scope, template.constant, dict(template.choices), transposed_from=template)


def _terms(node, negated=False):
    """[(negated, operand, term)] for each term of a value linear in derivatives, each term holding one
    `d[operand]`; None where the value is not of that form (a derivative-free summand included)."""
    if _derivative_of(node) is not None:
        return [(negated, _derivative_of(node), node)]
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        return _terms(node.operand, not negated)
    if isinstance(node, gast.BinOp) and isinstance(node.op, (gast.Add, gast.Sub)):
        left, right = _terms(node.left, negated), _terms(node.right, negated ^ isinstance(node.op, gast.Sub))
        return None if left is None or right is None else left + right
    if isinstance(node, gast.BinOp) and isinstance(node.op, (gast.Mult, gast.Div)):
        left_linear, right_linear = _reads_derivative(node.left), _reads_derivative(node.right)
        if left_linear == right_linear or isinstance(node.op, gast.Div) and right_linear:
            return None  # a product of two derivatives, a constant, or a derivative dividing
        inner = _terms(node.left if left_linear else node.right, negated)
        if inner is None:
            return None
        rebuilt = []
        for sign, operand, term in inner:
            product = gast.BinOp(left=term, op=node.op, right=node.right) if left_linear else \
                gast.BinOp(left=node.left, op=node.op, right=term)
            rebuilt.append((sign, operand, product))
        return rebuilt
    return None


def _replaced(term, operand, output):
    """term with its `d[operand]` read as `d[output]` (a copy)."""
    term = copy.deepcopy(term)
    for node in walk(term):
        if _derivative_of(node) == operand:
            node.slice.id = output
    return term


def _derivative_of(node):
    """x for a node `d[x]`, else None."""
    if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name) and node.value.id == "d" \
            and isinstance(node.slice, gast.Name):
        return node.slice.id
    return None


def _reads_derivative(node):
    return any(_derivative_of(n) is not None for n in walk(node))
