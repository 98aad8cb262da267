"""Forward gradients (Baydin et al. 2022): one forward pass gives f(θ) and the estimate (∇f(θ)·v) v.

The generated function is the tangent function with its tangent parameters replaced by directions v
sampled at its top, and each `return value, tangent` replaced by `return value, estimate`: the primal
and tangent statements stay fused in one pass. With k directions the tangents carry them on a leading
axis (vector mode: one primal pass serves all k) and the estimate is the mean of the k estimates.
"""
import gast

from ..errors import UnsupportedSyntaxError
from ..ir.build import assign, call, clone, const, dotted, name, walk
from ..ir.analysis import statements

SAMPLERS = {"normal": "normal_like", "rademacher": "rademacher_like"}
RNG = "rng"


def check_scalar_function(fdef, parsed):
    """Refuse what a forward gradient cannot serve: a function returning a tuple, or one that already
    uses the name of the `rng` keyword the generated function adds."""
    for stmt in statements(fdef.body):
        if isinstance(stmt, gast.Return) and isinstance(stmt.value, (gast.Tuple, gast.List)):
            raise parsed.info.error(UnsupportedSyntaxError, getattr(stmt, "sd_origin", None) or stmt,
                                    "a forward gradient needs a function with one scalar value, and this returns a "
                                    "tuple", "return the scalar loss; use sd.jvp for several outputs")
    if any(isinstance(n, gast.Name) and n.id == RNG for n in walk(fdef)):
        raise parsed.info.error(UnsupportedSyntaxError, fdef,
                                f"the forward gradient takes its random generator as keyword '{RNG}', which "
                                f"{fdef.name} already uses as a name", f"rename '{RNG}' in {fdef.name}")


def forward_gradient_function(tangent_fdef, tangents, checks, directions, distribution, antithetic, fresh):
    """Turn the tangent function tangent_fdef (tangent parameters named by `tangents`, after `checks`
    leading statements that refuse integer arguments) into the fused forward-gradient function. A
    direction whose tangent the function assigns again (it reassigns the parameter) is drawn under a
    name of its own, fresh(hint), for the estimate."""
    assigned = {n.id for n in walk(tangent_fdef) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    drawn_as = {t: fresh("direction_" + p) if t in assigned else t for p, t in tangents.items()}
    drawn = [] if directions is None else [const(directions // 2 if antithetic else directions)]
    args = tangent_fdef.args
    args.args = [a for a in args.args if a.id not in tangents.values()]
    args.kwonlyargs = [a for a in args.kwonlyargs if a.id not in tangents.values()]
    args.kwonlyargs.append(gast.Name(id=RNG, ctx=gast.Param(), annotation=None, type_comment=None))
    args.kw_defaults = [None] * (len(args.kwonlyargs) - 1) + [const(None)]
    sampling = [assign(RNG, call(dotted("np.random.default_rng"), [name(RNG)]), None)]
    for primal, tangent in tangents.items():
        sample = call(SAMPLERS[distribution], [name(primal), name(RNG)] + drawn)
        sampling.append(assign(drawn_as[tangent], call("antithetic", [sample]) if antithetic else sample, None))
        if drawn_as[tangent] != tangent:
            sampling.append(assign(tangent, name(drawn_as[tangent]), None))
    body = tangent_fdef.body
    tangent_fdef.body = body[:checks] + sampling + body[checks:]
    count = [] if directions is None else [const(directions)]
    for stmt in statements(tangent_fdef.body):
        if isinstance(stmt, gast.Return):
            value, derivative = stmt.value.elts
            estimates = [call("forward_gradient_estimate", [clone(derivative), name(drawn_as[t])] + clone(count))
                         for t in tangents.values()]
            estimate = estimates[0] if len(estimates) == 1 else gast.Tuple(elts=estimates, ctx=gast.Load())
            stmt.value = gast.Tuple(elts=[value, estimate], ctx=gast.Load())
    return tangent_fdef
