"""Lists and tuples joined with `+` or repeated with `*` (`z = x + y`, `z = x * n`), in both modes.

The rules of `+` and `*` are NumPy's add and multiply, which broadcast; on lists and tuples Python
joins and repeats instead. A statement with an operand known to hold a list or tuple
(ir.analysis.sequence_variables) takes these derivatives instead of the operators' rules: the
tangent joins (or repeats) the operands' tangents, and each operand's cotangent is its slice of the
result's (the sum of the repeats' slices). A sum `x + y` of two values that may each be a list
(neither is known to hold a number or an array: arguments, their elements, results of user functions)
joins or adds depending on what it is given, so its derivatives decide at run time.
"""
import gast

from ..ir.build import call, const, name

KNOWN, POSSIBLE = "known", "possible"


def joining(value, sequences, numeric, active):
    """KNOWN when value is `x + y` of two operands known to hold lists or tuples, or `x * 3` of one;
    POSSIBLE when it is `x + y` with no operand known to hold a number or an array, or `x * n` with an
    active x not known to hold one and an inactive n (an integer constant, or a name that may hold one);
    else None: NumPy's arithmetic, which a list meets as an array (`[a, b] * x` multiplies by an array x)."""
    if not (isinstance(value, gast.BinOp) and isinstance(value.op, (gast.Add, gast.Mult))):
        return None
    operands = [v.id for v in (value.left, value.right) if isinstance(v, gast.Name)]
    if isinstance(value.op, gast.Add):
        if len(operands) == 2 and set(operands) <= sequences:
            return KNOWN
        return POSSIBLE if len(operands) == 2 and not set(operands) & numeric else None
    if len(operands) == 1:  # `xs * 3`: a list repeated, or an array multiplied, as xs decides
        count = value.right if isinstance(value.right, gast.Constant) else value.left
        if not isinstance(count, gast.Constant) or type(count.value) is not int:
            return None
        return KNOWN if operands[0] in sequences else \
            POSSIBLE if operands[0] in active and operands[0] not in numeric else None
    repeated = [v for v in operands if v in active]
    return POSSIBLE if len(repeated) == 1 and repeated[0] not in numeric else None


def joined_tangent(value, tangent_of, tangent_or_zero):
    """`dx + dy` for `x + y` (a zero of its kind for an operand that carries no derivative), `dx * n`
    for `x * n` (n carries none)."""
    if isinstance(value.op, gast.Add):
        return gast.BinOp(left=tangent_or_zero(value.left), op=gast.Add(), right=tangent_or_zero(value.right))
    left, right = (tangent_of(v) or v for v in (value.left, value.right))
    return gast.BinOp(left=left, op=gast.Mult(), right=right)


def joined_directions(value, output, tangent_of, tangent_or_zero):
    """In vector mode (tangents carry directions first), the tangent of `x + y` or `x * n` whose
    operands may be lists: runtime.sum_directions and product_directions decide when they run."""
    x, y = value.left, value.right
    if isinstance(value.op, gast.Add):
        return call("sum_directions", [tangent_or_zero(x), tangent_or_zero(y), name(x.id), name(y.id), name(output)])
    repeated, n = (x, y) if tangent_of(x) is not None else (y, x)
    return call("product_directions", [tangent_of(repeated), name(repeated.id), n, name(output)])


def joined_cotangents(value, how, active, g):
    """[(operand name, its part of the cotangent g of value)]: for `x + y` of lists, `g[:len(x)]` and
    `g[len(x):]` (where they may be lists, runtime.summand_cotangent); for `x * n`, the sum of g's n
    slices of len(x) parts (runtime.unrepeat; where x may be a list, runtime.factor_cotangent)."""
    x, y = value.left, value.right
    if isinstance(value.op, gast.Mult):
        repeated, n = (x, y) if isinstance(x, gast.Name) and x.id in active else (y, x)
        if how == POSSIBLE:
            return [(repeated.id, call("factor_cotangent", [g, name(repeated.id), n]))]
        return [(repeated.id, call("unrepeat", [g, call("len", [name(repeated.id)])]))]
    if how == POSSIBLE:
        return [(v.id, call("summand_cotangent", [g, name(x.id), name(y.id), const(i)])) for i, v in enumerate((x, y))]
    length = call("len", [name(x.id)])
    return [(x.id, call("cotangent_at", [g, call("slice", [const(None), length])])),
            (y.id, call("cotangent_at", [g, call("slice", [length, const(None)])]))]
