"""The clean-up passes on small hand-made functions: what they fold, and what they must leave alone."""
import astor
import gast

from sourcediff.optimize import eliminate_common_subexpressions, fold_zero_initializations, propagate_local_copies


def derived_function(source):
    fdef = gast.parse(source).body[0]
    for stmt in gast.walk(fdef):
        if isinstance(stmt, gast.Assign):
            stmt.sd_derivative = True
    return fdef


def text(fdef):
    return astor.to_source(gast.gast_to_ast(gast.Module(body=[fdef], type_ignores=[])))


def test_common_subexpressions_are_computed_once():
    fdef = derived_function("def f(x, g):\n    a = np.cos(x) * g\n    b = np.cos(x) * g\n    return a + b\n")
    assert "b = a" in text(eliminate_common_subexpressions(fdef))


def test_common_subexpressions_respect_reassignment_and_in_place_updates():
    fdef = derived_function("def f(x, g):\n    a = np.cos(x) * g\n    x = x + 1.0\n    b = np.cos(x) * g\n"
                            "    return a + b\n")
    assert "b = np.cos(x) * g" in text(eliminate_common_subexpressions(fdef))
    fdef = derived_function("def f(x, g):\n    a = np.cos(x) * g\n    b = np.cos(x) * g\n"
                            "    b = add_at(b, x, 0, g)\n    return a + b\n")
    assert "b = np.cos(x) * g" in text(eliminate_common_subexpressions(fdef))


def test_zero_initialisation_folds_into_the_first_contribution():
    fdef = derived_function("def f(g):\n    b = 0.0\n    b = b + g * 2.0\n    return b\n")
    assert "b = g * 2.0" in text(fold_zero_initializations(fdef)) and "b = 0.0" not in text(fdef)


def test_local_copies_are_read_through():
    fdef = derived_function("def f(g):\n    a = g\n    c = a * 2.0\n    g = 1.0\n    d = a\n    return c + d\n")
    out = text(propagate_local_copies(fdef))
    assert "c = g * 2.0" in out and "d = a" in out  # after g changes, a is read as itself
