"""Supported-subset check: refuse, with a location and a hint, what sourcediff cannot differentiate."""
import gast

from ..errors import UnsupportedSyntaxError
from ..ir.build import walk

# construct -> (what it is, what to write instead)
UNSUPPORTED = {
    gast.Try: ("try/except", "move the error handling outside the differentiated function"),
    gast.With: ("a with statement", "open resources outside the differentiated function"),
    gast.AsyncWith: ("async with", "differentiate a synchronous function"),
    gast.AsyncFor: ("async for", "differentiate a synchronous function"),
    gast.AsyncFunctionDef: ("an async function", "differentiate a synchronous function"),
    gast.Await: ("await", "differentiate a synchronous function"),
    gast.Yield: ("yield (a generator)", "build a list with append and return it"),
    gast.YieldFrom: ("yield from (a generator)", "build a list with append and return it"),
    gast.Global: ("a global declaration", "return the new value instead of writing a global"),
    gast.Nonlocal: ("a nonlocal declaration", "return the new value instead of writing to an enclosing variable"),
    gast.Delete: ("del", "leave the variable alone, or assign a new value to it"),
    gast.ClassDef: ("a class definition", "define the class outside the differentiated function"),
    gast.Import: ("an import inside the function", "import at module level"),
    gast.ImportFrom: ("an import inside the function", "import at module level"),
    gast.NamedExpr: ("an assignment expression (:=)", "assign on a line of its own"),
    gast.SetComp: ("a set comprehension", "write a for loop"),
    gast.DictComp: ("a dict comprehension", "write a for loop that fills a dict"),
    gast.Set: ("a set literal", "use a list or tuple"),
    gast.Match: ("a match statement", "write if/elif/else"),
}


# builtins that consume a generator expression at once, so that it means the same as a list comprehension
GENERATOR_CONSUMERS = (sum, min, max, list, tuple, sorted, any, all)


def check_supported(parsed):
    """Raise UnsupportedSyntaxError at the first construct outside the supported subset."""
    info = parsed.info
    nodes = list(walk(parsed.node))
    consumed = _consumed_generators(parsed, nodes)
    call_arguments = {id(a) for n in nodes if isinstance(n, gast.Call) for a in n.args}
    for node in nodes:
        if isinstance(node, gast.GeneratorExp) and node not in consumed:
            raise info.error(UnsupportedSyntaxError, node,
                             "a generator expression is supported only as the argument of "
                             "sum, min, max, list, tuple, sorted, any or all",
                             "write a list comprehension, or a for loop")
        if isinstance(node, gast.Starred) and id(node) not in call_arguments:
            raise info.error(UnsupportedSyntaxError, node, "star-unpacking (*x) outside a call is not supported",
                             "index the elements one by one, or concatenate with +")
        entry = UNSUPPORTED.get(type(node))
        if entry is not None:
            what, hint = entry
            raise info.error(UnsupportedSyntaxError, node, f"{what} is not supported", hint)
        if isinstance(node, (gast.FunctionDef, gast.Lambda)):
            args = node.args
            if args.vararg or args.kwarg:
                raise info.error(UnsupportedSyntaxError, node, "*args parameters are supported only in functions "
                                 "called by the differentiated one, and **kwargs parameters not at all",
                                 "name each parameter")
        if isinstance(node, gast.Call) and any(k.arg is None for k in node.keywords):
            raise info.error(UnsupportedSyntaxError, node, "**kwargs in a call is not supported",
                             "pass each keyword argument by name")


def _consumed_generators(parsed, nodes):
    """Generator expressions passed straight to a builtin that consumes them at once (`sum(x for x in xs)`)."""
    assigned = {n.id for n in nodes if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    consumed = set()
    for node in nodes:
        if (isinstance(node, gast.Call) and len(node.args) == 1 and isinstance(node.args[0], gast.GeneratorExp)
                and isinstance(node.func, gast.Name) and node.func.id not in assigned):
            found, obj = parsed.lookup(node.func.id)
            if found and any(obj is consumer for consumer in GENERATOR_CONSUMERS):
                consumed.add(node.args[0])
    return consumed

