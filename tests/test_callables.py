"""Callables as users write them: lambdas anywhere, nested functions reading enclosing variables,
functools.partial, bound methods, closures over functions passed in, star-arguments. Every
derivative is checked against central finite differences in every mode: jvp, grad (joint), vjp
split, and the forward gradient."""
import functools
import gc
import importlib.util
import os
import subprocess
import sys
import weakref

import numpy as np
import pytest

import sourcediff as sd
from sourcediff import cli
from sourcediff.runtime import rademacher_like

MODES = ("grad", "split", "jvp", "forward_gradient")


def finite_difference_gradient(f, args, position, eps=1e-6):
    x = np.asarray(args[position], dtype=float)
    gradient = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        shifted = []
        for sign in (1.0, -1.0):
            moved = x.copy()
            moved[i] += sign * eps
            call_args = list(args)
            call_args[position] = moved if x.ndim else float(moved)
            shifted.append(f(*call_args))
        gradient[i] = (shifted[0] - shifted[1]) / (2 * eps)
    return gradient


def check_modes(f, *args, wrt=0, modes=MODES):
    """f's derivative with respect to argument wrt (a position) in every mode, against finite differences."""
    expected = finite_difference_gradient(f, args, wrt)
    value = f(*args)
    tolerance = dict(rtol=1e-6, atol=1e-7)
    if "grad" in modes:
        np.testing.assert_allclose(sd.grad(f, wrt)(*args), expected, **tolerance)
    if "split" in modes:
        forward, backward = sd.vjp(f, wrt, motion="split")
        split_value, saved = forward(*args)
        np.testing.assert_allclose(split_value, value)
        np.testing.assert_allclose(backward(saved, 1.0), expected, **tolerance)
    if "jvp" in modes:
        direction = np.linspace(0.5, 1.5, np.size(expected)).reshape(np.shape(expected))
        direction = direction if np.ndim(expected) else float(direction)
        jvp_value, tangent = sd.jvp(f, wrt)(*args, direction)
        np.testing.assert_allclose(jvp_value, value)
        np.testing.assert_allclose(tangent, np.sum(expected * direction), **tolerance)
    if "forward_gradient" in modes:
        # a Rademacher direction s is the sign of the estimate (∇f·s) s, which checks it exactly
        fg_value, estimate = sd.forward_gradient(f, wrt, distribution="rademacher")(*args, rng=1)
        np.testing.assert_allclose(fg_value, value)
        signs = np.sign(estimate)
        np.testing.assert_allclose(estimate, np.sum(expected * signs) * signs, **tolerance)
        assert np.all(signs != 0)
        # three directions on a leading axis (vector mode), drawn as the generated code draws them
        directions = rademacher_like(args[wrt], np.random.default_rng(2), 3)
        _, estimate = sd.forward_gradient(f, wrt, directions=3, distribution="rademacher")(*args, rng=2)
        expected_mean = np.mean([np.sum(expected * v) * v for v in directions], axis=0)
        np.testing.assert_allclose(estimate, expected_mean, **tolerance)


# -- lambdas ---------------------------------------------------------------------------------------

scaled_sine = lambda x: 3.0 * np.sin(x)  # noqa: E731
square, sine_times = (lambda x: x * x + 1.0, lambda x: np.sin(x) * x)  # noqa: E731
outer_lambda = lambda x: (lambda y: y * y)(x) + x  # noqa: E731


def test_a_lambda_given_directly():
    check_modes(lambda x: 3.0 * np.sin(x), 0.4)
    check_modes(lambda w: np.sum(np.tanh(w) ** 2), np.array([0.3, -0.8, 1.1]))


def test_a_lambda_defined_at_module_level():
    check_modes(scaled_sine, 0.4)
    assert "def scaled_sine_vjp(" in sd.grad(scaled_sine).source


def test_lambdas_sharing_a_line_are_told_apart():
    check_modes(square, 0.7)
    check_modes(sine_times, 0.7)
    check_modes(lambda x: x * 2.0, 0.7), check_modes(lambda x: np.cos(x) * x, 0.7)


def test_a_lambda_inside_a_lambda():
    check_modes(outer_lambda, 0.7)


def apply_twice(h, x):
    return h(h(x))


def test_a_lambda_passed_to_a_helper():
    def f(x):
        return apply_twice(lambda t: np.sin(t) * 2.0, x) + x

    check_modes(f, 0.3)


def test_a_lambda_written_in_a_call():
    def f(x):
        return np.sum(np.exp(x)) * (lambda t: t * t)(np.sum(x))

    check_modes(f, np.array([0.2, -0.4]))


def test_a_lambda_reading_an_enclosing_variable():
    def f(a, b):
        g = lambda x: x * a + b  # noqa: E731
        return g(2.0) + g(3.0) * b

    check_modes(f, 0.3, 0.6, wrt=0)
    check_modes(f, 0.3, 0.6, wrt=1)


# -- nested functions reading enclosing variables (defect 5) ----------------------------------------

def test_a_nested_function_called_with_constants():
    def f(a):
        def inner(x):
            return x * a
        return inner(2.0) + inner(3.0)

    assert sd.grad(f)(0.3) == pytest.approx(5.0)
    check_modes(f, 0.3)


def test_a_nested_function_that_calls_another_with_no_derivative():
    def f(x, s):  # found by the fuzzer: inner's lifted copy called g (a constant call) by a name it lacked
        g = lambda t: t  # noqa: E731
        def inner(t):
            return t * s + g(t)
        return np.sum(x) + 0.25 * (inner(2.0) + inner(3.0))

    check_modes(f, np.array([0.3, -1.2]), 0.8, wrt=0)
    check_modes(f, np.array([0.3, -1.2]), 0.8, wrt=1)


def test_closures_nested_two_deep():
    def f(a):
        def middle(x):
            def inner(y):
                return y * a * a
            return inner(x) + x * a
        return middle(2.0) * middle(0.5)

    check_modes(f, 0.3)


def test_a_nested_function_reading_an_enclosing_array():
    def f(w):
        scale = np.sum(w * w)

        def weigh(v):
            return np.dot(v, w) * scale
        return weigh(np.ones(3)) + weigh(np.arange(3.0))

    check_modes(f, np.array([0.3, -0.5, 0.9]))


def test_a_nested_function_reading_through_another():
    def f(a, b):
        def inner(y):
            return y * np.sin(a)

        def outer(x):
            return inner(x) + x
        return outer(2.0) + outer(b)

    check_modes(f, 0.3, 0.8, wrt=0)
    check_modes(f, 0.3, 0.8, wrt=1)


def cube(t):
    return t * t * t


def test_a_function_passed_to_a_helper():
    def f(x):
        return apply_twice(cube, x) + apply_twice(np.sin, x) + apply_twice(h=np.tanh, x=x)

    check_modes(f, 0.7)


# -- functools.partial and bound methods -------------------------------------------------------------

def squared_error(w, X, y, scale=1.0):
    residual = X @ w - y
    return scale * np.sum(residual ** 2)


X_DATA = np.array([[1.0, 2.0], [0.5, -1.0], [3.0, 0.2]])
Y_DATA = np.array([0.3, -0.2, 1.1])


def test_a_partial_of_a_user_function():
    check_modes(functools.partial(squared_error, X=X_DATA, y=Y_DATA), np.array([0.4, -0.7]))
    check_modes(functools.partial(squared_error, scale=0.5, y=Y_DATA), np.array([0.4, -0.7]), X_DATA)
    check_modes(functools.partial(squared_error, np.array([0.4, -0.7])), X_DATA, Y_DATA, wrt=1)


def test_a_partial_called_inside():
    fixed = functools.partial(squared_error, X=X_DATA, y=Y_DATA)

    def f(w):
        return fixed(w) + fixed(2.0 * w, scale=0.1)

    check_modes(f, np.array([0.4, -0.7]))


class Regression:
    def __init__(self, X, y, penalty):
        self.X, self.y = X, y
        self.config = {"penalty": penalty}

    def loss(self, w):
        return np.mean((self.X @ w - self.y) ** 2) + self.regulariser(w)

    def regulariser(self, w):
        return self.config["penalty"] * np.sum(w * w)


def test_a_bound_method():
    model = Regression(X_DATA, Y_DATA, 0.1)
    check_modes(model.loss, np.array([0.4, -0.7]))
    assert "def loss_vjp(w, " in sd.grad(model.loss).source


def test_a_bound_method_called_inside():
    model = Regression(X_DATA, Y_DATA, 0.1)

    def f(w):
        return model.loss(w) * 2.0 + model.regulariser(w)

    check_modes(f, np.array([0.4, -0.7]))


# -- closures over functions passed in (autograd's Gaussian-process example) -------------------------

def make_gp_funs(cov_func, num_cov_params):
    def unpack_kernel_params(params):
        mean = params[0]
        cov_params = params[2:]
        noise_scale = np.exp(params[1]) + 0.0001
        return mean, cov_params, noise_scale

    def log_marginal_likelihood(params, x, y):
        mean, cov_params, noise_scale = unpack_kernel_params(params)
        cov_y_y = cov_func(cov_params, x, x) + noise_scale * np.eye(len(y))
        prior_mean = mean * np.ones(len(y))
        residual = y - prior_mean
        return -0.5 * residual @ np.linalg.solve(cov_y_y, residual) - 0.5 * np.log(np.linalg.det(cov_y_y))

    return num_cov_params + 2, log_marginal_likelihood


def rbf_covariance(kernel_params, x, xp):
    output_scale = np.exp(kernel_params[0])
    lengthscales = np.exp(kernel_params[1:])
    diffs = np.expand_dims(x / lengthscales, 1) - np.expand_dims(xp / lengthscales, 0)
    return output_scale * np.exp(-0.5 * np.sum(diffs ** 2, axis=2))


def test_a_closure_over_a_function_passed_in():
    num_params, objective = make_gp_funs(rbf_covariance, num_cov_params=2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 1))
    y = np.sin(x[:, 0]) + 0.1 * rng.standard_normal(5)
    params = 0.1 * rng.standard_normal(num_params)
    check_modes(objective, params, x, y)


# -- star-arguments ------------------------------------------------------------------------------------

def weighted_pair(a, b, weight):
    return a * weight + b * b


def total_of(first, *rest):
    total = first
    for r in rest:
        total = total + r * r
    return total


def test_a_call_with_star_arguments():
    def f(x):
        pair = (x, np.sin(x))
        arguments = [x * x, 2.0, 0.5]
        return weighted_pair(*pair, 3.0) + weighted_pair(*arguments) + weighted_pair(x, *[pair[1]], weight=x)

    check_modes(f, 0.6)


def test_a_helper_with_a_star_parameter():
    def f(x, y):
        return total_of(x) + total_of(x, y) + total_of(y, x * y, 2.0, np.cos(x))

    check_modes(f, 0.6, -0.4, wrt=0)
    check_modes(f, 0.6, -0.4, wrt=1)


def test_zip_of_star_rows():
    def f(w):
        rows = [w, w * w, np.ones(3)]
        total = 0.0
        for a, b, c in zip(*rows):
            total = total + a * b - c * a
        return total

    check_modes(f, np.array([0.3, -0.5, 1.2]))


def test_star_unpacking_where_its_length_is_unknown_is_refused():
    def f(x):
        return np.maximum(*[x, 2.0 * x])

    with pytest.raises(sd.UnsupportedSyntaxError, match="star-unpacking") as info:
        sd.grad(f)
    assert info.value.lineno == f.__code__.co_firstlineno + 1


# -- refusals ------------------------------------------------------------------------------------------

def consecutive_pairs(xs):
    for i in range(len(xs) - 1):
        yield xs[i], xs[i + 1]


def test_a_helper_generator_is_refused_where_it_yields():
    def f(x):
        total = 0.0
        for a, b in consecutive_pairs([x, 2.0 * x, 3.0]):
            total = total + a * b
        return total

    for transform in (sd.grad, sd.jvp):
        with pytest.raises(sd.UnsupportedSyntaxError, match="yield") as info:
            transform(f)
        assert info.value.filename == __file__
        assert info.value.lineno == consecutive_pairs.__code__.co_firstlineno + 2


def test_lambdas_that_cannot_be_told_apart_are_refused(tmp_path):
    # without column positions (python -X no_debug_ranges) two lambdas with one parameter name on one
    # line are genuinely ambiguous
    (tmp_path / "twins.py").write_text("twins = (lambda x: x * x, lambda x: x + x)\n")
    script = ("import sourcediff as sd, twins\n"
              "try:\n    sd.grad(twins.twins[1])\nexcept sd.UnsupportedSyntaxError as e:\n    print(e.lineno, e)\n")
    result = subprocess.run([sys.executable, "-X", "no_debug_ranges", "-c", script], cwd=tmp_path, text=True,
                            capture_output=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert result.stdout.startswith("1 ") and "several lambdas" in result.stdout, result.stderr


# -- the command line: standalone modules with lambdas ----------------------------------------------------

LAMBDA_MODULE = '''import numpy as np

scaled_sine = lambda x: 3.0 * np.sin(x)
square, cube = (lambda x: x * x, lambda x: x * x * x)


def apply_twice(h, x):
    return h(h(x))


def uses_them(x, a):
    g = lambda t: t * a
    return apply_twice(lambda t: np.sin(t) * a, x) + g(2.0) + apply_twice(cube, x) + square(x) * a \\
        + apply_twice(square, 0.3) * x + apply_twice(np.tanh, 0.5) * a
'''


@pytest.mark.parametrize("mode, suffix", [("reverse", "vjp"), ("forward", "jvp"), ("forward-gradient", "forward_gradient")])
def test_emitted_lambdas_run(capsys, tmp_path, mode, suffix):
    """The standalone module holds the lambdas as written (tests/test_cli.py shows such modules run with NumPy
    alone); its derivatives agree with finite differences."""
    (tmp_path / "user_lambdas.py").write_text(LAMBDA_MODULE)
    namespace = {}
    exec(compile(LAMBDA_MODULE, str(tmp_path / "user_lambdas.py"), "exec"), namespace)
    options = ["--distribution", "rademacher"] if mode == "forward-gradient" else []  # for scalars: exactly f'
    status = cli.main(["emit", str(tmp_path / "user_lambdas.py"), "scaled_sine", "cube", "uses_them", "--mode", mode,
                       "--wrt", "x", "-o", str(tmp_path / "derived.py"), *options])
    assert status == 0, capsys.readouterr().err
    source = (tmp_path / "derived.py").read_text()
    assert "scaled_sine = lambda x: 3.0 * np.sin(x)" in source and "cube = lambda x: x * x * x" in source
    assert "<lambda>" not in source and "import sourcediff" not in source
    assert "apply_twice_square = functools.partial(apply_twice, h=square)" in source
    spec = importlib.util.spec_from_file_location(f"derived_{mode}", tmp_path / "derived.py")
    derived = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(derived)
    names = {"uses_them": f"uses_them_{suffix}" + ("" if mode == "forward-gradient" else "_x")}  # wrt x only
    for entry, args in [("scaled_sine", (0.4,)), ("cube", (0.7,)), ("uses_them", (0.4, 0.9))]:
        derivative_of = getattr(derived, names.get(entry, f"{entry}_{suffix}"))
        if mode == "forward-gradient":
            value, derivative = derivative_of(*args, rng=0)
        else:
            value, derivative = derivative_of(*args, 1.0)  # the tangent or cotangent 1.0
        assert value == pytest.approx(namespace[entry](*args))
        assert derivative == pytest.approx(float(finite_difference_gradient(namespace[entry], args, 0)), rel=1e-6)


def test_a_nested_default_reading_an_enclosing_variable_is_refused():
    def f(a):
        def inner(x, scale=a):
            return x * scale
        return inner(2.0)

    for transform in (sd.grad, sd.jvp):
        with pytest.raises(sd.UnsupportedSyntaxError, match="default value that reads 'a'") as info:
            transform(f)
        assert info.value.lineno == f.__code__.co_firstlineno + 1


def test_a_lambda_calling_a_function_with_data():
    check_modes(lambda w: squared_error(w, X_DATA, Y_DATA), np.array([0.4, -0.7]))


def test_lambdas_with_defaults_and_in_comprehensions():
    def f(x, a):
        g = lambda t, s=2.0: t * s * a  # noqa: E731
        return g(x) + g(x, s=0.5) + sum([(lambda t: t * t * a)(v) for v in [x, 2.0 * x]])

    check_modes(f, 0.3, 0.8, wrt=0)
    check_modes(f, 0.3, 0.8, wrt=1)


def test_a_partial_made_inside():
    def f(w, scale):
        fixed = functools.partial(squared_error, X=X_DATA, y=Y_DATA * scale)
        scale = 2.0 * scale
        first = functools.partial(squared_error, w)
        return fixed(w) + fixed(w * scale, scale=0.5) + first(X_DATA, Y_DATA)

    check_modes(f, np.array([0.4, -0.7]), 0.8, wrt=0)
    check_modes(f, np.array([0.4, -0.7]), 0.8, wrt=1)


def test_a_forward_gradient_of_a_function_reassigning_its_parameter():
    # found with the partial above: the estimate multiplied by the reassigned tangent, not the direction
    def f(s):
        s = 2.0 * s
        return s * s

    check_modes(f, 0.8)


def apply_and_scale(h, x):
    return apply_twice(h, x) * 2.0


def test_lambdas_nested_two_deep_called_with_constants():
    def f(a):
        g = lambda x: (lambda y: y * a)(x) * x  # noqa: E731
        return g(2.0) + g(3.0) * a

    check_modes(f, 0.7)


def test_a_nested_function_passed_on_by_a_helper():
    def f(x, a):
        def shrink(t):
            return np.tanh(t) * a
        return apply_and_scale(shrink, x) + apply_and_scale(h=lambda t: t * a, x=2.0)

    check_modes(f, 0.4, 0.9, wrt=0)
    check_modes(f, 0.4, 0.9, wrt=1)


def median_of(h, x):
    return np.median(h(x))


def test_an_error_in_a_helper_given_a_lambda_names_the_helper():
    def f(x, a):
        return median_of(lambda t: t * a, x)

    with pytest.raises(sd.NonDifferentiableError, match="np.median") as info:
        sd.grad(f, 1)
    assert (info.value.filename, info.value.lineno) == (__file__, median_of.__code__.co_firstlineno + 1)
    assert info.value.line.strip() == "return np.median(h(x))"


class Quadratic:
    def __init__(self, curvature):
        self.curvature = curvature

    def __call__(self, x):
        return 0.5 * np.sum(self.curvature * x * x)


def test_a_callable_instance():
    check_modes(Quadratic(np.array([1.0, 3.0])), np.array([0.4, -0.7]))


def apply_or_sine(x, h=np.sin):
    return h(x) * 2.0


def test_a_function_parameter_with_a_default():
    def f(x, a):
        return apply_or_sine(x) + apply_or_sine(x, h=lambda t: t * a) + apply_or_sine(x, cube)

    check_modes(f, 0.4, 0.9, wrt=0)
    check_modes(f, 0.4, 0.9, wrt=1)


def penalised(w, X, *, l2=0.1):
    return np.sum(np.tanh(X @ w) ** 2) + l2 * np.sum(w * w)


def positional_only_sine(w, /, scale):
    return scale * np.sum(np.sin(w))


def calls_with_keyword_only(w, X):
    def inner(t, *, c=2.0):
        return c * t * t
    g = lambda t, *, c=3.0: c * t  # noqa: E731
    return penalised(w, X, l2=0.3) + penalised(w, X) + np.sum(inner(w) + inner(w, c=0.5) + g(w, c=1.5))


def weighted_sums(x, *ws, scale=1.0):
    total = 0.0
    for w in ws:
        total = total + np.sum(w * x)
    return total * scale


def calls_with_varargs_and_keyword_only(x):  # once TypeError: the keyword-only scale took a *ws argument's place
    return weighted_sums(x, 2.0 * x, np.sin(x), scale=0.5) + weighted_sums(x, x) + weighted_sums(x)


W0, X0 = np.array([0.3, -0.7, 1.1]), np.array([[0.5, -1.0, 0.2], [1.5, 0.3, -0.4]])


@pytest.mark.parametrize("f, args", [(penalised, (W0, X0)), (positional_only_sine, (W0, 2.0)),
                                     (calls_with_keyword_only, (W0, X0)),
                                     (calls_with_varargs_and_keyword_only, (W0,))])
def test_keyword_only_and_positional_only_parameters(f, args):
    """`def f(w, X, *, l2=0.1)` and `def f(w, /, scale)` (and nested defs and lambdas with keyword-only
    parameters, called by name): once refused, now read as ordinary parameters, which the derivatives take
    by position and by name."""
    check_modes(f, *args)


def test_keyword_only_arguments_given_by_name():
    expected = finite_difference_gradient(lambda w: penalised(w, X0, l2=0.5), (W0,), 0)
    np.testing.assert_allclose(sd.grad(penalised)(W0, X0, l2=0.5), expected, rtol=1e-6, atol=1e-7)
    value, gradient = sd.value_and_grad(penalised)(W0, X0, l2=0.5)
    assert value == pytest.approx(penalised(W0, X0, l2=0.5))
    np.testing.assert_allclose(gradient, expected, rtol=1e-6, atol=1e-7)
    _, cotangent = sd.vjp(penalised)(W0, X0, 2.0, l2=0.5)
    np.testing.assert_allclose(cotangent, 2.0 * expected, rtol=1e-6, atol=1e-7)
    direction = np.array([1.0, -0.5, 2.0])
    value, tangent = sd.jvp(penalised)(W0, X0, direction, l2=0.5)
    assert tangent == pytest.approx(expected @ direction, rel=1e-6)


def mean_squared_error(w, *, X, y):
    return np.mean((X @ w - y) ** 2)


scaled_sines = lambda x, *, s=2.0: np.sum(np.sin(x) * s)  # noqa: E731


def test_keyword_only_parameters_without_defaults_lambdas_and_partials():
    """`def loss(w, *, X, y)` called by name, a lambda with a keyword-only parameter, and a partial fixing
    keyword-only parameters (which once stayed in the derivative's signature: TypeError)."""
    X, y, w = np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.1]]), np.array([0.3, -0.2, 1.0]), np.array([0.1, -0.2])
    expected = 2 * X.T @ (X @ w - y) / 3
    np.testing.assert_allclose(sd.grad(mean_squared_error)(w, X=X, y=y), expected, rtol=1e-12)
    np.testing.assert_allclose(sd.grad(functools.partial(mean_squared_error, X=X, y=y))(w), expected, rtol=1e-12)
    np.testing.assert_allclose(sd.hessian(mean_squared_error)(w, X=X, y=y), 2 * X.T @ X / 3, rtol=1e-12)
    x = np.array([0.3, -0.4])
    np.testing.assert_allclose(sd.grad(scaled_sines)(x), 2.0 * np.cos(x), rtol=1e-12)
    np.testing.assert_allclose(sd.grad(scaled_sines)(x, s=3.0), 3.0 * np.cos(x), rtol=1e-12)


def second_row(a0, a2):
    return a2[1]


def partial_called_where_made(x):  # once a silent zero gradient: what the partial fixed was taken for constants
    return np.sum(functools.partial(second_row, a0=x[:2], a2=np.outer(x[1:], x))())


def partials_in_a_mask(x, A):
    y = functools.partial(second_row, a2=np.outer(x, x))(x) if A[0, 1] >= 0.2 else x
    return np.sum(y[(functools.partial(second_row, a0=x, a2=np.outer(x, x))() if A[0, 1] >= 0.2 else x) > 0.1])


def scaled_second(a0, a1, *, a2=0.5):
    return a0[1] * a2 + a1


def nested_in_two_variants(x, p):  # found by the fuzzer (seed 470000911): a silently wrong forward derivative
    def inner(t):
        def fixed(a0):
            return scaled_second(a0, a1=p[0], a2=t)
        return t * x + fixed(p) + functools.partial(scaled_second, a1=p[0], a2=t)(p)
    return np.sum(inner(2.0) + inner(p[1][1]))


def test_a_def_inside_a_nested_function_with_two_variants():
    """inner is called with a constant and with a value that carries a derivative: two variants. The def
    inside it (or a partial made there) reads t, active in one variant only, and once had one variant for
    both, which dropped t's tangent in forward mode."""
    x, p = np.array([0.3, -0.5, 0.8]), (np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0]))
    v = (np.array([1.0, -0.5, 0.2]), np.array([0.3, 0.7, -0.2]))
    _, tangent = sd.jvp(nested_in_two_variants, 1)(x, p, v)
    p0, p1 = p
    h = 1e-6
    plus = nested_in_two_variants(x, (p0 + h * v[0], p1 + h * v[1]))
    minus = nested_in_two_variants(x, (p0 - h * v[0], p1 - h * v[1]))
    assert tangent == pytest.approx((plus - minus) / (2 * h), rel=1e-7)
    check_modes(nested_in_two_variants, x, p, wrt=0)


def test_a_partial_made_within_an_expression():
    """functools.partial(f, a=e)() called where it is made, and in an index (read as a mask): the
    derivatives of the arguments it fixes flow (found by the grammar's `partial` construct: 28 of 115
    programs wrong, a zero derivative of what the partial fixed)."""
    x = np.array([0.3, -0.5, 0.8])
    np.testing.assert_allclose(sd.grad(partial_called_where_made)(x), [x[2], x[2], x[0] + x[1] + 2 * x[2]],
                               rtol=1e-12)
    check_modes(partial_called_where_made, x)
    check_modes(partials_in_a_mask, x, np.ones((2, 3)))


def doubled_first(x):
    doubled_first = x[0] * 2.0
    return doubled_first


def test_a_local_variable_named_like_its_function():
    """Found by the fuzzer: the entry checks named the function by its own name, which the local
    variable hides (UnboundLocalError in every mode)."""
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(sd.grad(doubled_first)(x), [2.0, 0.0])
    forward, backward = sd.vjp(doubled_first, motion="split")
    np.testing.assert_allclose(backward(forward(x)[1], 1.0), [2.0, 0.0])
    assert sd.jvp(doubled_first)(x, np.array([1.0, 3.0]))[1] == 2.0


class ScaledModel:
    def __init__(self, scale):
        self.scale = scale

    @sd.adjoint
    def loss(self, w):
        return self.scale * np.sum(np.sin(w) * w)

    @sd.tangent
    def energy(self, w):
        return self.scale * np.sum(w ** 3)


def test_decorated_methods_read_from_an_instance():
    """@sd.adjoint and @sd.tangent on methods: read from an instance they transform the bound method
    (wrt counts the parameters after self), each instance with its own derivatives."""
    w, v = np.array([0.3, -1.2]), np.array([1.0, 0.5])
    for scale in (2.0, -0.5):
        model = ScaledModel(scale)
        assert model.loss(w) == pytest.approx(scale * np.sum(np.sin(w) * w))
        np.testing.assert_allclose(model.loss.grad(w), scale * (np.cos(w) * w + np.sin(w)), rtol=1e-12)
        value, tangent = model.energy.jvp(w, v)
        assert tangent == pytest.approx(scale * np.sum(3 * w ** 2 * v))
        assert model.loss is model.loss
    assert ScaledModel.loss(ScaledModel(3.0), w) == pytest.approx(3.0 * np.sum(np.sin(w) * w))


def make_scaled_sine(scale):
    def scaled_sine(x):
        return scale * np.sum(np.sin(x))
    return scaled_sine


def test_generated_derivatives_keep_neither_functions_nor_instances_alive():
    """The cache of derivatives was weak-keyed, but a derivative refers to its function (and a decorated
    method's to its instance): every function ever differentiated, and every instance whose decorated
    method was read, stayed alive. Now the caches hold only the most recently used."""
    x = np.array([0.3, -1.2])
    functions, models = [], []
    for k in range(300):
        f = make_scaled_sine(float(k))
        np.testing.assert_allclose(sd.grad(f)(x), k * np.cos(x), rtol=1e-12)
        functions.append(weakref.ref(f))
        model = ScaledModel(float(k))
        np.testing.assert_allclose(model.loss.grad(x), k * (np.cos(x) * x + np.sin(x)), rtol=1e-12)
        models.append(weakref.ref(model))
    del f, model
    gc.collect()
    assert sum(r() is not None for r in functions) <= 128
    assert sum(r() is not None for r in models) <= 64


def scaled_at_a_computed_index(x):
    def shifted(i):
        return i + 1
    y = x * 2.0
    return y[shifted(0)] * x[shifted(1)]


def squares_a_random_element(x, rng):
    return 3.0 * x[rng.integers(0, 3)] ** 2


def test_an_index_computed_by_a_call_is_computed_once():
    """`x[k(1)]`: the backward function read the index again, calling a nested function only the
    forward function defines (NameError in split motion) or drawing another random index (a gradient
    for another element than the value's, in every motion)."""
    x = np.array([1.0, 2.0, 3.0])
    forward, backward = sd.vjp(scaled_at_a_computed_index, motion="split")
    np.testing.assert_allclose(backward(forward(x)[1], 1.0), [0.0, 6.0, 4.0])
    np.testing.assert_allclose(sd.grad(scaled_at_a_computed_index)(x), [0.0, 6.0, 4.0])
    for seed in range(8):
        value, gradient = sd.value_and_grad(squares_a_random_element)(x, np.random.default_rng(seed))
        picked = int(np.flatnonzero(3.0 * x ** 2 == value)[0])
        np.testing.assert_allclose(gradient, np.where(np.arange(3) == picked, 6.0 * x, 0.0))


def writes_where_a_nested_function_says(x):
    def above(t):
        return np.fmax(t, np.mean(x))
    y = x * x[1]
    y[above(y) < 0.1] += 1.0
    y[above(x) > 0.2] = y[0] * 3.0
    return np.sum(np.sin(x) * y)


def adds_at_a_random_element(x, rng):
    y = x * 1.0
    y[rng.integers(0, 3)] *= 4.0
    return np.sum(y * x)


def test_the_index_of_a_write_computed_by_a_call_is_computed_once():
    """`y[g(y) < c] += 1.0`, `y[rng.integers(0, 3)] *= 4.0`: the write's own index was computed again by
    the statements that undo it in the backward pass (NameError in split motion, found by the fuzzer at
    seed 60001872; another random element than the value's in every motion)."""
    x = np.array([0.3, -1.2, 0.7])
    expected = finite_difference_gradient(writes_where_a_nested_function_says, (x,), 0)
    forward, backward = sd.vjp(writes_where_a_nested_function_says, motion="split")
    np.testing.assert_allclose(backward(forward(x)[1], 1.0), expected, atol=1e-6)
    np.testing.assert_allclose(sd.grad(writes_where_a_nested_function_says)(x), expected, atol=1e-6)
    for seed in range(8):
        value, gradient = sd.value_and_grad(adds_at_a_random_element)(x, np.random.default_rng(seed))
        picked = int(np.argmin([abs(value - (x @ x + 3.0 * x[k] ** 2)) for k in range(3)]))
        np.testing.assert_allclose(gradient, 2.0 * x + np.where(np.arange(3) == picked, 6.0 * x, 0.0))


# -- one nested function, two variants --------------------------------------------------------------

def test_a_closure_called_with_a_differentiable_argument_and_with_a_constant():
    """Two variants of one lifted nested function (for `inner(x)` and for `inner(2.0)`): each must be
    transformed from its own copy; sharing the tree let the first one's clean-up passes rewrite the
    second (tanh's adjoint then read the wrong output: a wrong gradient, found by the fuzzer's
    closure_two_variants)."""
    def f(x, a):
        def inner(t):
            return t * a + np.tanh(t * a) * t
        return np.sum(inner(x) + inner(2.0))

    def g(x, a):
        def inner(t):
            return t * a + np.tanh(t * a) * t
        return np.sum(inner(2.0) + inner(x))

    x, a = np.array([0.1, -0.3, 0.5, 0.2]), 0.9
    for fn in (f, g):
        gx, ga = sd.grad(fn, (0, 1))(x, a)
        np.testing.assert_allclose(gx, finite_difference_gradient(fn, (x, a), 0), rtol=1e-6, atol=1e-8)
        assert ga == pytest.approx(finite_difference_gradient(fn, (x, a), 1), rel=1e-6)
