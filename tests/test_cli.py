"""The sourcediff command: show, emit (standalone modules that run with NumPy alone), check, and its
exit codes and messages."""
import ast
import copy
import importlib.util
import inspect
import io
import math
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
import forward_gradient_digits  # noqa: E402
import forward_gradient_test_functions  # noqa: E402
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
        "forward_gradient_digits.logistic_loss": (forward_gradient_digits.logistic_loss,
                                                  (mlp.init_params(rng, [8, 3]), rng.random((6, 8)), labels)),
        "forward_gradient_digits.mlp_loss": (forward_gradient_digits.mlp_loss,
                                             (mlp.init_params(rng, [8, 5, 5, 3]), rng.random((6, 8)), labels)),
        "forward_gradient_test_functions.beale": (forward_gradient_test_functions.beale, (1.0, 1.5)),
        "forward_gradient_test_functions.rosenbrock": (forward_gradient_test_functions.rosenbrock, (-0.5, 0.8)),
    }


# the example modules' functions that are not models: main runs the example, init_params draws weights,
# the others train and plot; the digits example's *_logits are parts of its losses, emitted with them
NOT_MODELS = {"main", "init_params", "gradient_function", "train", "plot", "descend", "logistic_logits", "mlp_logits"}
EXAMPLE_MODULES = (logistic_regression, mlp, forward_gradient_digits, forward_gradient_test_functions)


def test_the_cases_cover_every_model_in_examples():
    defined = {f"{module.__name__}.{name}" for module in EXAMPLE_MODULES
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


def run_with_numpy_alone(tmp_path, calls):
    """The result of each call in calls, computed in a Python that has NumPy but cannot import
    sourcediff. A call is (module, (entry,), args) or (module, (entry,), args, keyword arguments), or
    (module, (forward, backward), args) for split motion: backward(saved, 1.0) after forward(*args)."""
    (tmp_path / "calls.pkl").write_bytes(pickle.dumps(calls))
    script = textwrap.dedent("""
        import importlib, importlib.util, pickle
        assert importlib.util.find_spec("sourcediff") is None, "sourcediff is importable"

        def call(module, entries, args, kwargs=None):
            functions = [getattr(importlib.import_module(module), entry) for entry in entries]
            if len(functions) == 1:
                return functions[0](*args, **(kwargs or {}))
            value, saved = functions[0](*args)
            return value, functions[1](saved, 1.0)[0]

        results = [call(*item) for item in pickle.load(open("calls.pkl", "rb"))]
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
                                         ("mlp.py", ["mlp_loss", "softmax_cross_entropy"]),
                                         ("forward_gradient_digits.py", ["logistic_loss", "mlp_loss"]),
                                         ("forward_gradient_test_functions.py", ["beale", "rosenbrock"])])
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
        extra = {"forward": (direction,), "reverse": (1.0,), "split": ()}[mode]  # split: backward gets 1.0
        calls.append((f"{stem}_d", written[i * per_function:(i + 1) * per_function], args + extra))
        checks.append((fn, args, direction))
    for result, (fn, args, direction) in zip(run_with_numpy_alone(tmp_path, calls), checks):
        value, derivative = result
        assert value == pytest.approx(fn(*args), rel=1e-12)
        numeric = directional_difference(fn, args, direction)
        along = derivative if mode == "forward" else flatten(derivative) @ flatten(direction)
        assert along == pytest.approx(numeric, rel=1e-5, abs=1e-8)
        assert np.allclose(flatten(derivative), flatten(in_process(mode, fn, args, direction)[1]), rtol=1e-12, atol=0)


USER_MODULE = '''\
import math as m
import numpy as np
from numpy import tanh as th

import sourcediff as sd

WEIGHTS = np.linspace(0.0, 1.0, 3)
SHIFT = 0.5


def weighted(x):
    return np.sum(x * WEIGHTS)


def shifted_square(x):
    return helper(x) + SHIFT


def helper(x):
    return np.sum((x - SHIFT) ** 2)


def uses_try(x):
    try:
        y = x * 2.0
    except ValueError:
        y = x
    return y


@sd.tangent
def scalar_model(x, y):
    return m.exp(x * y) + th(x) / SHIFT


class Model:
    def loss(self, x):
        return x * x
'''


@pytest.fixture
def user_module(tmp_path):
    path = tmp_path / "user_code.py"
    path.write_text(USER_MODULE)
    return path


def test_a_user_helper_and_constant_are_copied_in(capsys, tmp_path, user_module):
    out_path = tmp_path / "shifted_d.py"
    status, out, _ = run(capsys, "emit", user_module, "shifted_square", "--mode", "reverse", "-o", out_path)
    assert status == 0
    text = out_path.read_text()
    assert "SHIFT = 0.5" in text and "def helper(x):" in text and "import sourcediff" not in text
    x = np.array([0.3, -1.2])
    [(value, gradient)] = run_with_numpy_alone(tmp_path, [("shifted_d", ("shifted_square_vjp",), (x, 1.0))])
    assert value == pytest.approx(np.sum((x - 0.5) ** 2) + 0.5)
    assert gradient == pytest.approx(2 * (x - 0.5))


def test_imports_keep_the_users_spelling_and_decorators_go(capsys, tmp_path, user_module):
    out_path = tmp_path / "scalar_d.py"
    status, _, _ = run(capsys, "emit", user_module, "scalar_model", "--mode", "forward", "--wrt", "x,y", "-o", out_path)
    assert status == 0
    text = out_path.read_text()
    assert "import math\nimport math as m\nimport numpy as np\nfrom numpy import tanh as th\n" in text
    assert "\n\n\ndef scalar_model(x, y):" in text and "@sd.tangent" not in text and "import sourcediff" not in text
    [(value, tangent)] = run_with_numpy_alone(tmp_path, [("scalar_d", ("scalar_model_jvp",), (0.3, 0.7, 1.0, -2.0))])
    f = lambda t: math.exp((0.3 + t) * (0.7 - 2 * t)) + np.tanh(0.3 + t) / 0.5
    assert value == pytest.approx(f(0.0))
    assert tangent == pytest.approx((f(H) - f(-H)) / (2 * H), rel=1e-6)


def test_a_global_array_is_refused_with_its_location(capsys, tmp_path, user_module):
    out_path = tmp_path / "weighted_d.py"
    status, out, err = run(capsys, "emit", user_module, "weighted", "--mode", "reverse", "-o", out_path)
    assert status == 1 and not out_path.exists()
    assert err.startswith(f"{user_module}:12:23: 'WEIGHTS' is a numpy.ndarray of shape (3,)")
    assert "return np.sum(x * WEIGHTS)" in err and "hint: pass WEIGHTS as an argument" in err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["user_code.py"]


def test_an_undifferentiable_function_exits_1_with_location_and_hint(capsys, user_module):
    status, out, err = run(capsys, "show", user_module, "uses_try", "--mode", "forward")
    assert status == 1 and out == ""
    first, quoted, caret, hint = err.splitlines()
    assert first.startswith(f"{user_module}:24:5: ") and "try" in first
    assert quoted.strip() == "try:" and caret.strip() == "^" and hint.startswith("hint: ")
    status, _, err = run(capsys, "show", user_module, "uses_try", "--mode", "forward", "--traceback")
    assert status == 1 and err.startswith("Traceback") and "UnsupportedSyntaxError" in err


def test_a_method_is_refused_as_not_supported(capsys, user_module):
    status, _, err = run(capsys, "show", user_module, "Model.loss", "--mode", "forward")
    assert status == 1
    assert err.startswith(f"{user_module}:37:1: Model.loss is a method, and sourcediff does not differentiate")
    assert "hint: move the computation into a module-level function" in err


@pytest.mark.parametrize("argv, message", [
    (["show", "{module}", "nothing", "--mode", "forward"],
     "{module} has no function 'nothing'; its functions are: helper, scalar_model, shifted_square, uses_try, weighted"),
    (["show", "{module}", "SHIFT", "--mode", "forward"], "'SHIFT' in {module} is not a function but float"),
    (["show", "{module}", "helper.x", "--mode", "forward"], "'helper.x': name a function of {module}, or Class.method"),
    (["show", "{folder}/missing.py", "f", "--mode", "forward"], "cannot read {folder}/missing.py: no such file"),
    (["show", "{folder}/", "f", "--mode", "forward"], "cannot read {folder}/: a folder, not a Python file"),
    (["show", "no_such_package.models", "f", "--mode", "forward"],
     "cannot import no_such_package.models: no module named no_such_package"),
    (["show", "{module}", "helper", "--mode", "sideways"],
     "argument --mode: invalid choice: 'sideways' (choose from 'forward', 'forward-gradient', 'hvp', 'jacobian', 'reverse') "
     "(see sourcediff show --help)"),
    (["show", "{module}", "helper", "--mode", "forward-gradient", "--directions", "3", "--antithetic"],
     "antithetic=True pairs each direction v with -v, so directions must be even, not 3"),
    (["show", "{module}", "helper", "--mode", "reverse", "--directions", "4"],
     "--directions, --distribution and --antithetic apply to --mode forward-gradient only"),
    (["show", "{module}", "helper"], "the following arguments are required: --mode (see sourcediff show --help)"),
    (["show", "{module}", "helper", "--mode", "forward", "--motion", "split"],
     "--motion applies to reverse mode only, not --mode forward"),
    (["show", "{module}", "helper", "--mode", "forward", "--checkpoint"],
     "--checkpoint applies to --mode reverse only, not --mode forward"),
    (["show", "{module}", "helper", "--mode", "reverse", "--wrt", "y"],
     "--wrt: wrt='y' is not a parameter of helper; its parameters are x"),
    (["emit", "{module}", "helper", "--mode", "reverse"],
     "the following arguments are required: -o/--output (see sourcediff emit --help)"),
    (["check", "{module}", "helper", "--args", "x=(3"], "--args 'x=(3': not a list of name=value"),
    (["check", "{module}", "helper", "--args", "(3,)"], "--args '(3,)': write every argument as name=value"),
    (["check", "{module}", "helper", "--args", "y=(3,)"],
     "--args 'y=(3,)': does not fit helper: missing a required argument: 'x'"),
    (["check", "{module}", "helper", "--args", "x=(3, -1)"], "--args 'x=(3, -1)': a shape holds sizes, such as (3, 4)"),
    (["check", "{module}", "helper", "--args", "x=zeros"],
     "--args 'x=zeros': cannot read 'zeros'; write a shape such as (3, 4), a number, or another form "
     "sourcediff check --help lists"),
    (["check", "{module}", "helper", "--args", "x=uniform(0, 1)"],
     "--args 'x=uniform(0, 1)': write uniform(low, high, (d1, ...)), not uniform(0, 1)"),
    (["check", "{module}", "helper", "--args", "x=uniform(0, 1, 3)"], "--args 'x=uniform(0, 1, 3)': '3' is not a shape such as (3, 4)"),
    (["check", "{module}", "helper", "--args", "x=array(['a'])"],
     "--args \"x=array(['a'])\": array() takes numbers or nested lists of them, not ['a']"),
    (["check", "{module}", "helper", "--args", "x=load('{folder}/none.npy')"],
     "--args \"x=load('{folder}/none.npy')\": cannot load {folder}/none.npy: [Errno 2] No such file or directory: "
     "'{folder}/none.npy'"),
    (["check", "{module}", "helper", "--args", "x=(2,)", "--directions", "0"],
     "argument --directions: '0' is not a positive whole number (see sourcediff check --help)"),
    (["check", "{module}", "weighted", "--args", "x=(2,)"],
     "weighted(x=(2,)) raised ValueError: operands could not be broadcast together with shapes (2,) (3,) "),
])
def test_usage_errors_exit_2_with_one_line(capsys, tmp_path, user_module, argv, message):
    fill = {"module": user_module, "folder": tmp_path}
    status, out, err = run(capsys, *[a.format(**fill) for a in argv])
    assert status == 2 and out == ""
    assert err == f"sourcediff: error: {message.format(**fill)}\n"


def test_an_error_while_importing_the_target_is_a_usage_error_in_one_line(capsys, tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("raise ValueError('first\\nsecond')\n")
    status, _, err = run(capsys, "show", path, "f", "--mode", "forward")
    assert status == 2 and err == f"sourcediff: error: importing {path} failed: ValueError: first second\n"
    status, _, err = run(capsys)
    assert status == 2 and err == ("sourcediff: error: the following arguments are required: {show,emit,check} "
                                   "(see sourcediff --help)\n")


def test_overwrite_needs_force(capsys, tmp_path):
    out_path = tmp_path / "loss_d.py"
    out_path.write_text("# mine\n")
    argv = ["emit", EXAMPLES / "logistic_regression.py", "loss", "--mode", "reverse", "-o", out_path]
    status, _, err = run(capsys, *argv)
    assert status == 2 and err == f"sourcediff: error: {out_path} exists; pass --force to overwrite it\n"
    assert out_path.read_text() == "# mine\n"
    status, out, _ = run(capsys, *argv, "--force")
    assert status == 0 and out == f"wrote {out_path}: loss_vjp_w\n"
    assert "def loss_vjp_w(" in out_path.read_text()
    assert oct(out_path.stat().st_mode & 0o777) != oct(0o600)  # not the temporary file's private mode


@pytest.mark.parametrize("failure, status", [(OSError(28, "No space left on device"), 2), (KeyboardInterrupt(), None)])
def test_an_interrupted_write_leaves_nothing_behind(capsys, tmp_path, monkeypatch, failure, status):
    def write_half_then_fail(f, text):
        f.write(text[:len(text) // 2])
        f.flush()
        raise failure
    monkeypatch.setattr(cli, "_write_text", write_half_then_fail)
    argv = ["emit", EXAMPLES / "logistic_regression.py", "loss", "--mode", "reverse", "-o", tmp_path / "loss_d.py"]
    if status is None:
        with pytest.raises(KeyboardInterrupt):
            run(capsys, *argv)
    else:
        code, _, err = run(capsys, *argv)
        assert code == status and err.endswith("No space left on device\n")
    assert list(tmp_path.iterdir()) == []


def test_emitting_is_deterministic_across_processes(tmp_path):
    outputs = []
    for seed in ("0", "1"):
        out_path = tmp_path / "mlp_d.py"
        subprocess.run([sys.executable, "-m", "sourcediff", "emit", "examples/mlp.py", "mlp_loss",
                        "softmax_cross_entropy", "--mode", "reverse", "-o", out_path, "--force"],
                       cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": seed}, check=True, capture_output=True)
        outputs.append(out_path.read_bytes())
    assert outputs[0] == outputs[1]
    assert outputs[0].startswith(b"# Generated by sourcediff " + sd.__version__.encode() + b": sourcediff emit "
                                 b"examples/mlp.py mlp_loss softmax_cross_entropy --mode reverse -o "
                                 + str(out_path).encode() + b" --force\n")


def test_show_prints_what_the_api_generates(capsys):
    status, out, _ = run(capsys, "show", EXAMPLES / "logistic_regression.py", "loss", "--mode", "reverse",
                         "--wrt", "w,b")
    assert status == 0
    assert out == sd.vjp(logistic_regression.loss, wrt=("w", "b")).source
    status, out, _ = run(capsys, "show", EXAMPLES / "mlp.py", "mlp_loss", "--mode", "forward", "--wrt", "params")
    assert out == sd.jvp(mlp.mlp_loss, wrt="params").source


def test_a_module_target_is_imported_from_the_current_folder(capsys, tmp_path, monkeypatch):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(USER_MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    status, out, _ = run(capsys, "show", "pkg.models", "helper", "--mode", "forward")
    assert status == 0 and out.startswith("def helper_jvp(x, dx):")


def test_a_file_named_like_a_standard_module_does_not_replace_it(capsys, tmp_path):
    path = tmp_path / "copy.py"
    path.write_text("import numpy as np\n\n\ndef f(x):\n    return np.sin(x)\n")
    status, out, _ = run(capsys, "show", path, "f", "--mode", "reverse")
    assert status == 0 and out.startswith("def f_vjp(x, bsin_x):")
    assert sys.modules["copy"].__file__ != str(path)


def test_no_optimize_shows_the_raw_transformation_which_is_still_right(capsys, tmp_path):
    argv = ["show", EXAMPLES / "logistic_regression.py", "loss", "--mode", "reverse"]
    optimized, raw = run(capsys, *argv)[1], run(capsys, *argv, "--no-optimize")[1]
    assert len(raw.splitlines()) > len(optimized.splitlines())
    out_path = tmp_path / "raw_d.py"
    assert run(capsys, "emit", *argv[1:], "--no-optimize", "-o", out_path)[0] == 0
    fn, args = example_inputs()["logistic_regression.loss"]
    direction = np.random.default_rng(3).standard_normal(5)
    [(value, gradient)] = run_with_numpy_alone(tmp_path, [("raw_d", ("loss_vjp_w",), args + (1.0,))])
    assert gradient @ direction == pytest.approx(directional_difference(fn, args, direction), rel=1e-5)


def test_show_highlights_only_on_a_terminal():
    class Terminal:
        def isatty(self):
            return True
    source = "def f(x):\n    return x\n"
    assert "\x1b[" in cli._highlighted(source, Terminal())
    assert cli._highlighted(source, io.StringIO()) == source


def test_check_prints_a_table_and_passes_on_the_examples(capsys):
    status, out, _ = run(capsys, "check", EXAMPLES / "mlp.py", "mlp_loss", "--wrt", "params", "--args",
                         "params=[(8, 16), (16,), (16, 16), (16,), (16, 3), (3,)], X=(32, 8), labels=(32, 3)")
    lines = out.splitlines()
    assert status == 0 and lines[-1] == "all 6 comparisons agree"
    assert lines[1].split() == ["mode", "direction", "compared", "sourcediff", "finite", "diff", "abs", "error",
                                "agrees"]
    assert [line.split()[0] for line in lines[2:-1]] == ["forward", "reverse"] * 3


def test_check_takes_given_arrays_and_uniform_ranges(capsys, tmp_path):
    path = tmp_path / "domain.py"
    path.write_text("import numpy as np\n\n\ndef f(x, scale):\n    return np.sum(np.log(x) * scale)\n")
    np.save(tmp_path / "scale.npy", np.array([1.0, -2.0, 0.5]))
    status, out, _ = run(capsys, "check", path, "f", "--args", f"x=uniform(0.5, 2, (3,)), scale=load('{tmp_path}/scale.npy')")
    assert status == 0 and out.splitlines()[-1] == "all 6 comparisons agree"
    status, out, _ = run(capsys, "check", path, "f", "--args", "x=array([1.0, 2.0, 3.0]), scale=(3,)", "--wrt", "x")
    assert status == 0 and "with respect to x," in out
    status, _, err = run(capsys, "check", path, "f", "--args", "x=(3,), scale=(3,)", "--wrt", "x")
    assert status == 2  # the log of a normal sample
    assert err == ("sourcediff: error: f(x=(3,), scale=(3,)) is not finite; choose inputs in its domain, e.g. "
                   "uniform(0.5, 2, (3,)) for positive values\n")


def test_check_a_function_with_a_keyword_only_parameter(capsys, tmp_path):
    path = tmp_path / "penalised.py"
    path.write_text("import numpy as np\n\n\ndef loss(w, X, *, l2=0.1):\n"
                    "    return np.sum(np.tanh(X @ w) ** 2) + l2 * np.sum(w * w)\n")
    for spec in ("w=(3,), X=(4, 3)", "w=(3,), X=(4, 3), l2=0.5"):
        status, out, _ = run(capsys, "check", path, "loss", "--args", spec)
        assert status == 0 and out.splitlines()[-1] == "all 6 comparisons agree"


def test_check_fails_where_the_derivative_disagrees(capsys, tmp_path):
    path = tmp_path / "staircase.py"
    path.write_text("import numpy as np\n\n\ndef staircase(x, n):\n    return np.floor(n * x) + x\n")
    # a jump at every multiple of 1/n: finite differences see it where a step straddles one
    status, out, _ = run(capsys, "check", path, "staircase", "--args", "x=(2000,), n=1000000", "--mode", "forward",
                         "--directions", "1")
    assert status == 1
    assert "NO" in out and out.splitlines()[-1].endswith("comparisons disagree")


@pytest.mark.parametrize("command", ["show", "emit", "check"])
def test_every_subcommand_has_help_with_an_example(capsys, command):
    with pytest.raises(SystemExit) as info:
        cli.main([command, "--help"])
    assert info.value.code == 0
    help_text = capsys.readouterr().out
    assert "example:\n  sourcediff " + command in help_text


def test_the_console_script_and_python_m_are_the_same_command():
    script = pathlib.Path(sys.executable).with_name("sourcediff")
    outputs = [subprocess.run(argv + ["--version"], capture_output=True, text=True, check=True).stdout
               for argv in ([[str(script)]] if script.exists() else []) + [[sys.executable, "-m", "sourcediff"]]]
    assert set(outputs) == {f"sourcediff {sd.__version__}\n"}


def test_a_func_that_another_calls_keeps_its_argument_check(capsys):
    status, out, _ = run(capsys, "show", EXAMPLES / "mlp.py", "mlp_loss", "softmax_cross_entropy", "--mode", "forward")
    assert status == 0
    assert "require_real(logits, 'logits', softmax_cross_entropy, dlogits)" in out
    assert "require_real(params, 'params', mlp_loss, dparams)" in out


def test_every_corpus_function_runs_standalone(capsys, tmp_path):
    """Each function of the test corpus in both modes, several FUNCs a module (those with the same
    wrt), run with NumPy alone, against central finite differences (reverse mode through
    <u, J v> = <J^T u, v>)."""
    from corpus import CASES
    from corpus_tools import finite_difference_jvp, flat, random_like, sample, tree_map

    groups = {}
    for case in CASES:
        groups.setdefault(case.wrt, []).append(case)
    calls, checks = [], []
    for number, (wrt, cases) in enumerate(groups.items()):
        names = list(dict.fromkeys(case.fn.__name__ for case in cases))
        wrt_option = ",".join(map(str, wrt if isinstance(wrt, tuple) else (wrt,)))
        for mode in ("forward", "reverse"):
            module = f"corpus_{mode}_{number}"
            status, out, err = run(capsys, "emit", ROOT / "tests" / "corpus.py", *names, "--mode", mode,
                                   "--wrt", wrt_option, "-o", tmp_path / f"{module}.py")
            assert status == 0, err
            entries = dict(zip(names, out.strip().split(": ", 1)[1].split(", ")))
            definitions = {node.name: node for node in ast.parse((tmp_path / f"{module}.py").read_text()).body
                           if isinstance(node, ast.FunctionDef)}
            for case in cases:
                args, positions, tangents = sample(case, 0)
                bound = inspect.signature(case.fn).bind(*args)
                bound.apply_defaults()
                entry = entries[case.fn.__name__]
                if mode == "forward":  # tangents follow the arguments, by keyword where the primal has defaults
                    keywords = [a.arg for a in definitions[entry].args.kwonlyargs]
                    call = (module, (entry,), bound.args + (() if keywords else tangents), dict(zip(keywords, tangents)))
                    cotangent = None
                else:
                    value = case.fn(*copy.deepcopy(args))
                    rng = np.random.default_rng(1)
                    cotangent = tree_map(lambda leaf: random_like(leaf, rng), value)
                    call = (module, (entry,), bound.args + (cotangent,))
                calls.append(copy.deepcopy(call))
                checks.append((case, mode, args, positions, tangents, cotangent))
    for result, (case, mode, args, positions, tangents, cotangent) in zip(run_with_numpy_alone(tmp_path, calls), checks):
        numeric = finite_difference_jvp(case.fn, args, positions, tangents)
        if mode == "forward":
            np.testing.assert_allclose(flat(result[1]), numeric, rtol=1e-5, atol=1e-6, err_msg=case.name)
        else:
            cotangents = result[1] if len(positions) > 1 else (result[1],)
            exact = sum(float(flat(c) @ flat(t)) for c, t in zip(cotangents, tangents))
            assert exact == pytest.approx(float(flat(cotangent) @ numeric), rel=1e-5, abs=1e-6), case.name


@pytest.mark.parametrize("path, names", [("logistic_regression.py", ["loss"]),
                                         ("mlp.py", ["mlp_loss", "softmax_cross_entropy"]),
                                         ("forward_gradient_digits.py", ["logistic_loss", "mlp_loss"]),
                                         ("forward_gradient_test_functions.py", ["beale", "rosenbrock"])])
def test_emitted_forward_gradients_run_with_numpy_alone(capsys, tmp_path, path, names):
    """Forward gradients with 8 directions, emitted and run where sourcediff cannot be imported: for
    each seed the estimate is the in-process one, and over 100 seeds its mean, projected on a random
    vector, lies within 5 standard errors of the finite-difference directional derivative."""
    stem = path[:-3]
    status, out, _ = run(capsys, "emit", EXAMPLES / path, *names, "--mode", "forward-gradient", "--directions", "8",
                         "-o", tmp_path / f"{stem}_fg.py")
    assert status == 0
    written = out.strip().split(": ", 1)[1].split(", ")
    cases = example_inputs()
    seeds = range(100)
    calls = [(f"{stem}_fg", (entry,), cases[f"{stem}.{name}"][1], {"rng": seed})
             for entry, name in zip(written, names) for seed in seeds]
    results = run_with_numpy_alone(tmp_path, calls)
    rng = np.random.default_rng(3)
    for i, name in enumerate(names):
        fn, args = cases[f"{stem}.{name}"]
        ours = results[i * len(seeds):(i + 1) * len(seeds)]
        in_process_fg = sd.forward_gradient(fn, directions=8)
        for seed in seeds[:3]:
            assert np.allclose(flatten(ours[seed][1]), flatten(in_process_fg(*args, rng=seed)[1]), rtol=1e-12, atol=0)
        assert all(value == pytest.approx(fn(*args), rel=1e-12) for value, _ in ours)
        u = map_leaves(lambda a: rng.standard_normal(np.shape(a)), args[0])
        projections = np.array([flatten(estimate) @ flatten(u) for _, estimate in ours])
        numeric = directional_difference(fn, args, u)
        assert abs(projections.mean() - numeric) <= 5 * projections.std(ddof=1) / np.sqrt(len(seeds)) + 1e-8


@pytest.mark.parametrize("path, names", [("logistic_regression.py", ["loss"]), ("mlp.py", ["mlp_loss"])])
def test_emitted_hessian_vector_products_run_with_numpy_alone(capsys, tmp_path, path, names):
    """`--mode hvp` writes reverse mode over the tangent, `(*args, v, 1.0) -> (∇f·v, H v)`: run where
    sourcediff cannot be imported, H v is sd.hvp's, and against differences of sd.grad along v."""
    stem = path[:-3]
    status, out, _ = run(capsys, "emit", EXAMPLES / path, *names, "--mode", "hvp", "-o", tmp_path / f"{stem}_hvp.py")
    assert status == 0
    written = out.strip().split(": ", 1)[1].split(", ")
    fn, args = example_inputs()[f"{stem}.{names[0]}"]
    rng = np.random.default_rng(4)
    v = map_leaves(lambda a: rng.standard_normal(np.shape(a)), args[0])
    (along, product), = run_with_numpy_alone(tmp_path, [(f"{stem}_hvp", written, args + (v, 1.0))])
    assert along == pytest.approx(flatten(sd.grad(fn)(*args)) @ flatten(v), rel=1e-10)
    assert np.allclose(flatten(product), flatten(sd.hvp(fn)(*args, v)), rtol=1e-12, atol=0)
    gradient = sd.grad(fn)
    numeric = (flatten(gradient(map_leaves(lambda a, d: a + H * d, args[0], v), *args[1:]))
               - flatten(gradient(map_leaves(lambda a, d: a - H * d, args[0], v), *args[1:]))) / (2 * H)
    np.testing.assert_allclose(flatten(product), numeric, rtol=1e-4, atol=1e-6)


RECURRENCE = """\
import numpy as np


def recurrence(x, w, steps):
    for i in range(steps):
        x = np.tanh(w * x + 0.1)
    return np.sum(x ** 2)
"""


def test_emitted_checkpointed_gradients_run_with_numpy_alone(capsys, tmp_path):
    """`--checkpoint` (√n) and `--checkpoint 4`: the module keeps the loop's state per segment, and its
    gradient is the in-process one and agrees with differences."""
    (tmp_path / "rec.py").write_text(RECURRENCE)
    spec = importlib.util.spec_from_file_location("rec", tmp_path / "rec.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x, w = np.linspace(-1.0, 1.0, 5), 0.9
    calls = []
    for option, stem in ((["--checkpoint"], "rec_sqrt"), (["--checkpoint", "4"], "rec_four")):
        status, out, _ = run(capsys, "emit", tmp_path / "rec.py", "recurrence", "--mode", "reverse", "--wrt", "x,w",
                             *option, "-o", tmp_path / f"{stem}.py")
        assert status == 0 and "checkpoint_segment" in (tmp_path / f"{stem}.py").read_text()
        calls.append((stem, out.strip().split(": ", 1)[1].split(", "), (x, w, 30, 1.0)))
    reference = sd.grad(module.recurrence, (0, 1))(x, w, 30)
    numeric = directional_difference(module.recurrence, (x, w, 30), np.ones(5))
    for _, (gx, gw) in run_with_numpy_alone(tmp_path, calls):
        np.testing.assert_allclose(gx, reference[0], rtol=1e-12)
        assert gw == pytest.approx(reference[1], rel=1e-12)
        assert float(np.sum(gx)) == pytest.approx(numeric, rel=1e-5)


CURVES = """\
import numpy as np


def curve(t, c):
    return np.stack([np.sin(c * t), np.cos(t) * c, t ** 2 + c])


def energy(x, k):
    return 0.5 * k * np.sum(np.diff(x) ** 2) + np.sum(np.cos(x))
"""


def central_jacobian(fn, args, position, eps=1e-6):
    """Central differences of fn with respect to its argument at position, shaped value.shape + x.shape."""
    x = np.asarray(args[position], dtype=float)
    columns = []
    for k in range(x.size):
        step = np.zeros(x.size)
        step[k] = eps
        moved = [list(args), list(args)]
        moved[0][position] = x + step.reshape(x.shape) if x.ndim else float(x + eps)
        moved[1][position] = x - step.reshape(x.shape) if x.ndim else float(x - eps)
        columns.append((np.asarray(fn(*moved[0])) - np.asarray(fn(*moved[1]))) / (2 * eps))
    value = np.asarray(fn(*args))
    return np.stack(columns, axis=-1).reshape(value.shape + x.shape)


def test_emitted_jacobians_run_with_numpy_alone(capsys, tmp_path):
    """`--mode jacobian` writes `f_jacobian(*args) -> J` over the tangent and the split vjp: by columns for
    curve (3 outputs, 1 input: one tangent per input element), by rows for energy (1 output, 6 inputs: one
    backward sweep), and a tuple of blocks for two --wrt arguments; run where sourcediff cannot be
    imported, against differences and sd.jacobian."""
    (tmp_path / "curves.py").write_text(CURVES)
    spec = importlib.util.spec_from_file_location("curves", tmp_path / "curves.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x = np.linspace(-1.0, 1.0, 6)
    calls, expected = [], []
    for wrt, stem in (("t", "curve_t"), ("t,c", "curve_tc")):
        status, out, _ = run(capsys, "emit", tmp_path / "curves.py", "curve", "--mode", "jacobian", "--wrt", wrt,
                             "-o", tmp_path / f"{stem}.py")
        assert status == 0 and "import sourcediff" not in (tmp_path / f"{stem}.py").read_text()
        calls.append((stem, out.strip().split(": ", 1)[1].split(", "), (0.7, 1.3)))
    status, out, _ = run(capsys, "emit", tmp_path / "curves.py", "energy", "--mode", "jacobian", "-o",
                         tmp_path / "energy_x.py")
    assert status == 0
    calls.append(("energy_x", out.strip().split(": ", 1)[1].split(", "), (x, 2.5)))
    (dt, dtc, dx) = run_with_numpy_alone(tmp_path, calls)
    np.testing.assert_allclose(dt, central_jacobian(module.curve, (0.7, 1.3), 0), rtol=1e-6, atol=1e-8)
    assert np.shape(dt) == (3,) and len(dtc) == 2
    np.testing.assert_allclose(dtc[0], dt, rtol=1e-12)
    np.testing.assert_allclose(dtc[1], central_jacobian(module.curve, (0.7, 1.3), 1), rtol=1e-6, atol=1e-8)
    assert np.shape(dx) == (6,)
    np.testing.assert_allclose(dx, central_jacobian(module.energy, (x, 2.5), 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dx, sd.jacobian(module.energy)(x, 2.5), rtol=1e-12)
