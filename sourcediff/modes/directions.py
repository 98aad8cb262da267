"""Vector mode: how the tangent templates serve tangents that carry several directions at once.

A tangent with directions has one direction per row of a leading axis (runtime.py). A rule's
vector-mode template (`rules.registry.vector_tangent`) takes such tangents as they are. A pointwise
template does too. An elementwise one does once each operand's tangent is `aligned` to the output,
so that the direction axis stays in front when operands of different ranks broadcast. Any other
template runs once per direction inside `stack_directions([... for j in range(k)])`, which is always
right and slower. A NumPy function reading a value that may be a Python list gets its tangent
`stacked` into one array first (only those operands that may be lists are).
"""
import gast

from ..ir.build import call, const, name, names_in


def vector_template(rule, nargs, operand_names, from_list):
    """(template, form in which operand tangents enter it: None, "aligned", "stacked" or "direction")."""
    vector = rule.vector_tangent_for(nargs)
    if vector is not None:
        return vector, "stacked" if from_list else None
    template = rule.tangent_for(nargs)
    if rule.pointwise:
        return template, "stacked" if from_list else None
    if rule.elementwise:
        return template, "aligned" if len(operand_names) > 1 or from_list else None
    return template, "direction"


def operand_in_form(tangent, form, output, index):
    """An operand's tangent node as the template reads it in that form."""
    if form == "aligned":
        return call("aligned", [tangent, name(output)])
    if form == "stacked":
        return call("as_directions", [tangent])
    if form == "direction":
        return call("direction", [tangent, name(index)])
    return tangent


def over_directions(rhs, index, count, preceding):
    """`stack_directions([rhs for index in range(count)])`: rhs computed for each direction."""
    if any(index in names_in(s.value) for s in preceding):
        raise AssertionError("a per-direction tangent template must compute its tangent in its last line")
    loop = gast.comprehension(target=name(index, True), iter=call("range", [const(count)]), ifs=[], is_async=0)
    return call("stack_directions", [gast.ListComp(elt=rhs, generators=[loop])])
