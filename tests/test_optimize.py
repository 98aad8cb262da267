"""The clean-up passes on small hand-made functions: what they fold, and what they must leave alone."""
import astor
import gast

import numpy as np

import sourcediff as sd
from sourcediff.optimize import (eliminate_common_subexpressions, fold_negations, fold_zero_initializations,
                                 propagate_local_copies, use_reciprocals)


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


def test_common_subexpressions_outlive_a_reassigned_former_holder():
    """A value forgotten (y changed), computed again under c: assigning a, which held it before,
    must not forget it again."""
    fdef = derived_function("def f(y, g):\n    a = np.cos(y) * g\n    y = y + 1.0\n    c = np.cos(y) * g\n"
                            "    a = g * 3.0\n    d = np.cos(y) * g\n    return a + c + d\n")
    source = text(eliminate_common_subexpressions(fdef))
    assert "c = np.cos(y) * g" in source and "d = c" in source


def test_zero_initialisation_folds_into_the_first_contribution():
    fdef = derived_function("def f(g):\n    b = 0.0\n    b = b + g * 2.0\n    return b\n")
    assert "b = g * 2.0" in text(fold_zero_initializations(fdef)) and "b = 0.0" not in text(fdef)


def test_local_copies_are_read_through():
    fdef = derived_function("def f(g):\n    a = g\n    c = a * 2.0\n    g = 1.0\n    d = a\n    return c + d\n")
    out = text(propagate_local_copies(fdef))
    assert "c = g * 2.0" in out and "d = a" in out  # after g changes, a is read as itself


def test_negations_cancel_or_become_subtractions():
    fdef = derived_function("def f(a, b, c):\n    x = -(a * -(b / c))\n    y = a + -(b * c)\n    z = -a - -b\n"
                            "    return x, y, z\n")
    out = text(fold_negations(fdef))
    assert "x = a * (b / c)" in out and "y = a - b * c" in out and "z = -a + b" in out


def test_a_negated_first_contribution_becomes_a_subtraction_unless_its_operands_change():
    fdef = derived_function("def f(a, b, c):\n    g = -(a / c)\n    t = b * 2.0\n    g = g + t\n    return g\n")
    out = text(fold_negations(fdef))
    assert "g = t - a / c" in out and "g = -(a / c)" not in out
    fdef = derived_function("def f(a, b, c):\n    g = -(a / c)\n    c = b * 2.0\n    g = g + c\n    return g\n")
    assert "g = -(a / c)" in text(fold_negations(fdef))


def elementwise_chain(w, y, s):
    z = 1.0 / (1.0 + np.exp(-(w * s)))
    return np.sum(y * np.log(z) + (1.0 - y) * np.log(1.0 - z))


def test_unbroadcast_is_dropped_only_where_shapes_provably_match():
    """z's operands all have w's shape, so its cotangents need no summing; y may broadcast w (here
    it does, to two dimensions), so what flows from y * log(z) to z is summed back."""
    source = sd.vjp(elementwise_chain, wrt=(0, 1)).source
    assert "unbroadcast(y * " in source
    rng = np.random.default_rng(0)
    w, y, s = rng.standard_normal(3), rng.uniform(0.1, 0.9, (2, 3)), 0.7
    value, (bw, by) = sd.vjp(elementwise_chain, wrt=(0, 1))(w, y, s, 1.0)
    assert bw.shape == w.shape and by.shape == y.shape
    dw, dy, h = rng.standard_normal(3), rng.standard_normal((2, 3)), 1e-6
    numeric = (elementwise_chain(w + h * dw, y + h * dy, s) - elementwise_chain(w - h * dw, y - h * dy, s)) / (2 * h)
    assert np.isclose(np.dot(bw, dw) + np.sum(by * dy), numeric, rtol=1e-6)


def test_division_by_a_value_whose_reciprocal_is_at_hand_becomes_a_product():
    fdef = derived_function("def f(y, g):\n    r = 1.0 / y\n    a = g / y\n    b = g / r\n    return a + b\n")
    fdef.body[0].sd_derivative = False  # the primal reciprocal
    out = text(use_reciprocals(fdef))
    assert "a = g * r" in out and "b = g * y" in out
    fdef = derived_function("def f(y, g):\n    r = 1.0 / y\n    y = y + 1.0\n    a = g / y\n    return a\n")
    assert "a = g / y" in text(use_reciprocals(fdef))  # y assigned again: r is not its reciprocal
