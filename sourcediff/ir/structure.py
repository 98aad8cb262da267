"""Single-exit control flow for reverse mode: early returns, break and continue become flags.

A backward sweep replays the forward sweep's control flow in reverse, which is simple when every
block runs to its end. So `return v` becomes `result = v; returned = True`, `break` sets a flag and
`continue` another, the statements that an exit would skip are guarded by `if not flag:`, and a loop
that can be left early ends its body with one `if flag: break`, the only break left. The function
ends with a single `return result`.
"""
import gast

from .analysis import statements
from .build import assign, const, name, with_origin


def exits(node, kinds):
    """Whether node contains an exit of the given kinds that leaves it (not one inside a nested loop
    or function, which that loop or function handles)."""
    if isinstance(node, list):
        return any(exits(n, kinds) for n in node)
    if isinstance(node, gast.Return) and "return" in kinds:
        return True
    if isinstance(node, gast.Break) and "break" in kinds:
        return True
    if isinstance(node, gast.Continue) and "continue" in kinds:
        return True
    if isinstance(node, gast.FunctionDef):
        return False
    if isinstance(node, (gast.For, gast.While)):
        return exits(node.body, kinds & {"return"})
    if isinstance(node, gast.If):
        return exits(node.body, kinds) or exits(node.orelse, kinds)
    return False


class SingleExit:
    def __init__(self, names):
        self.names = names
        self.result = None
        self.returned = None

    def function(self, fdef):
        body = fdef.body
        returns = [n for n in statements(body) if isinstance(n, gast.Return)]  # nested defs return on their own
        jumps = any(isinstance(n, (gast.Break, gast.Continue)) for n in statements(body))
        single_return = len(returns) == 1 and bool(body) and body[-1] is returns[0]
        if single_return:
            if jumps:
                fdef.body = self.block(body[:-1], loop=None) + [body[-1]]
            return fdef
        self.result = self.names.fresh("result")
        self.returned = self.names.fresh("returned", temporary=False)
        origin = body[0].sd_origin if body else None
        start = [assign(self.returned, const(False), origin), assign(self.result, const(None), origin)]
        fdef.body = start + self.block(body, loop=None) + [with_origin(gast.Return(value=name(self.result)), None)]
        return fdef

    def block(self, body, loop):
        """body with exits replaced by flags; loop is (stop flag, skip flag) of the innermost loop."""
        out = []
        for i, stmt in enumerate(body):
            flags = self.flags_set(stmt, loop)
            out.extend(self.statement(stmt, loop))
            if flags and i + 1 < len(body):
                rest = self.block(body[i + 1:], loop)
                if rest:
                    test = gast.UnaryOp(op=gast.Not(), operand=flags[0] if len(flags) == 1 else
                                        gast.BoolOp(op=gast.Or(), values=flags))
                    out.append(with_origin(gast.If(test=test, body=rest, orelse=[]), None))
                return out
        return out

    def flags_set(self, stmt, loop):
        """The flags stmt may set that end the enclosing block early."""
        flags = []
        if self.returned is not None and exits(stmt, {"return"}):
            flags.append(name(self.returned))
        if loop is not None:
            stop, skip = loop
            if exits(stmt, {"break"}):
                flags.append(name(stop))
            if exits(stmt, {"continue"}):
                flags.append(name(skip))
        return flags

    def statement(self, stmt, loop):
        origin = getattr(stmt, "sd_origin", None)
        if isinstance(stmt, gast.Return):
            value = stmt.value if stmt.value is not None else const(None)
            return [assign(self.result, value, origin), assign(self.returned, const(True), origin)]
        if isinstance(stmt, gast.Break):
            return [assign(loop[0], const(True), origin)]
        if isinstance(stmt, gast.Continue):
            return [assign(loop[1], const(True), origin)]
        if isinstance(stmt, gast.If):
            stmt.body = self.block(stmt.body, loop) or [gast.Pass()]
            stmt.orelse = self.block(stmt.orelse, loop)
            return [stmt]
        if isinstance(stmt, (gast.For, gast.While)):
            return self.loop(stmt)
        return [stmt]

    def loop(self, stmt):
        origin = getattr(stmt, "sd_origin", None)
        leaves = exits(stmt.body, {"break", "return"})
        returns = exits(stmt.body, {"return"})
        skips = exits(stmt.body, {"continue"})
        stop = self.names.fresh("stop", temporary=False) if leaves else None
        skip = self.names.fresh("skip", temporary=False) if skips else None
        body = self.block(stmt.body, (stop, skip))
        before = []
        if skip:
            body.insert(0, assign(skip, const(False), origin))
        if stop:
            before.append(assign(stop, const(False), origin))
            ending = name(stop)
            if returns:
                ending = gast.BoolOp(op=gast.Or(), values=[name(stop), name(self.returned)])
            body.append(with_origin(gast.If(test=ending, body=[gast.Break()], orelse=[]), None))
        stmt.body = body
        return before + [stmt]


def single_exit(fdef, names):
    """fdef rewritten so that it has one return, at its end, and loops break only as their last step."""
    return SingleExit(names).function(fdef)


def breaks(loop):
    """Whether the loop's body holds the `if flag: break` that single_exit makes of break and return (an
    `if` whose body is empty is no break)."""
    return any(isinstance(s, gast.If) and s.body and isinstance(s.body[0], gast.Break) for s in loop.body)
