"""Reverse mode's generated functions, assembled from a ReverseMode's sweeps: the joint
`f_vjp(*args, bvalue) -> (value, cotangents)` and the split pair `f_forward(*args) -> (value, saved)`,
`f_backward(saved, bvalue) -> cotangents`, each with its entry checks, the seed of the cotangent, the
stack and the results."""
import gast

from ..ir.analysis import mutated_variables, without_unused_functions
from ..ir.build import Transformer, assign, call, clone, const, name, names_in, walk
from .primitives import cotangent_check, entry_checks
from .reverse import derived


def _scalar_dispatch(mode, variant, cotangent):
    """`if every argument is a float (or an int): return variant(...)`."""
    tests = [gast.Compare(left=call("type", [name(p)]), ops=[gast.Is()], comparators=[name("float")])
             if p in mode.pattern or p == cotangent else
             gast.Compare(left=call("type", [name(p)]), ops=[gast.In()],
                          comparators=[gast.Tuple(elts=[name("float"), name("int")], ctx=gast.Load())])
             for p in [a.id for a in mode.fdef.args.args] + [cotangent]]
    arguments = [name(a.id) for a in mode.fdef.args.args] + [name(cotangent)]
    return gast.If(test=gast.BoolOp(op=gast.And(), values=tests) if len(tests) > 1 else tests[0],
                   body=[gast.Return(value=call(name(variant), arguments))], orelse=[])


def _sweeps(mode):
    """(forward statements, backward statements, returned value node). A differentiated parameter
    the function assigns again is first kept under another name: its cotangent takes the shape of
    the argument, not of what the name holds at the end."""
    keep = []
    for p in mode.pattern:
        if p in mode.unstable:
            mode.originals[p] = mode.names.fresh(p + "_argument")
            keep.append(assign(mode.originals[p], name(p)))
    forward, backward = mode.sweep(mode.fdef.body)
    returned = mode.fdef.body[-1].value or const(None)
    return keep + without_unused_functions(forward, backward), backward, returned


def _seed(mode, returned, backward):
    """(name of the cotangent parameter, statements giving it to the variables the return names).

    A returned variable assigned once takes the cotangent parameter as its own cotangent, unless the
    backward sweep updates that cotangent in place (the caller's array must stay as it was)."""
    in_place = {n.args[0].id for s in backward for n in walk(s) if isinstance(n, gast.Call)
                and isinstance(n.func, gast.Name) and n.func.id in ("add_at", "zero_at")
                and isinstance(n.args[0], gast.Name)}
    if (isinstance(returned, gast.Name) and returned.id in mode.active and returned.id not in mode.unstable
            and mode.cotangent_name(returned.id) not in in_place):
        mode.seeded = mode.cotangent_name(returned.id)
        return mode.seeded, []
    cotangent = mode.names.fresh("bvalue")
    if isinstance(returned, gast.Tuple):
        return cotangent, [mode.accumulate(e.id, call("cotangent_at", [name(cotangent), const(i)]), None)
                           for i, e in enumerate(returned.elts)
                           if isinstance(e, gast.Name) and e.id in mode.active]
    if isinstance(returned, gast.Name) and returned.id in mode.active:
        return cotangent, [mode.accumulate(returned.id, name(cotangent), None)]
    return cotangent, []


def _initial_cotangents(mode, backward):
    for p in mode.pattern:
        mode.cotangent_name(p)
    used = set().union(*(names_in(s) for s in backward)) if backward else set()
    # a temporary read once gets its cotangent from that read, unless the read gives it none (an index)
    assigned = {n.id for s in backward for n in walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    return [derived(assign(mode.cotangents[p], const(0.0))) for p in sorted(mode.cotangents)
            if (mode.cotangents[p] in used or p in mode.pattern) and mode.cotangents[p] != mode.seeded
            and (p not in mode.single_use or mode.cotangents[p] not in assigned)]


def _results(mode, as_tuple=False):
    values = [call("cotangent_like", [name(mode.cotangent_name(p)), name(mode.originals.get(p, p))])
              for p in mode.pattern]
    return values[0] if len(values) == 1 and not as_tuple else gast.Tuple(elts=values, ctx=gast.Load())


def joint(mode, new_name, checked_by=None, scalar_variant=None, as_tuple=False):
    """`new_name(*args, bvalue) -> (value, cotangents of the pattern's parameters)`; with
    scalar_variant, calls with only Python numbers go to that specialised function instead (which
    checks only the value, its arguments being floats). One parameter's cotangent comes alone, or
    with as_tuple in a tuple of one (sd.vjp(f, wrt=(0,)))."""
    mode.reached = mode.surely_reached(entry=checked_by is not None)
    forward, backward, returned = _sweeps(mode)
    cotangent, seed = _seed(mode, returned, backward)
    backward = seed + backward
    value = mode.names.fresh("value")  # the backward sweep restores overwritten variables
    entry = _checks(mode, None if mode.scalars else checked_by)
    entry += [_scalar_dispatch(mode, scalar_variant, cotangent)] if scalar_variant else []
    for stmt in entry:
        stmt.sd_entry = True  # what on_numbers leaves out
    body = (entry + _stack_init(mode) + forward
            + [assign(value, _snapshot(mode, returned))] + _cotangent_checks(mode, cotangent, value, checked_by)
            + _initial_cotangents(mode, backward) + backward)
    body.append(gast.Return(value=gast.Tuple(elts=[name(value), _results(mode, as_tuple)], ctx=gast.Load())))
    args = _arguments(mode.fdef.args, [cotangent])
    return _function(new_name, args, body, mode.fdef)


def on_numbers(general, new_name):
    """The joint function general, of scalar code that pushes nothing, for calls whose arguments are all
    Python numbers: without its entry checks and dispatch, and with the runtime helpers that handle
    arrays and containers written as what they compute on numbers. The same function as the scalar
    variant a ReverseMode(scalars=True) generates, which only differs where it recomputes popped values."""
    body = [stmt for stmt in clone(general.body) if not getattr(stmt, "sd_entry", False)]
    return _OnNumbers().visit(_function(new_name, clone(general.args), body, general))


class _OnNumbers(Transformer):
    """unbroadcast(g, x) and summand_cotangent(g, x, y, i) are g, add_cotangents(g, h) and
    add_like(g, x, h) are g + h, and factor_cotangent(g, x, n) is g * n where every value is a Python
    number."""

    def visit_Call(self, node):
        self.generic_visit(node)
        helper, args = getattr(node.func, "id", None), node.args
        if helper == "unbroadcast" and len(args) == 2 or helper == "summand_cotangent" and len(args) == 4:
            return args[0]
        if helper == "add_cotangents" and len(args) == 2:
            return gast.BinOp(left=args[0], op=gast.Add(), right=args[1])
        if helper == "add_like" and len(args) == 3:
            return gast.BinOp(left=args[0], op=gast.Add(), right=args[2])
        if helper == "factor_cotangent" and len(args) == 3:
            return gast.BinOp(left=args[0], op=gast.Mult(), right=args[2])
        return node


def _snapshot(mode, returned):
    """The returned value, with copies of arrays the backward sweep will restore in place."""
    mutated = mutated_variables(mode.fdef)  # when any array is restored, any returned name may alias it

    def copied(node):
        return call("copy.copy", [node]) if isinstance(node, gast.Name) and mutated else node
    if isinstance(returned, gast.Tuple):
        return gast.Tuple(elts=[copied(e) for e in returned.elts], ctx=gast.Load())
    return copied(returned)


def split(mode, forward_name, backward_name, checked_by=None):
    """`forward_name(*args) -> (value, saved)` and `backward_name(saved, bvalue) -> cotangents`.

    The backward function undoes in-place writes (its own and its callees') in what forward saved,
    as the joint function does, so a callee's pair runs once per call, without running any user code
    again. The entry pair (checked_by names the user's function) checks its arguments, saves its
    value to check the cotangent against, and may run its backward function many times: where
    anything restores in place, that works on a copy of saved (copy_saved keeps views of an array
    views of its copy)."""
    mode.reached = mode.surely_reached(entry=checked_by is not None)
    forward, backward, returned = _sweeps(mode)
    cotangent, seed = _seed(mode, returned, backward)
    backward = seed + backward
    backward = _initial_cotangents(mode, backward) + backward
    defined = {n.id for s in forward for n in walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    defined |= {a.id for a in mode.fdef.args.args} | {mode.stack}
    needed = sorted((set().union(*(names_in(s) for s in backward)) | set(mode.pattern)
                     | set(mode.originals.values())) & defined - set(mode.cotangents.values()))
    if mode.stack_used and mode.stack not in needed:
        needed.append(mode.stack)
    value = mode.names.fresh("value") if checked_by is not None else None
    returned = _snapshot(mode, returned)
    if value is not None:  # kept for the check of the cotangent
        forward.append(assign(value, returned))
        returned = name(value)
        needed.append(value)
    saved = mode.names.fresh("saved")
    results = _results(mode)
    if not isinstance(results, gast.Tuple):
        results = gast.Tuple(elts=[results], ctx=gast.Load())
    package = gast.Tuple(elts=[name(n) for n in needed], ctx=gast.Load())
    # names assigned only inside a branch or loop may be unbound when the forward function returns
    top_level = {n.id for s in forward if isinstance(s, gast.Assign) for n in walk(s.targets[0])
                 if isinstance(n, gast.Name)} | {a.id for a in mode.fdef.args.args} | {mode.stack}
    forward = [assign(n, const(None)) for n in needed if n not in top_level] + forward
    forward_fn = _function(forward_name, _arguments(mode.fdef.args, []),
                           _checks(mode, checked_by) + _stack_init(mode) + forward + [gast.Return(value=gast.Tuple(
                               elts=[returned, package], ctx=gast.Load()))], mode.fdef)
    copy_saved = [assign(saved, call("copy_saved", [name(saved)]))] \
        if checked_by is not None and mode.derivation.restores_in_place else []
    unpack = [gast.Assign(targets=[gast.Tuple(elts=[name(n, True) for n in needed], ctx=gast.Store())],
                          value=name(saved), type_comment=None)] if needed else []
    # the backward sweep pops the stack: it pops a copy, so that it can run again
    copy_stack = [assign(mode.stack, call("list", [name(mode.stack)]))] if mode.stack_used else []
    backward_fn = _function(backward_name, _plain_arguments([saved, cotangent]),
                            copy_saved + unpack + _cotangent_checks(mode, cotangent, value, checked_by) + copy_stack
                            + backward + [gast.Return(value=results)], mode.fdef)
    return forward_fn, backward_fn


def _checks(mode, checked_by):
    """The entry checks of the arguments, but for a function sourcediff generated (a tangent, for sd.hvp):
    its own first statements check them, with the tangents, and name the user's function."""
    if checked_by is None or hasattr(mode.parsed.function, "derivation"):
        return []
    return entry_checks(mode.fdef, mode.pattern, checked_by)


def _cotangent_checks(mode, cotangent, value, checked_by):
    return [] if checked_by is None else [cotangent_check(cotangent, value, checked_by)]


def _stack_init(mode):
    return [assign(mode.stack, gast.List(elts=[], ctx=gast.Load()))] if mode.stack_used else []


def _arguments(args, extra):
    return gast.arguments(args=list(args.args) + [gast.Name(id=e, ctx=gast.Param(), annotation=None,
                                                             type_comment=None) for e in extra],
                          posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                          defaults=list(args.defaults) if not extra else [])


def _plain_arguments(names):
    return _arguments(gast.arguments(args=[], posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                                     kwarg=None, defaults=[]), names)


def _function(new_name, args, body, original):
    fdef = gast.FunctionDef(name=new_name, args=args, body=body, decorator_list=[], returns=None,
                            type_comment=None, type_params=[])
    return gast.copy_location(fdef, original)
