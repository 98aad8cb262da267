"""Reverse-mode (vjp) tests of sourcediff on the corpus in corpus.py, joint and split.

Each case is checked through the dot-product identity <u, J v> = <J^T u, v>: J v from central finite
differences and from autograd (independent of sourcediff) and, separately, from sourcediff's forward
mode.
"""
import copy

import numpy as np
import pytest

import sourcediff as sd
from corpus import CASES
from autograd.misc import flatten as autograd_flatten
from corpus_tools import (autograd_jacobian, finite_difference_jvp, flat, random_like, sample, tree_map,
                          tree_structure)

SEEDS = [0, 1]


def reverse(case, motion="joint"):
    return sd.vjp(case.fn, wrt=case.wrt if isinstance(case.wrt, tuple) else (case.wrt,), motion=motion)


def cotangent_for(value, seed):
    rng = np.random.default_rng(1000 + seed)
    return tree_map(lambda leaf: random_like(leaf, rng) if np.ndim(leaf) else float(rng.standard_normal()), value)


def pairing(cotangents, tangents):
    return sum(float(flat(c) @ flat(t)) for c, t in zip(cotangents, tangents))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_vjp_matches_finite_differences(case, seed):
    args, positions, tangents = sample(case, seed)
    vjp = reverse(case)
    expected = case.fn(*copy.deepcopy(args))
    u = cotangent_for(expected, seed)
    value, cotangents = vjp(*copy.deepcopy(args), u)
    np.testing.assert_allclose(flat(value), flat(expected), rtol=1e-10, atol=1e-12)
    for p, c in zip(positions, cotangents):
        assert tree_structure(c) == tree_structure(args[p])
    lhs = float(flat(u) @ finite_difference_jvp(case.fn, args, positions, tangents))
    rhs = pairing(cotangents, tangents)
    scale = float(np.sqrt(np.sum(flat(u) ** 2)) * sum(np.sqrt(np.sum(flat(t) ** 2)) for t in tangents))
    assert rhs == pytest.approx(lhs, rel=1e-5, abs=1e-6 * max(1.0, scale))


@pytest.mark.parametrize("case", [c for c in CASES if c.autograd], ids=[c.name for c in CASES if c.autograd])
def test_vjp_matches_autograd(case):
    args, positions, tangents = sample(case, 2)
    vjp = reverse(case)
    u = cotangent_for(case.fn(*copy.deepcopy(args)), 2)
    _, cotangents = vjp(*copy.deepcopy(args), u)
    flat_tangents, _ = autograd_flatten(list(tangents))
    expected = float(flat(u) @ (autograd_jacobian(case.fn, args, positions) @ flat_tangents))
    assert pairing(cotangents, tangents) == pytest.approx(expected, rel=1e-8, abs=1e-10)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_forward_and_reverse_agree_through_the_dot_product(case):
    args, positions, tangents = sample(case, 0)
    vjp = reverse(case)
    value, tangent = sd.jvp(case.fn, wrt=case.wrt)(*copy.deepcopy(args), *copy.deepcopy(tangents))
    u = cotangent_for(value, 0)
    _, cotangents = vjp(*copy.deepcopy(args), u)
    assert pairing(cotangents, tangents) == pytest.approx(float(flat(u) @ flat(tangent)), rel=1e-9, abs=1e-10)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_split_backward_runs_many_times(case):
    """One forward call, then backward calls with different cotangents, each against finite differences."""
    args, positions, tangents = sample(case, 1)
    forward, backward = reverse(case, motion="split")
    value, saved = forward(*copy.deepcopy(args))
    numeric = finite_difference_jvp(case.fn, args, positions, tangents)
    scale = sum(np.sqrt(np.sum(flat(t) ** 2)) for t in tangents)
    for seed in (0, 1):
        u = cotangent_for(value, seed)
        expected = float(flat(u) @ numeric)
        tolerance = 1e-6 * max(1.0, float(np.sqrt(np.sum(flat(u) ** 2)) * scale))
        assert pairing(backward(saved, u), tangents) == pytest.approx(expected, rel=1e-5, abs=tolerance)
