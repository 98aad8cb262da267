"""The public API: wrt forms, decorators, .source, caching, determinism and check_grads."""
import inspect
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import sourcediff as sd

SCALE = 2.0


def poly(x, y):
    return x * x * y + SCALE * np.sin(y)


def poly_derivatives(x, y):
    return 2 * x * y, x * x + SCALE * np.cos(y)


def two_outputs(x, y):
    return x * y, x + y


@pytest.mark.parametrize("wrt", [0, "x"])
def test_wrt_position_or_name(wrt):
    value, tangent = sd.jvp(poly, wrt=wrt)(1.5, 0.3, 1.0)
    assert value == pytest.approx(poly(1.5, 0.3))
    assert tangent == pytest.approx(poly_derivatives(1.5, 0.3)[0])


def test_wrt_tuple_takes_one_tangent_each():
    dx, dy = 0.7, -1.3
    value, tangent = sd.jvp(poly, wrt=(0, "y"))(1.5, 0.3, dx, dy)
    gx, gy = poly_derivatives(1.5, 0.3)
    assert tangent == pytest.approx(gx * dx + gy * dy)


def test_tuple_valued_function_gives_tuple_of_tangents():
    value, tangent = sd.jvp(two_outputs, wrt=(0, 1))(2.0, 3.0, 1.0, 0.5)
    assert value == (6.0, 5.0)
    assert tangent == pytest.approx((1.0 * 3.0 + 2.0 * 0.5, 1.5))


@sd.tangent
def decorated(x, y):
    return x * x * y + SCALE * np.sin(y)


@sd.tangent(wrt="y")
def decorated_wrt(x, y):
    return x * x * y + SCALE * np.sin(y)


def test_tangent_decorator_keeps_primal_and_adds_jvp():
    assert decorated(1.5, 0.3) == pytest.approx(poly(1.5, 0.3))
    assert decorated.__name__ == "decorated"
    _, tangent = decorated.jvp(1.5, 0.3, 1.0)
    assert tangent == pytest.approx(poly_derivatives(1.5, 0.3)[0])
    _, tangent = decorated_wrt.jvp(1.5, 0.3, 1.0)
    assert tangent == pytest.approx(poly_derivatives(1.5, 0.3)[1])
    assert "def decorated_wrt_jvp_y(x, y, dy):" in decorated_wrt.source


def test_source_is_attached_and_inspectable():
    jf = sd.jvp(poly)
    assert inspect.getsource(jf) == jf.source
    assert jf.source.startswith("def poly_jvp_x(x, y, dx):")
    assert "# return x * x * y + SCALE * np.sin(y)" in jf.source
    assert jf.__code__.co_filename.endswith(".py")


def test_repeated_transforms_hit_the_cache():
    assert sd.jvp(poly) is sd.jvp(poly)


def test_cache_notices_code_changes():
    def f(x):
        return x * 2.0
    first = sd.jvp(f)
    assert first(1.0, 1.0)[1] == 2.0

    def g(x):
        return x * x * x
    f.__code__ = g.__code__
    second = sd.jvp(f)
    assert second is not first
    assert second(2.0, 1.0)[1] == pytest.approx(12.0)


def test_cache_notices_rebound_globals():
    global SCALE
    before = sd.jvp(poly, wrt="y")(1.0, 0.0, 1.0)[1]
    SCALE = 5.0
    try:
        after = sd.jvp(poly, wrt="y")(1.0, 0.0, 1.0)[1]
    finally:
        SCALE = 2.0
    assert before == pytest.approx(1.0 + 2.0)
    assert after == pytest.approx(1.0 + 5.0)


def test_decorated_function_regenerates_after_code_change():
    @sd.tangent
    def f(x):
        return x * 2.0
    assert f.jvp(1.0, 1.0)[1] == 2.0

    def g(x):
        return x * x
    f.fn.__code__ = g.__code__
    assert f.jvp(3.0, 1.0)[1] == pytest.approx(6.0)


def test_generation_is_deterministic_across_processes(tmp_path):
    script = textwrap.dedent("""
        import sys
        sys.path.insert(0, %r)
        import corpus, sourcediff as sd
        for case in corpus.CASES[:40]:
            sys.stdout.write(sd.jvp(case.fn, wrt=case.wrt).source)
    """) % str(__import__("pathlib").Path(__file__).parent)
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    assert runs[0] == runs[1] and len(runs[0]) > 1000


def test_check_grads_passes_on_smooth_functions():
    sd.check_grads(poly, (1.5, 0.3))
    sd.check_grads(poly, (np.array([1.0, 2.0]), 0.3), wrt=0)


def test_check_grads_reports_disagreement_as_a_table():
    def staircase(x):
        return np.floor(x) + x  # a jump at every integer: finite differences see it, derivatives do not
    with pytest.raises(AssertionError) as info:
        sd.check_grads(staircase, (1.0,))
    report = str(info.value)
    assert "derivatives of" in report and "finite diff" in report and "sourcediff" in report
    assert "forward" in report and "reverse" in report
    assert len(report.splitlines()) >= 3


def test_integer_arguments_outside_wrt_are_fine():
    def f(x, n):
        total = 0.0
        for i in range(n):
            total = total + x ** i
        return total
    value, tangent = sd.jvp(f)(2.0, 4, 1.0)
    assert value == 15.0
    assert tangent == pytest.approx(1 + 2 * 2 + 3 * 4)


def test_structured_arguments_have_structured_tangents():
    def f(params, x):
        return np.sum(np.tanh(x @ params["W"] + params["b"]))
    rng = np.random.default_rng(0)
    params = {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    x = rng.standard_normal((4, 3))
    direction = {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    _, tangent = sd.jvp(f)(params, x, direction)
    h = 1e-6
    plus = {k: params[k] + h * direction[k] for k in params}
    minus = {k: params[k] - h * direction[k] for k in params}
    assert tangent == pytest.approx((f(plus, x) - f(minus, x)) / (2 * h), rel=1e-6)


def test_defaults_of_the_primal_still_apply():
    def f(x, scale=3.0):
        return scale * x * x
    jf = sd.jvp(f)
    assert jf(2.0, 1.0) == (12.0, 12.0)
    assert jf(2.0, 1.0, 1.0) == (4.0, 4.0)
    with pytest.raises(sd.NonDifferentiableError):
        jf(2, 1.0)


def scaled_square_sum(w, scale=0.1):
    return np.sum(w ** 2) * scale


def test_arguments_given_by_name():
    """`sd.grad(f)(w, scale=0.2)` as f takes them (the gradient function passed scale=... on to a
    function whose cotangent came last: TypeError from generated code)."""
    w = np.array([1.0, 2.0])
    np.testing.assert_allclose(sd.grad(scaled_square_sum)(w, scale=0.2), 0.4 * w)
    value, gradient = sd.value_and_grad(scaled_square_sum)(scale=0.5, w=w)
    assert value == pytest.approx(2.5) and np.allclose(gradient, w)
    assert sd.grad(scaled_square_sum, wrt="scale")(w, scale=0.2) == pytest.approx(5.0)
    assert sd.jvp(scaled_square_sum)(w, np.ones(2), scale=0.2) == pytest.approx((1.0, 1.2))
    value, cotangent = sd.vjp(scaled_square_sum)(w, 1.0, scale=0.2)
    assert value == pytest.approx(1.0) and np.allclose(cotangent, 0.4 * w)
    with pytest.raises(TypeError, match=r"takes the arguments of scaled_square_sum\(w, scale=0.1\).*'rate'"):
        sd.grad(scaled_square_sum)(w, rate=0.2)


@sd.adjoint
def decorated_helper(x):
    return np.sin(x) * x


@sd.tangent
def other_decorated_helper(x):
    return np.exp(x)


def calls_decorated_helpers(x):
    return np.sum(decorated_helper(x) + other_decorated_helper(x))


def test_functions_decorated_by_sourcediff_are_differentiated_where_they_are_called():
    x = np.array([0.3, 1.2, -0.7])
    expected = np.cos(x) * x + np.sin(x) + np.exp(x)
    np.testing.assert_allclose(sd.grad(calls_decorated_helpers)(x), expected, rtol=1e-12)
    v = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(sd.jvp(calls_decorated_helpers)(x, v)[1], expected @ v, rtol=1e-12)
    sd.check_grads(calls_decorated_helpers, (x,))


def scale_rows_in_place(X, s):
    for i in range(X.shape[0]):
        X[i] = X[i] * s
    return np.sum(X)


def test_a_tangent_passed_in_is_not_changed_by_a_function_writing_its_argument():
    X, dX = np.ones((2, 3)), np.full((2, 3), 0.5)
    value, tangent = sd.jvp(scale_rows_in_place)(X.copy(), 2.0, dX)
    assert value == 12.0 and tangent == 6.0  # d/dt sum(2 (X + t dX)) = 2 sum(dX), by hand
    np.testing.assert_array_equal(dX, np.full((2, 3), 0.5))


def uses_helper_names_as_variables(x, y):
    unbroadcast = x * 2.0
    aligned = np.sin(unbroadcast) * y
    copy = aligned * y
    return np.sum(copy)


def test_variables_named_like_generated_code_helpers_are_renamed_in_it():
    x, y = np.array([0.1, 0.2, 0.3]), np.array([1.0, 2.0, 3.0])
    bx, by = sd.grad(uses_helper_names_as_variables, wrt=(0, 1))(x, y)
    np.testing.assert_allclose(bx, 2.0 * np.cos(2.0 * x) * y * y, rtol=1e-12)  # by hand
    np.testing.assert_allclose(by, 2.0 * np.sin(2.0 * x) * y, rtol=1e-12)
    sd.check_grads(uses_helper_names_as_variables, (x, y))
    value, estimate = sd.forward_gradient(uses_helper_names_as_variables, directions=3)(x, y, rng=0)
    assert value == pytest.approx(uses_helper_names_as_variables(x, y))
