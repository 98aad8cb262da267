"""Clean-up passes over generated functions."""
import gast

from .ir.analysis import mutated_variables, statements


def remove_dead_derivatives(fdef):
    """Drop derivative statements whose results nothing reads (tangents of values that do not reach
    the output), repeating until none is left."""
    while True:
        reads = set()
        for stmt in gast.walk(fdef):
            if isinstance(stmt, gast.Name) and isinstance(stmt.ctx, gast.Load):
                reads.add(stmt.id)
        dead = [s for s in statements(fdef.body) if _is_dead(s, reads)]
        if not dead:
            return fdef
        dead_ids = {id(s) for s in dead}
        _remove(fdef, dead_ids)


def _is_dead(stmt, reads):
    return (getattr(stmt, "sd_derivative", False) and isinstance(stmt, gast.Assign)
            and isinstance(stmt.targets[0], gast.Name) and stmt.targets[0].id not in reads)


def _remove(node, dead_ids):
    for field in ("body", "orelse"):
        block = getattr(node, field, None)
        if isinstance(block, list):
            kept = [s for s in block if id(s) not in dead_ids]
            for s in kept:
                _remove(s, dead_ids)
            if not kept and field == "body":
                kept = [gast.Pass()]
            setattr(node, field, kept)


def propagate_copies(fdef):
    """Replace `da = db` between derivatives assigned once each (and never written in place) by
    reading db where da was read."""
    assignments = {}
    for node in gast.walk(fdef):
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Param)):
            assignments[node.id] = assignments.get(node.id, 0) + 1
    mutated = mutated_variables(fdef)
    renames = {}
    for stmt in statements(fdef.body):
        if (getattr(stmt, "sd_derivative", False) and isinstance(stmt, gast.Assign)
                and isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Name)):
            target, source = stmt.targets[0].id, stmt.value.id
            if assignments.get(target) == 1 and assignments.get(source, 1) == 1 and not {target, source} & mutated:
                renames[target] = source
    if not renames:
        return fdef

    def final(n):
        while n in renames:
            n = renames[n]
        return n

    _remove(fdef, {id(s) for s in statements(fdef.body) if isinstance(s, gast.Assign)
                   and isinstance(s.targets[0], gast.Name) and s.targets[0].id in renames
                   and getattr(s, "sd_derivative", False) and isinstance(s.value, gast.Name)})
    for node in gast.walk(fdef):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) and node.id in renames:
            node.id = final(node.id)
    return fdef
