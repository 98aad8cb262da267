"""Analyses of normalized functions: which variables are active, which are mutated in place.

Activity is flow-insensitive: a variable is active when any assignment to it can carry a derivative
from the differentiated arguments. That over-approximates only where one name holds both kinds of
value, and then the inactive assignments simply get a zero derivative.
"""
import copy

import gast

from .build import children, names_in, walk

from ..frontend.parse import canonical_name
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
    """The names whose derivatives flow into value (conditions carry none). The names in an index
    count too: an index that carries a derivative is refused by the subscript's rule, never dropped
    (`np.r_[x, x]` or a user object's `table[x]` would otherwise be silently constant)."""
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
        return operands(value.value) + operands(value.slice)
    if isinstance(value, gast.Slice):
        return [n for part in (value.lower, value.upper, value.step) if part is not None for n in operands(part)]
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
    own = {n.id for n in walk(fdef) if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Param))}
    return {n.id for n in walk(fdef) if isinstance(n, gast.Name) and n.id not in own}


def enclosing_reads(functions):
    """{name: names read from enclosing scopes} for nested functions {name: def} callable from one
    another: what each reads itself or through the nested functions it calls."""
    reads = {g: free_reads(d) for g, d in functions.items()}
    changed = True
    while changed:
        changed = False
        for g in functions:
            inherited = set().union(*(reads[h] for h in reads[g] & set(functions) if h != g)) - reads[g]
            if inherited:
                reads[g] |= inherited
                changed = True
    return reads


def active_variables(fdef, seeds, reads=None):
    """The variables of fdef that can carry a derivative, given the active seeds and, for the nested
    functions callable from it, the enclosing variables each reads (which count as operands of its
    calls): a worklist over the assignments reading each variable, so each assignment is looked at once
    per operand."""
    reads = reads if reads is not None else enclosing_reads(nested_functions(fdef))
    readers = {}  # name -> targets of the assignments that read it
    for stmt in statements(fdef.body):
        if isinstance(stmt, gast.Assign):
            value = stmt.value
            names = operands(value)
            if isinstance(value, gast.Call) and isinstance(value.func, gast.Name) and value.func.id in reads:
                names = names + sorted(reads[value.func.id])
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


def is_pop(node):
    """Whether node is `items.pop()` or `items.pop(i)` on a name, the one call that changes a list's
    structure sourcediff follows besides appends."""
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) and node.func.attr == "pop" \
        and isinstance(node.func.value, gast.Name) and len(node.args) <= 1 and not node.keywords


def mutated_variables(fdef):
    """Variables written through a subscript, appended to or popped: their derivatives must not alias
    others."""
    found = set()
    for stmt in statements(fdef.body):
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Subscript):
            found.add(root_name(stmt.targets[0]))
        elif isinstance(stmt, gast.Expr) and is_append(stmt) or isinstance(stmt, (gast.Assign, gast.Expr)) \
                and is_pop(stmt.value):
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


PARAMETER, INDEX, PART = "parameter", "loop index", "part of a tuple target"


def assigned_values(fdef):
    """{name: what is assigned to it}: value expressions, or PARAMETER, INDEX or PART."""
    assignments = {a.id: [PARAMETER] for a in fdef.args.args}
    for stmt in statements(fdef.body):
        if isinstance(stmt, gast.Assign):
            for n in walk(stmt.targets[0]):
                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                    assignments.setdefault(n.id, []).append(stmt.value if stmt.targets[0] is n else PART)
        elif isinstance(stmt, gast.For):
            assignments.setdefault(stmt.target.id, []).append(INDEX)
    return assignments


def largest_set(assignments, holds):
    """The largest set of names every assignment of which satisfies holds(value, set)."""
    found = set(assignments)
    changed = True
    while changed:
        changed = False
        for variable, values in assignments.items():
            if variable in found and not all(holds(v, found) for v in values):
                found.discard(variable)
                changed = True
    return found


def sequence_variables(fdef):
    """Variables that always hold a list or tuple: literals, list(...) and tuple(...), and what is
    copied, sliced, joined (`+`) or repeated (`*`) from those. For them `+` and `*` join and repeat."""
    return largest_set(assigned_values(fdef), _is_sequence)


def _is_sequence(value, sequences):
    if isinstance(value, (gast.List, gast.Tuple)):
        return True
    if isinstance(value, gast.Name):
        return value.id in sequences
    if isinstance(value, gast.Subscript):
        return isinstance(value.slice, gast.Slice) and _is_sequence(value.value, sequences)
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Add):  # joins two, else NumPy adds
        return all(_is_sequence(v, sequences) for v in (value.left, value.right))
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Mult):  # repeats one an integer times
        return any(_is_sequence(v, sequences) and isinstance(n, gast.Constant) and type(n.value) is int
                   for v, n in ((value.left, value.right), (value.right, value.left)))
    if isinstance(value, gast.Call):
        callee = getattr(value, "sd_callee", None)
        return callee in (list, tuple) or callee is copy.copy and bool(value.args) and \
            _is_sequence(value.args[0], sequences)
    return False


# the NumPy functions with rules whose result is a tuple or list (tests/test_rules.py checks each rule's
# samples against it): their cotangents are added part by part, never with `+`, which joins tuples
SEQUENCE_RESULTS = frozenset({"np.split", "np.array_split", "np.hsplit", "np.vsplit", "np.dsplit", "np.gradient",
                              "np.linalg.eigh", "np.linalg.slogdet", "np.linalg.svd", "np.shape"})


def numeric_variables(fdef, sequences):
    """Variables that always hold numbers or arrays (never a list, tuple or dict): every assignment to
    them is a number, a NumPy or math call, an element of an array, or arithmetic, which gives a
    number or an array (or raises) unless it joins two lists (a sum with no numeric operand) or
    repeats a list (a product with an operand in sequences, those known to be lists or tuples)."""
    return largest_set(assigned_values(fdef), lambda value, numeric: _is_numeric(value, numeric, sequences))


def surely_numeric_variables(fdef, sequences, numeric):
    """Those of numeric (numeric_variables) that are not a product of what may be a list or tuple (a
    parameter) and what may be a Python int: where cotangents are added with `+`, which joins tuples, the
    assumption numeric_variables makes there is not."""
    assignments = assigned_values(fdef)
    floats = largest_set(assignments, lambda value, found: _never_an_int(value, found, numeric))
    return largest_set({v: values for v, values in assignments.items() if v in numeric},
                       lambda value, found: _is_numeric(value, found, sequences, floats))


# NumPy and math functions whose result may be a Python int (which repeats a list it multiplies)
INTEGER_RESULTS = frozenset({"np.ndim", "np.size", "math.floor", "math.ceil", "math.trunc", "math.factorial",
                             "math.comb", "math.perm", "math.isqrt", "math.gcd", "math.lcm", "len", "int", "round"})


def _never_an_int(value, floats, numeric):
    """Whether value is never a Python int (nor a list or tuple): a float, a NumPy value, or arithmetic
    with one (an int only multiplies a list into repeats of it)."""
    if isinstance(value, gast.Constant):
        return type(value.value) is float
    if isinstance(value, gast.Name):
        return value.id in floats
    if isinstance(value, gast.Subscript):  # an element of an array is a NumPy scalar
        return value.value.id in numeric if isinstance(value.value, gast.Name) else False
    if isinstance(value, gast.BinOp):
        return isinstance(value.op, gast.Div) or any(_never_an_int(v, floats, numeric)
                                                     for v in (value.left, value.right))
    if isinstance(value, gast.UnaryOp):
        return _never_an_int(value.operand, floats, numeric)
    if isinstance(value, gast.Call):
        spelled = canonical_name(getattr(value, "sd_callee", None)) or ""
        return spelled.startswith(("np.", "math.")) and spelled not in SEQUENCE_RESULTS | INTEGER_RESULTS
    return False


def _is_numeric(value, numeric, sequences, floats=None):
    if isinstance(value, str):  # a parameter, a loop index, a part of a tuple: it may be anything
        return False
    if isinstance(value, gast.Constant):
        return type(value.value) in (int, float)
    if isinstance(value, gast.Name):
        return value.id in numeric
    if isinstance(value, gast.Subscript):
        return _is_numeric(value.value, numeric, sequences, floats)
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Add):  # joins two lists or tuples
        return any(_is_numeric(v, numeric, sequences, floats) for v in (value.left, value.right))
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Mult):  # repeats a list or tuple by an int
        return not names_in(value) & sequences and (floats is None or all(
            _is_numeric(a, numeric, sequences, floats) or _never_an_int(b, floats, numeric)
            for a, b in ((value.left, value.right), (value.right, value.left))))
    if isinstance(value, (gast.BinOp, gast.UnaryOp)):
        return True
    if isinstance(value, gast.Call):
        spelled = canonical_name(getattr(value, "sd_callee", None)) or ""
        return spelled.startswith(("np.", "math.")) and spelled not in SEQUENCE_RESULTS
    return False


def without_unused_functions(body, readers=()):
    """body without the nested defs that nothing in it (or in readers) calls: primal copies that their
    derivatives replaced, and the defs only those called."""
    defs = {s.name: s for s in statements(body) if isinstance(s, gast.FunctionDef)}
    used = _loads(readers) | _loads(body)
    pending = list(used & set(defs))
    while pending:
        new = {n.id for n in walk(defs[pending.pop()]) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
        new -= used
        used |= new
        pending += list(new & set(defs))
    return _kept(body, used)


def _kept(block, used):
    """block without the nested defs not in used, in every inner block."""
    result = []
    for stmt in block:
        if isinstance(stmt, gast.FunctionDef) and stmt.name not in used:
            continue
        for field in ("body", "orelse"):
            if not isinstance(stmt, gast.FunctionDef) and getattr(stmt, field, None):
                setattr(stmt, field, _kept(getattr(stmt, field), used) or [gast.Pass()])
        result.append(stmt)
    return result


def _loads(body):
    """Names read in body's statements, outside the nested defs there."""
    return {n.id for n in scope_nodes(body) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}


def scope_nodes(body):
    """The nodes of body in its own scope: nested defs themselves but nothing inside them or lambdas."""
    pending = list(body)
    while pending:
        node = pending.pop()
        yield node
        if not isinstance(node, (gast.FunctionDef, gast.Lambda)):
            pending.extend(children(node))
