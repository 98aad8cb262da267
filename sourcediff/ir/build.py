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
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name)}
