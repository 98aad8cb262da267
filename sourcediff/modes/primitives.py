"""What both modes need to know of a normalized primitive statement: its rule key, its operands, and
the entry checks that refuse integer arguments and tangents or cotangents of the wrong shape."""
import operator

import gast

from ..errors import NonDifferentiableError, UnsupportedSyntaxError
from ..frontend.parse import canonical_name
from ..ir.build import assign, call, clone, const, name
from ..rules.registry import OPERATORS, spelling


def primitive_key(value):
    """The registry key of a primitive expression: the called object, or the operator."""
    if isinstance(value, gast.Call):
        return getattr(value, "sd_callee", None)
    if isinstance(value, (gast.BinOp, gast.UnaryOp)):
        return OPERATORS.get(type(value.op))
    if isinstance(value, gast.Subscript):
        return operator.getitem
    return None


def describe(value, key):
    """How an error names the primitive of value: its spelling, or the method or variable a call names."""
    if key is not None:
        return spelling(key)
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute):
        return f"the method .{value.func.attr}()"
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Name):
        return f"{value.func.id}(...): {value.func.id} is a variable, whose function is known only when the code runs"
    return type(value).__name__


def no_rule_hint(value, key, register):
    """What to do about a value without a rule (key: its primitive, None where a variable names the
    function called); register names the function that registers one."""
    if (getattr(key, "__module__", None) or "").startswith("sourcediff."):  # a ufunc's method has None
        return ("sourcediff differentiates its own generated code where its helpers have rules (docs/higher-order.md "
                "lists what nests): this one has none yet")
    if key is None and isinstance(value, gast.Call) and isinstance(value.func, gast.Name):
        return (f"bind it before differentiating, sd.grad(functools.partial(f, {value.func.id}=np.tanh)), or call "
                "it in a helper the function passes it to")
    return f"register one with sd.{register}, or compute this value outside the differentiated function"


def primitive_parts(value, error):
    """(args, keywords, function expression, module spelling) of a primitive expression; error(cls,
    node, message, hint) builds the exception for expressions that carry no rule."""
    if isinstance(value, gast.BinOp):
        return [value.left, value.right], [], None, "np"
    if isinstance(value, gast.UnaryOp):
        return [value.operand], [], None, "np"
    if isinstance(value, gast.Subscript):
        return [value.value, value.slice], [], None, "np"
    if isinstance(value, gast.Call):
        spelled = canonical_name(getattr(value, "sd_callee", None)) or ""
        return list(value.args), list(value.keywords), value.func, "math" if spelled.startswith("math.") else "np"
    if isinstance(value, gast.BoolOp):
        raise error(NonDifferentiableError, value, "and/or on differentiable values is not supported",
                    "use a conditional expression: a if condition else b")
    if isinstance(value, gast.Attribute):
        raise error(UnsupportedSyntaxError, value, f"the attribute .{value.attr} of a differentiable value is "
                    "not supported", "use the NumPy function instead, e.g. np.real(x)")
    raise error(UnsupportedSyntaxError, value, f"{type(value).__name__} of a differentiable value is not "
                "supported", "compute it with a supported NumPy function")


def run_time_check(helper, checked, what, node, error):
    """`helper(checked, what, file, line, col)`: a check the generated code makes where it runs, located at
    node (error is the mode's, which locates an error at a node): require_container, require_no_derivative."""
    located = error(NonDifferentiableError, node, "")
    return gast.Expr(value=call(helper, [checked, const(what), const(located.filename), const(located.lineno),
                                         const(located.col)]))


def container_checks(instance, value, rule, error):
    """For each value an instantiated rule reads through an index that carries a derivative, while the value
    carries none: a check that it is an array, list, tuple or dict, whose indices carry no derivative."""
    return [run_time_check("require_container", clone(indexed), rule.name, value, error)
            for indexed in instance.indexed]


def entry_check(param, function_name, tangent=None):
    """`if type(x) is not float: require_real(x, 'x', f)`: a float passes at the cost of one test. With
    the tangent dx given for x, `if type(x) is not float or type(dx) is not float: require_real(x, 'x',
    f, dx)`, which also compares dx's structure, shape and dtype with x's."""
    checked = [param] if tangent is None else [param, tangent]
    refuse = gast.Expr(value=call("require_real", [name(param), const(param), name(function_name)]
                                  + ([name(tangent)] if tangent else [])))
    return gast.If(test=_not_all_floats(checked), body=[refuse], orelse=[])


def entry_checks(fdef, pattern, function_name, tangent_of=None):
    """The checks of an entry function's arguments: entry_check for those in pattern (with their
    tangents where tangent_of names them), `if type(c) is not float: refuse_complex(c, 'c', f)` for the
    others, whose complex numbers would make the derivatives silently wrong (and, for a parameter whose
    array methods the function calls, `refuse_complex(c, 'c', f, ('.sum()',))`: another object's
    method of that name is not NumPy's)."""
    checks = []
    for p in (a.id for a in fdef.args.args):
        if p in pattern:
            checks.append(entry_check(p, function_name, tangent_of(p) if tangent_of else None))
            continue
        members = getattr(fdef, "sd_array_members", {}).get(p)
        args = [name(p), const(p), name(function_name)]
        if members:
            args.append(gast.Tuple(elts=[const(m) for m in members], ctx=gast.Load()))
        checks.append(gast.If(test=_not_all_floats([p]), body=[gast.Expr(value=call("refuse_complex", args))],
                              orelse=[]))
    return checks


def cotangent_check(cotangent, value, function_name):
    """`if type(bz) is not float or type(value) is not float: bz = require_cotangent(bz, value, f)`:
    the cotangent passed to an entry function against the value it is for (and a value of None), made
    an array where it is the 0.0 that stands for zeros (the rules that change shapes need one)."""
    refuse = assign(cotangent, call("require_cotangent", [name(cotangent), name(value), name(function_name)]))
    return gast.If(test=_not_all_floats([cotangent, value]), body=[refuse], orelse=[])


def _not_all_floats(names):
    tests = [gast.Compare(left=call("type", [name(n)]), ops=[gast.IsNot()], comparators=[name("float")])
             for n in names]
    return tests[0] if len(tests) == 1 else gast.BoolOp(op=gast.Or(), values=tests)
