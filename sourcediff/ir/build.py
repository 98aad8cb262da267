"""Small constructors for gast nodes, so the stages read as the code they build."""
import ast

import gast


def name(identifier, store=False):
    # built as clone builds (gast's keyword constructor costs more), with the shared ctx markers
    node = _NAME.__new__(_NAME)
    node.__dict__.update(id=identifier, ctx=_STORE if store else _LOAD, annotation=None, type_comment=None)
    return node


_NAME, _LOAD, _STORE = gast.Name, gast.Load(), gast.Store()


def const(value):
    return gast.Constant(value=value, kind=None)


def dotted(spelling):
    """`np.linalg.norm` as a Name/Attribute chain."""
    parts = spelling.split(".")
    node = name(parts[0])
    for part in parts[1:]:
        node = gast.Attribute(value=node, attr=part, ctx=gast.Load())
    return node


def call(func, args=(), keywords=()):
    if isinstance(func, str):
        func = dotted(func)
    return gast.Call(func=func, args=list(args), keywords=list(keywords))


def assign(target, value, origin=None):
    if isinstance(target, str):
        target = name(target, store=True)
    return with_origin(gast.Assign(targets=[target], value=value, type_comment=None), origin)


def with_origin(stmt, origin):
    """Tag a statement with the user statement it comes from (for provenance comments and errors)."""
    stmt.sd_origin = origin
    if origin is not None and hasattr(origin, "lineno"):
        gast.copy_location(stmt, origin)
    return stmt


def store(node):
    """A copy of a Name/Subscript expression usable as an assignment target."""
    if isinstance(node, gast.Name):
        return name(node.id, store=True)
    if isinstance(node, gast.Subscript):
        return gast.Subscript(value=node.value, slice=node.slice, ctx=gast.Store())
    if isinstance(node, gast.Tuple):
        return gast.Tuple(elts=[store(e) for e in node.elts], ctx=gast.Store())
    raise TypeError(node)


def names_in(node):
    """Identifiers read anywhere in node."""
    return {n.id for n in walk(node) if isinstance(n, gast.Name)}


# nodes without fields that only mark their parent (Load, Store, Add, USub, Eq, And, ...): nothing changes
# them, so trees share them (as Python's own parser shares Load and Store) instead of copying
MARKERS = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


def clone(node):
    """A deep copy of a gast tree (with its sd_ annotations), much faster than copy.deepcopy."""
    if isinstance(node, list):
        return [clone(n) for n in node]
    if not isinstance(node, gast.AST) or isinstance(node, MARKERS):
        return node
    new = node.__class__.__new__(node.__class__)
    # annotations (sd_origin, sd_zero_of, ...) are shared, not copied: they point at other trees
    new.__dict__.update({k: v if k.startswith("sd_") else clone(v) for k, v in node.__dict__.items()})
    return new


def structure_key(node):
    """A hashable key, equal for trees of the same structure and constants: gast.dump's use as a key,
    without its text (constants by repr, so that 1, 1.0, True and -0.0, 0.0 stay apart)."""
    if node.__class__ is list:
        return tuple(structure_key(n) for n in node)
    if not isinstance(node, AST):
        return node
    cls = node.__class__
    if cls is gast.Constant:
        return cls, repr(node.value)
    if cls is gast.Name:
        return cls, node.id
    fields = _KEY_FIELDS.get(cls)
    if fields is None:
        fields = _key_fields(cls)
    return (cls,) + tuple(structure_key(getattr(node, f, None)) for f in fields)


def _key_fields(cls):
    """The fields structure_key compares: the child nodes, the operators, and the text (an attribute's
    name, a keyword's) but not the ctx (a value read is the same value wherever it is read)."""
    fields = _KEY_FIELDS[cls] = tuple(f for f in cls._fields if f != "ctx")
    return fields


_KEY_FIELDS = {}


def walk(node):
    """Every node of a gast tree (depth first), without the ctx markers of names, attributes and
    subscripts nor operators (nothing looks for them but through .ctx and .op); a faster stand-in for
    gast.walk (it runs in every pass)."""
    stack = [node]
    pop, push = stack.pop, stack.append
    fields_of = _CHILD_FIELDS
    while stack:
        current = pop()
        yield current
        fields = fields_of.get(current.__class__)
        if fields is None:
            fields = _child_fields(current.__class__)
        for field in fields:
            value = getattr(current, field, None)
            if value is None:
                continue
            if value.__class__ is list:
                for item in value:
                    if isinstance(item, AST):
                        push(item)
            elif isinstance(value, AST):
                push(value)


def children(node):
    """node's child nodes, as walk visits them: a faster stand-in for gast.iter_child_nodes."""
    found = []
    for field in child_fields(node.__class__):
        value = getattr(node, field, None)
        if value.__class__ is list:
            found.extend(item for item in value if isinstance(item, AST))
        elif value is not None and isinstance(value, AST):
            found.append(value)
    return found


def child_fields(cls):
    """The fields of cls that may hold child nodes (not its ctx, operator or text)."""
    fields = _CHILD_FIELDS.get(cls)
    return _child_fields(cls) if fields is None else fields


def _child_fields(cls):
    fields = _CHILD_FIELDS[cls] = tuple(f for f in cls._fields if f != "ctx" and (cls.__name__, f) not in _TEXT_FIELDS
                                        and (cls.__name__, f) not in _OPERATOR_FIELDS)
    return fields


_CHILD_FIELDS = {}  # node class -> its fields that may hold nodes
# fields that hold an operator (gast.Add(), ...): walks and transformers pass over them, as over ctx;
# what looks for an operator reads it from its node (`isinstance(node.op, gast.Add)`)
_OPERATOR_FIELDS = {("BinOp", "op"), ("UnaryOp", "op"), ("BoolOp", "op"), ("AugAssign", "op"), ("Compare", "ops")}
# fields that hold names, text or flags, never nodes
_TEXT_FIELDS = {("Name", "id"), ("Name", "type_comment"), ("Constant", "value"), ("Constant", "kind"),
                ("Attribute", "attr"), ("FunctionDef", "name"), ("FunctionDef", "type_comment"),
                ("keyword", "arg"), ("comprehension", "is_async"), ("Assign", "type_comment"),
                ("For", "type_comment"), ("alias", "name"), ("alias", "asname"), ("ImportFrom", "module"),
                ("ImportFrom", "level"), ("Global", "names"), ("Nonlocal", "names"), ("ClassDef", "name")}
AST = gast.AST


def index_expression(index):
    """A subscript's index as an ordinary expression: `1:` becomes `slice(1, None, None)`."""
    if isinstance(index, gast.Slice):
        return call("slice", [index.lower or const(None), index.upper or const(None), index.step or const(None)])
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[index_expression(e) for e in index.elts], ctx=gast.Load())
    return index


class Transformer(gast.NodeTransformer):
    """gast.NodeTransformer that looks up each class's visitor once and descends only through fields
    that hold nodes (the passes run it over whole generated functions)."""

    _visitors = {}

    def visit(self, node):
        key = (self.__class__, node.__class__)
        visitor = Transformer._visitors.get(key)
        if visitor is None:
            visitor = Transformer._visitors[key] = getattr(self.__class__, "visit_" + node.__class__.__name__,
                                                           Transformer.generic_visit)
        return visitor(self, node)

    def generic_visit(self, node):
        for field in child_fields(node.__class__):
            old = getattr(node, field, None)
            if old.__class__ is list:
                new_values = []
                for value in old:
                    if isinstance(value, AST):
                        value = self.visit(value)
                        if value is None:
                            continue
                        if not isinstance(value, AST):
                            new_values.extend(value)
                            continue
                    new_values.append(value)
                old[:] = new_values
            elif old is not None and isinstance(old, AST):
                new = self.visit(old)
                if new is None:
                    delattr(node, field)
                else:
                    setattr(node, field, new)
        return node
