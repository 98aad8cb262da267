"""Clean-up passes over generated functions."""
import gast

from .ir.analysis import is_pop, mutated_variables, statements
from .ir.build import Transformer, name, names_in, structure_key, walk


def blocks(node):
    """Every statement list in node (bodies and else-branches), inner ones first."""
    for field in ("body", "orelse"):
        block = getattr(node, field, None)
        if isinstance(block, list):
            for stmt in block:
                yield from blocks(stmt)
            yield block


def remove_dead_statements(fdef):
    """Drop derivative statements whose results nothing reads (tangents of values that do not reach
    the output) and pure computations of values nothing reads (the value of a function whose tangent
    alone is returned, for sd.hvp), and then those only the dropped ones read, until none is left."""
    reads = {}  # name -> how many times it is read
    for node in walk(fdef):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            reads[node.id] = reads.get(node.id, 0) + 1
    removable = {}  # name -> the assignments to it that may go (a primal one if pure: asked once it is dead)
    for stmt in statements(fdef.body):
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) and len(stmt.targets) == 1:
            removable.setdefault(stmt.targets[0].id, []).append(stmt)
    dead_ids = set()
    pending = [n for n in removable if not reads.get(n)]
    while pending:
        for stmt in removable.pop(pending.pop()):
            if not (getattr(stmt, "sd_derivative", False) or is_pure(stmt.value)) or is_pop(stmt.value):
                continue  # a tangent popped off a list keeps its list in step with the values' list
            dead_ids.add(id(stmt))
            for node in walk(stmt.value):
                if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
                    reads[node.id] -= 1
                    if not reads[node.id] and node.id in removable:
                        pending.append(node.id)
    if dead_ids:
        _remove(fdef, dead_ids)
    return fdef


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
    for node in walk(fdef):
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
        passed = []
        while n in renames:
            passed.append(n)
            n = renames[n]
        for m in passed:  # shortcut the chain for the next reader
            renames[m] = n
        return n

    _remove(fdef, {id(s) for s in statements(fdef.body) if isinstance(s, gast.Assign)
                   and isinstance(s.targets[0], gast.Name) and s.targets[0].id in renames
                   and getattr(s, "sd_derivative", False) and isinstance(s.value, gast.Name)})
    for node in walk(fdef):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) and node.id in renames:
            node.id = final(node.id)
    return fdef


# Calls that neither read nor write anything but their arguments, so moving them later is safe.
PURE_ROOTS = {"np", "math", "zeros_like", "broadcast_like", "expand_reduced", "unreduce", "abs", "max", "min", "sum", "len",
              "float", "range", "list", "tuple", "type"}


# Folding stops where a statement would hold more operations than this: nesting beyond it is harder
# to read than named steps.
MAX_OPERATIONS = 6


def inline_single_use(fdef, temporaries):
    """Fold a temporary that is assigned once and read once, later in the same block, into its reader:
    `h1 = np.tanh(np.matmul(X, W1) + b1)` reads like hand-written code, and intermediate arrays die
    as soon as they are used instead of living to the end of the function. Names the user wrote stay."""
    counts = {}
    for node in walk(fdef):
        if isinstance(node, gast.Name):
            key = "stores" if isinstance(node.ctx, (gast.Store, gast.Param)) else "loads"
            counts.setdefault(node.id, {"stores": 0, "loads": 0})[key] += 1
    single = {n for n, c in counts.items() if c == {"stores": 1, "loads": 1} and n in temporaries}
    for block in blocks(fdef):
        _inline_block(block, single)
    return fdef


def _inline_block(block, single):
    """One pass: each single-use definition waits for the statement that reads its target, and stops
    waiting at a statement that may change what it reads (or has effects we cannot see)."""
    waiting = {}  # target -> (its definition, that statement's summary, its index in block)
    waiting_on = {}  # name -> targets whose definitions read it (some may have stopped waiting)
    inlined = set()  # indices of the definitions folded into their readers
    for index, stmt in enumerate(block):
        if not isinstance(stmt, gast.Assign):
            if getattr(stmt, "sd_push", False):  # a push writes nothing: only the definitions it reads stop
                for target in names_in(stmt):
                    waiting.pop(target, None)
            else:
                waiting.clear()
            continue
        summary = _Summary(stmt)
        readers = sorted((waiting.pop(n) for n in summary.reads if n in waiting), key=lambda w: w[2])
        for definition, read, position in readers:
            if not summary.tuple_target and \
                    _operations(stmt.value) + _operations(definition.value) <= MAX_OPERATIONS:
                _Substitute(read.target, definition.value).visit(stmt)
                inlined.add(position)
                summary = _Summary(stmt)
        if not summary.pure or summary.in_place:
            waiting.clear()  # an in-place write may change what they read, through any alias
        for written in summary.writes:
            for target in waiting_on.pop(written, ()):
                waiting.pop(target, None)
        if summary.pure and summary.target in single:
            waiting[summary.target] = (stmt, summary, index)
            for read in summary.reads:
                waiting_on.setdefault(read, []).append(summary.target)
    block[:] = [s for i, s in enumerate(block) if i not in inlined]


class _Summary:
    """What inlining needs to know of an assignment: the names it reads and writes, and whether its
    value is pure (calls only NumPy, math and the runtime helpers)."""

    def __init__(self, stmt):
        target = stmt.targets[0]
        self.target = target.id if isinstance(target, gast.Name) else None
        self.in_place = isinstance(target, gast.Subscript)
        self.tuple_target = isinstance(target, gast.Tuple)
        self.reads, self.pure = _reads_and_purity(stmt.value)
        self.writes = names_in(target)


def _operations(expr):
    return sum(isinstance(n, (gast.Call, gast.BinOp, gast.UnaryOp, gast.Subscript, gast.IfExp))
               for n in walk(expr))


def is_pure(expr, roots=PURE_ROOTS):
    """Whether expr calls only what roots name (nothing random) and holds no comprehension or lambda."""
    return _reads_and_purity(expr, roots)[1]


def _reads_and_purity(expr, roots=PURE_ROOTS):
    """The names expr reads, and whether it is pure: it calls only what roots name (nothing random) and
    holds no comprehension or lambda; one walk, as every pass asks both of each statement."""
    reads, pure = set(), True
    for node in walk(expr):
        cls = node.__class__
        if cls is gast.Name:
            reads.add(node.id)
        elif cls is gast.Call and pure:
            root, path = node.func, []
            while isinstance(root, gast.Attribute):
                path.append(root.attr)
                root = root.value
            pure = isinstance(root, gast.Name) and root.id in roots and "random" not in path
        elif cls is gast.ListComp or cls is gast.Lambda:
            pure = False
    return reads, pure


class _Substitute(Transformer):
    def __init__(self, target, value):
        self.target = target
        self.value = value

    def visit_Name(self, node):
        return self.value if node.id == self.target and isinstance(node.ctx, gast.Load) else node


def fold_zero_initializations(fdef):
    """`bx = 0.0` followed (in the same block, before anything else reads bx) by `bx = bx + e`
    (or `bx = add_cotangents(bx, e)`) becomes `bx = e`: a cotangent's first contribution needs no
    addition to zero.

    Not where e may alias a cotangent that is later updated in place (by add_at or zero_at)."""
    updated_in_place = {n.args[0].id for n in walk(fdef) if isinstance(n, gast.Call)
                        and isinstance(n.func, gast.Name) and n.func.id in ("add_at", "zero_at")
                        and n.args and isinstance(n.args[0], gast.Name)}
    for block in blocks(fdef):
        _fold_block(block, updated_in_place)
    return fdef


def _fold_block(block, updated_in_place):
    folded = set()
    for i, target, first in _next_mentions(block, _zero_initialized):
        if target in updated_in_place:
            continue
        contribution = _first_contribution(block[first], target) if first is not None else None
        if contribution is not None and not (names_in(contribution) & updated_in_place):
            block[first].value = contribution
            folded.add(i)
    block[:] = [s for i, s in enumerate(block) if i not in folded]


def _next_mentions(block, name_of):
    """(i, name, j) for each statement block[i] of which name_of(statement) is a name, in order: j is
    the index of the next statement that mentions that name, None if none does (one pass, backwards)."""
    found = []
    seen = {}  # name -> index of the first statement from here on that mentions it
    for i in range(len(block) - 1, -1, -1):
        n = name_of(block[i])
        if n is not None:
            found.append((i, n, seen.get(n)))
        for m in names_in(block[i]):
            seen[m] = i
    return reversed(found)


def _zero_initialized(stmt):
    if (getattr(stmt, "sd_derivative", False) and isinstance(stmt, gast.Assign)
            and isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Constant)
            and stmt.value.value == 0.0 and type(stmt.value.value) is float):
        return stmt.targets[0].id
    return None


def _first_contribution(stmt, target):
    """What `target = target + e` or `target = add_cotangents(target, e)` assigns when target is zero."""
    if _is_accumulation(stmt, target):
        return stmt.value.right
    value = getattr(stmt, "value", None)
    if (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) and stmt.targets[0].id == target
            and isinstance(value, gast.Call) and isinstance(value.func, gast.Name) and value.func.id == "add_cotangents"
            and isinstance(value.args[0], gast.Name) and value.args[0].id == target
            and target not in names_in(value.args[1])):
        return value.args[1]
    return None


def _is_accumulation(stmt, target):
    value = getattr(stmt, "value", None)
    return (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
            and stmt.targets[0].id == target and isinstance(value, gast.BinOp) and isinstance(value.op, gast.Add)
            and isinstance(value.left, gast.Name) and value.left.id == target
            and target not in names_in(value.right))


def propagate_local_copies(fdef):
    """Within a block, read b where a derivative copy `a = b` was made, until a or b is assigned
    again; the copy then usually dies (`bx_new = bx` in a loop body). `a = a` disappears."""
    for block in blocks(fdef):
        _propagate_block(block)
    _remove(fdef, {id(s) for s in statements(fdef.body) if _is_self_assignment(s)})
    return fdef


def _propagate_block(block):
    copies = {}  # a -> b for each copy `a = b` still in force
    copied_from = {}  # b -> the names a copied from it
    for stmt in block:
        if isinstance(stmt, (gast.Assign, gast.Expr, gast.Return)) and copies and stmt.value is not None:
            stmt.value = _Rename(copies).visit(stmt.value)
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Subscript):
            stmt.targets[0] = _Rename(copies).visit(stmt.targets[0])
        if _is_self_assignment(stmt):
            continue  # removed after the pass
        written = {n.id for n in walk(stmt) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        if not isinstance(stmt, (gast.Assign, gast.Expr, gast.Return)):
            written |= {n.id for n in walk(stmt) if isinstance(n, gast.Name)}  # a compound statement
        for n in written:  # the copies from or into a name assigned again end
            if n in copies:
                copied_from[copies.pop(n)].discard(n)
            for a in copied_from.pop(n, ()):
                copies.pop(a, None)
        if (getattr(stmt, "sd_derivative", False) and isinstance(stmt, gast.Assign)
                and isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Name)):
            copies[stmt.targets[0].id] = stmt.value.id
            copied_from.setdefault(stmt.value.id, set()).add(stmt.targets[0].id)


def _is_self_assignment(stmt):
    return (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
            and isinstance(stmt.value, gast.Name) and stmt.targets[0].id == stmt.value.id)


class _Rename(Transformer):
    def __init__(self, renames):
        self.renames = renames

    def visit_Name(self, node):
        if isinstance(node.ctx, gast.Load) and node.id in self.renames:
            return gast.Name(id=self.renames[node.id], ctx=node.ctx, annotation=None, type_comment=None)
        return node


def eliminate_common_subexpressions(fdef):
    """Within a block, a derivative's pure value, or a part of it, computed again while what it reads is
    unchanged is read from the variable that holds it: `t2 = np.cos(x)` after `t1 = np.cos(x)` becomes
    `t2 = t1`, which copy propagation then removes, and `b = (1.0 - h * h) * g` after `t = 1.0 - h * h`
    becomes `b = t * g` (a tangent's factor that the adjoint of the same primitive computes again). A
    compound statement forgets what it may change: the names it assigns, or everything where it calls
    more than the entry checks. Never for values that may be changed in place later (an alias would see
    the change): containers, and arrays written through a subscript or add_at."""
    in_place = mutated_variables(fdef) | {n.args[0].id for n in walk(fdef) if isinstance(n, gast.Call)
                                          and isinstance(n.func, gast.Name) and n.func.id in ("add_at", "zero_at")
                                          and n.args and isinstance(n.args[0], gast.Name)}
    for block in blocks(fdef):
        _cse_block(block, in_place)
    return fdef


def _cse_block(block, in_place):
    available = _Available()
    for stmt in block:
        if not isinstance(stmt, gast.Assign):
            written = _changed_by(stmt)
            if written is None:
                available = _Available()  # a call for effects may change anything
            for n in written or ():
                available.forget(n)
            continue
        target = stmt.targets[0]
        value = stmt.value
        reads, pure = _reads_and_purity(value)
        # a pure value held by a variable: reusable; a derivative's is also rewritten (the primal stays as written)
        reusable = (isinstance(target, gast.Name) and target.id not in in_place and pure
                    and not isinstance(value, (gast.Name, gast.Constant, gast.List, gast.Tuple, gast.Dict)))
        key = structure_key(value) if reusable else None
        if key is not None and getattr(stmt, "sd_derivative", False):
            if key in available.entries:
                stmt.value = name(available.entries[key][0])
            elif available.entries:
                stmt.value = _ReuseParts(available.entries).visit(value)
        if isinstance(target, gast.Subscript) or not (pure or _reads_and_purity(value, _UNCHANGING)[1]):
            available = _Available()  # an in-place write or an unknown call may change anything read
        else:
            for n in names_in(target):
                available.forget(n)
        if key is not None and key not in available.entries:
            if target.id not in reads:
                available.add(key, target.id, reads)


# calls that change no value of the function: the entry checks (they raise or return their argument), and
# the cotangent helpers that build new values from their arguments (unlike add_at and zero_at)
_CHECKS = frozenset({"require_real", "refuse_complex", "require_cotangent", "returned_none"})
_UNCHANGING = PURE_ROOTS | _CHECKS | {"unbroadcast", "add_cotangents", "add_like", "cotangent_like", "cotangent_at",
                                      "summand_cotangent", "factor_cotangent", "matmul_left_cotangent",
                                      "matmul_right_cotangent", "dot_left_cotangent", "dot_right_cotangent"}


def _changed_by(stmt):
    """The names a compound statement (or a call for effects) may change, or None where it calls more
    than the entry checks and pure functions."""
    changed = set()
    for node in walk(stmt):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            changed.add(node.id)
        elif isinstance(node, gast.Subscript) and isinstance(node.ctx, gast.Store):
            changed |= names_in(node.value)
        elif isinstance(node, gast.Call) and not (isinstance(node.func, gast.Name) and node.func.id in _CHECKS) \
                and not _reads_and_purity(gast.Call(func=node.func, args=[], keywords=[]))[1]:
            return None
    return changed


class _ReuseParts(Transformer):
    """Parts of a value that an available variable holds, read from it."""

    def __init__(self, entries):
        self.entries = entries

    def visit(self, node):
        if isinstance(node, (gast.BinOp, gast.UnaryOp, gast.Call, gast.Compare, gast.Subscript)):
            entry = self.entries.get(structure_key(node))
            if entry is not None:
                return name(entry[0])
        return super().visit(node)


class _Available:
    """The values common subexpression elimination may reuse, each found by its structure_key, and for each
    variable the values lost when it is assigned again (those it holds and those that read it)."""

    def __init__(self):
        self.entries = {}  # structure_key of a value -> (the variable holding it, names the value reads)
        self.lost_with = {}  # variable -> [(key, entry)]: an entry replaced since then is left alone

    def add(self, key, holder, reads):
        entry = self.entries[key] = (holder, reads)
        for n in reads | {holder}:
            self.lost_with.setdefault(n, []).append((key, entry))

    def forget(self, variable):
        for key, entry in self.lost_with.pop(variable, ()):
            if self.entries.get(key) is entry:
                del self.entries[key]


def fold_negations(fdef):
    """Negations in derivatives move outwards through products and quotients and cancel, or become
    subtractions: `-(a * -(b))` is `a * b`, `a + -(b)` is `a - b`, each the same number in floating
    point, one pass over the data fewer. A cotangent whose first contribution is a negation and
    whose second is added next, `bx = -(e)` ... `bx = bx + f`, becomes `bx = f - e`."""
    for stmt in statements(fdef.body):
        if getattr(stmt, "sd_derivative", False) and isinstance(stmt, gast.Assign):
            stmt.value = _FoldNegations().visit(stmt.value)
    for block in blocks(fdef):
        _fold_negated_first_contributions(block)
    return fdef


def _negated(node):
    return isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub)


def _negate(node):
    return node.operand if _negated(node) else gast.UnaryOp(op=gast.USub(), operand=node)


class _FoldNegations(Transformer):
    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        return node.operand.operand if _negated(node) and _negated(node.operand) else node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        left, right = node.left, node.right
        if isinstance(node.op, (gast.Mult, gast.Div)) and (_negated(left) or _negated(right)):
            product = gast.BinOp(left=_negate(left) if _negated(left) else left, op=node.op,
                                 right=_negate(right) if _negated(right) else right)
            return product if _negated(left) and _negated(right) else _negate(product)
        if isinstance(node.op, gast.Add) and _negated(right):
            return gast.BinOp(left=left, op=gast.Sub(), right=right.operand)
        if isinstance(node.op, gast.Add) and _negated(left):
            return gast.BinOp(left=right, op=gast.Sub(), right=left.operand)
        if isinstance(node.op, gast.Sub) and _negated(right):
            return gast.BinOp(left=left, op=gast.Add(), right=right.operand)
        return node


def _fold_negated_first_contributions(block):
    """One pass: a negated first contribution `bx = -(e)` waits for the next one, `bx = bx + f`, and
    stops waiting where moving e later is unsafe: at a statement that is not an assignment of a pure
    value, reads bx, or assigns bx or a name e reads."""
    waiting = {}  # target -> (its negated first contribution, its index in block)
    waiting_on = {}  # name -> [(target, what waited then)] for the contributions that read it
    folded = set()
    for index, stmt in enumerate(block):
        assignment = isinstance(stmt, gast.Assign)
        target = stmt.targets[0].id if assignment and isinstance(stmt.targets[0], gast.Name) else None
        accumulated = waiting.pop(target) if target in waiting and _is_accumulation(stmt, target) else None
        reads, pure = _reads_and_purity(stmt.value, PURE_ROOTS | {"unbroadcast"}) if assignment else ((), False)
        if not pure:
            waiting.clear()
        for read in reads:
            waiting.pop(read, None)
        if accumulated is not None:
            first, position = accumulated
            stmt.value = gast.BinOp(left=stmt.value.right, op=gast.Sub(), right=first.value.operand)
            folded.add(position)
            if not is_pure(first.value.operand, PURE_ROOTS | {"unbroadcast"}):  # those after first see e now
                for t in [t for t, (_, i) in waiting.items() if i > position]:
                    del waiting[t]
        if assignment:
            for written in names_in(stmt.targets[0]):
                waiting.pop(written, None)
                for t, entry in waiting_on.pop(written, ()):
                    if waiting.get(t) is entry:
                        del waiting[t]
        if getattr(stmt, "sd_derivative", False) and target is not None and _negated(stmt.value):
            entry = waiting[target] = (stmt, index)
            for read in reads:  # the value is as read above: a folded one is a subtraction
                waiting_on.setdefault(read, []).append((target, entry))
    block[:] = [s for i, s in enumerate(block) if i not in folded]


def use_reciprocals(fdef):
    """Where the function computes `r = 1.0 / y` at its top level (r and y each assigned once), a
    derivative divided by y multiplies by r instead, and one divided by r multiplies by y: a
    multiplication costs less than a division, and the two differ by a rounding at most."""
    stores = {}
    for node in walk(fdef):
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Param)):
            stores[node.id] = stores.get(node.id, 0) + 1
    partners = {}  # a name -> the name holding its reciprocal
    for stmt in fdef.body:
        if partners:
            for inner in statements([stmt]):
                if getattr(inner, "sd_derivative", False) and isinstance(inner, gast.Assign):
                    inner.value = _Reciprocals(dict(partners)).visit(inner.value)
        value = getattr(stmt, "value", None)
        if (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
                and isinstance(value, gast.BinOp) and isinstance(value.op, gast.Div)
                and isinstance(value.left, gast.Constant) and value.left.value == 1.0
                and type(value.left.value) in (int, float) and isinstance(value.right, gast.Name)
                and stores.get(stmt.targets[0].id) == 1 and stores.get(value.right.id) == 1):
            r, y = stmt.targets[0].id, value.right.id
            partners[y], partners[r] = r, y
    return fdef


class _Reciprocals(Transformer):
    def __init__(self, partners):
        self.partners = partners

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.Div) and isinstance(node.right, gast.Name) and node.right.id in self.partners:
            partner = gast.Name(id=self.partners[node.right.id], ctx=gast.Load(), annotation=None, type_comment=None)
            return gast.BinOp(left=node.left, op=gast.Mult(), right=partner)
        return node
