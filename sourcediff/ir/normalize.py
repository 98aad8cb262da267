"""Normalization to A-normal form: one primitive per statement, operands are names or constants.

Sugar disappears here so that the modes see few shapes of statement: `a @ b` becomes `np.matmul`,
array methods and attributes become NumPy calls, augmented and tuple assignments become plain ones,
conditional expressions become if statements, and loops over arrays, enumerate and zip become loops
over range with explicit indexing. Expressions that cannot carry a derivative (comparisons, shapes,
index arithmetic) stay whole, so the output reads like the input.
"""
import collections
import copy
import functools
import inspect

import gast
import numpy as np

from .. import runtime
from ..runtime import is_complex
from ..errors import UnknownNameError, UnsupportedSyntaxError
from ..frontend.check import GENERATOR_CONSUMERS, check_supported
from ..frontend.parse import (WithArity, canonical_name, free_parameters, function_name, is_user_function,
                              lambda_definition, parameters, parse_function, remove_parameters, unbind)
from ..rules import is_inactive, rule_for
from .analysis import scope_nodes
from .build import Transformer, assign, call, clone, const, dotted, name, names_in, store, with_origin, walk
from .mutation import finish_mutations, follow_mutations
from .namespace import RUNTIME_HELPERS, NameGenerator

# `x.method(...)` on a local value -> the NumPy function it means
ARRAY_METHODS = {
    "sum": "np.sum", "mean": "np.mean", "prod": "np.prod", "max": "np.max", "min": "np.min",
    "cumsum": "np.cumsum", "squeeze": "np.squeeze", "dot": "np.dot", "ravel": "np.ravel",
    "clip": "np.clip", "transpose": "np.transpose", "reshape": "np.reshape", "var": "np.var", "std": "np.std",
    "cumprod": "np.cumprod", "repeat": "np.repeat", "trace": "np.trace", "diagonal": "np.diagonal",
    "swapaxes": "np.swapaxes", "conj": "np.conjugate", "conjugate": "np.conjugate", "round": "np.round",
    "argmax": "np.argmax", "argmin": "np.argmin", "argsort": "np.argsort", "nonzero": "np.nonzero",
    "all": "np.all", "any": "np.any", "take": "np.take",
}
ARRAY_ATTRIBUTES = {"T": "np.transpose", "shape": "np.shape", "ndim": "np.ndim", "size": "np.size",
                    "real": "np.real", "imag": "np.imag"}
# index expressions that concatenate (`np.r_[a, b]`) -> the runtime function that does it as a call
INDEX_CONCATENATIONS = {np.r_: runtime.concatenate_rows, np.c_: runtime.concatenate_columns}
COMPLEX_TYPES = (complex, np.complexfloating, np.complex64, np.complex128, np.clongdouble)
NUMBER_WORDS = {0: "zero", 1: "one", 2: "two"}
# the name of a result whose spelled-out name would be too long
OPERATOR_NOUNS = {
    gast.Add: "total", gast.Sub: "difference", gast.Mult: "product", gast.Div: "ratio", gast.Pow: "power",
    gast.FloorDiv: "quotient", gast.Mod: "remainder", gast.MatMult: "matmul",
}
OPERATOR_WORDS = {
    gast.Add: "plus", gast.Sub: "minus", gast.Mult: "times", gast.Div: "over", gast.Pow: "pow",
    gast.FloorDiv: "floordiv", gast.Mod: "mod", gast.MatMult: "matmul", gast.BitOr: "or", gast.BitAnd: "and",
    gast.BitXor: "xor", gast.LShift: "lshift", gast.RShift: "rshift",
}


def rebound_names(fdef):
    """The names fdef binds more than once (parameters, assignments and loop targets, its nested functions'
    included): a counter among them may hold a value that carries a derivative elsewhere."""
    bound = collections.Counter(a.id for a in fdef.args.args)
    bound.update(n.id for n in walk(fdef) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store))
    return {n for n, count in bound.items() if count > 1}


def object_for(spelling):
    """The object a canonical spelling such as `np.linalg.norm` or `copy.copy` denotes."""
    parts = spelling.split(".")
    obj = {"np": np, "copy": copy}[parts[0]]
    for part in parts[1:]:
        obj = getattr(obj, part)
    return obj


def local_names(fdef):
    """Names bound in fdef's own scope (parameters, assignment and loop targets, nested defs)."""
    nodes = list(scope_nodes(fdef.body)) if isinstance(fdef.body, list) else []
    return ({a.id for a in fdef.args.args} | {n.name for n in nodes if isinstance(n, gast.FunctionDef)}
            | {n.id for n in nodes if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)})


def call_arguments(node, callee):
    """{parameter of callee: argument} for a call of a user function."""
    arguments = dict(zip(parameters(callee), node.args))
    arguments.update((k.arg, k.value) for k in node.keywords)
    return arguments


def accepts_varargs(fn):
    function = unbind(fn)[0]
    return any(p.kind is p.VAR_POSITIONAL for p in inspect.signature(function).parameters.values())


def local_function_names(fdef):
    """Names fdef's own body gives nested functions: `def g(...)` and `g = lambda ...`."""
    found = set()
    pending = list(fdef.body)
    while pending:
        node = pending.pop()
        if isinstance(node, gast.FunctionDef):
            found.add(node.name)
        elif isinstance(node, gast.Assign) and isinstance(node.value, gast.Lambda):
            found |= {t.id for t in node.targets if isinstance(t, gast.Name)}
        elif isinstance(node, gast.stmt):
            pending.extend(n for n in gast.iter_child_nodes(node) if isinstance(n, gast.stmt))
    return found


ITERATOR_BUILTINS = (zip, enumerate, reversed, map, filter, iter)


def callee_of(node):
    return getattr(node, "sd_callee", None) if isinstance(node, gast.Call) else None


def unused(word, taken):
    """word, or word2, word3, ...: the first not in taken."""
    candidates = [word] + [f"{word}{k}" for k in range(2, len(taken) + 3)]
    return next(c for c in candidates if c not in taken)


def minus_one(bound):
    """bound - 1, folded when bound is a number."""
    if isinstance(bound, gast.Constant) and type(bound.value) is int:
        return const(bound.value - 1)
    return gast.BinOp(left=bound, op=gast.Sub(), right=const(1))


def constant_strings(fdef):
    """Local names that only ever hold one string constant (`spec = "ij,jk->ik"`), with that string."""
    stores = [n.id for n in walk(fdef) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)]
    values = {}
    for node in walk(fdef):
        if isinstance(node, gast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], gast.Name) \
                and isinstance(node.value, gast.Constant) and isinstance(node.value.value, str):
            values.setdefault(node.targets[0].id, []).append(node.value.value)
    params = {a.id for a in fdef.args.args}
    return {k: v[0] for k, v in values.items() if len(set(v)) == 1 and stores.count(k) == len(v) and k not in params}


def resolve_callee(call_node):
    """The object a normalized call refers to (None for local functions and unknown methods)."""
    return getattr(call_node, "sd_callee", None)


class Canonicalizer(Transformer):
    """Rewrite free names to canonical spellings or namespace bindings, and array sugar to NumPy calls."""

    def __init__(self, parsed, namespace, locals_):
        self.parsed = parsed
        self.namespace = namespace
        self.locals = locals_
        self.array_members = {}  # name -> the array methods and attributes read on it (`.sum()`, `.T`)

    def error(self, node, message, hint=None, cls=UnsupportedSyntaxError):
        return self.parsed.info.error(cls, node, message, hint)

    def reference(self, node, obj):
        """An expression for a free object, tagged with the object."""
        if is_complex(obj) or any(obj is t for t in COMPLEX_TYPES):
            raise self.complex_error(node)
        spelling = canonical_name(obj)
        if obj is None or isinstance(obj, str):  # np.newaxis, or a constant string such as einsum's subscripts
            return gast.copy_location(const(obj), node)
        if spelling is not None:
            result = dotted(spelling)
        elif isinstance(node, gast.Attribute) and inspect.ismodule(self.root_object(node)):
            # module.function of a module we do not know (a user module): bind the object itself
            result = name(self.namespace.bind(getattr(obj, "__name__", node.attr), obj))
        else:
            # a user object (function, array, config): bind its root name, keep any attribute chain
            result = clone(node)
            parent, root = None, result
            while isinstance(root, gast.Attribute):
                parent, root = root, root.value
            bound = name(self.namespace.bind(root.id, self.parsed.lookup(root.id)[1]))
            if parent is None:
                result = bound
            else:
                parent.value = bound
        result.sd_object = obj
        return gast.copy_location(result, node)

    def complex_error(self, node):
        return self.error(node, "complex numbers are not supported: the rules are written for real values",
                          "write the real and imaginary parts as separate real values")

    def visit_Constant(self, node):
        if isinstance(node.value, complex):
            raise self.complex_error(node)
        return node

    def visit_Slice(self, node):
        """A constant bound stays as written: the complex step of `np.r_[0:1:5j]` counts points."""
        for field in ("lower", "upper", "step"):
            part = getattr(node, field)
            if part is not None and not isinstance(part, gast.Constant):
                setattr(node, field, self.visit(part))
        return node

    def root_object(self, node):
        while isinstance(node, gast.Attribute):
            node = node.value
        return self.parsed.lookup(node.id)[1] if isinstance(node, gast.Name) else None

    def visit_Name(self, node):
        if not isinstance(node.ctx, gast.Load) or node.id in self.locals or hasattr(node, "sd_object"):
            return node
        found, obj = self.parsed.lookup(node.id)
        if not found:
            raise self.error(node, f"name '{node.id}' is not defined", "define it before differentiating",
                             UnknownNameError)
        return self.reference(node, obj)

    def visit_Attribute(self, node):
        if hasattr(node, "sd_object"):
            return node  # canonical already
        found, obj = self.parsed.resolve(node, self.locals)
        if found:
            return self.reference(node, obj)
        node.value = self.visit(node.value)
        if node.attr in ARRAY_ATTRIBUTES:
            self.read_as_array(node.value, f".{node.attr}")
            return self.numpy_call(node, ARRAY_ATTRIBUTES[node.attr], [node.value])
        return node

    def visit_Subscript(self, node):
        """`np.r_[a, b]` and `np.c_[a, b]` become calls (`concatenate_rows([a, b])`), whose rules follow
        each item; a slice item stays `np.r_[0:3]`, a constant array."""
        found, obj = self.parsed.resolve(node.value, self.locals)
        helper = next((h for b, h in INDEX_CONCATENATIONS.items() if found and b is obj), None)
        if helper is None:
            return self.generic_visit(node)
        builder = self.reference(node.value, obj)
        index = node.slice
        items = []
        for item in index.elts if isinstance(index, gast.Tuple) else [index]:
            if isinstance(item, gast.Constant) and isinstance(item.value, str):
                raise self.error(item, "a directive string in np.r_ or np.c_ is not supported",
                                 "call np.concatenate, np.stack or np.column_stack instead")
            if isinstance(item, gast.Slice):
                items.append(gast.Subscript(value=clone(builder), slice=self.visit(item), ctx=gast.Load()))
            else:
                items.append(self.visit(item))
        return self.helper_call(node, helper, [gast.List(elts=items, ctx=gast.Load())])

    def helper_call(self, node, helper, args):
        """A call of a runtime helper that has rules of its own, in place of node."""
        result = call(helper.__name__, args)
        result.sd_callee = result.func.sd_object = helper  # canonical, if visited again (`y += np.c_[...]`)
        return gast.copy_location(result, node)

    def numpy_call(self, node, spelling, args, keywords=()):
        result = call(spelling, args, keywords)
        result.sd_callee = result.func.sd_object = object_for(spelling)  # canonical, if visited again
        return gast.copy_location(result, node)

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.USub) and isinstance(node.operand, gast.Constant) and \
                type(node.operand.value) in (int, float):
            return gast.copy_location(const(-node.operand.value), node)
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.MatMult):
            return self.numpy_call(node, "np.matmul", [node.left, node.right])
        return node

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, gast.Attribute) and not hasattr(func, "sd_object") and \
                not self.parsed.resolve(func, self.locals)[0]:
            receiver = self.visit(func.value)
            args = [self.visit(a) for a in node.args]
            keywords = [self.visit(k) for k in node.keywords]
            method = func.attr
            if method in ("reshape", "transpose") and len(args) > 1:
                args = [gast.Tuple(elts=args, ctx=gast.Load())]
            if method in ARRAY_METHODS:
                self.read_as_array(receiver, f".{method}()")
                return self.numpy_call(node, ARRAY_METHODS[method], [receiver, *args], keywords)
            if method == "astype":
                dtype = args[0] if args else keywords[0].value
                return self.numpy_call(node, "np.array", [receiver], [gast.keyword(arg="dtype", value=dtype)])
            if method == "copy":
                return self.numpy_call(node, "copy.copy", [receiver])
            if method == "item" and not args and not keywords:
                self.read_as_array(receiver, ".item()")
                return self.helper_call(node, runtime.item, [receiver])
            if method == "flatten":
                return self.numpy_call(node, "np.ravel", [self.numpy_call(node, "copy.copy", [receiver])])
            node.func.value = receiver
            node.args, node.keywords = args, keywords
            return node
        self.generic_visit(node)
        obj = getattr(node.func, "sd_object", None)
        if obj is pow and len(node.args) == 2 and not node.keywords:  # pow(a, b) is a ** b
            return gast.copy_location(gast.BinOp(left=node.args[0], op=gast.Pow(), right=node.args[1]), node)
        if obj is not None:  # a function decorated with @sd.tangent or @sd.adjoint is differentiated as itself
            node.sd_callee = getattr(obj, "sd_primal", obj)
            if obj is np.append:
                return self.append_as_concatenate(node)
        return node

    def read_as_array(self, receiver, member):
        """Note that member (`.sum()`) of a name is read as the NumPy array's: a parameter holding another
        object with a member of that name is refused at the call (runtime.refuse_complex)."""
        if isinstance(receiver, gast.Name):
            self.array_members.setdefault(receiver.id, set()).add(member)

    def append_as_concatenate(self, node):
        """np.append(a, b, axis) is np.concatenate([a, b], axis), and with no axis that of the flattened
        a and b: what NumPy computes, in functions that have rules."""
        try:
            bound = inspect.signature(np.append).bind(*node.args, **{k.arg: k.value for k in node.keywords})
        except TypeError:
            return node  # a call NumPy itself will refuse
        arr, values = bound.arguments["arr"], bound.arguments["values"]
        axis = bound.arguments.get("axis", const(None))
        if isinstance(axis, gast.Constant) and axis.value is None:
            items = [self.numpy_call(node, "np.ravel", [arr]), self.numpy_call(node, "np.ravel", [values])]
            return self.numpy_call(node, "np.concatenate", [gast.List(elts=items, ctx=gast.Load())])
        return self.numpy_call(node, "np.concatenate", [gast.List(elts=[arr, values], ctx=gast.Load()), axis])

    def visit_FunctionDef(self, node):
        return node  # nested functions are canonicalized with their own locals

    def visit_Lambda(self, node):
        return node


class Normalizer:
    """Turn one canonicalized function body into A-normal form."""

    def __init__(self, parsed, namespace, enclosing_locals=frozenset(), enclosing_functions=frozenset()):
        self.parsed = parsed
        self.namespace = namespace
        self.enclosing = set(enclosing_locals)
        self.functions = set(enclosing_functions)  # local names that denote nested functions
        self.copying = set()  # the functions being copied in to call nested functions passed to them
        self.names = NameGenerator()
        self.out = []
        self.origin = None

    def error(self, node, message, hint=None):
        return self.parsed.info.error(UnsupportedSyntaxError, node, message, hint)

    # -- functions -----------------------------------------------------------------------------

    def normalize_function(self, fdef):
        self.locals = local_names(fdef) | self.enclosing
        self.functions |= local_function_names(fdef)
        for n in walk(fdef):
            if isinstance(n, gast.Name):
                self.names.reserve(n.id)
            elif isinstance(n, gast.FunctionDef):
                self.names.reserve(n.name)
        canonical = Canonicalizer(self.parsed, self.namespace, self.locals)
        fdef.args.defaults = [canonical.visit(d) for d in fdef.args.defaults]
        body = [canonical.visit(s) for s in fdef.body]
        self.strings = constant_strings(fdef)
        self.rebound = rebound_names(fdef)
        new = gast.FunctionDef(name=fdef.name, args=fdef.args, body=self.block(body), decorator_list=[],
                               returns=None, type_comment=None, type_params=[])
        split_tuple_variables(new, self.names)
        new.sd_locals = self.locals
        assigned = {n.id for n in walk(new) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        new.sd_array_members = {p: sorted(canonical.array_members[p]) for p in [a.id for a in fdef.args.args]
                                if p in canonical.array_members and p not in assigned}
        return gast.copy_location(new, fdef)

    def block(self, statements):
        saved, saved_origin, self.out = self.out, self.origin, []
        for stmt in statements:
            self.origin = stmt
            stmt.sd_text = self.source_line(stmt)
            self.statement(stmt)
        result, self.out, self.origin = self.out, saved, saved_origin
        return result

    def source_line(self, stmt):
        lines = self.parsed.info.lines
        lineno = getattr(stmt, "lineno", 0)
        return lines[lineno - 1].strip() if 0 < lineno <= len(lines) else None

    def emit(self, stmt):
        self.out.append(with_origin(stmt, self.origin))

    # -- statements ----------------------------------------------------------------------------

    def statement(self, stmt):
        handler = getattr(self, "stmt_" + type(stmt).__name__, None)
        if handler is None:
            raise self.error(stmt, f"the statement {type(stmt).__name__} is not supported")
        handler(stmt)

    def stmt_Assign(self, stmt):
        value = stmt.value
        if isinstance(value, gast.Lambda) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name):
            self.nested_function(lambda_definition(value, stmt.targets[0].id))
            return
        if getattr(value, "sd_callee", None) is functools.partial and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], gast.Name) and value.args:
            self.partial_function(stmt.targets[0].id, value)
            return
        if len(stmt.targets) == 1 and not isinstance(stmt.targets[0], (gast.Tuple, gast.List)):
            self.assign_to(stmt.targets[0], value)
            return
        if len(stmt.targets) == 1 and isinstance(value, (gast.Tuple, gast.List)) and \
                len(value.elts) == len(stmt.targets[0].elts):
            self.unpack_literal(stmt.targets[0], value)
            return
        # `W, b = params[-1]` holds params[-1] as W_b (not "value", the name of what a gradient returns)
        hint = "_".join(self.hint(e) for e in stmt.targets[0].elts) if len(stmt.targets) == 1 else "value"
        atom = self.atom(value, hint)
        for target in stmt.targets:
            self.assign_to(target, atom)

    def unpack_literal(self, target, value):
        """`a, b = b, a + b`: evaluate every right-hand side before assigning any target."""
        targets = {n for t in target.elts for n in names_in(t)}
        atoms = []
        for element in value.elts:
            atom = self.atom(element, self.hint(element))
            if isinstance(atom, gast.Name) and atom.id in targets:
                fresh = self.names.fresh(atom.id + "_old")
                self.emit(assign(fresh, atom))
                atom = name(fresh)
            atoms.append(atom)
        for t, atom in zip(target.elts, atoms):
            self.assign_to(t, atom)

    def assign_to(self, target, value):
        if isinstance(target, gast.Name) and isinstance(value, gast.IfExp):
            self.conditional_expression(value, target.id)
        elif isinstance(target, gast.Name):
            self.emit(assign(target.id, self.primitive(value, target.id)))
        elif isinstance(target, (gast.Tuple, gast.List)):
            if any(isinstance(e, gast.Starred) for e in target.elts):
                raise self.error(target, "starred assignment is not supported", "index the elements one by one")
            atom = self.atom(value, "_".join(self.hint(e) for e in target.elts))
            for i, element in enumerate(target.elts):
                self.assign_to(element, gast.Subscript(value=atom, slice=const(i), ctx=gast.Load()))
        elif isinstance(target, gast.Subscript):
            atom = self.atom(value, self.hint(target))
            self.emit(assign(self.place(self.target_computed_once(target)), atom))
        else:
            raise self.error(target, "only names, tuples and subscripts can be assigned to",
                             "assign to a local variable")

    def place(self, target):
        """A subscript target `x[i][j]` whose base is a local name; indices stay whole."""
        base = target.value
        while isinstance(base, gast.Subscript):
            base = base.value
        if not isinstance(base, gast.Name) or base.id not in self.locals:
            raise self.error(target, "only subscripts of local variables can be assigned to",
                             "copy the value into a local variable first")
        return store(target)

    def index_read_once(self, target):
        """`x[x > c] = v` with its index in a variable of its own (`mask = x > c`), where the index reads
        the array written: derivative statements placed after the write must see the index the write
        used, not one computed again from the new contents."""
        base = target.value
        while isinstance(base, gast.Subscript):
            base = base.value
        index = target.slice
        pieces = index.elts if isinstance(index, gast.Tuple) else [index]
        if not isinstance(base, gast.Name) or base.id not in names_in(index) or \
                any(isinstance(p, gast.Slice) for p in pieces):
            return target
        held = self.names.fresh("index")
        self.locals.add(held)
        self.emit(gast.copy_location(assign(held, index), target))
        return gast.copy_location(gast.Subscript(value=target.value, slice=name(held), ctx=target.ctx), target)

    def target_computed_once(self, target):
        """A subscript target whose indices are computed once, before the write: held in variables where
        they read the array written (index_read_once) or call user code (index_computed_once)."""
        target = self.index_read_once(target)
        value = target.value
        if isinstance(value, gast.Subscript):
            value = self.target_computed_once(value)
        index = self.index_computed_once(target.slice)
        self.locals |= names_in(index) - names_in(target.slice)  # the variables holding its parts
        return gast.copy_location(gast.Subscript(value=value, slice=index, ctx=target.ctx), target)

    def stmt_AugAssign(self, stmt):
        target = stmt.target
        if isinstance(target, gast.Subscript):
            target = self.target_computed_once(target)
        if isinstance(target, gast.Name):
            load = name(target.id)
        elif isinstance(target, gast.Subscript):
            load = gast.Subscript(value=target.value, slice=target.slice, ctx=gast.Load())
        else:
            raise self.error(target, "augmented assignment to this target is not supported",
                             "assign to a local variable")
        combined = gast.BinOp(left=load, op=stmt.op, right=stmt.value)
        gast.copy_location(combined, stmt)
        canonical = Canonicalizer(self.parsed, self.namespace, self.locals)
        self.assign_to(target, canonical.visit(combined))

    def stmt_AnnAssign(self, stmt):
        if stmt.value is not None:
            self.assign_to(stmt.target, stmt.value)

    def stmt_Expr(self, stmt):
        value = stmt.value
        if isinstance(value, gast.Constant):
            return  # a docstring
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) and value.func.attr == "append":
            receiver = value.func.value
            if not (isinstance(receiver, gast.Name) and receiver.id in self.locals) or len(value.args) != 1:
                raise self.error(value, "append is supported on local lists, with one argument")
            value.args = [self.atom(value.args[0], receiver.id + "_item")]
            self.emit(gast.Expr(value=value))
            return
        self.emit(gast.Expr(value=self.primitive(value, "unused")))

    def stmt_If(self, stmt):
        # conditions stay whole: they decide control flow and carry no derivative
        self.emit(gast.If(test=stmt.test, body=self.block(stmt.body), orelse=self.block(stmt.orelse)))

    def stmt_While(self, stmt):
        if stmt.orelse:
            raise self.error(stmt, "while ... else is not supported", "use a flag variable")
        self.emit(gast.While(test=stmt.test, body=self.block(stmt.body), orelse=[]))

    def loop_counter(self, target):
        """(the name a loop over range counts with, the statements that start its body). A name the function
        also binds elsewhere (a parameter, an assignment, another loop) may carry a derivative there: the
        loop counts with a name of its own and assigns target from it, which carries none."""
        if target not in self.rebound:
            return target, []
        index = self.names.fresh(target, temporary=False)
        return index, [with_origin(assign(target, name(index)), self.origin)]

    def stmt_For(self, stmt):
        if stmt.orelse:
            raise self.error(stmt, "for ... else is not supported", "use a flag variable")
        (iterator, backwards), target = self.sequence_of(stmt.iter), stmt.target
        callee = callee_of(iterator)
        if callee is range and not backwards:
            if not isinstance(target, gast.Name):
                raise self.error(target, "the target of a loop over range must be a name")
            args = [a if self.statically_inactive(a) else self.atom(a, "bound") for a in iterator.args]
            index, body = self.loop_counter(target.id)
            body += self.block(stmt.body)
            self.emit(gast.For(target=name(index, True), iter=call("range", args), body=body, orelse=[],
                               type_comment=None))
            return
        counter = start = packed = None
        if callee is enumerate and iterator.args:  # the index of the loop counts: counter = index + start
            start = iterator.args[1] if len(iterator.args) > 1 else \
                next((k.value for k in iterator.keywords if k.arg == "start"), None)
            if start is not None and not isinstance(start, gast.Constant):
                start = self.atom(start, "start")
            if isinstance(target, gast.Tuple) and len(target.elts) == 2:
                counter, target = target.elts
            else:  # `for pair in enumerate(xs)`: pair = (index + start, item)
                packed, target = target, name(self.names.fresh("item"), store=True)
            iterator, backwards = self.sequence_of(iterator.args[0])
            callee = callee_of(iterator)
        if callee is zip and len(iterator.args) == 1 and isinstance(iterator.args[0], gast.Starred) and \
                isinstance(target, (gast.Tuple, gast.List)):  # zip(*rows): the rows are its arguments
            rows = iterator.args[0].value
            iterator = call(iterator.func, [gast.Subscript(value=rows, slice=const(i), ctx=gast.Load())
                                            for i in range(len(target.elts))])
        if callee is zip and iterator.args and not iterator.keywords and \
                isinstance(target, (gast.Tuple, gast.List)) and len(target.elts) == len(iterator.args):
            sequences, targets = iterator.args, target.elts
        elif isinstance(iterator, gast.Call) and callee is None and isinstance(iterator.func, gast.Attribute) \
                and iterator.func.attr in ("items", "keys", "values"):
            raise self.error(iterator, f"looping over .{iterator.func.attr}() is not supported",
                             "loop over a list or tuple of keys, or index the dict by name")
        else:
            sequences, targets = [iterator], [target]
        atoms = [self.atom(self.as_list(s), self.hint(s) + "_seq") for s in sequences]
        simple_counter = isinstance(counter, gast.Name) and start is None and counter.id not in self.rebound
        index = counter.id if simple_counter else self.names.fresh("i", temporary=False)
        lengths = [call("len", [a]) for a in atoms]
        count = lengths[0] if len(lengths) == 1 else call("min", lengths)
        for node in walk(count):
            if isinstance(node, gast.Call):
                node.sd_callee = len if node.func.id == "len" else min
        position = name(index)
        if backwards:  # read in place, as reversed does, so that writes to the sequence in the loop are seen
            last = self.atom(gast.BinOp(left=clone(count), op=gast.Sub(), right=const(1)), "last")
            position = gast.BinOp(left=last, op=gast.Sub(), right=name(index))
        body = []
        saved, self.out = self.out, body
        for seq, t in zip(atoms, targets):
            self.assign_to(t, gast.Subscript(value=seq, slice=position, ctx=gast.Load()))
        counted = name(index) if start is None else gast.BinOp(left=name(index), op=gast.Add(), right=start)
        if counter is not None and not simple_counter:
            self.assign_to(counter, counted)
        if packed is not None:
            self.assign_to(packed, gast.Tuple(elts=[counted, name(target.id)], ctx=gast.Load()))
        self.out = saved
        body += self.block(stmt.body)
        loop = gast.For(target=name(index, store=True), iter=call("range", [count]), body=body, orelse=[],
                        type_comment=None)
        loop.iter.sd_callee = range
        self.emit(loop)

    def sequence_of(self, iterator):
        """What a loop over iterator runs through, something with a length and an index, and whether backwards:
        iter(s) is s, reversed(s) is s backwards, reversed(range(a, b)) is range(b - 1, a - 1, -1)."""
        callee = callee_of(iterator)
        if callee not in (iter, reversed) or len(iterator.args) != 1 or iterator.keywords:
            return iterator, False
        sequence, backwards = self.sequence_of(iterator.args[0])
        if callee is iter:
            return sequence, backwards
        if callee_of(sequence) is range and len(sequence.args) < 3 and not backwards:
            first, last = sequence.args if len(sequence.args) == 2 else (const(0), sequence.args[0])
            flipped = call("range", [minus_one(last), minus_one(first), const(-1)])
            flipped.sd_callee = range
            return gast.copy_location(flipped, iterator), False
        return sequence, not backwards

    def stmt_Return(self, stmt):
        value = stmt.value
        if value is None:
            self.emit(gast.Return(value=None))
        elif isinstance(value, gast.Tuple):
            elts = [self.atom(e, self.hint(e)) for e in value.elts]
            self.emit(gast.Return(value=gast.Tuple(elts=elts, ctx=gast.Load())))
        else:
            self.emit(gast.Return(value=self.atom(value, self.hint(value))))

    def stmt_FunctionDef(self, stmt):
        self.nested_function(stmt)

    def nested_function(self, fdef, parsed=None, enclosing=None):
        """Emit the normalized nested def fdef; parsed and enclosing for a copy of another function."""
        for default in fdef.args.defaults:
            read = sorted(names_in(default) & self.locals)
            if read:
                raise self.error(default, f"a default value that reads '{read[0]}', a variable of the enclosing "
                                 "function, is not supported", f"pass {read[0]} as an argument where it is called")
        inner = Normalizer(parsed or self.parsed, self.namespace, self.locals if enclosing is None else enclosing,
                           self.functions)
        inner.names, inner.copying = self.names, self.copying
        self.functions.add(fdef.name)
        normalized = inner.normalize_function(fdef)
        if parsed is not None:  # positions in a copy are those of the function copied
            for node in walk(normalized):
                if hasattr(node, "lineno"):
                    node.sd_info = parsed.info
        self.emit(normalized)

    def partial_function(self, identifier, node):
        """`p = functools.partial(f, a, k=b)` of a user function f as a nested def taking the parameters of f
        left free, `def p(y): return f(a_fixed, y=y, k=b_fixed)`, where a_fixed and b_fixed keep the values a
        and b have here."""
        f = getattr(node.args[0], "sd_object", None)
        if not is_user_function(f) or rule_for(f) is not None:
            raise self.error(node, "functools.partial is supported only of a function defined in Python",
                             "write a nested def or lambda that calls the function")
        signature = inspect.signature(unbind(f)[0])
        fixed = [self.fixed_value(a, f"{identifier}_arg") for a in node.args[1:]]
        keywords = [gast.keyword(arg=k.arg, value=self.fixed_value(k.value, f"{identifier}_{k.arg}"))
                    for k in node.keywords]
        free = [p for p in parameters(f)[len(fixed):] if p not in {k.arg for k in node.keywords}]
        defaults = [signature.parameters[p].default for p in free if p in signature.parameters
                    and signature.parameters[p].default is not inspect.Parameter.empty]
        if not all(type(d) in (int, float, bool, str, type(None)) for d in defaults):
            raise self.error(node, "functools.partial of a function whose free parameters have defaults other than "
                             "numbers, strings or None is not supported", "pass those arguments to the partial")
        args = gast.arguments(args=[gast.Name(id=p, ctx=gast.Param(), annotation=None, type_comment=None) for p in free],
                              posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                              defaults=[const(d) for d in defaults])
        forward = gast.Call(func=node.args[0], args=fixed, keywords=keywords + [gast.keyword(arg=p, value=name(p))
                                                                                 for p in free])
        body = [gast.copy_location(gast.Return(value=gast.copy_location(forward, node)), node)]
        fdef = gast.FunctionDef(name=identifier, args=args, body=body, decorator_list=[], returns=None,
                                type_comment=None, type_params=[])
        self.nested_function(gast.copy_location(fdef, node))

    def fixed_value(self, node, hint):
        """A name or constant holding node's value from here on: a local is copied, as it may change later."""
        atom = self.atom(node, hint)
        if isinstance(atom, gast.Name) and atom.id in self.locals:
            fresh = self.names.fresh(hint)
            self.emit(assign(fresh, atom))
            atom = name(fresh)
        if isinstance(atom, gast.Name) and not hasattr(atom, "sd_object"):
            self.locals.add(atom.id)  # a temporary the nested def reads
        return atom

    def stmt_Pass(self, stmt):
        pass

    def stmt_Break(self, stmt):
        self.emit(stmt)

    stmt_Continue = stmt_Break
    stmt_Assert = stmt_Break
    stmt_Raise = stmt_Break

    # -- expressions ---------------------------------------------------------------------------

    def hint(self, node):
        """A readable name for the value of node, spelled out (`x_times_y`) when short enough."""
        spelled = self.spelled_hint(node)
        return spelled if len(spelled) <= NameGenerator.MAX_LENGTH else self.short_hint(node)

    def spelled_hint(self, node):
        if isinstance(node, gast.Name):
            return node.id
        if isinstance(node, gast.Constant):
            v = node.value
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            return NUMBER_WORDS.get(v, str(v)) if isinstance(v, int) and v >= 0 else "c"
        if isinstance(node, gast.BinOp):
            return f"{self.hint(node.left)}_{OPERATOR_WORDS[type(node.op)]}_{self.hint(node.right)}"
        if isinstance(node, gast.UnaryOp):
            return "neg_" + self.hint(node.operand)
        if isinstance(node, gast.Call):
            return f"{self.function_hint(node)}_{self.hint(node.args[0])}" if node.args else self.function_hint(node)
        if isinstance(node, gast.Subscript):
            index = node.slice
            if isinstance(index, gast.Name):
                return f"{self.hint(node.value)}_{index.id}"
            if isinstance(index, gast.Constant) and isinstance(index.value, int) and index.value >= 0:
                return f"{self.hint(node.value)}_{index.value}"
        return self.short_hint(node)

    def function_hint(self, node):
        func = node.func
        return func.attr if isinstance(func, gast.Attribute) else getattr(func, "id", "result")

    def short_hint(self, node):
        """A name for node's value from its operation alone: `product`, `sum`, `x_part`."""
        if isinstance(node, gast.BinOp):
            return OPERATOR_NOUNS[type(node.op)]
        if isinstance(node, gast.UnaryOp):
            return "neg"
        if isinstance(node, gast.Call):
            if node.args:  # the function and the first word of its argument: sum_labels
                return f"{self.function_hint(node)}_{self.hint(node.args[0]).split('_')[0]}"
            return self.function_hint(node)
        if isinstance(node, gast.Subscript):
            return self.hint(node.value)[: NameGenerator.MAX_LENGTH - 5] + "_part"
        if isinstance(node, (gast.List, gast.Tuple, gast.ListComp, gast.GeneratorExp)):
            return "items"
        if isinstance(node, gast.Lambda):
            return "function"
        if isinstance(node, gast.Attribute):
            return node.attr
        if isinstance(node, gast.Name):
            return node.id
        return "t"

    def atom(self, node, hint):
        """A name or constant holding node's value, emitting statements to compute it."""
        if isinstance(node, gast.Constant) or isinstance(node, gast.Name) and node.id in self.locals:
            return node
        if isinstance(node, gast.Name) or hasattr(node, "sd_object"):
            return node  # a free object: a module constant, a function, an array from the globals
        if isinstance(node, gast.Lambda):  # a lambda within an expression: a nested def of its own
            function = self.names.fresh(hint if hint != "value" else "function", temporary=False)
            self.locals.add(function)
            self.nested_function(lambda_definition(node, function))
            return name(function)
        if _makes_partial(node):  # so is a partial made within an expression (called there, or passed on)
            function = self.names.fresh(f"{self.hint(node.args[0])}_partial", temporary=False)
            self.locals.add(function)
            self.partial_function(function, node)
            return name(function)
        value = self.primitive(node, hint)
        if isinstance(value, gast.Name) and value.id in self.locals:  # a comprehension's new list
            return value
        target = self.names.fresh(hint if len(hint) <= NameGenerator.MAX_LENGTH else self.short_hint(value))
        self.emit(assign(target, value))
        return name(target)

    def primitive(self, node, hint):
        """node with every operand reduced to an atom: one primitive operation."""
        result = self.reduce(node, hint)
        if hasattr(node, "lineno") and not hasattr(result, "lineno"):
            gast.copy_location(result, node)
        return result

    def reduce(self, node, hint):
        if self.statically_inactive(node):
            return node
        if isinstance(node, gast.BinOp):
            return gast.BinOp(left=self.atom(node.left, self.hint(node.left)), op=node.op,
                              right=self.atom(node.right, self.hint(node.right)))
        if isinstance(node, gast.UnaryOp):
            if isinstance(node.op, gast.Not):
                return node
            return gast.UnaryOp(op=node.op, operand=self.atom(node.operand, self.hint(node.operand)))
        if isinstance(node, gast.Call):
            return self.primitive_call(node)
        if isinstance(node, gast.Subscript):
            return gast.Subscript(value=self.atom(node.value, self.hint(node.value)),
                                  slice=self.index_computed_once(node.slice), ctx=gast.Load())
        if isinstance(node, (gast.List, gast.Tuple)):
            return type(node)(elts=[self.atom(e, self.hint(e)) for e in node.elts], ctx=gast.Load())
        if isinstance(node, gast.Dict):
            return gast.Dict(keys=node.keys, values=[self.atom(v, self.hint(v)) for v in node.values])
        if isinstance(node, gast.IfExp):
            return self.conditional_expression(node, self.names.fresh(hint))
        if isinstance(node, (gast.ListComp, gast.GeneratorExp)):  # check.py admits only generators consumed at once
            return self.list_comprehension(node, hint)
        if isinstance(node, gast.Compare) and len(node.ops) > 1:
            return self.chained_comparison(node)
        return node

    def primitive_call(self, node):
        callee = getattr(node, "sd_callee", None)
        if callee in GENERATOR_CONSUMERS:  # list(zip(a, b)), sum(map(f, xs)): consumed at once
            node = gast.copy_location(gast.Call(func=node.func, args=[self.as_list(a) for a in node.args],
                                                keywords=node.keywords), node)
            node.sd_callee = callee
            if callee is list and len(node.args) == 1 and isinstance(node.args[0], gast.ListComp):
                return self.list_comprehension(node.args[0], "items")  # a new list already
        if callee in ITERATOR_BUILTINS:
            raise self.error(node, f"{callee.__name__}(...) is supported only where it is consumed at once: what a "
                             "for loop or a comprehension runs over, or the argument of list, tuple, sum, min, max, "
                             "sorted, any or all", "wrap it in list(...) where it is made")
        if callee is np.einsum and node.args and isinstance(node.args[0], gast.Name) \
                and node.args[0].id in self.strings:  # its rules read the subscripts
            node.args[0] = const(self.strings[node.args[0].id])
        if callee is dict and not node.args and all(k.arg for k in node.keywords):  # dict(a=x) is {'a': x}
            return gast.Dict(keys=[const(k.arg) for k in node.keywords],
                             values=[self.atom(k.value, k.arg) for k in node.keywords])
        if callee in (max, min) and len(node.args) > 2:
            first = call(node.func, node.args[:2])
            first.sd_callee = callee
            node = call(node.func, [first, *node.args[2:]], node.keywords)
            node.sd_callee = callee
        if any(isinstance(a, gast.Starred) for a in node.args):
            node = self.without_star(node, callee)
        if is_user_function(callee) and accepts_varargs(callee):
            callee = WithArity(callee, max(0, len(node.args) - len(free_parameters(*unbind(callee), positional=True))))
        func = self.atom(node.func, "function") if isinstance(node.func, gast.Lambda) or _makes_partial(node.func) \
            else node.func
        args = [self.atom(a, self.hint(a)) for a in node.args]
        keywords = [gast.keyword(arg=k.arg, value=self.atom(k.value, k.arg)) for k in node.keywords]
        result = gast.Call(func=func, args=args, keywords=keywords)
        if callee is not None:
            result.sd_callee = callee
        if is_user_function(callee) and rule_for(callee) is None:
            result = self.with_functions_bound(result, callee)
            result = self.with_nested_functions_bound(result, result.sd_callee)
        return gast.copy_location(result, node)

    def without_star(self, node, callee):
        """`f(a, *rest, b)` for a user function f as `f(a, rest[0], rest[1], b)`: rest fills the parameters of f
        that the other arguments leave, none of which may have a default, so their number tells its length."""
        stars = [i for i, a in enumerate(node.args) if isinstance(a, gast.Starred)]
        star = node.args[stars[0]]
        if not is_user_function(callee) or rule_for(callee) is not None or isinstance(callee, WithArity) \
                or accepts_varargs(callee) or len(stars) > 1:
            raise self.error(star, "star-unpacking (*x) is supported only once in a call of a user function "
                             "without *args, and in `for a, b in zip(*rows)`", "pass the elements one by one")
        before, after = node.args[:stars[0]], node.args[stars[0] + 1:]
        signature = inspect.signature(unbind(callee)[0])
        keywords = {k.arg for k in node.keywords}
        left = [p for p in parameters(callee) if p not in keywords][len(before):]
        if len(left) < len(after) or any(signature.parameters[p].default is not inspect.Parameter.empty for p in left):
            raise self.error(star, "star-unpacking (*x) into parameters with defaults is not supported: how many "
                             "it fills is known only when the code runs", "pass those arguments one by one")
        sequence = self.atom(star.value, self.hint(star.value))
        items = [gast.Subscript(value=sequence, slice=const(i), ctx=gast.Load()) for i in range(len(left) - len(after))]
        result = gast.Call(func=node.func, args=before + items + after, keywords=node.keywords)
        result.sd_callee = callee
        return gast.copy_location(result, node)

    def with_functions_bound(self, node, callee):
        """A call of a user function passing it functions (`apply(square, x)`, `apply(np.sin, x)`) as a call of its
        specialisation to them, `functools.partial(apply, h=square)`, whose calls of `h` are then calls of
        `square`; the other arguments are passed by keyword. A function left to its default is bound too."""
        arguments = call_arguments(node, callee)
        defaults = {p.name: p.default for p in inspect.signature(unbind(callee)[0]).parameters.values()
                    if p.name not in arguments and p.name in parameters(callee)}
        functions = {p: v for p, v in [*((p, getattr(a, "sd_object", None)) for p, a in arguments.items()),
                                       *defaults.items()] if is_user_function(v) or rule_for(v)}
        if not functions:
            return node
        key = (callee, tuple(sorted(functions.items())))
        spelled = "_".join([function_name(callee), *(function_name(f) for _, f in sorted(functions.items()))])
        if key not in self.namespace.specialisations:
            self.namespace.specialisations[key] = functools.partial(callee, **functions)
            self.namespace.specialisations[key].__name__ = spelled  # what its derivatives are named after
        specialised = self.namespace.specialisations[key]
        arguments = {p: a for p, a in arguments.items() if p not in functions}
        bound = self.namespace.bind(spelled, specialised)
        self.names.reserve(bound)  # no local may hide it
        result = gast.Call(func=name(bound), args=[],
                           keywords=[gast.keyword(arg=p, value=a) for p, a in arguments.items()])
        result.sd_callee = specialised
        return result

    def with_nested_functions_bound(self, node, callee):
        """A call of a user function passing it nested functions or lambdas of this one (`apply(lambda t:
        t * a, x)`) as a call of a nested copy of it that calls them in place of its parameters, so that
        they may read this function's variables: `def apply_function(x): return function(x)`."""
        arguments = call_arguments(node, callee)
        functions = {p: a.id for p, a in arguments.items() if isinstance(a, gast.Name) and a.id in self.functions}
        if not functions:
            return node
        parsed = parse_function(callee)
        check_supported(parsed)
        fdef = clone(parsed.node)
        if fdef.name in self.copying:
            raise self.error(node, f"{fdef.name} passes a nested function or lambda on to itself",
                             "pass the function a module-level def instead")
        remove_parameters(fdef, functions, parsed.info)
        own = local_names(fdef)
        free = {n.id for n in walk(fdef) if isinstance(n, gast.Name) and n.id not in own}
        clash = sorted((free - set(functions)) & self.locals | own & set(functions.values()))
        if clash:
            raise self.error(node, f"{fdef.name} and this function both use the name '{clash[0]}', so {fdef.name} "
                             "cannot call the nested function passed to it here", f"rename '{clash[0]}' in one of them")
        fdef = RenameNames(functions).visit(fdef)
        fdef.name = self.names.fresh("_".join([fdef.name, *sorted(set(functions.values()))]), temporary=False)
        self.copying.add(parsed.node.name)
        self.nested_function(fdef, parsed, set(functions.values()))
        self.copying.discard(parsed.node.name)
        self.locals.add(fdef.name)
        return gast.Call(func=name(fdef.name), args=[], keywords=[
            gast.keyword(arg=p, value=a) for p, a in arguments.items() if p not in functions])

    def conditional_expression(self, node, target):
        """`target = a if c else b` as an if statement assigning target in each branch."""
        body = self.block_for(lambda: self.emit(assign(target, self.primitive(node.body, target))))
        orelse = self.block_for(lambda: self.emit(assign(target, self.primitive(node.orelse, target))))
        self.emit(gast.If(test=node.test, body=body, orelse=orelse))
        return name(target)

    def list_comprehension(self, node, hint):
        """`[e for v in s if c]` as a loop appending to a fresh list; its variables get fresh names."""
        result = self.names.fresh(hint if hint != "value" else "items")
        renames = {n.id: self.names.fresh(n.id) for g in node.generators for n in walk(g.target)
                   if isinstance(n, gast.Name)}
        self.locals |= {result, *renames.values()}
        rename = RenameNames(renames)
        append = gast.Expr(value=call(gast.Attribute(value=name(result), attr="append", ctx=gast.Load()),
                                      [rename.visit(clone(node.elt))]))
        body = gast.copy_location(append, node)
        for generator in reversed(node.generators):
            if generator.ifs:
                test = gast.BoolOp(op=gast.And(), values=generator.ifs) if len(generator.ifs) > 1 else generator.ifs[0]
                body = gast.copy_location(gast.If(test=rename.visit(clone(test)), body=[body], orelse=[]), node)
            # the first iterable is evaluated in the enclosing scope, the others see the loop variables
            iterator = generator.iter if generator is node.generators[0] else rename.visit(clone(generator.iter))
            loop = gast.For(target=rename.visit(clone(generator.target)), iter=iterator, body=[body],
                            orelse=[], type_comment=None)
            body = gast.copy_location(loop, node)
        self.emit(assign(result, gast.List(elts=[], ctx=gast.Load())))
        self.statement(body)
        return name(result)

    def as_list(self, node):
        """A call of an iterator builtin consumed at once as the list comprehension it means: zip(a, b) as
        [(v, w) for v, w in zip(a, b)], map(f, a) as [f(v) for v in a], filter(f, a) as [v for v in a if f(v)];
        other nodes as they are."""
        callee = callee_of(node)
        if callee not in ITERATOR_BUILTINS or any(isinstance(a, gast.Starred) for a in node.args) or \
                len(node.args) < (2 if callee in (map, filter) else 1):
            return node
        sequences = node.args[1:] if callee in (map, filter) else node.args if callee is zip else node.args[:1]
        taken = names_in(node)  # the comprehension's variables get fresh names of their own later
        words = ["item"] if len(sequences) == 1 else [f"item_{i}" for i in range(len(sequences))]
        items = [name(unused(word, taken)) for word in words]
        element, ifs = items[0] if len(items) == 1 else gast.Tuple(elts=items, ctx=gast.Load()), []
        target, iterator = clone(element), node
        if callee is enumerate:
            element = gast.Tuple(elts=[name(unused("k", taken)), items[0]], ctx=gast.Load())
            target = clone(element)
        elif callee in (map, filter):
            function = node.args[0]
            if isinstance(function, gast.Lambda):
                function = self.atom(function, "function")
            iterator = sequences[0]
            if len(sequences) > 1:
                iterator = call("zip", sequences)
                iterator.sd_callee = zip
            applied = function if isinstance(function, gast.Constant) else call(function, items)
            if hasattr(function, "sd_object"):
                applied.sd_callee = getattr(function.sd_object, "sd_primal", function.sd_object)
            if callee is map:
                element = applied
            else:  # filter(None, a) keeps the true items
                ifs = [items[0] if isinstance(function, gast.Constant) else applied]
        for n in walk(target):
            if isinstance(n, gast.Name):
                n.ctx = gast.Store()
        comprehension = gast.comprehension(target=target, iter=iterator, ifs=ifs, is_async=0)
        return gast.copy_location(gast.ListComp(elt=element, generators=[comprehension]), node)

    def block_for(self, produce):
        saved, self.out = self.out, []
        produce()
        result, self.out = self.out, saved
        return result

    def chained_comparison(self, node):
        operands = [node.left] + [self.atom(c, self.hint(c)) if i < len(node.comparators) - 1 else c
                                  for i, c in enumerate(node.comparators)]
        parts = [gast.Compare(left=operands[i], ops=[op], comparators=[operands[i + 1]])
                 for i, op in enumerate(node.ops)]
        return gast.BoolOp(op=gast.And(), values=parts)

    def index_computed_once(self, index):
        """An index with the calls of user functions in it (`x[k(1)]`, `x[1:pick(n)]`) held in variables:
        derivative statements that read the index must not call them again (a helper may draw random
        numbers, or be out of reach of a backward function)."""
        if isinstance(index, gast.Tuple):
            return gast.Tuple(elts=[self.index_computed_once(e) for e in index.elts], ctx=gast.Load())
        if isinstance(index, gast.Slice):
            return gast.Slice(**{f: getattr(index, f) and self.index_computed_once(getattr(index, f))
                                 for f in ("lower", "upper", "step")})
        calls_code = any(isinstance(n, gast.Call) and not self.statically_inactive(n) for n in walk(index))
        return self.atom(index, "index") if calls_code else index

    def statically_inactive(self, node):
        """True for expressions that never carry a derivative: shapes, lengths, comparisons, constants."""
        if isinstance(node, gast.Constant):
            return True
        if isinstance(node, gast.Compare):
            return len(node.ops) == 1
        if isinstance(node, gast.Call):
            callee = getattr(node, "sd_callee", None)
            return callee is not None and is_inactive(callee) and callee not in (max, min)
        if isinstance(node, gast.BinOp):
            return self.statically_inactive(node.left) and self.statically_inactive(node.right)
        if isinstance(node, gast.UnaryOp):
            return isinstance(node.op, gast.Not) or self.statically_inactive(node.operand)
        if isinstance(node, gast.Subscript):
            return self.statically_inactive(node.value)
        return False


def split_tuple_variables(fdef, names):
    """`pair = i, x[i]` and later `x[pair[0]]`: a variable that only ever holds tuple literals of one length
    gets a variable per element, assigned with it (`pair_0 = i; pair_1 = x[i]; pair = pair_0, pair_1`),
    and its reads at a constant index become those. Activity is per variable, so `pair[0]` (an integer)
    would otherwise carry the derivative of x[i]: an index with a derivative, which the subscript's rule
    refuses where the indexed value has none (a tangent function differentiated again reads dx[pair[0]])."""
    sites, stored = {}, {}
    for node in scope_nodes(fdef.body):
        if isinstance(node, gast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], gast.Name) \
                and isinstance(node.value, gast.Tuple) and not any(isinstance(e, gast.Starred) for e in node.value.elts):
            sites.setdefault(node.targets[0].id, []).append(node)
        elif isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            stored[node.id] = stored.get(node.id, 0) + 1
    params = {a.id for a in fdef.args.args + fdef.args.kwonlyargs}
    lengths = {n: {len(site.value.elts) for site in found} for n, found in sites.items()}
    sizes = {n: lengths[n].pop() for n, found in sites.items()
             if len(lengths[n]) == 1 and stored[n] == len(found) and n not in params}
    read = sorted({found[0] for n in scope_nodes(fdef.body) if (found := _element_read(n, sizes))})
    if not read:
        return
    elements = {v: [names.fresh(f"{v}_{k}") for k in range(sizes[v])] for v in read}
    before = {}  # id of a site -> the assignments of its elements
    for variable in read:
        for site in sites[variable]:
            origin = getattr(site, "sd_origin", None)
            before[id(site)] = [assign(e, v, origin) for e, v in zip(elements[variable], site.value.elts)]
            site.value = gast.Tuple(elts=[name(e) for e in elements[variable]], ctx=gast.Load())
    fdef.body = _with_elements(_ReadElements(elements, sizes).visit_body(fdef.body), before)


def _element_read(node, sizes):
    """(variable, k) for a read `pair[k]` of a variable in sizes at a constant index in range, else None."""
    if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name) and node.value.id in sizes \
            and isinstance(node.ctx, gast.Load) and isinstance(node.slice, gast.Constant) \
            and type(node.slice.value) is int and -sizes[node.value.id] <= node.slice.value < sizes[node.value.id]:
        return node.value.id, node.slice.value % sizes[node.value.id]
    return None


class _ReadElements(Transformer):
    """`pair[k]` becomes the variable of that element, in the function's own scope."""

    def __init__(self, elements, sizes):
        self.elements, self.sizes = elements, sizes

    def visit_body(self, body):
        return [self.visit(s) for s in body]

    def visit_FunctionDef(self, node):
        return node

    def visit_Lambda(self, node):
        return node

    def visit_Subscript(self, node):
        self.generic_visit(node)
        found = _element_read(node, self.sizes)
        return name(self.elements[found[0]][found[1]]) if found and found[0] in self.elements else node


def _with_elements(body, before):
    """body with each split site preceded by the assignments of its elements."""
    out = []
    for stmt in body:
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list) and not isinstance(stmt, gast.FunctionDef):
                setattr(stmt, field, _with_elements(getattr(stmt, field), before))
        out += before.get(id(stmt), []) + [stmt]
    return out


class RenameNames(Transformer):
    def __init__(self, renames):
        self.renames = renames

    def visit_Name(self, node):
        if node.id in self.renames:
            return gast.Name(id=self.renames[node.id], ctx=node.ctx, annotation=None, type_comment=None)
        return node


def _makes_partial(node):
    """Whether node is `functools.partial(f, ...)`, which becomes a nested def (Normalizer.partial_function)."""
    return isinstance(node, gast.Call) and getattr(node, "sd_callee", None) is functools.partial and bool(node.args)


def avoid_reserved_names(fdef):
    """Rename the function's variables that would hide a name generated code relies on (`np`, `math`,
    `copy`, the runtime helpers): a local `unbroadcast = ...` becomes `unbroadcast_2`. Its parameters
    keep their names, since callers may pass them by name (Derivation refuses one that hides a helper
    the generated code calls)."""
    reserved = set(RUNTIME_HELPERS) | {"np", "math", "copy"}
    names = {n.id for n in walk(fdef) if isinstance(n, gast.Name)} | \
        {n.name for n in walk(fdef) if isinstance(n, gast.FunctionDef)}
    params = {a.id for a in fdef.args.args}
    bound = {n.id for n in walk(fdef) if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Param))
             and n.id not in params} | {n.name for n in walk(fdef) if isinstance(n, gast.FunctionDef) and n is not fdef}
    generator = NameGenerator(names | reserved)
    renamed = {old: generator.fresh(old, limit=None, temporary=False) for old in sorted(bound & reserved)}
    for node in walk(fdef):
        if isinstance(node, gast.Name) and node.id in renamed:
            node.id = renamed[node.id]
        elif isinstance(node, gast.FunctionDef) and node.name in renamed and node is not fdef:
            node.name = renamed[node.name]


def normalize(parsed, namespace, check_shared=True, copy_cotangents=False):
    """The A-normal form of parsed's function, with free names bound in namespace (check_shared,
    copy_cotangents: see follow_mutations)."""
    fdef = clone(parsed.node)
    avoid_reserved_names(fdef)
    follow_mutations(parsed, fdef, local_names, check_shared, copy_cotangents)
    normalizer = Normalizer(parsed, namespace)
    result = finish_mutations(normalizer.normalize_function(fdef), normalizer.names)
    result.sd_temporaries = normalizer.names.temporaries
    return result
