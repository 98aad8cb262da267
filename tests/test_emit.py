"""Emission writes what the tree says: operator precedence around constants the stages fold."""
import math

import numpy as np

import sourcediff as sd


def negative_bases(x):
    c = (-0.7) ** 2  # 0.49: normalization folds -0.7 into one constant, which must stay the base
    d = (-1.5) ** 3 * x
    e = (-0.0) ** 2 * x + (-2) ** 2
    return c * x * x + d + e + np.sum((-0.5) ** np.array([2.0, 3.0])) * x


def test_a_negative_constant_raised_to_a_power_keeps_its_parentheses():
    """The fuzzer's seed 110005062: `(-0.7) ** 2` was emitted as `-0.7 ** 2`, which is -(0.7 ** 2), so
    the generated functions computed another value (and derivative) than f, in every mode."""
    x, h = 0.8, 1e-6
    expected = negative_bases(x)
    numeric = (negative_bases(x + h) - negative_bases(x - h)) / (2 * h)
    value, tangent = sd.jvp(negative_bases)(x, 1.0)
    assert math.isclose(value, expected, rel_tol=1e-12) and math.isclose(tangent, numeric, rel_tol=1e-6)
    value, gradient = sd.value_and_grad(negative_bases)(x)
    assert math.isclose(value, expected, rel_tol=1e-12) and math.isclose(gradient, numeric, rel_tol=1e-6)
    value, gradient = sd.value_and_grad(negative_bases)(np.array(x))
    assert math.isclose(float(value), expected, rel_tol=1e-12) and math.isclose(float(gradient), numeric,
                                                                                rel_tol=1e-6)
    assert "(-0.7) ** 2" in sd.jvp(negative_bases).source
