"""Forward mode: each active statement is followed by its tangent, control flow stays as written.

The generated function takes the primal arguments followed by the tangents of the differentiated
ones, and returns `(value, tangent_of_value)`.
"""

import gast

from ..errors import NonDifferentiableError, UnsupportedSyntaxError
from ..frontend.parse import canonical_name, is_generated, parameters
from ..ir.analysis import (active_variables, enclosing_reads, is_append, is_pop, mutated_variables,
                           nested_functions, numeric_variables, operands, possible_containers, root_name,
                           sequence_variables, statements, without_unused_functions)
from ..ir.build import assign, call, clone, const, index_expression, name, names_in, with_origin
from ..rules import is_user_function, rule_for
from ..rules.instantiate import BindError, instantiate
from .directions import operand_in_form, over_directions, vector_template
from .primitives import (container_checks, describe, entry_checks, no_rule_hint, primitive_key, primitive_parts,
                         run_time_check)
from .sequences import KNOWN, POSSIBLE, joined_directions, joined_tangent, joining


def jvp_name(fdef, pattern):
    """`f_jvp` when every parameter (or none) is differentiated, else `f_jvp_a_b`."""
    params = tuple(a.id for a in fdef.args.args)
    return f"{fdef.name}_jvp" if pattern == params or not pattern else f"{fdef.name}_jvp_{'_'.join(pattern)}"


def may_fall_through(body):
    """Whether running body may reach its end (conservatively: loops may end, branches may not return)."""
    if not body:
        return True
    last = body[-1]
    if isinstance(last, (gast.Return, gast.Raise)) or isinstance(last, gast.Expr) and isinstance(
            last.value, gast.Call) and isinstance(last.value.func, gast.Name) and last.value.func.id == "returned_none":
        return False
    if isinstance(last, gast.If):
        return may_fall_through(last.body) or may_fall_through(last.orelse)
    return True


class ForwardMode:
    """The tangent of one normalized function (and of the nested functions it defines)."""

    def __init__(self, derivation, parsed, fdef, pattern, tangent_names, names, enclosing=None):
        self.derivation = derivation
        self.parsed = parsed
        self.fdef = fdef
        self.pattern = tuple(pattern)
        self.checked_by = None  # the user's function, in an entry function (transform sets it)
        self.tangent_only = False  # the function returns its tangent alone (transform sets it)
        self.tangents = tangent_names  # primal name -> tangent name (shared with nested functions)
        self.names = names
        self.enclosing = enclosing
        self.nested = nested_functions(fdef)
        # nested functions callable here (own and enclosing ones): name -> (def, mode of its scope)
        self.functions = dict(enclosing.functions) if enclosing else {}
        self.functions.update({n: (f, self) for n, f in self.nested.items()})
        # derivatives of nested functions, shared by the whole tree: (def, the mode of its scope, pattern) ->
        # (name, mode); a def inside a nested function has a variant per variant of that function, whose active
        # variables it may read
        self.variants = enclosing.variants if enclosing else {}
        # what each nested function callable here reads from enclosing scopes, itself or through others
        self.reads = enclosing_reads({n: f for n, (f, _) in self.functions.items()})
        self.active = active_variables(fdef, set(pattern) | (enclosing.active if enclosing else set()), self.reads)
        self.mutated = mutated_variables(fdef)
        self.generated = is_generated(parsed.function)  # sourcediff's own code, differentiated again
        self.sequences = sequence_variables(fdef)
        self.numeric = numeric_variables(fdef, self.sequences)
        # vector mode (forward gradients): every tangent carries this many directions on a leading axis
        self.directions = derivation.directions
        if self.directions is not None:
            self.containers = possible_containers(fdef, lambda value: _numpy_call(value) or _math_call(value))

    # -- helpers ---------------------------------------------------------------------------------

    def error(self, cls, node, message, hint=None):
        """An error located at node, or at the user statement it came from."""
        located = node if getattr(node, "lineno", None) else getattr(node, "sd_origin", None) or node
        return self.parsed.info.error(cls, located, message, hint)

    def tangent_name(self, primal):
        if primal not in self.tangents:
            self.tangents[primal] = self.names.fresh("d" + primal, limit=None,
                                                     temporary=primal in self.names.temporaries)
        return self.tangents[primal]

    def derivative_of(self, node):
        """The tangent of an operand, or None where it is inactive."""
        if isinstance(node, gast.Name) and node.id in self.active:
            return name(self.tangent_name(node.id))
        return None

    def derivative_or_zero(self, node):
        found = self.derivative_of(node)
        if found is not None:
            return found
        if isinstance(node, gast.Constant) and isinstance(node.value, (int, float)):
            return const(0.0)
        return self.zeros_like(node)

    def zeros_like(self, node):
        """A zero tangent for node's value (one per direction in vector mode)."""
        count = [] if self.directions is None else [const(self.directions)]
        return call("zeros_like", [clone(node)] + count)

    def derived(self, target, value, origin):
        stmt = assign(target, value, origin)
        stmt.sd_derivative = True
        return stmt

    # -- functions ---------------------------------------------------------------------------------

    def transform(self, new_name, checked_by=None, tangents_given=True, tangent_only=False):
        """The tangent function. Its tangent parameters follow the primal ones: keyword-only when the
        primal has defaults, or (for a derivation whose functions are differentiated again, which reads
        ordinary parameters only) ordinary ones defaulting to None. It returns (value, tangent), or with
        tangent_only the tangent alone (what a Hessian-vector product differentiates). With checked_by (the user's function, bound in the module under that
        name) it first refuses integer arguments where derivatives are asked for and, when the caller
        gives the tangents (users do, one direction each; a forward gradient draws them), tangents
        unlike their arguments."""
        if self.enclosing is None:
            self.collect_variants()
        args = clone(self.fdef.args)
        tangents = [gast.Name(id=self.tangent_name(p), ctx=gast.Param(), annotation=None, type_comment=None)
                    for p in self.pattern]
        if args.defaults and not self.derivation.positional:
            args.kwonlyargs, args.kw_defaults = tangents, [None] * len(tangents)
        elif args.defaults:
            args.args, args.defaults = args.args + tangents, args.defaults + [const(None) for _ in tangents]
        else:
            args.args = args.args + tangents
        given = tangents_given and self.directions is None
        body = [] if checked_by is None else entry_checks(self.fdef, self.pattern,
                                                          checked_by, self.tangent_name if given else None)
        if checked_by is not None:  # the caller's tangents stay as given where the function writes in place
            body += [self.derived(self.tangent_name(p), call("copy.deepcopy", [name(self.tangent_name(p))]), None)
                     for p in self.pattern if p in self.mutated]
        for param in (a.id for a in self.fdef.args.args):
            if param in self.active and param not in self.pattern:
                body.append(self.derived(self.tangent_name(param), self.zeros_like(name(param)), None))
        self.checked_by = checked_by
        self.tangent_only = tangent_only
        body += without_unused_functions(self.block(self.fdef.body))
        if checked_by is not None and may_fall_through(body):
            body.append(self.refuse_none())
        result = gast.FunctionDef(name=new_name, args=args, body=body, decorator_list=[], returns=None,
                                  type_comment=None, type_params=[])
        return gast.copy_location(result, self.fdef)

    def collect_variants(self):
        """Before emitting anything, find every (nested function, active parameters) pair needed,
        following calls made inside nested functions too."""
        pending = [self]
        while pending:
            mode = pending.pop(0)
            for stmt in _calls(mode.fdef.body):
                func = stmt.value.func
                if not (isinstance(func, gast.Name) and func.id in mode.functions):
                    continue
                fdef, owner = mode.functions[func.id]
                params = tuple(a.id for a in fdef.args.args)
                pattern = mode.call_pattern(stmt.value, params, fdef, stmt)
                key = (id(fdef), id(owner), pattern)
                if pattern is None or key in self.variants:
                    continue
                inner = ForwardMode(self.derivation, self.parsed, fdef, pattern, self.tangents, self.names, owner)
                self.variants[key] = (self.names.fresh(jvp_name(fdef, pattern)), inner)
                pending.append(inner)

    def call_pattern(self, value, params, nested, stmt):
        """The callee parameters that receive active arguments, or None when the call is inactive."""
        bound = self.bind_call(value, params, stmt)
        pattern = tuple(p for p in params if p in bound and self.derivative_of(bound[p]) is not None)
        reads_active = nested is not None and any(n in self.active for n in self.reads[value.func.id])
        return pattern if pattern or reads_active else None

    def bind_call(self, value, params, stmt):
        bound = dict(zip(params, value.args))
        if len(value.args) > len(params):
            raise self.error(UnsupportedSyntaxError, stmt, "too many arguments in this call")
        for kw in value.keywords:
            if kw.arg not in params:
                raise self.error(UnsupportedSyntaxError, stmt, f"unexpected keyword argument {kw.arg}=")
            bound[kw.arg] = kw.value
        return bound

    # -- statements --------------------------------------------------------------------------------

    def block(self, body):
        out = []
        for stmt in body:
            out.extend(self.statement(stmt))
        return out or [gast.Pass()]

    def statement(self, stmt):
        if isinstance(stmt, gast.Assign):
            if isinstance(stmt.targets[0], gast.Subscript):
                return self.setitem(stmt)
            return self.assign(stmt)
        if isinstance(stmt, gast.Expr):
            return self.expression_statement(stmt)
        if isinstance(stmt, gast.If):
            orelse = self.block(stmt.orelse) if stmt.orelse else []
            return [gast.If(test=stmt.test, body=self.block(stmt.body), orelse=orelse)]
        if isinstance(stmt, gast.While):
            return [gast.While(test=stmt.test, body=self.block(stmt.body), orelse=[])]
        if isinstance(stmt, gast.For):
            return [gast.For(target=stmt.target, iter=stmt.iter, body=self.block(stmt.body), orelse=[],
                             type_comment=None)]
        if isinstance(stmt, gast.Return):
            return [self.return_(stmt)]
        if isinstance(stmt, gast.FunctionDef):
            return [stmt] + self.nested_variants(stmt)
        return [stmt]

    def refuse_none(self, stmt=None):
        """`returned_none(f)`: the entry function returned None (by a bare return, or past its end)."""
        return with_origin(gast.Expr(value=call("returned_none", [name(self.checked_by)])),
                           stmt.sd_origin if stmt is not None else None)

    def return_(self, stmt):
        value = stmt.value
        if self.checked_by is not None and (value is None or isinstance(value, gast.Constant) and value.value is None):
            return self.refuse_none(stmt)
        if value is None:
            tangent = const(None)
        elif isinstance(value, gast.Tuple):
            tangent = gast.Tuple(elts=[self.derivative_or_zero(e) for e in value.elts], ctx=gast.Load())
        else:
            tangent = self.derivative_or_zero(value)
        if self.tangent_only:
            return with_origin(gast.Return(value=tangent), stmt.sd_origin)
        pair = gast.Tuple(elts=[value or const(None), tangent], ctx=gast.Load())
        return with_origin(gast.Return(value=pair), stmt.sd_origin)

    def nested_variants(self, fdef):
        return [inner.transform(new_name) for (def_id, owner_id, _), (new_name, inner) in self.variants.items()
                if def_id == id(fdef) and owner_id == id(self)]

    def setitem(self, stmt):
        target = stmt.targets[0]
        root = root_name(target)
        if root not in self.active:
            return [stmt]
        tangent = self.derivative_of(stmt.value) or const(0.0)
        if self.directions is not None:
            derived = gast.Expr(value=call("set_tangent_item", [self.vector_place(target.value),
                                                                index_expression(target.slice), tangent]))
        else:
            place = clone(target)
            node = place
            while isinstance(node.value, gast.Subscript):
                node = node.value
            node.value = name(self.tangent_name(root))
            derived = gast.Assign(targets=[place], value=tangent, type_comment=None)
        derived = with_origin(derived, stmt.sd_origin)
        derived.sd_derivative = True
        return [stmt, derived]

    def vector_place(self, node):
        """The tangent of a subscripted place `x[i][j]` in vector mode: `tangent_item(tangent_item(dx, i), j)`."""
        if isinstance(node, gast.Subscript):
            return call("tangent_item", [self.vector_place(node.value), index_expression(node.slice)])
        return name(self.tangent_name(node.id))

    def expression_statement(self, stmt):
        value = stmt.value
        if is_append(stmt) or is_pop(value):
            lst = value.func.value.id
            if lst not in self.active:
                return [stmt]
            return [stmt, self.on_tangent_list(value, stmt.sd_origin)]
        if isinstance(value, gast.Call):
            jvp_call = self.function_call(stmt, value)
            if jvp_call is not None:
                derived = with_origin(gast.Expr(value=jvp_call), stmt.sd_origin)
                derived.sd_derivative = True
                return [derived]
            return [stmt] + self.in_place_tangent(stmt, value)
        return [stmt]

    def in_place_tangent(self, stmt, value):
        """For a call of a helper that writes into its first argument (restore, in reverse-mode code), the
        same write into that argument's tangent; nothing for other calls, whose values are dropped."""
        key = primitive_key(value)
        rule = rule_for(key) if key is not None else None
        template = rule.tangent_for(len(value.args)) if rule is not None else None
        if template is None or not template.in_place or self.derivative_of(value.args[0]) is None:
            return []
        if self.directions is not None:
            raise self.error(NonDifferentiableError, value, f"{rule.name} writes into its argument in place, which "
                             "vector-mode tangents do not follow yet", "differentiate along one direction (sd.jvp)")
        args, keywords, func, module = primitive_parts(value, self.error)
        instance = instantiate(template, name(self.names.fresh("unused")), args, keywords, self.derivative_of,
                               self.names.fresh, self.derivation.namespace.bind, module, func)
        for s in instance.statements:
            s.sd_derivative = True
        return [with_origin(s, stmt.sd_origin) for s in instance.statements]

    def assign(self, stmt):
        target = stmt.targets[0].id
        value = stmt.value
        origin = stmt.sd_origin
        if is_pop(value) and value.func.value.id in self.active:  # the tangent list loses its element too
            popped = self.on_tangent_list(value, origin)
            if target not in self.active:
                return [stmt, popped]
            return [stmt, self.derived(self.tangent_name(target), popped.value, origin)]
        if target not in self.active:
            return [stmt]
        dtarget = self.tangent_name(target)
        if isinstance(value, (gast.Name, gast.Constant)):
            return [stmt, self.derived(dtarget, self.derivative_or_zero(value), origin)]
        if isinstance(value, gast.Call):
            jvp_call = self.function_call(stmt, value)
            if jvp_call is not None:
                pair = gast.Tuple(elts=[name(target, True), name(dtarget, True)], ctx=gast.Store())
                derived = with_origin(gast.Assign(targets=[pair], value=jvp_call, type_comment=None), origin)
                derived.sd_derivative = True
                return [derived]
        if not any(n in self.active for n in operands(value)):
            return [stmt, self.derived(dtarget, self.zeros_like(name(target)), origin)]
        if isinstance(value, (gast.List, gast.Tuple)):
            elements = [self.derivative_or_zero(e) for e in value.elts]
            return [stmt, self.derived(dtarget, type(value)(elts=elements, ctx=gast.Load()), origin)]
        if isinstance(value, gast.Dict):
            values = [self.derivative_or_zero(v) for v in value.values]
            return [stmt, self.derived(dtarget, gast.Dict(keys=clone(value.keys), values=values), origin)]
        how = joining(value, self.sequences, self.numeric, self.active)
        if how == KNOWN or how == POSSIBLE and self.directions is None:  # the tangent reads no primal operand
            tangent = self.derived(dtarget, joined_tangent(value, self.derivative_of, self.derivative_or_zero), origin)
            return [tangent, stmt] if target in names_in(value) else [stmt, tangent]
        if how == POSSIBLE:  # vector mode: the tangent reads the new value, under a name of its own if need be
            output = self.names.fresh(target + "_new") if target in names_in(value) else target
            tangent = self.derived(self.tangent_name(output), joined_directions(
                value, output, self.derivative_of, self.derivative_or_zero), origin)
            if output == target:
                return [stmt, tangent]
            return [assign(output, value, origin), tangent, assign(target, name(output), origin),
                    self.derived(dtarget, name(self.tangent_name(output)), origin)]
        return self.apply_rule(stmt, target, value)

    def on_tangent_list(self, value, origin):
        """`items.append(v)` or `items.pop(...)` done on the tangent list of items, in step with it."""
        lst = value.func.value.id
        args = [self.derivative_or_zero(value.args[0])] if value.func.attr == "append" else clone(value.args)
        derived = gast.Expr(value=call(gast.Attribute(value=name(self.tangent_name(lst)), attr=value.func.attr,
                                                      ctx=gast.Load()), args))
        derived.sd_derivative = True
        return with_origin(derived, origin)

    # -- calls -------------------------------------------------------------------------------------

    def function_call(self, stmt, value):
        """The call of a derivative for a user or nested function with active inputs, else None."""
        func = value.func
        if isinstance(func, gast.Name) and func.id in self.functions:
            nested, owner = self.functions[func.id]
            params = [a.id for a in nested.args.args]
            pattern = self.call_pattern(value, params, nested, stmt)
            if pattern is None:
                return None
            new_name = self.variants[(id(nested), id(owner), pattern)][0]
            tangent_params = {p: self.tangent_name(p) for p in pattern}
        else:
            callee = getattr(value, "sd_callee", None)
            if not (is_user_function(callee)):
                return None
            params = parameters(callee)
            pattern = self.call_pattern(value, params, None, stmt)
            if pattern is None:
                return None
            new_name, tangent_params = self.derivation.function_jvp(callee, pattern)
        bound = self.bind_call(value, params, stmt)
        keywords = list(value.keywords) + [gast.keyword(arg=tangent_params[p], value=self.derivative_of(bound[p]))
                                           for p in pattern]
        return call(name(new_name), value.args, keywords)

    def apply_rule(self, stmt, target, value):
        args, keywords, func, module = primitive_parts(value, self.error)
        if self.directions is not None:  # vector-mode templates pass an index to a helper
            args = [index_expression(a) for a in args]
        key = primitive_key(value)
        rule = rule_for(key) if key is not None else None
        if rule is None or not rule.tangents:
            what = describe(value, key)
            raise self.error(NonDifferentiableError, value, f"no derivative rule for {what}",
                             no_rule_hint(value, key, "register_tangent"))
        template, operand_form = self.tangent_template(rule, args, value)
        if template is None:
            raise self.error(NonDifferentiableError, stmt,
                             f"no derivative rule for {rule.name} with {len(args)} positional arguments")
        origin = stmt.sd_origin
        conflict = target in set().union(*(names_in(a) for a in args + [k.value for k in keywords]))
        output = target
        if conflict and (template.uses_output or operand_form in ("aligned", "direction")):
            output = self.names.fresh(target + "_new")
        dtarget = self.tangent_name(output)
        index = self.names.fresh("j") if operand_form == "direction" else None
        unfollowed = [] if self.generated else None
        try:
            instance = instantiate(template, name(output), args, keywords,
                                   self.derivative_of_output(output, operand_form, index),
                                   self.names.fresh, self.derivation.namespace.bind, module, func, unfollowed)
        except BindError as exc:
            raise self.error(NonDifferentiableError, value, f"cannot differentiate this call of {rule.name}: {exc}",
                             "call it as docs/supported.md shows, or register a rule for this form")
        guards = [run_time_check("require_no_derivative", tangent, f"the {param} of {rule.name}", value, self.error)
                  for param, tangents in unfollowed or () for tangent in tangents]
        guards += container_checks(instance, value, rule, self.error)
        tangent_stmts = [with_origin(s, origin) for s in guards + instance.statements]
        for s in tangent_stmts:
            s.sd_derivative = True
        final = tangent_stmts[-1]
        if index is not None and not hasattr(final.value, "sd_zero_of"):
            final.value = over_directions(final.value, index, self.directions, tangent_stmts[:-1])
        final.value = self.finish_tangent(final.value, rule, instance, output, args)
        primal = assign(output, value, origin)
        if output != target:
            return [primal, *tangent_stmts, assign(target, name(output), origin),
                    self.derived(self.tangent_name(target), name(dtarget), origin)]
        if conflict:
            return [*tangent_stmts, stmt]
        return [stmt, *tangent_stmts]

    def tangent_template(self, rule, args, value):
        """The tangent template for this call, and the form in which operand tangents enter it
        (vector mode: see directions.py)."""
        template = rule.tangent_for(len(args))
        if self.directions is None or template is None:
            return template, None
        operand_names = [a.id for a in args if isinstance(a, gast.Name)]
        from_list = _numpy_call(value) and any(n in self.containers for n in operand_names)
        return vector_template(rule, len(args), operand_names, from_list)

    def derivative_of_output(self, output, operand_form=None, index=None):
        def derivative_of(node):
            if isinstance(node, gast.Name) and node.id == output:
                return name(self.tangent_name(output))
            found = self.derivative_of(node)
            if found is None or operand_form == "stacked" and node.id not in self.containers:
                return found
            return operand_in_form(found, operand_form, output, index)
        return derivative_of

    def finish_tangent(self, rhs, rule, instance, output, args):
        """Give the tangent its value's shape and keep it from aliasing a derivative mutated later."""
        if hasattr(rhs, "sd_zero_of"):
            return self.zeros_like(name(output))
        referenced = _names_read(rhs)
        if rule.elementwise and any(isinstance(z, gast.Name) and z.id not in referenced and output not in referenced
                                    for z in instance.zeroed):
            count = [] if self.directions is None else [const(self.directions)]
            rhs = call("broadcast_like", [rhs, name(output)] + count)
        aliased = rhs
        while isinstance(aliased, gast.Call) and getattr(aliased.func, "id", "") in RETURN_THEIR_ARGUMENT:
            aliased = aliased.args[0]
        if isinstance(aliased, gast.Name) and (output in self.mutated or any(
                self.tangents.get(p) == aliased.id for p in self.mutated)):  # a tangent of a value written in place
            rhs = call("copy.copy", [rhs])
        return rhs


# runtime helpers that may return their first argument itself (a tangent already of the right shape)
RETURN_THEIR_ARGUMENT = ("broadcast_like", "aligned", "as_directions")


def _names_read(rhs):
    """The names rhs reads, leaving out the outputs `aligned(t, z)` reads only for their shape."""
    if isinstance(rhs, gast.Call) and getattr(rhs.func, "id", None) == "aligned":
        return names_in(rhs.args[0])
    if isinstance(rhs, gast.Name):
        return {rhs.id}
    return set().union(*(_names_read(child) for child in gast.iter_child_nodes(rhs)))


def _numpy_call(value):
    return isinstance(value, gast.Call) and (canonical_name(getattr(value, "sd_callee", None)) or "").startswith("np.")


def _math_call(value):
    return isinstance(value, gast.Call) and (canonical_name(getattr(value, "sd_callee", None)) or "").startswith("math.")


def _calls(body):
    for stmt in statements(body):
        if isinstance(stmt, (gast.Assign, gast.Expr)) and isinstance(stmt.value, gast.Call):
            yield stmt

