"""Analyses of normalized functions: which variables are active, which are mutated in place.

Activity is flow-insensitive: a variable is active when any assignment to it can carry a derivative
from the differentiated arguments. That over-approximates only where one name holds both kinds of
value, and then the inactive assignments simply get a zero derivative.
"""
import gast

from .build import walk

from ..rules import is_inactive
from ..rules.registry import OPERATORS


def statements(body):
    """Every statement in body, entering compound statements but not nested functions."""
    for stmt in body:
        yield stmt
        for field in ("body", "orelse"):
            if not isinstance(stmt, gast.FunctionDef):
                yield from statements(getattr(stmt, field, []) or [])


def operands(value):
    """The names whose derivatives flow into value (indices and conditions carry none)."""
    if isinstance(value, gast.Name):
        return [value.id]
    if isinstance(value, (gast.Constant, gast.Compare)) or \
            isinstance(value, gast.UnaryOp) and isinstance(value.op, gast.Not):
        return []
    if isinstance(value, gast.Call):
        callee = getattr(value, "sd_callee", None)
        if callee is not None and is_inactive(callee):
            return []
        found = [n for a in value.args for n in operands(a)] + [n for k in value.keywords for n in operands(k.value)]
        if isinstance(value.func, gast.Attribute) and callee is None:
            found += operands(value.func.value)  # the receiver of a method call
        return found
    if isinstance(value, gast.BinOp):
        if is_inactive(OPERATORS.get(type(value.op))):
            return []
        return operands(value.left) + operands(value.right)
    if isinstance(value, gast.UnaryOp):
        return operands(value.operand)
    if isinstance(value, gast.Subscript):
        return operands(value.value)
    if isinstance(value, (gast.List, gast.Tuple)):
        return [n for e in value.elts for n in operands(e)]
    if isinstance(value, gast.Dict):
        return [n for v in value.values for n in operands(v)]
    if isinstance(value, gast.BoolOp):
        return [n for v in value.values for n in operands(v)]
    if isinstance(value, gast.Attribute):
        return operands(value.value)
    return []


def root_name(target):
    while isinstance(target, gast.Subscript):
        target = target.value
    return target.id if isinstance(target, gast.Name) else None


def nested_functions(fdef):
    return {s.name: s for s in statements(fdef.body) if isinstance(s, gast.FunctionDef)}


def free_reads(fdef):
    """Names a nested function reads from its enclosing scope."""
    own = {a.id for a in fdef.args.args} | {n.id for n in walk(fdef) if isinstance(n, gast.Name)
                                             and isinstance(n.ctx, gast.Store)}
    return {n.id for n in walk(fdef) if isinstance(n, gast.Name) and n.id not in own}


def active_variables(fdef, seeds, functions=None):
    """The variables of fdef that can carry a derivative, given the active seeds and the nested
    functions callable from it (whose reads of enclosing variables count as operands): a worklist
    over the assignments reading each variable, so each assignment is looked at once per operand."""
    nested = functions if functions is not None else nested_functions(fdef)
    readers = {}  # name -> targets of the assignments that read it
    for stmt in statements(fdef.body):
        if isinstance(stmt, gast.Assign):
            value = stmt.value
            names = operands(value)
            if isinstance(value, gast.Call) and isinstance(value.func, gast.Name) and value.func.id in nested:
                names = names + sorted(free_reads(nested[value.func.id]))
            target = root_name(stmt.targets[0])
        elif isinstance(stmt, gast.Expr) and is_append(stmt):
            names, target = operands(stmt.value.args[0]), stmt.value.func.value.id
        else:
            continue
        if target is not None:
            for n in names:
                readers.setdefault(n, []).append(target)
    return closure(seeds, readers)


def closure(start, successors):
    """The names in start and those reachable from them through successors ({name: [names]})."""
    found = set(start)
    pending = list(found)
    while pending:
        for n in successors.get(pending.pop(), ()):
            if n not in found:
                found.add(n)
                pending.append(n)
    return found


def is_append(stmt):
    value = stmt.value
    return isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) and value.func.attr == "append"


def mutated_variables(fdef):
    """Variables written through a subscript or appended to: their derivatives must not alias others."""
    found = set()
    for stmt in statements(fdef.body):
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Subscript):
            found.add(root_name(stmt.targets[0]))
        elif isinstance(stmt, gast.Expr) and is_append(stmt):
            found.add(stmt.value.func.value.id)
    return found


def possible_containers(fdef, is_numeric_call):
    """Variables that may hold a list, tuple or dict: parameters, container literals, results of calls
    that are not NumPy or math functions, and what is copied or read out of those (or added from two
    of them). Vector mode stacks the tangent of such a value before a NumPy function reads it."""
    found = {a.id for a in fdef.args.args}
    changed = True
    while changed:
        changed = False
        for stmt in statements(fdef.body):
            if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)) \
                    or stmt.targets[0].id in found:
                continue
            value = stmt.value
            if isinstance(value, (gast.List, gast.Tuple, gast.Dict)) \
                    or isinstance(value, (gast.Name, gast.Subscript)) and root_name(value) in found \
                    or isinstance(value, gast.Call) and not is_numeric_call(value) \
                    or isinstance(value, gast.BinOp) and {root_name(value.left), root_name(value.right)} <= found:
                found.add(stmt.targets[0].id)
                changed = True
    return found
