"""Checkpointing (reverse mode, `checkpoint=`): a loop's iterations are not all saved at once.

The forward sweep runs the loop's primal statements only and keeps a copy of the loop's state (the
variables it changes that exist before it) at the start of every segment of iterations. The backward
sweep takes the segments last to first: it restores the segment's state, runs the segment again saving
what its adjoints read, and runs its adjoints. Memory: one state per segment plus one segment's saves
(with segments of √n iterations, about 2√n states instead of n); time: the loop's primal twice.

Checkpointed are the `for` loops not inside another loop and without `break` (others are kept as
they are); a loop whose iterations call anything that may not give the same result twice (a user
function, a random draw) is refused, since running it again would change the derivative.
"""
import gast

from ..errors import UnsupportedSyntaxError
from ..ir.analysis import is_append, mutated_variables, statements
from ..ir.build import assign, call, clone, const, name, walk
from ..ir.structure import breaks
from ..optimize import is_pure
from ..rules import is_user_function, rule_for
from ..rules.registry import spelling


def checkpoint_option(checkpoint):
    """The checked option: None (no checkpointing), 0 for segments of √n iterations, or a segment length."""
    if checkpoint is None or checkpoint is False:
        return None
    if checkpoint is True:
        return 0
    if isinstance(checkpoint, int) and not isinstance(checkpoint, bool) and checkpoint > 0:
        return checkpoint
    from ..errors import SourceDiffError
    raise SourceDiffError(f"checkpoint={checkpoint!r}: use True (segments of √n iterations) or a number of "
                          "iterations per segment")


def checkpointed_loop(mode, stmt, forward_body, backward_body):
    """(forward, backward) statements of the for loop stmt with checkpoints, or None where it is not
    checkpointed (inside another loop, or with a break)."""
    if mode.in_loop(stmt) or breaks(stmt):
        return None
    _refuse_what_cannot_run_twice(mode, stmt)
    state = _state(mode, stmt)
    origin = stmt.sd_origin
    fresh = mode.names.fresh
    loop_range, segment, position, start = fresh("loop_range"), fresh("segment"), fresh("position"), fresh("start")
    index = stmt.target.id
    length = mode.derivation.checkpoint or None  # None: √n
    keep = gast.If(test=gast.Compare(left=gast.BinOp(left=name(position), op=gast.Mod(), right=name(segment)),
                                     ops=[gast.Eq()], comparators=[const(0)]),
                   body=[_save_state(mode, state, origin)], orelse=[])
    forward = [assign(loop_range, stmt.iter, origin),
               assign(segment, call("checkpoint_segment", [name(loop_range), const(length)]), origin),
               gast.For(target=name(position, True), iter=call("range", [call("len", [name(loop_range)])]),
                        body=[assign(index, gast.Subscript(value=name(loop_range), slice=name(position),
                                                           ctx=gast.Load()), origin)]
                        + ([keep] if state else []) + _without_saves(clone(forward_body)),
                        orelse=[], type_comment=None),
               mode.push([loop_range, segment], origin)]
    part = gast.Subscript(value=name(loop_range), slice=gast.Slice(
        lower=name(start), upper=gast.BinOp(left=name(start), op=gast.Add(), right=name(segment)), step=None),
        ctx=gast.Load())
    again = [mode.pop(state, origin)] if state else []
    again += [gast.For(target=name(index, True), iter=part, body=forward_body, orelse=[], type_comment=None),
              gast.For(target=name(index, True), iter=call("reversed", [clone(part)]), body=backward_body, orelse=[],
                       type_comment=None)]
    backward = [mode.pop([loop_range, segment], origin),
                gast.For(target=name(start, True), iter=call("reversed", [call("range", [
                    const(0), call("len", [name(loop_range)]), name(segment)])]), body=again, orelse=[],
                    type_comment=None)]
    return forward, backward


def _save_state(mode, state, origin):
    """`stack.append(copy_saved(state))`: copies, so that writes in place later do not change it."""
    saved = mode.push(state, origin)
    saved.value.args = [call("copy_saved", saved.value.args)]
    return saved


def _state(mode, stmt):
    """The variables the loop changes (assigns or writes into) that exist before it, sorted; refused
    where one the loop alone assigns is read before an iteration assigns it (it carries a value from one
    iteration to the next that no checkpoint could hold)."""
    changed = _stores(stmt.body) | mutated_variables(stmt)
    changed.discard(stmt.target.id)
    inside = {id(s) for s in statements(stmt.body)}
    elsewhere = {a.id for a in mode.fdef.args.args}
    for s in statements(mode.fdef.body):
        if id(s) in inside or s is stmt:
            continue
        if isinstance(s, gast.For):
            elsewhere |= _stores([gast.Expr(value=s.target)])
        elif not isinstance(s, (gast.If, gast.While, gast.FunctionDef)):
            elsewhere |= _stores([s])
    assigned = set()
    for s in statements(stmt.body):
        if isinstance(s, (gast.For, gast.While, gast.If)):
            assigned |= {s.target.id} if isinstance(s, gast.For) else set()
            continue
        reads = {n.id for n in walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
        early = sorted((reads & changed) - elsewhere - assigned)
        if early:
            raise mode.error(UnsupportedSyntaxError, s, f"checkpointing this loop needs the value '{early[0]}' holds "
                             "when an iteration starts, which the loop alone assigns",
                             f"assign {early[0]} before the loop, or differentiate without checkpoint=")
        assigned |= _stores([s])
    return sorted(changed & elsewhere)


def _stores(body):
    return {n.id for s in body for n in walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


def _refuse_what_cannot_run_twice(mode, stmt):
    """Refuse a loop calling what may not give the same result twice: a user function, a random draw, a
    method of an object (only primitives with rules, pure builtins and appends are run again)."""
    appends = {id(s.value) for s in statements(stmt.body) if isinstance(s, gast.Expr) and is_append(s)}
    for node in walk(gast.Module(body=stmt.body, type_ignores=[])):
        if not isinstance(node, gast.Call) or id(node) in appends:  # a list appended to is part of the state
            continue
        callee = getattr(node, "sd_callee", None)
        if callee is None:
            again = is_pure(gast.Call(func=node.func, args=[], keywords=[]))
            what = getattr(node.func, "id", None) or getattr(node.func, "attr", "a call")
        else:
            what = spelling(callee)
            again = not is_user_function(callee) and rule_for(callee) is not None and "random" not in what
        if not again:
            raise mode.error(UnsupportedSyntaxError, stmt, f"checkpointing runs this loop's iterations twice, and the "
                             f"call of {what} in it may not give the same result again",
                             "differentiate without checkpoint=, or move the call out of the loop")


def _without_saves(body):
    """The statements of body without the pushes that save values for the backward sweep."""
    kept = []
    for s in body:
        if getattr(s, "sd_push", False):
            continue
        for field in ("body", "orelse"):
            inner = getattr(s, field, None)
            if isinstance(inner, list) and inner:
                setattr(s, field, _without_saves(inner) or [gast.Pass()])
        kept.append(s)
    return kept
