"""The sourcediff command: show, emit (standalone modules that run with NumPy alone), check, and its
exit codes and messages."""
import inspect
import os
import pathlib
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import sourcediff as sd
from sourcediff import cli
from sourcediff.structure import flatten, map_leaves

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
sys.path.insert(0, str(EXAMPLES))
import logistic_regression  # noqa: E402
import mlp  # noqa: E402

H = 1e-6


def run(capsys, *argv):
    """(exit status, stdout, stderr) of the command run in this process."""
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def example_inputs():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((20, 5))
    y = (rng.standard_normal(20) > 0).astype(float)
    logits, labels = rng.standard_normal((6, 3)), np.eye(3)[rng.integers(0, 3, size=6)]
    return {
        "logistic_regression.loss": (logistic_regression.loss, (0.1 * rng.standard_normal(5), 0.2, X, y)),
        "mlp.mlp_loss": (mlp.mlp_loss, (mlp.init_params(rng, [8, 16, 16, 3]), rng.standard_normal((6, 8)), labels)),
        "mlp.softmax_cross_entropy": (mlp.softmax_cross_entropy, (logits, labels)),
    }


# the example modules' functions that are not models: main runs the example, init_params draws weights
NOT_MODELS = {"main", "init_params"}


def test_the_cases_cover_every_model_in_examples():
    defined = {f"{module.__name__}.{name}" for module in (logistic_regression, mlp)
               for name, fn in vars(module).items()
               if inspect.isfunction(fn) and fn.__module__ == module.__name__ and name not in NOT_MODELS}
    assert defined == set(example_inputs())


def numpy_only_path(tmp_path):
    """A folder that holds NumPy and nothing else, for a Python started without site-packages."""
    site = tmp_path / "numpy-only"
    site.mkdir()
    numpy_parent = pathlib.Path(np.__file__).resolve().parent.parent
    for name in ("numpy", "numpy.libs"):
        if (numpy_parent / name).exists():
            (site / name).symlink_to(numpy_parent / name)
    return site


def run_with_numpy_alone(tmp_path, module, calls):
    """The result of each call of module's functions in calls, computed in a Python that has NumPy but
    cannot import sourcediff. A call is ((entry,), args), or ((forward, backward), args) for split
    motion: backward(saved, 1.0) after forward(*args)."""
    (tmp_path / "calls.pkl").write_bytes(pickle.dumps(calls))
    script = textwrap.dedent(f"""
        import importlib, importlib.util, pickle
        assert importlib.util.find_spec("sourcediff") is None, "sourcediff is importable"
        module = importlib.import_module({module!r})

        def call(entries, args):
            if len(entries) == 1:
                return getattr(module, entries[0])(*args)
            value, saved = getattr(module, entries[0])(*args)
            return value, getattr(module, entries[1])(saved, 1.0)[0]

        results = [call(entries, args) for entries, args in pickle.load(open("calls.pkl", "rb"))]
        pickle.dump(results, open("results.pkl", "wb"))
    """)
    env = {"PYTHONPATH": os.pathsep.join([str(numpy_only_path(tmp_path)), str(tmp_path)]), "PATH": os.environ["PATH"]}
    subprocess.run([sys.executable, "-S", "-c", script], cwd=tmp_path, env=env, check=True)
    return pickle.loads((tmp_path / "results.pkl").read_bytes())


def directional_difference(fn, args, direction):
    """Central finite difference of fn along direction in its first argument."""
    def shifted(step):
        return fn(map_leaves(lambda a, v: a + step * v, args[0], direction), *args[1:])
    return (shifted(H) - shifted(-H)) / (2 * H)


MODE_OPTIONS = {"forward": ["--mode", "forward"], "reverse": ["--mode", "reverse"],
                "split": ["--mode", "reverse", "--motion", "split"]}


def in_process(mode, fn, args, direction):
    """What sourcediff computes in this process: (value, tangent) or (value, gradient)."""
    if mode == "forward":
        return sd.jvp(fn)(*args, direction)
    return sd.vjp(fn)(*args, 1.0)


@pytest.mark.parametrize("mode", sorted(MODE_OPTIONS))
@pytest.mark.parametrize("path, names", [("logistic_regression.py", ["loss"]),
                                         ("mlp.py", ["mlp_loss", "softmax_cross_entropy"])])
def test_emitted_examples_run_with_numpy_alone(capsys, tmp_path, mode, path, names):
    """Every model in examples/ (mlp.py's two in one module), run where sourcediff cannot be imported,
    against finite differences and sourcediff in-process."""
    stem = path[:-3]
    status, out, _ = run(capsys, "emit", EXAMPLES / path, *names, *MODE_OPTIONS[mode], "-o", tmp_path / f"{stem}_d.py")
    assert status == 0
    written = out.strip().split(": ", 1)[1].split(", ")  # the entry functions, two per function when split
    per_function = 2 if mode == "split" else 1
    cases = example_inputs()
    rng = np.random.default_rng(2)
    calls, checks = [], []
    for i, name in enumerate(names):
        fn, args = cases[f"{stem}.{name}"]
        direction = map_leaves(lambda a: rng.standard_normal(np.shape(a)), args[0])
        calls.append((written[i * per_function:(i + 1) * per_function], args + ((direction,) if mode == "forward" else (1.0,) * (mode == "reverse"))))
        checks.append((fn, args, direction))
    for result, (fn, args, direction) in zip(run_with_numpy_alone(tmp_path, f"{stem}_d", calls), checks):
        value, derivative = result
        assert value == pytest.approx(fn(*args), rel=1e-12)
        numeric = directional_difference(fn, args, direction)
        along = derivative if mode == "forward" else flatten(derivative) @ flatten(direction)
        assert along == pytest.approx(numeric, rel=1e-5, abs=1e-8)
        assert np.allclose(flatten(derivative), flatten(in_process(mode, fn, args, direction)[1]), rtol=1e-12, atol=0)
