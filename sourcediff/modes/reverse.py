"""Reverse mode: a forward sweep that runs the primal and saves what it overwrites, then a backward
sweep that propagates cotangents through each statement's adjoint template in reverse order.

Values an adjoint needs are saved on a plain list used as a stack only where they may be overwritten
before the backward sweep reads them (names assigned more than once, or inside a loop); branch
decisions and while-loop trip counts likewise; loops over range run backwards over the same range
instead of storing their indices.

Early returns, break and continue are first rewritten into flags (ir/structure.py), so that every
block runs to its end and loops break only as their last step.

An in-place write `x[i] = v` saves the overwritten part of x and restores it in the backward sweep,
and `xs.append(v)` is undone by `xs.pop()`, so earlier adjoints see the contents they read.

Not yet supported here (refused with an error that says so): calls of user functions made for their
side effects.
"""

import gast

from .. import runtime
from ..errors import NonDifferentiableError, UnsupportedSyntaxError
from ..frontend.parse import canonical_name, parameters
from ..ir.analysis import (INDEX, PARAMETER, PART, active_variables, assigned_values, closure, enclosing_reads, is_append,
                           is_pop, largest_set, mutated_variables, numeric_variables, operands, sequence_variables,
                           statements, surely_numeric_variables)
from ..ir.build import Transformer, assign, call, clone, const, index_expression, name, names_in, walk, with_origin
from ..ir.structure import breaks, single_exit
from ..rules import is_user_function, rule_for
from ..rules.instantiate import BindError, ReplaceNames, instantiate_adjoint, spelling_of
from .checkpoint import checkpointed_loop
from .cotangent_flow import operands_given, surely_reached
from .primitives import container_checks, describe, no_rule_hint, primitive_key, primitive_parts
from .sequences import joined_cotangents, joining
from .shapes import FloatingNames, Shapes

UNSUPPORTED = {}


def useful_variables(fdef, local_functions=None, given=operands):
    """Variables whose values can reach the returned value (flow-insensitive); a call of a nested
    function also reads the enclosing variables that function reads. given(value) lists the operands
    whose derivatives flow into value (not the array np.full_like(a, v) takes only the shape of)."""
    local_functions = local_functions or {}
    useful = set()
    reads_of = {}  # variable -> the names its assignments read
    for stmt in statements(fdef.body):
        if isinstance(stmt, gast.Return) and stmt.value is not None:
            useful |= names_in(stmt.value)
        if isinstance(stmt, gast.Assign):
            targets, value = {n.id for n in walk(stmt.targets[0]) if isinstance(n, gast.Name)}, stmt.value
        elif isinstance(stmt, gast.Expr) and is_append(stmt):
            targets, value = {stmt.value.func.value.id}, stmt.value.args[0]
        else:
            continue
        reads = given(value)
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Name) and value.func.id in local_functions:
            reads = reads + list(local_functions[value.func.id][1])
        for target in targets:
            reads_of.setdefault(target, []).extend(reads)
    return closure(useful, reads_of)


def lift_nested_functions(fdef, outer):
    """{name: (lifted copy, free names)} for each nested function: the copy takes the enclosing
    variables it reads (itself, or through the nested functions it calls, here or lifted from further
    out: outer) as extra keyword arguments, so it can be differentiated as a function of its own."""
    nested = {s.name: s for s in statements(fdef.body) if isinstance(s, gast.FunctionDef)}
    enclosing = ({a.id for a in fdef.args.args} | {n.id for n in walk(fdef) if isinstance(n, gast.Name)
                                                   and isinstance(n.ctx, gast.Store)}) - set(nested)
    outer = {g: lifted_there for g, lifted_there in outer.items() if g not in nested}
    reads = enclosing_reads(nested)
    free = {g: (names | set().union(*(outer[h][1] for h in names & set(outer)))) & enclosing
            for g, names in reads.items()}
    lifted = {}
    for function_name, nested_def in nested.items():
        names = sorted(free[function_name])
        copy_ = clone(nested_def)
        # the nested functions it calls, as they are, for the calls that carry no derivative (`g(2.0)`)
        copy_.body = [clone(nested[g]) for g in sorted(reads[function_name] & set(nested) - {function_name})] + \
            copy_.body
        copy_.args = gast.arguments(
            args=list(copy_.args.args) + [gast.Name(id=f, ctx=gast.Param(), annotation=None, type_comment=None)
                                          for f in names],
            posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
            defaults=list(copy_.args.defaults) + ([const(None)] * len(names) if copy_.args.defaults else []))
        lifted[function_name] = (copy_, names)
    for copy_, _ in lifted.values():
        copy_.sd_enclosing_functions = {**outer, **lifted}  # it calls those lifted beside it and further out
    return lifted


def written_arguments(fdef):
    """Parameters whose argument fdef writes into (in place, never having assigned the name again)."""
    assigned = {n.id for n in walk(fdef) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    return {a.id for a in fdef.args.args} & mutated_variables(fdef) - assigned


SCALAR_BUILTINS = {abs, float, int, len, max, min, round}


def is_scalar_code(fdef):
    """Whether every variable of fdef holds a Python number when its arguments do (no NumPy, no calls
    of user functions, no containers)."""
    assigned = {n.id for n in walk(fdef) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    return assigned <= scalar_variables(fdef) and not any(isinstance(s, gast.FunctionDef)
                                                          for s in statements(fdef.body))


def scalar_variables(fdef):
    """Variables that hold Python numbers whenever every argument does: arithmetic on them, math
    functions, numeric constants, loop indices. NumPy calls and subscripts may give arrays."""
    return largest_set(assigned_values(fdef), _is_scalar)


def _is_scalar(value, scalars):
    if value in (PARAMETER, INDEX):
        return True
    if value is PART:
        return False
    if isinstance(value, gast.Constant):
        return type(value.value) in (int, float, bool)
    if isinstance(value, gast.Name):
        return value.id in scalars
    if isinstance(value, gast.BinOp):
        return _is_scalar(value.left, scalars) and _is_scalar(value.right, scalars)
    if isinstance(value, gast.UnaryOp):
        return _is_scalar(value.operand, scalars)
    if isinstance(value, gast.Compare):
        return True
    if isinstance(value, gast.Call):
        callee = getattr(value, "sd_callee", None)
        spelled = canonical_name(callee) or ""
        return (spelled.startswith("math.") or callee in SCALAR_BUILTINS) and \
            all(_is_scalar(a, scalars) for a in value.args)
    return False


class _Specialize(Transformer):
    """ReverseMode.specialize's rewriting of `unbroadcast` and `add_like` calls."""

    def __init__(self, mode, scope):
        self.mode, self.scope = mode, scope

    def visit_Call(self, call_node):
        self.generic_visit(call_node)
        func, args = call_node.func, call_node.args
        if not (isinstance(func, gast.Name) and len(args) >= 2 and isinstance(args[1], gast.Name)):
            return call_node
        scalar = args[1].id in self.mode.scalars
        if func.id == "unbroadcast" and (scalar or self.scope is not None and
                                         self.mode.shapes.same(args[0], args[1], self.scope)):
            return args[0]
        if func.id == "add_like" and scalar:
            return gast.BinOp(left=args[0], op=gast.Add(), right=args[2])
        return call_node


def shape_analysis(fdef, counts, floating):
    """Shapes over fdef's variables (see shapes.py). floating: variables known to hold floating-point
    numbers or arrays; so does any variable every assignment of which is arithmetic with one of them
    or with a float constant (it is a float array, or the operation raises)."""
    values = assigned_values(fdef)
    shapes = Shapes({n: v[0] if isinstance(v[0], gast.AST) else None for n, v in values.items() if counts.get(n) == 1},
                    floating)
    shapes.floating |= largest_set(values, lambda v, found: not isinstance(v, str)
                                   and shapes.is_floating(v, FloatingNames(found, floating)))
    return shapes


def single_use_temporaries(fdef, temporaries):
    """Temporaries assigned once and read once, later in the same block: the read's adjoint gives the
    whole cotangent, so it can assign it (no zero to start from, none to reset to)."""
    stores, loads = {}, {}
    for n in walk(fdef):
        if isinstance(n, gast.Name):
            counts = stores if isinstance(n.ctx, (gast.Store, gast.Param)) else loads
            counts[n.id] = counts.get(n.id, 0) + 1
    candidates = {t for t in temporaries if stores.get(t) == 1 and loads.get(t) == 1}
    found = set()
    _read_after_definition(fdef.body, candidates, found)
    return found


def _read_after_definition(block, candidates, found):
    """Add to found the candidates read later in the block that defines them (or in its inner blocks)."""
    defined = set()
    for stmt in block:
        reads = isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) or \
            isinstance(stmt, (gast.Expr, gast.Return)) and stmt.value is not None
        found.update(names_in(stmt.value) & defined if reads else ())
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
                and stmt.targets[0].id in candidates:
            defined.add(stmt.targets[0].id)
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list) and not isinstance(stmt, gast.FunctionDef):
                _read_after_definition(getattr(stmt, field), candidates, found)


def assignment_counts(fdef):
    """How often each name is assigned, counting twice a name assigned inside a loop."""
    counts = {}
    _count_assignments(fdef.body, False, counts)
    for a in fdef.args.args:
        counts[a.id] = counts.get(a.id, 0) + 1
    return counts


def _count_assignments(body, in_loop, counts):
    for stmt in body:
        if isinstance(stmt, (gast.Assign, gast.For)):
            targets = stmt.targets if isinstance(stmt, gast.Assign) else [stmt.target]
            for target in targets:
                for n in walk(target):
                    if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                        counts[n.id] = counts.get(n.id, 0) + (2 if in_loop or isinstance(stmt, gast.For) else 1)
        if isinstance(stmt, (gast.For, gast.While)):
            _count_assignments(stmt.body, True, counts)
        elif isinstance(stmt, gast.If):
            _count_assignments(stmt.body, in_loop, counts)
            _count_assignments(stmt.orelse, in_loop, counts)


# helpers of reverse-mode code that change their first argument in place, which reverse mode does not follow
# (add_at and zero_at, which change a cotangent, are given a copy there: ir/mutation.copy_written_cotangents)
IN_PLACE = (runtime.restore, runtime.unpop)


class ReverseMode:
    """The forward and backward sweeps of one normalized function."""

    def __init__(self, derivation, parsed, fdef, pattern, names, scalars=False):
        self.derivation = derivation
        self.parsed = parsed
        self.names = names
        outer = getattr(fdef, "sd_enclosing_functions", {})
        self.local_functions = {**outer, **lift_nested_functions(fdef, outer)}
        self.fdef = single_exit(fdef, names)
        self.refuse_unsupported()
        self.separate_overwrites()
        self.pattern = tuple(pattern)
        reads = {n: set(free) for n, (_, free) in self.local_functions.items()}
        self.active = active_variables(fdef, set(pattern), reads) & useful_variables(fdef, self.local_functions,
                                                                                     self.operands_given)
        self.sequences = sequence_variables(self.fdef)
        self.numeric = numeric_variables(self.fdef, self.sequences)
        self.summable = surely_numeric_variables(self.fdef, self.sequences, self.numeric)  # cotangents added with +
        self.single_use = single_use_temporaries(self.fdef, names.temporaries)
        # with scalars=True, the code may assume every argument is a Python float or int
        self.scalars = scalar_variables(self.fdef) if scalars else set()
        self.numbers = self.numeric | self.scalars  # variables that hold numbers or arrays, never lists
        counts = assignment_counts(fdef)
        self.unstable = {n for n, c in counts.items() if c > 1}
        self.shapes = shape_analysis(self.fdef, counts, self.active & self.numeric)
        self.primal_names = set(counts)
        self.cotangents = {}
        self.primal_of = {}  # cotangent name -> its primal (the inverse of self.cotangents)
        self.stack = names.fresh("stack", temporary=False)
        self.stack_used = False
        self.loop_indices = frozenset()  # indices of the loops around the statement being transformed
        self.seeded = None  # the cotangent that is the function's cotangent parameter
        self.reached = set()  # variables whose cotangent surely holds an array (surely_reached)
        self.originals = {}  # differentiated parameter assigned again -> the name keeping the argument
        if mutated_variables(self.fdef):
            derivation.restores_in_place = True  # a backward function undoes writes into what it was given

    # -- preparation -------------------------------------------------------------------------------

    def operands_given(self, value):
        return operands_given(value, self.error)

    def surely_reached(self, entry):
        once = set(self.primal_names) - self.unstable - mutated_variables(self.fdef)
        return surely_reached(self.fdef, entry, once & self.numeric, self.is_user_call, self.error)

    def error(self, cls, node, message, hint=None):
        located = node if getattr(node, "lineno", None) else getattr(node, "sd_origin", None) or node
        return self.parsed.info.error(cls, located, message, hint)

    def refuse_unsupported(self):
        body = self.fdef.body
        for stmt in statements(body):
            what = UNSUPPORTED.get(type(stmt))
            if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call) and self.is_user_call(stmt.value):
                what = "a call of a user function made for its side effects"
            if isinstance(stmt, (gast.Assign, gast.Expr)) and getattr(stmt.value, "sd_callee", None) in IN_PLACE:
                raise self.error(UnsupportedSyntaxError, stmt.value, "reverse mode over reverse-mode code is not "
                                 f"supported yet: {stmt.value.func.id} changes a cotangent or a value in place",
                                 "differentiate the vjp or gradient function in forward mode (sd.jvp)")
            if what:
                raise self.error(UnsupportedSyntaxError, stmt, f"{what} is not supported in reverse mode yet",
                                 "use forward mode (sd.jvp) for this function, or restructure it")

    def separate_overwrites(self):
        """`s = s * v` becomes `s_new = s * v; s = s_new`, so an adjoint sees both values."""
        self.fdef.body = self._separated(self.fdef.body)

    def _separated(self, body):
        out = []
        for stmt in body:
            for field in ("body", "orelse"):
                if isinstance(getattr(stmt, field, None), list):
                    setattr(stmt, field, self._separated(getattr(stmt, field)))
            if (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
                    and not isinstance(stmt.value, (gast.Name, gast.Constant))
                    and stmt.targets[0].id in names_in(stmt.value)):
                target = stmt.targets[0].id
                fresh = self.names.fresh(target + "_new")
                out += [assign(fresh, stmt.value, stmt.sd_origin), assign(target, name(fresh), stmt.sd_origin)]
            else:
                out.append(stmt)
        return out

    # -- names -------------------------------------------------------------------------------------

    def cotangent_name(self, primal):
        if primal not in self.cotangents:
            self.cotangents[primal] = self.names.fresh("b" + primal, limit=None,
                                                       temporary=primal in self.names.temporaries)
            self.primal_of[self.cotangents[primal]] = primal
        return self.cotangents[primal]

    def cotangent_of(self, node):
        if isinstance(node, gast.Name) and node.id in self.active:
            return name(self.cotangent_name(node.id))
        return None

    def accumulate(self, primal, value, origin):
        """`bx = bx + value`, or `add_cotangents(bx, value)` where x may be a list, tuple or dict; a
        temporary read once gets its whole cotangent from that one read: `bx = value`."""
        target = self.cotangent_name(primal)
        if primal in self.single_use:
            return derived(assign(target, self.specialize(value), origin))
        return derived(assign(target, self.sum_of_cotangents(primal, name(target), value), origin))

    def sum_of_cotangents(self, primal, g, h):
        """g + h for two cotangents of primal: add_cotangents adds those of a list, tuple or dict part
        by part, whichever form each takes (see runtime.add_cotangents)."""
        if primal in self.summable or primal in self.scalars:
            return gast.BinOp(left=g, op=gast.Add(), right=h)
        return call("add_cotangents", [g, h])

    def reset(self, primal, origin):
        return derived(assign(self.cotangent_name(primal), const(0.0), origin))

    def push(self, values, origin):
        self.stack_used = True
        item = name(values[0]) if len(values) == 1 else gast.Tuple(elts=[name(v) for v in values], ctx=gast.Load())
        push = derived(with_origin(gast.Expr(value=call(gast.Attribute(value=name(self.stack), attr="append",
                                                                         ctx=gast.Load()), [item])), origin))
        push.sd_push = True  # it only reads names: the optimizer may move pure computations past it
        return push

    def pop(self, values, origin):
        target = name(values[0], True) if len(values) == 1 else gast.Tuple(
            elts=[name(v, True) for v in values], ctx=gast.Store())
        popped = call(gast.Attribute(value=name(self.stack), attr="pop", ctx=gast.Load()))
        return derived(with_origin(gast.Assign(targets=[target], value=popped, type_comment=None), origin))

    def saves(self, adjoint_statements, exclude=()):
        """The primal values adjoint_statements read that may be overwritten before they run."""
        read = set().union(*(names_in(s) for s in adjoint_statements)) if adjoint_statements else set()
        return sorted(n for n in (read & self.unstable) - self.loop_indices - set(exclude) if n not in self.primal_of)

    # -- sweeps ------------------------------------------------------------------------------------

    def sweep(self, body):
        """(forward statements, backward statements) of a block; the backward ones in reverse order.

        What plain assignments save is pushed as late as the block allows: together, once each, just
        before a statement that overwrites one of those values or does anything but assign names.
        The pop moves to the mirror position, where every value popped is still the one saved. In
        scalar code, a value one math function computes from values popped with it is computed again
        after the pop instead of pushed."""
        groups = []  # [forward, backward] per statement
        pending, last = {}, None  # names whose push waits (in order); the group after which they are pushed
        last_writer = {}  # name -> index of the last group whose forward statements assign it

        def flush():
            if pending:
                again = self.recomputable(pending, groups, last_writer)  # last is the last group
                origin = groups[last][0][-1].sd_origin if groups[last][0] else None
                pushed = [n for n in pending if n not in again]
                recomputed = []
                renamed_from = {}  # group index -> {name: its fresh name} from that group to the last
                for n, (value, first) in again.items():  # under a name of its own, so both fold away
                    fresh = self.names.fresh(n)
                    renamed_from.setdefault(first, {})[n] = name(fresh)
                    recomputed.append(derived(assign(fresh, clone(value), origin)))
                renames = {}
                for k in range(min(renamed_from, default=last + 1), last + 1):
                    renames.update(renamed_from.get(k, {}))
                    groups[k][1] = [ReplaceNames(renames).visit(s) for s in groups[k][1]]
                groups[last][0].append(self.push(pushed, origin))
                groups[last][1][:0] = [self.pop(pushed, origin)] + recomputed
                pending.clear()

        for stmt in body:
            f, b = self.statement(stmt)
            plain = isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
            saved = getattr(f[-1], "sd_saves", None) if plain and f else None
            if saved:
                f, b = f[:-1], b[1:]
            stored = _stored(f)
            if not plain or any(not isinstance(s, gast.Assign) for s in f) or any(n in pending for n in stored):
                flush()
            groups.append([f, b])
            last_writer.update(dict.fromkeys(stored, len(groups) - 1))
            if saved or pending:
                pending.update(dict.fromkeys(saved or []))
                last = len(groups) - 1
        flush()
        forward = [s for f, _ in groups for s in f]
        backward = [s for _, b in reversed(groups) for s in b]
        return forward, backward

    def recomputable(self, pending, groups, last_writer):
        """{name: (value, index of the group assigning it)} for the pending names of scalar code assigned
        `math.f(names)` in groups, where every such name is pushed with them (or assigned once) and
        unchanged since: recomputing such a value after the pop gives the same number and costs less
        than pushing it. last_writer: the index of the last group assigning each name."""
        if not self.scalars:
            return {}
        found = {}
        pending_names = set(pending)
        for n in pending:
            writer = last_writer.get(n)
            if writer is None:
                continue
            values = [s.value for s in groups[writer][0] if isinstance(s, gast.Assign)
                      and isinstance(s.targets[0], gast.Name) and s.targets[0].id == n]
            value = values[-1] if values else None
            args = {a.id for a in getattr(value, "args", []) if isinstance(a, gast.Name)}
            if (isinstance(value, gast.Call) and (canonical_name(getattr(value, "sd_callee", None)) or "").startswith("math.")
                    and not value.keywords and len(args) == len(value.args)
                    and all(a in pending_names and a != n or a in self.primal_names and a not in self.unstable
                            for a in args)
                    and all(last_writer.get(a, -1) <= writer for a in args)):
                found[n] = (value, writer)
        return {n: v for n, v in found.items() if not names_in(v[0]) & set(found)}

    def statement(self, stmt):
        if isinstance(stmt, gast.FunctionDef):
            return [stmt], []  # the primal nested function, for calls that carry no derivative
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Subscript):
            return self.subscript_write(stmt)
        if isinstance(stmt, gast.Expr) and is_append(stmt):
            return self.append(stmt)
        if isinstance(stmt, (gast.Assign, gast.Expr)) and is_pop(stmt.value):
            return self.popped(stmt)
        if isinstance(stmt, gast.Assign):
            return self.assignment(stmt)
        if isinstance(stmt, gast.If):
            return self.branch(stmt)
        if isinstance(stmt, gast.For):
            return self.for_loop(stmt)
        if isinstance(stmt, gast.While):
            return self.while_loop(stmt)
        if isinstance(stmt, gast.Return):
            return [], []
        return [stmt], []

    def assignment(self, stmt):
        target = stmt.targets[0]
        value = stmt.value
        origin = stmt.sd_origin
        if isinstance(target, gast.Name) and isinstance(value, gast.Name) and value.id == target.id:
            return [], []  # `a = a` (the branch of `a = b if c else a` that keeps a) changes nothing
        if not isinstance(target, gast.Name) or target.id not in self.active:
            return [stmt], []
        t = target.id
        reset = [self.reset(t, origin)] if t in self.unstable and t not in self.single_use else []
        if not self.reads_active(value):
            return [stmt], reset
        if isinstance(value, gast.Name):
            return self.with_saves([stmt], [self.accumulate(value.id, name(self.cotangent_name(t)), origin)] + reset,
                                   origin)
        if isinstance(value, gast.Call) and self.is_user_call(value):
            return self.user_call(stmt, t, value, reset)
        if isinstance(value, (gast.List, gast.Tuple, gast.Dict)):
            return self.with_saves([stmt], self.literal_adjoint(t, value, origin) + reset, origin)
        how = joining(value, self.sequences, self.numbers, self.active)
        if how is not None:
            adjoint = [self.accumulate(operand, part, origin) for operand, part
                       in joined_cotangents(value, how, self.active, name(self.cotangent_name(t)))
                       if operand in self.active]
            return self.with_saves([stmt], adjoint + reset, origin)
        return self.with_saves([stmt], self.adjoint_statements(stmt, t, value) + reset, origin)

    def literal_adjoint(self, t, value, origin):
        """`t = [a, b]`, `(a, b)` or `{'k': a}`: each element takes its part of t's cotangent."""
        if isinstance(value, gast.Dict):
            spread = next((v for k, v in zip(value.keys, value.values)
                           if k is None and isinstance(v, gast.Name) and v.id in self.active), None)
            if spread is not None:
                raise self.error(UnsupportedSyntaxError, value, "a dict literal that unpacks a differentiable dict "
                                 "(**d) is not supported in reverse mode yet",
                                 "add the entries one by one: d2[k] = d[k]")
            parts = zip(value.keys, value.values)
        else:
            parts = ((const(i), e) for i, e in enumerate(value.elts))
        return [self.accumulate(e.id, call("cotangent_at", [name(self.cotangent_name(t)), clone(key)]), origin)
                for key, e in parts if isinstance(e, gast.Name) and e.id in self.active]

    def subscript_write(self, stmt):
        """`x[i] = v`: save what it overwrites; backward, give v the cotangent of x[i] and restore x[i]."""
        target, value, origin = stmt.targets[0], stmt.value, stmt.sd_origin
        root = target
        while isinstance(root, gast.Subscript):
            root = root.value
        saved = self.names.fresh(root.id + "_overwritten")
        place = index_expression(target.slice)
        forward = [assign(saved, call("overwritten", [target.value, place]), origin), self.push([saved], origin), stmt]
        restore = with_origin(gast.Expr(value=call("restore", [target.value, place, name(saved)])), origin)
        backward = [self.pop([saved], origin)]
        if root.id in self.active:
            cotangent = name(self.cotangent_name(root.id))
            if isinstance(target.value, gast.Subscript):
                raise self.error(UnsupportedSyntaxError, stmt, "a write through two subscripts is not supported in "
                                 "reverse mode yet", "write x[i, j] = v instead of x[i][j] = v")
            if isinstance(value, gast.Name) and value.id in self.active:
                part = call("unbroadcast", [call("cotangent_at", [cotangent, place]), value])
                backward.append(self.accumulate(value.id, part, origin))
            backward.append(derived(assign(self.cotangent_name(root.id), call("zero_at", [cotangent, place]),
                                           origin)))
        backward.append(derived(restore))
        return self.with_saves(forward, backward, origin, exclude=[saved])

    def with_saves(self, forward, backward, origin, exclude=()):
        """forward and backward statements, with the values backward reads saved where they may change."""
        saved = self.saves(backward, exclude)
        if not saved:
            return forward, backward
        push, pop = self.push(saved, origin), self.pop(saved, origin)
        push.sd_saves = saved  # sweep may push them later, with others
        return forward + [push], [pop] + backward

    def append(self, stmt):
        """`xs.append(v)`: backward, v takes the cotangent of the last element, and the append is undone."""
        lst, value, origin = stmt.value.func.value.id, stmt.value.args[0], stmt.sd_origin
        undo = derived(with_origin(gast.Expr(value=call(gast.Attribute(value=name(lst), attr="pop",
                                                                         ctx=gast.Load()))), origin))
        if lst not in self.active:
            return self.with_saves([stmt], [undo], origin)
        part = self.names.fresh("b" + lst + "_last")
        unpack = gast.Tuple(elts=[name(part, True), name(self.cotangent_name(lst), True)], ctx=gast.Store())
        backward = [derived(with_origin(gast.Assign(targets=[unpack], value=call(
            "pop_cotangent", [name(self.cotangent_name(lst))]), type_comment=None), origin))]
        if isinstance(value, gast.Name) and value.id in self.active:
            backward.append(self.accumulate(value.id, name(part), origin))
        return self.with_saves([stmt], backward + [undo], origin)

    def popped(self, stmt):
        """`v = xs.pop(i)`: backward, the element goes back where it was (`unpop`), and the cotangent of xs
        gets v's at its position (`unpopped_cotangent`). A popped value nothing reads is named, to go back."""
        call_node, origin = stmt.value, stmt.sd_origin
        lst = call_node.func.value.id
        index = clone(call_node.args[0]) if call_node.args else const(None)
        if isinstance(stmt, gast.Expr):
            stmt = with_origin(assign(self.names.fresh(lst + "_popped"), call_node), origin)
        target = stmt.targets[0].id
        undo = derived(with_origin(gast.Expr(value=call("unpop", [name(lst), name(target), index])), origin))
        if lst not in self.active:
            return self.with_saves([stmt], [undo], origin)
        part = name(self.cotangent_name(target)) if target in self.active else const(0.0)
        cotangents = gast.Tuple(elts=[part, name(self.cotangent_name(lst))], ctx=gast.Load())
        backward = [undo, derived(assign(self.cotangent_name(lst), call("unpopped_cotangent", [
            cotangents, name(lst), clone(index)]), origin))]
        if target in self.active:
            backward.append(self.reset(target, origin))
        return self.with_saves([stmt], backward, origin)

    def adjoint_statements(self, stmt, t, value):
        args, keywords, func, module = primitive_parts(value, self.error)
        if isinstance(value, gast.Subscript):  # the index becomes an argument of add_at
            args = [args[0], index_expression(args[1])]
        key = primitive_key(value)
        rule = rule_for(key) if key is not None else None
        template = rule.adjoint_for(len(args)) if rule is not None else None
        if template is None:
            what = describe(value, key)
            raise self.error(NonDifferentiableError, value, f"no adjoint rule for {what}",
                             no_rule_hint(value, key, "register_adjoint"))

        def cotangent_of(node):
            if isinstance(node, gast.Name) and node.id == t:
                return name(self.cotangent_name(t))
            return self.cotangent_of(node)

        try:
            instance = instantiate_adjoint(template, name(t), args, keywords, cotangent_of, self.names.fresh,
                                           self.derivation.namespace.bind, module, func)
        except BindError as exc:
            raise self.error(NonDifferentiableError, value, f"cannot differentiate this call of {rule.name}: {exc}",
                             "call it as docs/supported.md shows, or register a rule for this form")
        scope = AdjointScope(self.shapes, t, value, self.primal_of)
        for s in instance.statements:
            s.value = self.specialize(s.value, scope)
            if isinstance(s.targets[0], gast.Name):
                scope.define(s.targets[0].id, s.value)
        for s in instance.statements:
            target = s.targets[0].id if isinstance(s.targets[0], gast.Name) else None
            primal = self.primal_of.get(target)
            value = s.value
            is_sum = isinstance(value, gast.BinOp) and isinstance(value.left, gast.Name) and value.left.id == target
            if primal in self.single_use:  # a single read's contribution is the whole cotangent
                s.value = value.right if is_sum else ReplaceNames({target: const(0.0)}).visit(value)
            elif is_sum and primal is not None:  # an update such as add_at(bx, x, i, e) stays
                s.value = self.sum_of_cotangents(primal, value.left, value.right)
        checks = container_checks(instance, value, rule, self.error)
        adjoint = [derived(with_origin(s, stmt.sd_origin)) for s in checks + instance.statements]
        if not rule.array_cotangent or t in self.reached or t in self.scalars:
            return adjoint
        # the cotangent of zeros may still be the 0.0 it started as, and this rule needs an array
        cotangent = self.cotangent_name(t)
        return [derived(assign(cotangent, call("cotangent_like", [name(cotangent), name(t)]), stmt.sd_origin))] + adjoint

    def specialize(self, node, scope=None):
        """`unbroadcast(e, x)` is e where x is a known Python number or, in scope (an AdjointScope), e
        provably has x's shape; `add_like(b, x, e)` is b + e where x is a known Python number."""
        if not self.scalars and scope is None:
            return node
        return _Specialize(self, scope).visit(node)

    def reads_active(self, value):
        """Whether value reads an active variable: an operand, or what the nested function it calls reads."""
        reads = set(operands(value))
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Name) and value.func.id in self.local_functions:
            reads |= set(self.local_functions[value.func.id][1])
        return bool(reads & self.active)

    def is_user_call(self, value):
        if isinstance(value.func, gast.Name) and value.func.id in self.local_functions:
            return True
        callee = getattr(value, "sd_callee", None)
        return is_user_function(callee)

    def user_call(self, stmt, t, value, reset):
        """`t = h(a, b)`: h's forward function saves what its backward function needs. A nested
        function is called through its lifted copy, which takes what it reads from here as arguments."""
        as_written = value  # for errors
        if isinstance(value.func, gast.Name) and value.func.id in self.local_functions:
            lifted, free = self.local_functions[value.func.id]
            value = gast.Call(func=value.func, args=value.args,
                              keywords=value.keywords + [gast.keyword(arg=f, value=name(f)) for f in free])
            params = [a.id for a in lifted.args.args]
            lifted.sd_temporaries = self.names.temporaries
            callee, found = id(lifted), (self.parsed, lifted)
        else:
            callee, found = value.sd_callee, None
            params = parameters(callee)
        bound = dict(zip(params, value.args))
        for kw in value.keywords:
            bound[kw.arg] = kw.value
        pattern = tuple(p for p in params if p in bound and self.cotangent_of(bound[p]) is not None)
        forward_name, backward_name = self.derivation.function_vjp(callee, pattern, found)
        origin = stmt.sd_origin
        written = sorted(self.derivation.writes_into[forward_name] & set(pattern))
        if written:  # the caller's cotangent of that argument would have to pass through those writes
            raise self.error(UnsupportedSyntaxError, as_written, f"{spelling_of(value.func)} writes into its "
                             f"argument '{written[0]}' ({bound[written[0]].id} here), and reverse mode cannot carry "
                             "the derivative of that write back to the caller yet",
                             f"copy the argument inside the function ({written[0]} = {written[0]}.copy()), or "
                             "return the new value instead of writing into the argument")
        saved = self.names.fresh(t + "_saved")
        self.unstable |= {saved} if t in self.unstable else set()
        pair = gast.Tuple(elts=[name(t, True), name(saved, True)], ctx=gast.Store())
        forward = [with_origin(gast.Assign(targets=[pair], value=call(name(forward_name), value.args, value.keywords),
                                           type_comment=None), origin)]
        results = [self.names.fresh("b" + p) for p in pattern]
        unpack = gast.Tuple(elts=[name(r, True) for r in results], ctx=gast.Store())
        backward = [derived(with_origin(gast.Assign(targets=[unpack], value=call(
            name(backward_name), [name(saved), name(self.cotangent_name(t))]), type_comment=None), origin))]
        backward += [self.accumulate(bound[p].id, name(r), origin) for p, r in zip(pattern, results)]
        if saved in self.unstable:
            forward.append(self.push([saved], origin))
            backward.insert(0, self.pop([saved], origin))
        return forward, backward + reset

    def branch(self, stmt):
        test = stmt.test
        forward_body, backward_body = self.sweep(stmt.body)
        forward_else, backward_else = self.sweep(stmt.orelse)
        if not backward_body and not backward_else:
            return [gast.If(test=test, body=forward_body or [gast.Pass()], orelse=forward_else)], []
        condition = self.names.fresh("condition")
        forward = [assign(condition, test, stmt.sd_origin),
                   gast.If(test=name(condition), body=forward_body or [gast.Pass()], orelse=forward_else)]
        backward = [gast.If(test=name(condition), body=backward_body or [gast.Pass()], orelse=backward_else)]
        if self.in_loop(stmt):
            forward.append(self.push([condition], stmt.sd_origin))
            backward.insert(0, self.pop([condition], stmt.sd_origin))
        return forward, backward

    def for_loop(self, stmt):
        """Backwards over the same range; a loop that can break counts its iterations. Inside its body
        the backward loop gives the index its forward value again, so adjoints there read it unsaved,
        unless the body assigns it too; elsewhere (before the loop, after it, in another loop that
        assigns the name) the index is a variable like any other."""
        index = stmt.target.id
        enclosing = self.loop_indices
        if index not in _stored(stmt.body):
            self.loop_indices = enclosing | {index}
        forward_body, backward_body = self.sweep(stmt.body)
        self.loop_indices = enclosing
        if not backward_body:
            return [gast.For(target=stmt.target, iter=stmt.iter, body=forward_body, orelse=[], type_comment=None)], []
        checkpointed = checkpointed_loop(self, stmt, forward_body, backward_body) \
            if self.derivation.checkpoint is not None else None
        if checkpointed is not None:
            return checkpointed
        origin = stmt.sd_origin
        forward, restore, iterator, after_loop = [], [], stmt.iter, []
        if any(isinstance(b, gast.Name) and b.id in self.unstable for b in stmt.iter.args) or self.in_loop(stmt):
            loop_range = self.names.fresh("loop_range")  # pushed after the loop, above what the loop pushes
            forward.append(assign(loop_range, stmt.iter, origin))
            after_loop = [self.push([loop_range], origin)]
            restore = [self.pop([loop_range], origin)]
            iterator = name(loop_range)
        if breaks(stmt):
            count = self.names.fresh("iterations")
            forward.append(assign(count, const(0), origin))
            forward_body.insert(0, assign(count, gast.BinOp(left=name(count), op=gast.Add(), right=const(1)),
                                          origin))
            done = gast.Subscript(value=iterator, slice=gast.Slice(lower=None, upper=name(count), step=None),
                                  ctx=gast.Load())
            after_loop.append(self.push([count], origin))
            restore = [self.pop([count], origin)] + restore
        else:
            done = iterator
        forward += [gast.For(target=stmt.target, iter=iterator, body=forward_body, orelse=[], type_comment=None)]
        backward = restore + [gast.For(target=name(index, True), iter=call("reversed", [done]),
                                       body=backward_body, orelse=[], type_comment=None)]
        return forward + after_loop, backward

    def while_loop(self, stmt):
        forward_body, backward_body = self.sweep(stmt.body)
        if not backward_body:
            return [gast.While(test=stmt.test, body=forward_body, orelse=[])], []
        count = self.names.fresh("iterations")
        origin = stmt.sd_origin
        increment = assign(count, gast.BinOp(left=name(count), op=gast.Add(), right=const(1)), origin)
        forward = [assign(count, const(0), origin),
                   gast.While(test=stmt.test, body=[increment] + forward_body, orelse=[])]
        self.stack_used = True
        forward.append(self.push([count], origin))
        backward = [self.pop([count], origin),
                    gast.For(target=name(self.names.fresh("_"), True), iter=call("range", [name(count)]),
                             body=backward_body, orelse=[], type_comment=None)]
        return forward, backward

    def in_loop(self, node):
        """Whether node sits inside a loop of this function."""
        def search(body, depth):
            for stmt in body:
                if stmt is node:
                    return depth > 0
                inner = depth + isinstance(stmt, (gast.For, gast.While))
                for field in ("body", "orelse"):
                    found = search(getattr(stmt, field, []) or [], inner)
                    if found is not None:
                        return found
            return None
        return bool(search(self.fdef.body, 0))

    # -- functions ---------------------------------------------------------------------------------

class AdjointScope:
    """Names as the adjoint of `t = value` sees them: all at the moment the statement ran, t shaped
    like value, a cotangent like its primal, the template's temporaries like their values."""

    def __init__(self, shapes, t, value, primal_of):
        self.shapes = shapes
        self.t = t
        self.primal_of = primal_of
        target = shapes.of(value)
        self.target = shapes.shape(t) if target is None else target
        self.temporaries = {}  # name -> (shape, floating)

    def shape(self, n):
        if n in self.temporaries:
            return self.temporaries[n][0]
        n = self.primal_of.get(n, n)
        return self.target if n == self.t else self.shapes.shape(n)

    def is_floating_name(self, n):
        if n in self.temporaries:
            return self.temporaries[n][1]
        return self.shapes.is_floating_name(self.primal_of.get(n, n))

    def define(self, n, value):
        if n not in self.primal_of:
            self.temporaries[n] = (self.shapes.of(value, self), self.shapes.is_floating(value, self))


def _stored(statements_):
    return {n.id for s in statements_ for n in walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


def derived(stmt):
    stmt.sd_derivative = True
    return stmt
