"""Golden files: generated tangents and gradients of a few functions, so any change in readability shows in a diff.

Update them with SOURCEDIFF_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py, then read the diff.
"""
import os
import pathlib
import sys

import pytest

import sourcediff as sd

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples"))

import corpus  # noqa: E402
import logistic_regression  # noqa: E402
import mlp  # noqa: E402

GOLDEN = {
    "logistic_regression_jvp": (logistic_regression.loss, ("w", "b")),
    "mlp_jvp": (mlp.mlp_loss, "params"),
    "loop_break_continue_jvp": (corpus.loop_break_continue, 0),
    "inplace_updates_jvp": (corpus.inplace_updates, 0),
    "nested_closure_jvp": (corpus.nested_closure, 0),
    "newton_kepler_jvp": (corpus.newton_kepler, 0),
    "rpow_jvp": (corpus.rpow, 0),
}
GOLDEN_GRADIENTS = {
    "logistic_regression_vjp": (logistic_regression.loss, ("w", "b")),
    "mlp_vjp": (mlp.mlp_loss, "params"),
    "loop_break_continue_vjp": (corpus.loop_break_continue, 0),
    "inplace_updates_vjp": (corpus.inplace_updates, 0),
    "nested_closure_vjp": (corpus.nested_closure, 0),
    "rpow_vjp": (corpus.rpow, 0),
}


@pytest.mark.parametrize("name", sorted(GOLDEN) + sorted(GOLDEN_GRADIENTS))
def test_generated_source_matches_golden_file(name):
    if name in GOLDEN:
        fn, wrt = GOLDEN[name]
        source = sd.jvp(fn, wrt=wrt).source
    else:
        fn, wrt = GOLDEN_GRADIENTS[name]
        source = sd.vjp(fn, wrt=wrt).source
    path = HERE / "golden" / f"{name}.py"
    if os.environ.get("SOURCEDIFF_UPDATE_GOLDEN"):
        path.write_text(source)
    assert source == path.read_text()
