"""Calls into functions of other modules, however they were imported, keep each module's globals."""
import numpy as np
import pytest

import helper_module
import helper_module as hm
import sourcediff as sd
from helper_module import scaled_tanh

SCALE = 0.5  # the same name as helper_module.SCALE, a different value


def via_module(x):
    return helper_module.scaled_tanh(x) * SCALE


def via_alias(x):
    return hm.scaled_tanh(x, scale=2.0) + SCALE * x


def via_from_import(x):
    return scaled_tanh(x * SCALE)


def central_difference(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("fn", [via_module, via_alias, via_from_import])
def test_functions_from_other_modules(fn):
    value, tangent = sd.jvp(fn)(0.8, 1.0)
    assert value == pytest.approx(fn(0.8))
    assert tangent == pytest.approx(central_difference(fn, 0.8), rel=1e-7)


def test_each_module_keeps_its_own_globals():
    source = sd.jvp(via_module).source
    assert "SCALE_2" in source  # the two SCALEs are bound under different names
    assert sd.jvp(via_module)(np.array([0.3]), np.array([1.0]))[0] == pytest.approx(via_module(np.array([0.3])))
