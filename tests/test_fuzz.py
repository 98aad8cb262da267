"""The differential fuzzer in CI: a few hundred generated programs (tests/program_grammar.py), each in
forward mode, reverse mode (joint and split), gradients, vector mode, forward gradients and second
derivatives (both orders of nesting), against Richardson central differences (tests/differential.py). Long runs: scripts/fuzz.py, docs/fuzzing.md."""
import numpy as np
import pytest

import sourcediff as sd
from sourcediff.rules import RULES

import differential
import program_grammar

# Constructs the CI run switches off until their fix merges; the grammar still writes them (the test
# below checks it) and scripts/fuzz.py runs them. Empty this as the fixes land.
PENDING = {
    # found by this fuzzer (see docs/fuzzing.md): not in issue 10's list
}
# Every program runs in these modes, and in one of ROTATING (the seed picks which), to stay fast.
ALWAYS = ("jvp", "vjp", "grad", "identity")
ROTATING = ("split", "vector", "forward_gradient", "checkpoint", "hvp", "jvp_of_grad", "jvp_of_vjp", "vjp_of_vjp",
            "jvp_of_jvp")
BATCHES, PER_BATCH = 8, 25


@pytest.mark.parametrize("batch", range(BATCHES))
def test_generated_programs_have_right_derivatives_in_every_mode(tmp_path, batch):
    checked = 0
    for seed in range(batch * PER_BATCH, (batch + 1) * PER_BATCH):
        program = program_grammar.generate(seed, without=PENDING)
        result = differential.check(program, tmp_path, seed, ALWAYS + (ROTATING[seed % len(ROTATING)],))
        assert result.status != "invalid", f"seed {seed}: {result.detail}\n{result.source}"
        failures = result.failures()
        assert not failures, f"seed {seed}:\n{result.source}\n" + "\n".join(
            f"{mode}: {o.kind}: {o.detail}" for mode, o in failures.items())
        checked += result.status == "checked"
    assert checked >= PER_BATCH * 0.7  # most programs have a point away from their kinks (18 to 25 of 25 in these batches)


def test_grammar_writes_every_construct_and_the_issue_10_defects():
    seen = set()
    for seed in range(300):
        seen |= program_grammar.generate(seed).constructs()
    assert set(program_grammar.CONSTRUCTS) <= seen
    templates = {"prim:" + t.tag for t in program_grammar.TEMPLATES} | {"prim:" + t.name for t in program_grammar.TEMPLATES}
    for construct in PENDING:  # a primitive switched off still has its templates (its calls are rare)
        assert construct in (templates if construct.startswith("prim:") else seen)


def test_switched_off_constructs_are_not_written():
    for seed in range(100):
        assert not program_grammar.generate(seed, without=PENDING).constructs() & set(PENDING)


def test_every_registered_rule_is_called_by_the_grammar_or_says_why_not():
    """The grammar draws its primitives from the registry: a new rule is fuzzed without a change here,
    through its pointwise/elementwise flags or a probe of plain calls, or listed with a reason."""
    fuzzed = {t.name for t in program_grammar.TEMPLATES}
    for rule in filter(program_grammar.shipped, RULES.values()):
        if rule.name not in program_grammar.OPERATOR_NAMES:
            assert rule.name in fuzzed or rule.name in program_grammar.UNFUZZED, rule.name
    users = {n: why for n, why in program_grammar.UNFUZZED.items() if not why.startswith("a helper of generated code")}
    assert len(users) <= 1, users  # copy.copy; sourcediff's own helpers are reached through what calls them
    seen = set()
    for seed in range(400):
        seen |= {c[5:] for c in program_grammar.generate(seed).constructs() if c.startswith("prim:")}
    assert len(seen) >= 0.8 * len(fuzzed)


def shifted_sin(x):
    return np.sin(x) + 0.0


def test_checker_reports_a_wrong_derivative_and_shrinks_the_program(tmp_path):
    """A rule with a wrong tangent and adjoint, called by a generated program: the checker calls the
    result wrong in both modes, and shrinking keeps the call while dropping the other statements."""
    @sd.register_tangent(shifted_sin)
    def wrong_tangent(z, x):
        d[z] = 1.1 * np.cos(x) * d[x]  # noqa: F821 (templates are parsed, never run)

    @sd.register_adjoint(shifted_sin)
    def wrong_adjoint(z, x):
        d[x] = 1.1 * np.cos(x) * d[z]  # noqa: F821

    program = program_grammar.generate(3, without=set(PENDING) | {"primitive"}, size=4)
    program.items.insert(0, program_grammar.Stmt("from test_fuzz import shifted_sin"))
    program.entry.body.insert(2, program_grammar.Stmt("w = shifted_sin(x)", defines={"w": "V"}))
    result = differential.check(program, tmp_path, 0, ("jvp", "vjp"))
    assert result.outcomes["jvp"].kind == result.outcomes["vjp"].kind == "wrong", result.source
    small = differential.shrink(program, "vjp", result.outcomes["vjp"], tmp_path)
    assert "shifted_sin(x)" in small.source() and len(small.entry.body) == 1


def test_margins_reject_points_near_a_branch():
    source = "import numpy as np\n\n\ndef f(x):\n    return x[0] if x[1] > 0.5 else np.abs(x[2])\n"
    f, margins = differential.instrumented(source)
    f(np.array([1.0, 0.51, 2.0]))
    assert np.isclose(margins.smallest, 0.01)
    margins.smallest = np.inf
    f(np.array([1.0, 0.0, -0.005]))
    assert np.isclose(margins.smallest, 0.005)
