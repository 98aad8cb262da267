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

from ..errors import SourceDiffError, UnsupportedSyntaxError
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
    written_into = sorted(set(state) & mutated_variables(stmt))  # restored in place: other names may hold them
    keep = gast.If(test=gast.Compare(left=gast.BinOp(left=name(position), op=gast.Mod(), right=name(segment)),
                                     ops=[gast.Eq()], comparators=[const(0)]),
                   body=[_save_state(mode, state, written_into, origin)], orelse=[])
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
    contents = [fresh(f"{n}_saved") for n in written_into]
    again = [mode.pop(state + contents, origin)] if state else []
    again += [gast.Expr(value=call("restore_contents", [name(n), name(c)])) for n, c in zip(written_into, contents)]
    again += [gast.For(target=name(index, True), iter=part, body=forward_body, orelse=[], type_comment=None),
              gast.For(target=name(index, True), iter=call("reversed", [clone(part)]), body=backward_body, orelse=[],
                       type_comment=None)]
    backward = [mode.pop([loop_range, segment], origin),
                gast.For(target=name(start, True), iter=call("reversed", [call("range", [
                    const(0), call("len", [name(loop_range)]), name(segment)])]), body=again, orelse=[],
                    type_comment=None)]
    return forward, backward


def _save_state(mode, state, written_into, origin):
    """`stack.append((a, z, copy_saved(z)))`: the value of each name, and a copy of the contents of what
    the loop writes into in place. A segment run again binds each name to its value (the very object:
    statements before the loop saved it, and restore into it, while the sweep after the loop may have
    left the name bound to another value) and puts the contents back into what the loop writes into.
    Values the loop only reads or assigns anew need no copy: the backward sweep undoes later writes into
    them before it comes to the loop."""
    saved = mode.push(state + written_into, origin)
    item = saved.value.args[0]
    elements = item.elts if isinstance(item, gast.Tuple) else [item]
    for i in range(len(state), len(elements)):
        elements[i] = call("copy_saved", [elements[i]])
    return saved


def _state(mode, stmt):
    """What a segment run again needs as the loop had it, sorted: the variables an iteration reads before
    it surely assigns them (a write inside a branch or an inner loop may not happen) that the loop changes
    (assigns or writes into) or the function assigns more than once (statements after the loop may
    change them: the sweep saves those where they are read). Refused where such a value exists only from
    an earlier iteration (the loop alone assigns it): no checkpoint could hold it at the loop's start."""
    exposed, _ = _read_before_written(stmt.body, {stmt.target.id})
    needed = exposed & (_stores(stmt.body) | mutated_variables(stmt) | mode.unstable)
    before = {a.id for a in mode.fdef.args.args}
    for s in statements(mode.fdef.body):
        if s is stmt:
            break
        before |= _stores([gast.Expr(value=s.target)]) if isinstance(s, gast.For) else \
            set() if isinstance(s, (gast.If, gast.While, gast.FunctionDef)) else _stores([s])
    both = sorted(mutated_variables(stmt) & _stores(stmt.body))
    if both:
        raise mode.error(UnsupportedSyntaxError, stmt, f"checkpointing this loop would restore '{both[0]}', which "
                         "it both assigns and writes into", "differentiate without checkpoint=")
    carried = sorted(needed - before)
    if carried:
        raise mode.error(UnsupportedSyntaxError, stmt, f"checkpointing this loop needs the value '{carried[0]}' "
                         "holds when an iteration starts, which the loop alone assigns",
                         f"assign {carried[0]} before the loop, or differentiate without checkpoint=")
    return sorted(needed)


def _read_before_written(body, written):
    """(names body may read before it assigns them, names it surely assigns), given those assigned before:
    a branch assigns surely what both its arms do, a loop nothing (it may not run)."""
    exposed, written = set(), set(written)
    for s in body:
        if isinstance(s, gast.If):
            exposed |= _loads(s.test) - written
            (in_body, after_body), (in_else, after_else) = (_read_before_written(s.body, written),
                                                          _read_before_written(s.orelse, written))
            exposed |= in_body | in_else
            written |= after_body & after_else
        elif isinstance(s, gast.For):
            exposed |= _loads(s.iter) - written
            exposed |= _read_before_written(s.body, written | _stores([gast.Expr(value=s.target)]))[0]
        elif isinstance(s, gast.While):
            exposed |= _loads(s.test) - written
            exposed |= _read_before_written(s.body, written)[0]
        else:
            exposed |= _loads(s) - written
            written |= _stores([s])
    return exposed, written


def _loads(node):
    return {n.id for n in walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}


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
