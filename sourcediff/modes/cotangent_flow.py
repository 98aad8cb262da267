"""Where cotangents flow in reverse mode: which operands a primitive's adjoint gives one (np.full_like(a,
v) gives none to a, which lends only its shape), and which cotangents surely hold an array when their
adjoint runs, rather than the 0.0 that stands for zeros of any shape (rules declared array_cotangent
need an array)."""
import gast

from ..ir.analysis import operands
from ..rules import rule_for
from ..rules.instantiate import BindError, bind_arguments
from .primitives import primitive_key, primitive_parts


def rule_operands(value, error):
    """(template, {parameter: operand}) of the adjoint rule for `t = value`, or None."""
    key = primitive_key(value) if isinstance(value, (gast.Call, gast.BinOp, gast.UnaryOp)) else None
    rule = rule_for(key) if key is not None else None
    template = rule.adjoint_for(len(value.args) if isinstance(value, gast.Call) else
                                2 if isinstance(value, gast.BinOp) else 1) if rule is not None else None
    if template is None:
        return None
    args, keywords, _, _ = primitive_parts(value, error)
    try:
        return template, bind_arguments(template, args, keywords)[0]
    except BindError:
        return None  # refused with its location when the sweep meets it


def operands_given(value, error):
    """The operands of value its adjoint may give cotangents: all but those its rule's template
    passes only to parameters it assigns no `d[x]`. A parameter declared constant counts as given, so
    that the adjoint is instantiated, and refused, where it carries a derivative (np.interp's xp)."""
    bound = rule_operands(value, error)
    if bound is None:
        return operands(value)
    template, arguments = bound
    flowing = template.given | set(template.constant)
    given = {n for param, node in arguments.items() if param in flowing for n in operands(node)}
    withheld = {n for param, node in arguments.items() if param not in flowing for n in operands(node)}
    return [n for n in operands(value) if n in given or n not in withheld]


def surely_reached(fdef, entry, candidates, is_user_call, error):
    """Variables whose cotangent surely holds an array when their adjoint runs: the variable an entry
    function returns (the check of its cotangent makes it an array) and, backwards through the
    top-level block, each candidate (a number or array assigned once, never written in place) that a
    top-level assignment to a variable surely reached gives a cotangent: an adjoint of an array is an
    array."""
    body = fdef.body
    returned = body[-1].value if body and isinstance(body[-1], gast.Return) else None
    reached = {returned.id} if entry and isinstance(returned, gast.Name) else set()
    for stmt in reversed(body):
        if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
                and stmt.targets[0].id in reached):
            continue
        value = stmt.value
        if isinstance(value, gast.Name):
            given = {value.id}
        elif isinstance(value, gast.Call) and is_user_call(value):
            given = set(operands(value))  # the callee's backward function gives cotangents like its arguments
        else:
            bound = rule_operands(value, error)
            given = {a.id for param, a in bound[1].items() if isinstance(a, gast.Name)
                     and param in bound[0].given} if bound is not None else set()
        reached |= given & candidates
    return reached
