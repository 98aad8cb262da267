"""Small constructors for gast nodes, so the stages read as the code they build."""
import gast


def name(identifier, store=False):
    return gast.Name(id=identifier, ctx=gast.Store() if store else gast.Load(), annotation=None,
                     type_comment=None)


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


def clone(node):
    """A deep copy of a gast tree (with its sd_ annotations), much faster than copy.deepcopy."""
    if isinstance(node, list):
        return [clone(n) for n in node]
    if not isinstance(node, gast.AST):
        return node
    new = node.__class__.__new__(node.__class__)
    # annotations (sd_origin, sd_zero_of, ...) are shared, not copied: they point at other trees
    new.__dict__.update({k: v if k.startswith("sd_") else clone(v) for k, v in node.__dict__.items()})
    return new


def walk(node):
    """Every node of a gast tree (depth first), without the ctx markers of names, attributes and
    subscripts (nothing looks for them but through .ctx); a faster stand-in for gast.walk (it runs in
    every pass)."""
    stack = [node]
    pop, push = stack.pop, stack.append
    fields_of = _CHILD_FIELDS
    while stack:
        current = pop()
        yield current
        cls = current.__class__
        fields = fields_of.get(cls)
        if fields is None:
            fields = fields_of[cls] = tuple(f for f in cls._fields if f != "ctx"
                                            and (cls.__name__, f) not in _TEXT_FIELDS)
        for field in fields:
            value = getattr(current, field, None)
            if value.__class__ is list:
                for item in value:
                    if isinstance(item, AST):
                        push(item)
            elif value is not None and isinstance(value, AST):
                push(value)


_CHILD_FIELDS = {}  # node class -> its fields that may hold nodes
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
