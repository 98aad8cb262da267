"""Turn a rule template into statements for one call site, and let zero derivatives vanish.

Parameters become the call's operands, `d[x]` becomes the derivative's name (or a symbolic zero when
x carries none), template temporaries get fresh names, and the zeros are then simplified away:
`dx * y + x * 0` becomes `dx * y`. A zero that survives as a list element becomes `zeros_like(x)`,
elsewhere `0.0`.
"""
import builtins

import gast

from ..ir.analysis import operands
from ..ir.build import MARKERS, Transformer, call, child_fields, clone, const, dotted, name, names_in
from .registry import linear_positions


class BindError(Exception):
    """The call's arguments do not match the template's parameters."""


def zero(operand):
    node = const(0.0)
    node.sd_zero_of = operand
    return node


def is_zero(node):
    return hasattr(node, "sd_zero_of")


def bind_arguments(template, args, keywords):
    """Map template parameter names to the call's argument nodes."""
    if template.params[1:2] == ["subscripts"] and not (args and isinstance(args[0], gast.Constant)
                                                      and isinstance(args[0].value, str)):
        raise BindError("einsum needs its subscripts as a string literal ('ij,jk->ik')")
    params = template.params[1:]
    bound, extra_args, extra_keywords = {}, [], []
    for i, arg in enumerate(args):
        if i < len(params):
            bound[params[i]] = arg
        elif template.star:
            extra_args.append(arg)
        else:
            raise BindError(f"too many positional arguments ({len(args)})")
    for kw in keywords:
        if kw.arg in params and kw.arg not in bound:
            bound[kw.arg] = kw.value
        elif template.starstar:
            extra_keywords.append(kw)
        else:
            raise BindError(f"unsupported keyword argument {kw.arg}=")
    for param in params:
        if param not in bound:
            if param not in template.defaults:
                raise BindError(f"missing argument {param}")
            bound[param] = template.defaults[param]
    return bound, extra_args, extra_keywords


class Instance:
    """The statements of one instantiated template, and what they reference."""

    def __init__(self, statements, zeroed, indexed=()):
        self.statements = statements
        self.zeroed = zeroed  # operands whose derivative was zero
        # values that carry no derivative read through an index that does: an index into an array, list,
        # tuple or dict carries none (an integer, a mask or a key), which a check in the code makes sure of
        self.indexed = list(indexed)


def instantiate(template, output, args, keywords, derivative_of, fresh, bind, module="np", func=None,
                unfollowed=None):
    """Statements computing the derivative of `output = F(*args, **keywords)`.

    derivative_of(node) gives the derivative name node of an operand, or None where it has none;
    fresh(hint) gives a new identifier for template temporaries; bind(name, obj) gives the name under
    which the generated module sees an object the template names (np, math, a user's helper). A
    parameter the rule does not differentiate (`constant`) whose operand carries a derivative is
    refused, or with a list unfollowed, listed there as (parameter, the derivatives of its operands).
    """
    bound, extra_args, extra_keywords = bind_arguments(template, args, keywords)
    indexed = []
    for param in template.constant:
        nodes = extra_args if param == template.star else [bound[param]]
        carried = [derivative_of(name(n)) for node in nodes for n in operands(node)]
        carried = [c for c in carried if c is not None]
        if param == "index" and carried:
            value = bound[template.params[1]]
            if all(derivative_of(name(n)) is None for n in operands(value)):
                indexed.append(value)  # checked to be a container where the code runs (see Instance)
            continue  # an index into an array, list, tuple or dict: an integer, a mask or a key, whose derivative is 0
        if carried and unfollowed is None:
            raise BindError(f"its {param} carries a derivative, which this rule does not follow")
        if carried:
            unfollowed.append((param, carried))
    for param, allowed in template.choices.items():
        value = bound[param]
        if not (isinstance(value, gast.Constant) and value.value in allowed):
            raise BindError(f"{param} must be one of {', '.join(map(repr, allowed))}, written as a constant")
    substitution = _Substitution(template, output, bound, extra_args, extra_keywords, derivative_of, fresh, bind,
                                 module, func)
    statements, zero_temps = [], {}
    temps, zeroed = substitution.temps, substitution.zeroed
    for stmt in template.body:
        stmt = substitution.substitute(stmt)
        value = ReplaceNames(zero_temps).visit(stmt.value) if zero_temps else stmt.value
        stmt.value = simplify(value)
        if isinstance(stmt, gast.Expr):  # a helper that writes into its argument: its tangent does so too
            stmt.value = concretize(stmt.value) if zeroed else stmt.value
            statements.append(stmt)
            continue
        target = stmt.targets[0]
        if is_zero(target):
            continue  # an adjoint's contribution to an argument that carries no derivative
        if is_zero(stmt.value) and isinstance(target, gast.Name) and target.id in temps.values():
            zero_temps[target.id] = stmt.value
            continue
        if zeroed:
            stmt.value = concretize(stmt.value)
        statements.append(stmt)
    return Instance(statements, zeroed, indexed)


class _Substitution:
    """A copy of a template's nodes with parameters, derivatives and temporaries replaced (methods, not
    closures: recursive closures make reference cycles that outlive every instantiation)."""

    def __init__(self, template, output, bound, extra_args, extra_keywords, derivative_of, fresh, bind, module, func):
        self.template, self.output, self.bound = template, output, bound
        self.extra_args, self.extra_keywords = extra_args, extra_keywords
        self.derivative_of, self.fresh, self.bind, self.module, self.func = derivative_of, fresh, bind, module, func
        self.out_param = template.params[0]
        self.temps = {}  # template temporary -> its fresh name
        self.zeroed = []  # operands whose derivative was zero

    def derivative(self, node):
        if isinstance(node, gast.Name) and node.id == self.out_param:
            return self.derivative_of(self.output)
        operand = self.bound[node.id]
        result = self.derivative_of(operand)
        if result is None:
            self.zeroed.append(operand)
            return zero(operand)
        return result

    def substitute(self, node):
        if isinstance(node, list):
            return [self.substitute(n) for n in node]
        if not isinstance(node, gast.AST) or isinstance(node, MARKERS):
            return node
        if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name) and node.value.id == "d":
            result = clone(self.derivative(node.slice))
            if isinstance(node.ctx, gast.Store) and isinstance(result, gast.Name):
                result.ctx = gast.Store()
            return result
        if isinstance(node, gast.Name):
            return self.substitute_name(node)
        if isinstance(node, gast.Call):  # the call's extra arguments are spliced in untouched
            args = []
            for arg in node.args:
                args.extend(clone(self.extra_args) if isinstance(arg, gast.Starred) else [self.substitute(arg)])
            keywords = []
            for kw in node.keywords:
                if kw.arg is None:
                    keywords.extend(clone(self.extra_keywords))
                else:
                    keywords.append(gast.keyword(arg=kw.arg, value=self.substitute(kw.value)))
            return gast.Call(func=self.substitute(node.func), args=args, keywords=keywords)
        new = node.__class__.__new__(node.__class__)
        new.__dict__.update({k: self.substitute(v) for k, v in node.__dict__.items()})
        return new

    def substitute_name(self, node):
        if node.id == self.out_param:
            return clone(self.output)
        if node.id in self.bound and self.bound[node.id] is self.template.defaults.get(node.id):
            return self.substitute(self.bound[node.id])  # a default is template code: its names are the template's
        if node.id in self.bound:
            operand = clone(self.bound[node.id])
            operand.sd_operand = True  # the user's expression: simplify leaves it as written
            return operand
        if node.id == "M":
            return dotted(self.module)
        if node.id == "F":
            return clone(self.func)
        temps = self.temps
        if isinstance(node.ctx, gast.Store) or node.id in temps:
            if node.id not in temps:
                temps[node.id] = self.fresh(node.id)
            return name(temps[node.id], isinstance(node.ctx, gast.Store))
        if node.id in self.template.scope:
            return name(self.bind(node.id, self.template.scope[node.id]))
        if hasattr(builtins, node.id):
            return name(node.id)
        raise BindError(f"the template names '{node.id}', which is not defined where it was written")


def instantiate_adjoint(template, output, args, keywords, adjoint_of, fresh, bind, module="np", func=None):
    """Statements adding what `output = F(*args, **keywords)` contributes to its arguments' cotangents.

    adjoint_of(node) gives the cotangent name node of the output or of an argument (None where the
    argument carries none). A template line `d[x] = e` becomes `bx = bx + e`, or stays an update
    `bx = e` when e itself reads bx (as `add_at(d[x], x, index, d[z])` does).
    """
    instance = instantiate(template, output, args, keywords, adjoint_of, fresh, bind, module, func)
    operands = list(args) + [kw.value for kw in keywords]  # norm.logcdf(x, loc=mu, scale=sigma)
    cotangents = {c.id for c in map(adjoint_of, operands) if c is not None}
    for stmt in instance.statements:
        target = stmt.targets[0]
        if isinstance(target, gast.Name) and target.id in cotangents and target.id not in names_in(stmt.value):
            stmt.value = gast.BinOp(left=name(target.id), op=gast.Add(), right=stmt.value)
    return instance


class ReplaceNames(Transformer):
    def __init__(self, replacements):
        self.replacements = replacements

    def visit_Name(self, node):
        return clone(self.replacements[node.id]) if node.id in self.replacements else node


def spelling_of(func):
    if isinstance(func, gast.Name):
        return func.id
    if isinstance(func, gast.Attribute):
        base = spelling_of(func.value)
        return base and f"{base}.{func.attr}"
    return None


def simplify(node):
    """Fold symbolic zeros bottom-up: 0 + a -> a, 0 * a -> 0, f(0) -> 0 for linear f. An operand, the
    user's own expression, is left as written (`x[3 * b:]` keeps its integers)."""
    if getattr(node, "sd_operand", False):
        return node
    for field in child_fields(node.__class__):
        value = getattr(node, field, None)
        if isinstance(value, gast.AST):
            setattr(node, field, simplify(value))
        elif isinstance(value, list):
            setattr(node, field, [simplify(v) if isinstance(v, gast.AST) else v for v in value])
    if isinstance(node, gast.BinOp):
        folded = fold_constants(node)
        if folded is not node:
            return folded
        left, right = is_zero(node.left), is_zero(node.right)
        op = type(node.op)
        if op is gast.Add:
            return node.left if right else node.right if left else node
        if op is gast.Sub:
            if right:
                return node.left
            if left:
                return gast.UnaryOp(op=gast.USub(), operand=node.right)
            return node
        if op in (gast.Mult, gast.MatMult) and (left or right) or op is gast.Div and left:
            return node.left if left else node.right
        return node
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)) and is_zero(node.operand):
        return node.operand
    if isinstance(node, gast.Subscript) and is_zero(node.value):
        return node.value
    if isinstance(node, gast.IfExp) and is_zero(node.body) and is_zero(node.orelse):
        return node.body
    if isinstance(node, gast.IfExp) and isinstance(node.test, gast.Constant):  # `axes is None` with no axes
        return node.body if node.test.value else node.orelse
    if isinstance(node, gast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in CONSTANT_TESTS:
        op, left, right = type(node.ops[0]), node.left, node.comparators[0]
        if isinstance(left, gast.Constant) and isinstance(right, gast.Constant):
            return const(CONSTANT_TESTS[op](left.value, right.value))
        if op in (gast.Is, gast.IsNot) and is_none(right) and hasattr(left, "sd_object"):
            return const(CONSTANT_TESTS[op](left.sd_object, None))  # `ord is None` for norm(x, np.inf)
    if isinstance(node, gast.Call):
        spelled = spelling_of(node.func)
        if spelled == "np.where" and len(node.args) == 3 and is_zero(node.args[1]) and is_zero(node.args[2]):
            return node.args[1]
        positions = linear_positions(spelled)
        if positions is not False:
            for i, arg in enumerate(node.args):
                if is_zero(arg) and (positions is None or i in positions):
                    return arg
    return node


def is_none(node):
    return isinstance(node, gast.Constant) and node.value is None


CONSTANT_TESTS = {gast.Is: lambda a, b: a is b, gast.IsNot: lambda a, b: a is not b,
                  gast.Eq: lambda a, b: a == b, gast.NotEq: lambda a, b: a != b}


def _number(node):
    return isinstance(node, gast.Constant) and type(node.value) in (int, float) and not is_zero(node)


FOLDABLE = {gast.Add: lambda a, b: a + b, gast.Sub: lambda a, b: a - b, gast.Mult: lambda a, b: a * b,
            gast.Pow: lambda a, b: a ** b}


def fold_constants(node):
    """`2 - 1` -> `1`, `x ** 1` -> `x`, `1 * x` -> `x`, `x - 0.0` -> `x`: what templates leave after
    substitution (of a default such as scipy.stats.norm's loc=0.0, or np.var's ddof=0)."""
    left, right, op = node.left, node.right, type(node.op)
    if _number(left) and _number(right) and op in FOLDABLE:
        return const(FOLDABLE[op](left.value, right.value))
    if op in (gast.Add, gast.Sub) and _number(right) and right.value == 0:
        return left
    if op is gast.Pow and _number(right) and right.value == 1:
        return left
    if op is gast.Mult and _number(left) and left.value == 1:
        return right
    if op in (gast.Mult, gast.Div) and _number(right) and right.value == 1:
        return left
    if op is gast.Mult:  # a derivative is a float: `2.0 * x * dx` spares an int-to-float conversion
        for side in ("left", "right"):
            operand = getattr(node, side)
            if _number(operand) and type(operand.value) is int:
                setattr(node, side, const(float(operand.value)))
    return node


def concretize(node):
    """Replace surviving symbolic zeros: zeros_like(x) inside containers, 0.0 elsewhere."""
    if is_zero(node):
        return node
    return _Concretize().visit(node)


class _Concretize(Transformer):
    def visit_List(self, node):
        node.elts = [call("zeros_like", [clone(e.sd_zero_of)]) if is_zero(e) else self.visit(e) for e in node.elts]
        return node

    visit_Tuple = visit_List

    def visit_Constant(self, node):
        return const(0.0) if is_zero(node) else node
