"""Forward-mode (jvp) tests of sourcediff on the corpus in corpus.py.

Each case is checked against central finite differences and, where the
function runs under autograd, against autograd's Jacobian-vector product.
"""
import copy
import inspect

import numpy as np
import pytest
from autograd.misc import flatten as autograd_flatten

import sourcediff as sd
from corpus import CASES
from corpus_tools import (autograd_jacobian, finite_difference_jvp, flat, sample, tree_structure)

SEEDS = [0, 1, 2]
FD_RTOL, FD_ATOL = 1e-5, 1e-6
AUTOGRAD_RTOL, AUTOGRAD_ATOL = 1e-8, 1e-10
VALUE_RTOL, VALUE_ATOL = 1e-10, 1e-12


def run_jvp(case, args, tangents):
    jf = sd.jvp(case.fn, wrt=case.wrt)
    return jf(*copy.deepcopy(args), *copy.deepcopy(tangents))


def autograd_jvp(fn, args, positions, tangents):
    """Jacobian (by autograd, w.r.t. the flattened wrt arguments) times the flattened tangents."""
    flat_tangents, _ = autograd_flatten(list(tangents))
    return autograd_jacobian(fn, args, positions) @ flat_tangents


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------

def test_corpus_registry():
    names = [case.name for case in CASES]
    assert len(CASES) >= 80
    assert len(names) == len(set(names))
    for case in CASES:
        assert inspect.getsource(case.fn).startswith("def ")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_jvp_matches_finite_differences(case, seed):
    args, positions, tangents = sample(case, seed)
    value, tangent = run_jvp(case, args, tangents)

    expected_value = case.fn(*copy.deepcopy(args))
    np.testing.assert_allclose(flat(value), flat(expected_value), rtol=VALUE_RTOL, atol=VALUE_ATOL)
    assert tree_structure(tangent) == tree_structure(expected_value)

    expected_tangent = finite_difference_jvp(case.fn, args, positions, tangents)
    np.testing.assert_allclose(flat(tangent), expected_tangent, rtol=FD_RTOL, atol=FD_ATOL)


AUTOGRAD_CASES = [case for case in CASES if case.autograd]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("case", AUTOGRAD_CASES, ids=[case.name for case in AUTOGRAD_CASES])
def test_jvp_matches_autograd(case, seed):
    args, positions, tangents = sample(case, seed)
    _, tangent = run_jvp(case, args, tangents)

    expected_tangent = autograd_jvp(case.fn, args, positions, tangents)
    np.testing.assert_allclose(flat(tangent), expected_tangent, rtol=AUTOGRAD_RTOL, atol=AUTOGRAD_ATOL)
