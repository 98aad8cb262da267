"""Changes in place: calls that change their receiver or an argument, and names that share memory.

Normalization computes `r += v` as `r = r + v`, and the modes follow an in-place write `r[i] = v` or
`r.append(v)` through the name written only. Both are exact while no other name read afterwards can
reach the changed object. This pass runs on the user's function before normalization and
- rewrites the in-place calls sourcediff follows into forms it differentiates: `z.fill(v)` becomes
  `z[...] = v`, `items.extend(seq)` appends, `d.update(k=v)` assignments `d['k'] = v`, and (once
  normalized) `np.add.at(z, i, v)` becomes `z[...] = added_at(z, i, v)`; `items.pop()` and
  `items.pop(i)` on a local list stay, a change of structure like an append (forward mode pops the
  tangent list with it; reverse mode puts the element back in the backward sweep);
- refuses the other calls that change an object in place (`z.sort()`, `d.popitem()`, `np.copyto`,
  `out=` arrays, ufuncs' `.at`), saying what to write instead;
- follows which objects each name may reach (a points-to analysis over allocation sites, flow
  sensitive, with the objects a list or dict may hold), and refuses an in-place write after which
  another name that may share the changed memory is read. An augmented assignment `r += v` is exact
  when r holds a number, so there the refusal waits for the generated code to see an array, list or
  dict (`refuse_in_place`, one type test, only where memory may be shared).
"""
import ast
import copy
import inspect

import gast
import numpy as np

from ..errors import SourceDiffError, UnsupportedSyntaxError
from ..frontend.parse import canonical_name, parse_function, unbind
from ..rules.registry import is_user_function
from ..runtime import add_at, added_at, zero_at
from .analysis import is_pop
from .build import assign, call, children, clone, const, name, names_in, walk

# methods that change their receiver, with what to write instead
MUTATING_METHODS = {
    "sort": "sort into a new value: z = np.sort(z), or np.sort(np.array(items)) for a list",
    "partition": "sort into a new value: z = np.sort(z)",
    "resize": "make a new array of the size wanted: z = z[:n], or np.concatenate((z, extra))",
    "itemset": "write z[i] = v",
    "put": "write z[index] = v",
    "shuffle": "draw a permutation instead: z = z[rng.permutation(len(z))]",
    "insert": "build a new list in the order wanted: a literal [v, items[0], ...], or appends in a loop",
    "reverse": "append the elements to a new list in reverse order",
    "pop": "read the element (v = items[-1], or v = d['k']) and leave the container as it is",
    "remove": "build a new list without the element",
    "clear": "start a new one: items = [], or d = {}",
    "setdefault": "assign the key where it is missing: if 'k' not in d: d['k'] = v",
    "popitem": "read the item and leave the dict as it is",
    "update": "assign each key: d['k'] = v (d.update accepts keywords or a dict literal)",
    "__setitem__": "write z[i] = v",
    "__delitem__": "leave the element, or build a new container without it",
}
# NumPy functions that write into their first argument
NUMPY_WRITERS = (np.copyto, np.put, np.place, np.putmask, np.fill_diagonal, np.put_along_axis, np.random.shuffle)
# ufuncs whose `.at` (which writes into its first argument) sourcediff follows
FOLLOWED_AT = (np.add, np.subtract)
# calls and attributes whose result may be a view of (or the same object as) their first operand
VIEW_METHODS = {"reshape", "ravel", "transpose", "squeeze", "view", "diagonal", "swapaxes", "get", "__getitem__"}
VIEW_ATTRIBUTES = {"T", "mT", "real", "imag", "flat", "base"}
VIEW_FUNCTIONS = (np.reshape, np.ravel, np.transpose, np.squeeze, np.diagonal, np.swapaxes, np.moveaxis,
                  np.rollaxis, np.expand_dims, np.asarray, np.asanyarray, np.ascontiguousarray, np.atleast_1d,
                  np.atleast_2d, np.atleast_3d, np.broadcast_to, np.real, np.imag, np.split, np.array_split,
                  np.hsplit, np.vsplit, np.dsplit)
# methods that make a new value
NEW_VALUE_METHODS = {"copy", "flatten", "astype", "sum", "mean", "prod", "max", "min", "cumsum", "dot", "clip",
                     "std", "var", "any", "all", "argmax", "argmin", "tolist", "item", "index", "count"}
# builtins whose result may be (or hold) one of their arguments
PASSING_BUILTINS = (max, min, list, tuple, sorted, reversed, zip, enumerate, dict, iter, next)
PARAMETER, EXTERNAL = "parameter", "external"  # objects the caller or the module also holds
OLD = "old"  # (OLD, site): the objects a site made earlier (in earlier iterations of a loop)
PART = "part"  # (PART, obj): a view of obj's memory (a slice, a row, a transpose), or a slice of a list


def whole(obj):
    """The object whose memory obj is, or is a part of."""
    return obj[1] if isinstance(obj, tuple) and obj[0] == PART else obj


def parts(objects):
    return frozenset((PART, whole(o)) for o in objects)


def ufunc_at(obj):
    """The ufunc whose `.at` obj is, else None."""
    owner = getattr(obj, "__self__", None)
    return owner if isinstance(owner, np.ufunc) and getattr(obj, "__name__", None) == "at" else None


def writes_out(obj, call_node):
    """Whether a call of a NumPy function writes into an array it is given: an `out` array (by
    keyword or by position, unless written `None`), the first argument of np.copyto and its kind, or of
    a ufunc's `.at`."""
    if ufunc_at(obj) is not None:
        return True
    if not (canonical_name(obj) or "").startswith("np.") and not any(obj is w for w in NUMPY_WRITERS):
        return False
    if any(obj is writer for writer in NUMPY_WRITERS):
        return True
    if any(k.arg == "out" and not _is_none(k.value) for k in call_node.keywords):
        return True
    if isinstance(obj, np.ufunc):
        return any(not _is_none(a) for a in call_node.args[obj.nin:])
    try:
        parameters = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return "out" in positional and len(call_node.args) > positional.index("out") and \
        not _is_none(call_node.args[positional.index("out")])


def _is_none(node):
    return isinstance(node, gast.Constant) and node.value is None


def follow_mutations(parsed, fdef, local_names, check_shared=True, copy_cotangents=False):
    """Rewrite the in-place calls sourcediff follows, refuse the others and (with check_shared) writes
    through shared memory, and mark the augmented assignments that need `refuse_in_place` (see
    finish_mutations). A nested function's calls see its enclosing variables as local; its analysis of
    shared memory sees them as values from outside. With copy_cotangents (generated reverse-mode code
    differentiated in reverse mode), `add_at` and `zero_at`, which write into the cotangent they are given,
    are given a copy of it: they then change nothing another name holds, which reverse mode follows."""
    if copy_cotangents:
        copy_written_cotangents(parsed, fdef)
    taken = {n.id for n in walk(fdef) if isinstance(n, gast.Name)}  # names a rewrite must not reuse
    callees = Callees(local_names)
    pending = [(fdef, set())]
    while pending:
        function, enclosing = pending.pop()
        locals_ = local_names(function)
        InPlaceCalls(parsed, function, locals_ | enclosing, taken).rewrite()
        nested = {n.name: n for n in own_nodes(function) if isinstance(n, gast.FunctionDef)}
        if check_shared:
            SharedMemory(parsed, function, locals_, nested, callees, enclosing).check()
        pending += [(n, locals_ | enclosing) for n in nested.values()]


def copy_written_cotangents(parsed, fdef):
    """`add_at(copy.copy(g), ...)` and `zero_at(copy.copy(g), ...)` for the calls of those helpers in fdef
    (a copy per call: the price of a second order)."""
    scope = getattr(parsed.function, "__globals__", {})
    for node in walk(fdef):
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.args \
                and scope.get(node.func.id) in (add_at, zero_at):
            copied = call("copy.copy", [node.args[0]])
            copied.sd_callee = copied.func.sd_object = copy.copy
            node.args[0] = copied


def own_nodes(fdef):
    """The nodes of fdef's own scope: every node but the insides of nested functions (whose defs are
    included)."""
    stack = children(fdef)
    while stack:
        current = stack.pop()
        yield current
        if not isinstance(current, gast.FunctionDef):
            stack.extend(children(current))


def finish_mutations(fdef, names):
    """On the normalized fdef: put `refuse_in_place(r, ...)` before the statements of each `r += v`
    follow_mutations marked, and write `np.add.at(z, i, v)` as `z[...] = added_at(z, i, v)` (names
    gives fresh names)."""
    fdef.body = _finished(fdef.body, names, set())
    return fdef


def _finished(body, names, guarded):
    """finish_mutations on one block; guarded holds the ids of the writes already guarded."""
    out = []
    for stmt in body:
        origin = getattr(stmt, "sd_origin", None)
        guard = getattr(origin, "sd_guard", None)
        if guard is not None and id(origin) not in guarded:  # before the first statement of `r += v`
            guarded.add(id(origin))
            check = gast.Expr(value=call("refuse_in_place", [name(guard[0])] + [const(g) for g in guard[1:]]))
            check.sd_origin = origin
            out.append(gast.copy_location(check, origin))
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list):
                setattr(stmt, field, _finished(getattr(stmt, field), names, guarded))
        if isinstance(stmt, gast.Expr) and ufunc_at(getattr(stmt.value, "sd_callee", None)) in FOLLOWED_AT:
            out += added_at_statements(stmt, names)
        else:
            out.append(stmt)
    return out


def added_at_statements(stmt, names):
    """`np.add.at(z, i, v)` (normalized: operands are names) as `z_added = added_at(z, i, v); z[...] =
    z_added`, an in-place write the modes follow; np.subtract.at adds -v."""
    array, index, values = stmt.value.args
    out = []
    if ufunc_at(stmt.value.sd_callee) is np.subtract:
        negated = names.fresh("neg_" + getattr(values, "id", "values"))
        out.append(assign(negated, gast.UnaryOp(op=gast.USub(), operand=values), stmt.sd_origin))
        values = name(negated)
    added = names.fresh(array.id + "_added")
    value = call("added_at", [array, index, values])
    value.sd_callee = added_at
    out.append(assign(added, value, stmt.sd_origin))
    place = gast.Subscript(value=name(array.id), slice=const(Ellipsis), ctx=gast.Store())
    out.append(assign(place, name(added), stmt.sd_origin))
    return out


def statement_lists(fdef):
    """Every list of statements in fdef (its body and those of compound statements), not entering
    nested functions."""
    pending = [fdef.body]
    while pending:
        body = pending.pop()
        yield body
        for stmt in body:
            if not isinstance(stmt, gast.FunctionDef):
                pending += [getattr(stmt, f) for f in ("body", "orelse") if getattr(stmt, f, None)]


class InPlaceCalls:
    """The calls of one function that change their receiver or an argument."""

    def __init__(self, parsed, fdef, locals_, taken):
        self.parsed, self.fdef, self.locals, self.taken = parsed, fdef, locals_, taken

    def error(self, node, message, hint):
        return self.parsed.info.error(UnsupportedSyntaxError, node, message, hint)

    def rewrite(self):
        for body in statement_lists(self.fdef):
            body[:] = [new for stmt in body for new in self.statement(stmt)]
        for node in own_nodes(self.fdef):
            if isinstance(node, gast.Call):
                self.refuse(node)

    def statement(self, stmt):
        """stmt, or what replaces it when it is an in-place call sourcediff follows."""
        value = stmt.value if isinstance(stmt, gast.Expr) else None
        if not (isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) and self.is_local(value.func)):
            return [stmt]
        receiver, method = value.func.value, value.func.attr
        if method == "fill" and len(value.args) == 1 and not value.keywords:
            return [self.located(gast.Assign(targets=[self.filled_place(receiver, value)], value=value.args[0],
                                             type_comment=None), stmt)]
        if method == "extend" and len(value.args) == 1 and not value.keywords:
            return self.extend(receiver, value.args[0], stmt)
        if method == "update":
            return self.update(receiver, value, stmt)
        return [stmt]

    def is_local(self, func):
        root = func.value
        while isinstance(root, (gast.Subscript, gast.Attribute)):
            root = root.value
        return isinstance(root, gast.Name) and root.id in self.locals

    def filled_place(self, receiver, value):
        """The place `z[...]` (or `z[1:3]`, a view) that `receiver.fill(v)` writes."""
        if isinstance(receiver, gast.Name):
            return gast.Subscript(value=clone(receiver), slice=const(Ellipsis), ctx=gast.Store())
        index = receiver.slice if isinstance(receiver, gast.Subscript) else None
        parts = index.elts if isinstance(index, gast.Tuple) else [index]
        if index is None or not all(isinstance(p, gast.Slice) or isinstance(p, gast.Constant) and p.value is Ellipsis
                                    for p in parts):
            raise self.error(value, "fill is supported on a local array or a slice of one",
                             "write z[index] = v")
        return gast.Subscript(value=clone(receiver.value), slice=clone(index), ctx=gast.Store())

    def extend(self, receiver, sequence, stmt):
        """`items.extend(seq)`: one append per element of a literal, else a loop of appends."""
        def append(item):
            return self.located(gast.Expr(value=call(gast.Attribute(value=clone(receiver), attr="append",
                                                                     ctx=gast.Load()), [item])), stmt)
        if isinstance(sequence, (gast.List, gast.Tuple)):
            return [append(e) for e in sequence.elts]
        item = self.fresh(f"{getattr(receiver, 'id', 'items')}_item")
        loop = gast.For(target=name(item, store=True), iter=sequence, body=[append(name(item))], orelse=[],
                        type_comment=None)
        return [self.located(loop, stmt)]

    def update(self, receiver, value, stmt):
        """`d.update(k=v)` or `d.update({'k': v})`: one assignment per key."""
        pairs = [(const(k.arg), k.value) for k in value.keywords if k.arg is not None]
        for arg in value.args:
            if not isinstance(arg, gast.Dict) or None in arg.keys:
                raise self.mutating_call(value)
            pairs += list(zip(arg.keys, arg.values))
        if len(pairs) > 1 and any(names_in(receiver) & names_in(v) for _, v in pairs):
            raise self.error(value, "d.update(...) that reads d is not supported", "assign each key: d['k'] = v")
        return [self.located(gast.Assign(targets=[gast.Subscript(value=clone(receiver), slice=k, ctx=gast.Store())],
                                         value=v, type_comment=None), stmt) for k, v in pairs]

    def fresh(self, preferred):
        candidate, n = preferred, 1
        while candidate in self.taken:
            n += 1
            candidate = f"{preferred}_{n}"
        self.taken.add(candidate)
        return candidate

    @staticmethod
    def located(new, stmt):
        return gast.copy_location(new, stmt)

    def refuse(self, node):
        """Refuse a call that changes an object in place in a way sourcediff does not follow."""
        func = node.func
        if is_pop(node) and func.value.id in self.locals:
            return
        if isinstance(func, gast.Attribute) and self.is_local(func) and func.attr in MUTATING_METHODS:
            raise self.mutating_call(node)
        if isinstance(func, gast.Attribute) and self.is_local(func) and func.attr.startswith("__i") \
                and func.attr.endswith("__"):
            raise self.error(node, f"{self.spelled(func)}() changes {self.spelled(func.value)} in place",
                             "assign a new value: z = z + v")
        found, obj = self.parsed.resolve(func, self.locals)
        if found and ufunc_at(obj) in FOLLOWED_AT and len(node.args) == 3 and not node.keywords:
            if not (isinstance(node.args[0], gast.Name) and node.args[0].id in self.locals):
                raise self.error(node, f"{self.spelled(func)} is supported into a local array",
                                 "name the array first: z = ...; np.add.at(z, index, values)")
            return
        if found and writes_out(obj, node):
            spelled = canonical_name(obj) or self.spelled(func)
            what = spelled + ("(...)" if ufunc_at(obj) or any(obj is w for w in NUMPY_WRITERS) else "(..., out=...)")
            raise self.error(node, f"{what} writes into an array whose changes sourcediff cannot follow",
                             "assign the result instead: y = np.f(x), or y = np.where(mask, values, x)")

    def mutating_call(self, node):
        func = node.func
        return self.error(node, f"{self.spelled(func)}() changes {self.spelled(func.value)} in place, which "
                          "sourcediff does not follow", MUTATING_METHODS[func.attr])

    @staticmethod
    def spelled(node):
        return ast.unparse(gast.gast_to_ast(node))


class SharedMemory:
    """Which objects each name of one function may reach, and the in-place writes others would miss.

    Objects are allocation sites (the node that made the value), PARAMETER objects (one per
    parameter: the caller holds them too) and EXTERNAL (module-level values). A name reaches the
    objects of its value: a subscript or a view is a part of its base or an element the base holds; a
    call of a user function gives a new object or a part of the arguments its source may return
    (whatever its arguments reach, when that is unknown). A write through one name leaves the other
    names that reach the written object stale; reading a stale name refuses the write."""

    def __init__(self, parsed, fdef, locals_, nested, callees, enclosing=frozenset()):
        self.parsed, self.fdef, self.locals, self.nested, self.callees = parsed, fdef, locals_, nested, callees
        self.enclosing = enclosing - locals_  # variables of the enclosing functions this one can see
        self.returned = set()  # the objects a return statement may give back
        # for the whole function (flow-insensitive): what containers may hold, and the index back
        self.holds = {}     # object -> objects it may hold (list and dict elements)
        self.held_by = {}   # object -> containers that may hold it
        self.pointers = {}  # object -> names that may reach it or a part of it (checked before use)
        self.made = set()   # the sites that made an object already

    def check(self):
        state = ({}, {})
        for a in self.fdef.args.args:
            self.point(state, a.id, frozenset({(PARAMETER, a.id)}))
        self.block(self.fdef.body, state)

    # -- objects -----------------------------------------------------------------------------------

    def reach(self, objects, levels=None):
        """objects and every object they may hold, directly or through other containers (through at
        most levels of them: `x[i][j] = v` writes into what x holds, not deeper)."""
        found, pending = set(objects), list(objects)
        while pending and levels != 0:
            pending, found_now = [], [held for o in pending for held in self.holds.get(whole(o), ())]
            for held in found_now:
                if held not in found:
                    found.add(held)
                    pending.append(held)
            levels = None if levels is None else levels - 1
        return frozenset(found)

    def hold(self, containers, objects):
        for container in containers:
            self.holds.setdefault(whole(container), set()).update(objects)
            for obj in objects:
                self.held_by.setdefault(whole(obj), set()).add(whole(container))

    def part_of(self, objects):
        """What a subscript or view of a value of objects may be: a part of it, or an element it holds."""
        return parts(objects) | (self.reach(objects, 1) - objects)

    def objects(self, node, points_to):
        """The objects node's value may be, or be a part of."""
        if isinstance(node, gast.Name):
            return points_to.get(node.id, frozenset()) if node.id in self.locals else frozenset({EXTERNAL})
        if isinstance(node, (gast.Constant, gast.Compare, gast.Lambda)):
            return frozenset()
        if isinstance(node, gast.Subscript):
            return self.part_of(self.objects(node.value, points_to))
        if isinstance(node, gast.Attribute):
            found, _ = self.parsed.resolve(node, self.locals)
            if found:
                return frozenset({EXTERNAL})
            if node.attr in VIEW_ATTRIBUTES:
                return self.part_of(self.objects(node.value, points_to))
            return frozenset()  # .shape, .ndim, .dtype
        if isinstance(node, (gast.IfExp, gast.BoolOp)):
            parts = [node.body, node.orelse] if isinstance(node, gast.IfExp) else node.values
            return frozenset().union(*(self.objects(p, points_to) for p in parts))
        site = frozenset({id(node)})
        if isinstance(node, (gast.List, gast.Tuple, gast.Set, gast.Dict)):
            elements = node.values if isinstance(node, gast.Dict) else node.elts
            self.hold(site, frozenset().union(*(self.objects(e, points_to) for e in elements)))
            return site
        if isinstance(node, gast.ListComp):
            self.hold(site, frozenset().union(*(self.reach(self.objects(g.iter, points_to))
                                                for g in node.generators)))
            return site
        if isinstance(node, gast.BinOp):  # a new value; a list made by + or * holds the operands' elements
            operands = self.objects(node.left, points_to) | self.objects(node.right, points_to)
            self.hold(site, self.reach(operands) - operands)
            return site
        if isinstance(node, gast.Call):
            return self.call_objects(node, site, points_to)
        return site

    def call_objects(self, node, site, points_to):
        func = node.func
        arguments = frozenset().union(*(self.reach(self.objects(a, points_to))
                                        for a in node.args + [k.value for k in node.keywords]))
        found, obj = self.parsed.resolve(func, self.locals)
        if not found and isinstance(func, gast.Attribute):  # a method of a local value
            receiver = self.objects(func.value, points_to)
            if func.attr in VIEW_METHODS or is_pop(node):
                return self.part_of(receiver)
            if func.attr in NEW_VALUE_METHODS:
                return site
            return site | self.reach(receiver) | arguments
        if not found:  # a nested function
            return site | arguments
        if any(obj is f for f in VIEW_FUNCTIONS):
            return self.part_of(self.objects(node.args[0], points_to)) if node.args else site
        if any(obj is f for f in PASSING_BUILTINS):
            return site | arguments
        if not is_user_function(obj):
            return site  # NumPy, math, copy, builtins and functions with rules make new values
        returned = self.callees.returned_parameters(obj)
        if returned is None or any(k.arg is None for k in node.keywords) \
                or any(isinstance(a, gast.Starred) for a in node.args):
            return site | arguments  # a user function may return what it is given
        try:
            bound = inspect.signature(obj).bind_partial(*node.args, **{k.arg: k.value for k in node.keywords})
        except TypeError:
            return site | arguments
        given = [bound.arguments[p] for p in returned if p in bound.arguments]
        return site | frozenset().union(*(self.reach(self.objects(a, points_to)) for a in given))

    # -- statements --------------------------------------------------------------------------------

    def block(self, body, state):
        """state (points_to, stale), changed in place by body's statements."""
        for stmt in body:
            self.statement(stmt, state)
        return state

    def statement(self, stmt, state):
        points_to, stale = state
        if isinstance(stmt, gast.FunctionDef):
            self.point(state, stmt.name, frozenset())
        elif isinstance(stmt, gast.If):
            self.reads(walk(stmt.test), stale)
            orelse = self.block(stmt.orelse, copy_state(state))
            join_into(self.block(stmt.body, state), orelse)
        elif isinstance(stmt, (gast.For, gast.While)):
            self.loop(stmt, state)
        else:
            nodes = list(walk(stmt))
            self.reads(nodes, stale)
            self.simple_statement(stmt, state, {id(n) for n in nodes})
            for popped in (n for n in nodes if is_pop(n)):
                self.write(stmt, popped.func.value, state, structure=True)

    def simple_statement(self, stmt, state, node_ids):
        points_to, stale = state
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Tuple) \
                and isinstance(stmt.value, gast.Tuple) and len(stmt.value.elts) == len(stmt.targets[0].elts):
            values = [self.objects(v, points_to) for v in stmt.value.elts]  # `a, b = b, a`: one by one
            for target, value in zip(stmt.targets[0].elts, values):
                self.assign(target, value, stmt, state)
        elif isinstance(stmt, gast.Assign):
            value = self.objects(stmt.value, points_to)
            made = node_ids & value
            self.age(made, state)
            for target in stmt.targets:
                # a container keeps what it is given; a new value holding nothing is reached through it only
                self.assign(target, value - {m for m in made if not self.holds.get(m)}
                            if isinstance(target, gast.Subscript) else value, stmt, state)
        elif isinstance(stmt, gast.AnnAssign) and stmt.value is not None:
            self.assign(stmt.target, self.objects(stmt.value, points_to), stmt, state)
        elif isinstance(stmt, gast.AugAssign):
            if isinstance(stmt.target, gast.Name):  # `items += [v]` extends a list in place
                self.hold(points_to.get(stmt.target.id, ()), self.reach(self.objects(stmt.value, points_to)))
                self.write(stmt, stmt.target, state, guard=True)
            else:
                self.write(stmt, stmt.target, state)
        elif isinstance(stmt, gast.Return) and stmt.value is not None:
            self.returned |= self.reach(self.objects(stmt.value, points_to))
        elif isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call):
            func = stmt.value.func
            if isinstance(func, gast.Attribute) and func.attr == "append" and stmt.value.args:
                self.hold(self.objects(func.value, points_to), self.objects(stmt.value.args[0], points_to))
                self.write(stmt, func.value, state, structure=True)
            elif ufunc_at(self.parsed.resolve(func, self.locals)[1]) in FOLLOWED_AT:
                place = gast.Subscript(value=stmt.value.args[0], slice=const(Ellipsis), ctx=gast.Store())
                self.write(stmt, place, state)

    def loop(self, stmt, state):
        """Run the body until the state at its top stops growing (a for loop binds its target first)."""
        header = list(walk(stmt.iter if isinstance(stmt, gast.For) else stmt.test))
        self.reads(header, state[1])
        entry = copy_state(state)
        while True:
            after = copy_state(entry)
            if isinstance(stmt, gast.For):
                element = self.part_of(self.objects(stmt.iter, after[0]))
                for target in walk(stmt.target):
                    if isinstance(target, gast.Name):
                        self.point(after, target.id, element)
            self.block(stmt.body, after)
            self.reads(header, after[1])
            merged = join_into(copy_state(entry), after)
            if merged == entry:
                break
            entry = merged
        join_into(state, entry)

    def point(self, state, n, objects):
        """n now holds a value of objects (and is no longer stale)."""
        state[0][n] = objects
        state[1].pop(n, None)
        for obj in objects:
            self.pointers.setdefault(whole(obj), set()).add(n)

    def age(self, made, state):
        """A site that makes a value again (in a loop) makes a new object: the names and containers that
        reached the earlier ones reach (OLD, site), distinct from the new one."""
        again = made & self.made
        self.made |= made
        points_to = state[0]
        for site in again:
            old = (OLD, site)
            def older(objects):
                return frozenset(old if o == site else (PART, old) if o == (PART, site) else o for o in objects)
            for n in self.pointers.pop(site, ()):
                if n in points_to:
                    points_to[n] = older(points_to[n])
                    self.pointers.setdefault(old, set()).add(n)
            for container in self.held_by.pop(site, ()):
                self.holds[container] = set(older(self.holds[container]))
                self.held_by.setdefault(old, set()).add(container)
            self.hold([old], self.holds.get(site, ()))

    def assign(self, target, value, stmt, state):
        if isinstance(target, gast.Name):
            self.point(state, target.id, value)
        elif isinstance(target, (gast.Tuple, gast.List)):
            for element in target.elts:
                self.assign(element, self.part_of(value), stmt, state)
        elif isinstance(target, gast.Subscript):
            self.hold(self.objects(target.value, state[0]), value)
            self.write(stmt, target, state)

    def write(self, stmt, target, state, guard=False, structure=False):
        """A write through target (`r[i] = v`; `r += v` when guard; `r.append(v)`, which changes the list
        r and no memory a view could share, when structure): the names other than r that reach the
        changed objects become stale; a guarded write into an argument is checked at once (the caller
        holds it)."""
        points_to, stale = state
        root, depth = target, 0
        while isinstance(root, gast.Subscript):
            root, depth = root.value, depth + 1
        if not isinstance(root, gast.Name):
            return
        if root.id in self.enclosing:
            raise self.parsed.info.error(
                UnsupportedSyntaxError, stmt, f"{self.fdef.name} changes {root.id}, a variable of the enclosing "
                "function, in place: sourcediff does not follow a change made inside a nested function",
                f"return the new value from {self.fdef.name} and assign it where {root.id} is defined")
        written = points_to.get(root.id, frozenset())
        if structure:
            changed = {o for o in written if o == whole(o)}
        else:
            changed = {whole(o) for o in self.reach(written, max(depth - 1, 0))}
        for other in self.names_reaching(changed, points_to, structure) - {root.id}:
            stale_by(stale, other, (stmt, root.id, guard))
        held_outside = sorted("a module-level value" if obj == EXTERNAL else f"what the caller passed as {obj[1]}"
                              for obj in changed if obj == EXTERNAL or isinstance(obj, tuple) and obj[0] == PARAMETER)
        if guard and held_outside:  # a subscript write really happens in the caller's array; `r += v` not
            self.shared(stmt, root.id, held_outside[0], guard)

    def names_reaching(self, changed, points_to, structure):
        """The names whose value may be one of changed (structure), or share memory with one."""
        containers, pending = set(changed), list(changed)
        while pending:
            for container in self.held_by.get(pending.pop(), ()):
                if container not in containers:
                    containers.add(container)
                    pending.append(container)
        found = set()
        for candidate in set().union(*(self.pointers.get(c, ()) for c in containers)):
            reached = self.reach(points_to.get(candidate, ()))
            if reached & changed if structure else {whole(o) for o in reached} & changed:
                found.add(candidate)
        return found

    def reads(self, nodes, stale):
        """Refuse (or guard) the writes that left a name read among nodes stale (a call of a nested
        function reads what the function reads)."""
        if not stale:
            return
        for n in nodes:
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load):
                for read in {n.id} | (names_in(self.nested[n.id]) if n.id in self.nested else set()):
                    if read in stale:
                        write, writer, guard = stale[read]
                        self.shared(write, writer, read, guard)

    def shared(self, stmt, writer, other, guard):
        if guard:
            if getattr(stmt, "sd_guard", None) is None:
                error = self.parsed.info.error(UnsupportedSyntaxError, stmt, "")
                stmt.sd_guard = (writer, ast.unparse(gast.gast_to_ast(stmt)).strip(), other, error.filename,
                                 error.lineno, error.col)
            return
        raise self.parsed.info.error(
            UnsupportedSyntaxError, stmt, f"this write changes {writer} in place, and {writer} may share memory "
            f"with {other} (an alias, a view or an element), which is read afterwards: sourcediff does not "
            "follow a change through shared memory",
            f"write into {other} itself, or copy first if it should not change: {writer} = {writer}.copy()")


class Callees:
    """What the user functions a function calls may return: the parameters whose objects (or parts of
    them) their return values may hold, found by the same analysis of their source."""

    def __init__(self, local_names):
        self.local_names = local_names
        self.returned = {}  # code object -> parameter names, or None while unknown

    def returned_parameters(self, fn):
        """None when unknown: the source cannot be analysed, or the function is being analysed (it calls
        itself)."""
        try:
            function, bound = unbind(inspect.unwrap(fn))
            code = (function.__code__, tuple(sorted(bound)))
        except (AttributeError, TypeError, ValueError, SourceDiffError):
            return None  # not a function sourcediff reads
        if code not in self.returned:
            self.returned[code] = None
            try:
                parsed = parse_function(fn)
                fdef = parsed.node
                nested = {n.name: n for n in own_nodes(fdef) if isinstance(n, gast.FunctionDef)}
                memory = SharedMemory(parsed, fdef, self.local_names(fdef), nested, self)
                memory.check()
            except SourceDiffError:
                return None  # its own derivation says why
            objects = memory.reach(memory.returned)
            self.returned[code] = {a.id for a in fdef.args.args
                                   if {(PARAMETER, a.id), (PART, (PARAMETER, a.id))} & objects}
        return self.returned[code]


def copy_state(state):
    return dict(state[0]), dict(state[1])


def join_into(state, other):
    """state, grown to hold what other holds: every object a name may reach, every stale name."""
    points_to, stale = state
    for n, objects in other[0].items():
        points_to[n] = points_to.get(n, frozenset()) | objects
    for n, write in other[1].items():
        stale_by(stale, n, write)
    return state


def stale_by(stale, name, write):
    """Note that write (statement, writer, guard) leaves name stale, unless a write already does so for
    sure: a guarded write (checked when it runs) must not hide one refused at once."""
    if name not in stale or stale[name][2] and not write[2]:
        stale[name] = write
