"""The forward-gradient examples run end to end with few steps: they write their plots and every
method lowers the loss it starts from."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "examples"))

import forward_gradient_digits  # noqa: E402
import forward_gradient_test_functions  # noqa: E402


def assert_png(path):
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path


def test_test_functions_example(tmp_path, capsys):
    results = forward_gradient_test_functions.main(["--out", str(tmp_path), "--steps", "100"])
    for name in ("beale", "rosenbrock"):
        assert_png(tmp_path / f"{name}.png")
        assert set(results[name]) == {"forward gradient", "gradient (reverse mode)"}
        for first, _, final in results[name].values():
            assert final < first
    assert "final point" in capsys.readouterr().out


def test_digits_example(tmp_path, capsys):
    results = forward_gradient_digits.main(["--out", str(tmp_path), "--steps", "60"])
    for name in ("logistic", "mlp"):
        assert_png(tmp_path / f"digits_{name}.png")
        assert set(results[name]) == set(forward_gradient_digits.METHODS)
        for curve in results[name].values():
            assert curve[-1, 0] == 60 and curve[-1, 2] < curve[0, 2]
            assert curve[-1, 1] > 0
    assert capsys.readouterr().out.count("accuracy") == 6
