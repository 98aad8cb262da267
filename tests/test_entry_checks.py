"""What the functions users call check before any arithmetic (issue 10, defects 7 and 13, point 6): a
value of None, arguments with no derivative, tangents and cotangents of another structure, shape or
dtype, and missing or extra arguments, each refused with an error naming the function and the
parameter. Every mode's entry function: jvp, vjp joint and split, forward_gradient, the decorators, and
the standalone modules the command line writes."""
import importlib.util
import textwrap

import numpy as np
import pytest

import sourcediff as sd
from corpus_tools import central_gradient
from sourcediff import cli


def forgot_the_return(x):
    y = np.sum(x ** 2)


def sometimes_none(x):
    if np.sum(x) > 0:
        return np.sum(x ** 2)


def scalar_sometimes_none(x):
    if x > 0:
        return x * x


def scaled_by_name(x, label):
    return np.sum(x) * len(label)


# -- defect 7: a value of None, a non-numeric wrt argument ------------------------------------------

@pytest.mark.parametrize("transform", [sd.grad, sd.value_and_grad, sd.vjp, sd.jvp, sd.forward_gradient,
                                       lambda f: sd.vjp(f, motion="split")], ids=lambda t: getattr(t, "__name__", "split"))
def test_a_function_without_a_return_value_is_refused(transform):
    with pytest.raises(sd.NonDifferentiableError, match="forgot_the_return returns None") as error:
        transform(forgot_the_return)
    assert "test_entry_checks.py" in str(error.value)


def test_a_value_of_none_at_run_time_is_refused():
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(sd.grad(sometimes_none)(x), 2 * x)
    with pytest.raises(sd.NonDifferentiableError, match="sometimes_none returned None"):
        sd.grad(sometimes_none)(-x)
    with pytest.raises(sd.NonDifferentiableError, match="sometimes_none returned None"):
        sd.vjp(sometimes_none)(-x, 1.0)
    with pytest.raises(sd.NonDifferentiableError, match="scalar_sometimes_none returned None"):
        sd.grad(scalar_sometimes_none)(-1.0)  # scalar code, through the variant for Python numbers
    assert sd.grad(scalar_sometimes_none)(3.0) == pytest.approx(6.0)
    forward, backward = sd.vjp(sometimes_none, motion="split")
    _, saved = forward(-x)
    with pytest.raises(sd.NonDifferentiableError, match="sometimes_none returned None"):
        backward(saved, 1.0)


def returns_none_on_one_branch(x):
    if x[0] > 0:
        return np.sum(x * x)
    return


@pytest.mark.parametrize("f", [sometimes_none, returns_none_on_one_branch])
def test_forward_mode_refuses_a_value_of_none_at_run_time(f):
    """The tangent and the forward gradient of a function that returned None came back as None."""
    x, v = np.array([1.0, 2.0]), np.array([0.5, 1.0])
    assert sd.jvp(f)(x, v)[1] == pytest.approx(2 * x @ v)
    for call in (lambda: sd.jvp(f)(-x, v), lambda: sd.forward_gradient(f)(-x)):
        with pytest.raises(sd.NonDifferentiableError, match=f"{f.__name__} returned None") as error:
            call()
        assert error.value.filename == __file__ and error.value.lineno == f.__code__.co_firstlineno


@pytest.mark.parametrize("label, kind", [("abc", "a str"), (None, "None"), (object(), "an object"),
                                         (np.array(["a", "b"]), "an array of dtype <U1")])
def test_a_non_numeric_wrt_argument_is_named_with_its_type(label, kind):
    x = np.array([1.0, 2.0])
    calls = [lambda: sd.grad(scaled_by_name, wrt=1)(x, label),
             lambda: sd.grad(scaled_by_name, wrt=(0, 1))(x, label),
             lambda: sd.jvp(scaled_by_name, wrt=1)(x, label, 1.0),
             lambda: sd.vjp(scaled_by_name, wrt=1, motion="split")[0](x, label),
             lambda: sd.forward_gradient(scaled_by_name, wrt=1)(x, label)]
    for call in calls:
        with pytest.raises(sd.NonDifferentiableError, match=f"argument 'label' of scaled_by_name holds {kind}"):
            call()


class Pool:
    """A user object with methods named like the array's."""
    def sum(self, v):
        return 2.0 * v


def pooled(x, pool):
    return np.sum(pool.sum(x) * x)


def pooled_constant(x, pool):
    return np.sum(x * pool.sum(1.0))


def weighted(x, X):
    return np.sum(X.dot(x) ** 2) + X.T.sum() * x[0]


def converted_first(x, X):
    X = np.asarray(X)
    return np.sum(X.dot(x) ** 2)


@pytest.mark.parametrize("f", [pooled, pooled_constant], ids=lambda f: f.__name__)
def test_an_object_whose_method_is_read_as_the_arrays_is_refused(f):
    """`pool.sum(x)` is read as NumPy's method (np.sum(pool, x)): an argument of another type got it
    wrong (np.sum calls Pool.sum(axis=...), a TypeError from inside NumPy); now it is refused."""
    x = np.array([1.0, 2.0])
    calls = [lambda: sd.grad(f)(x, Pool()), lambda: sd.jvp(f)(x, Pool(), x),
             lambda: sd.vjp(f, motion="split")[0](x, Pool()), lambda: sd.forward_gradient(f)(x, Pool())]
    for call in calls:
        with pytest.raises(sd.NonDifferentiableError, match=r"argument 'pool' of \w+ is a Pool, but sourcediff "
                                                            r"reads pool\.sum\(\) as the NumPy array's sum"):
            call()


def test_arrays_whose_methods_the_function_reads_still_pass():
    x, X = np.array([0.5, -1.0, 2.0]), np.arange(6.0).reshape(2, 3) / 4
    expected = central_gradient(lambda v: weighted(v, X), x)
    np.testing.assert_allclose(sd.grad(weighted)(x, X), expected, rtol=1e-6)
    # a parameter the function assigns before reading its methods is not checked at the entry
    rows = X.tolist()
    expected = central_gradient(lambda v: converted_first(v, rows), x)
    np.testing.assert_allclose(sd.grad(converted_first)(x, rows), expected, rtol=1e-6)
    np.testing.assert_allclose(sd.jvp(converted_first)(x, rows, np.ones(3))[1], expected.sum(), rtol=1e-6)


def test_grad_of_a_non_scalar_value_is_refused():
    for value in (lambda x: x * 2.0, lambda x: (np.sum(x), np.sum(x)), lambda x: [np.sum(x)]):
        with pytest.raises(sd.SourceDiffError, match="scalar"):
            sd.grad(value)(np.ones(3))


# -- defect 13 and point 6: tangents and cotangents ---------------------------------------------------

def sine_weighted(x, y):
    return np.sin(x) * y


def tuple_valued(x, y):
    return np.sum(x * y), x * 2.0


X, Y = np.array([0.1, 0.2, 0.3]), np.array([1.0, 2.0, 3.0])


@pytest.mark.parametrize("tangent, message", [
    (np.ones(4), r"tangent for argument 'x' of sine_weighted has shape \(4,\), but x has shape \(3,\)"),
    (np.ones((3, 1)), r"has shape \(3, 1\), but x has shape \(3,\)"),
    (1.0, r"tangent for argument 'x' of sine_weighted is a float, but x has shape \(3,\)"),
    (np.ones(3, dtype=int), r"tangent for argument 'x' of sine_weighted holds integers"),
    (np.ones(3, dtype=complex), r"tangent for argument 'x' of sine_weighted holds complex numbers"),
    ([1.0, 2.0, 3.0], r"tangent for argument 'x' of sine_weighted is a list"),
])
def test_jvp_refuses_a_tangent_unlike_its_argument(tangent, message):
    with pytest.raises(sd.SourceDiffError, match=message):
        sd.jvp(sine_weighted)(X, Y, tangent)


def test_jvp_checks_scalar_and_structured_tangents():
    def scalar(a, b):
        return a * b

    def structured(params, x):
        return np.sum(params["w"] * x) + params["b"]
    with pytest.raises(sd.SourceDiffError, match="tangent for argument 'a' of .*scalar holds integers, but a holds floating-point numbers"):
        sd.jvp(scalar)(2.0, 3.0, 1)
    with pytest.raises(sd.SourceDiffError, match=r"tangent for argument 'a' of .*scalar has shape \(2,\), but a has shape \(\)"):
        sd.jvp(scalar)(2.0, 3.0, np.ones(2))
    assert sd.jvp(scalar)(2.0, 3.0, 1.0) == (6.0, 3.0)
    params = {"w": np.ones(3), "b": 0.5}
    with pytest.raises(sd.SourceDiffError, match=r"tangent for argument 'params' of .*structured has shape \(2,\) at \['w'\], but params\['w'\] has shape \(3,\)"):
        sd.jvp(structured)(params, X, {"w": np.ones(2), "b": 1.0})
    with pytest.raises(sd.SourceDiffError, match="tangent for argument 'params' of .*structured is a dict with keys 'w', but params is a dict with keys 'b', 'w'"):
        sd.jvp(structured)(params, X, {"w": np.ones(3)})
    value, tangent = sd.jvp(structured)(params, X, {"w": Y, "b": 1.0})
    assert tangent == pytest.approx(np.sum(Y * X) + 1.0)


def test_the_decorators_check_their_tangents_and_cotangents():
    model = sd.tangent(sine_weighted)
    with pytest.raises(sd.SourceDiffError, match="has shape"):
        model.jvp(X, Y, np.ones(4))
    trained = sd.adjoint(sine_weighted)
    with pytest.raises(sd.SourceDiffError, match=r"cotangent of sine_weighted's value has shape \(4,\)"):
        trained.vjp(X, Y, np.ones(4))


@pytest.mark.parametrize("cotangent, message", [
    (np.ones(4), r"cotangent of sine_weighted's value has shape \(4,\), but the value has shape \(3,\)"),
    (np.ones(3, dtype=int), "cotangent of sine_weighted's value holds integers"),
    (2.0, r"cotangent of sine_weighted's value is a float, but the value has shape \(3,\)"),
    ((np.ones(3),), r"cotangent of sine_weighted's value is a tuple"),
])
def test_vjp_refuses_a_cotangent_unlike_the_value(cotangent, message):
    with pytest.raises(sd.SourceDiffError, match=message):
        sd.vjp(sine_weighted)(X, Y, cotangent)
    forward, backward = sd.vjp(sine_weighted, motion="split")
    _, saved = forward(X, Y)
    with pytest.raises(sd.SourceDiffError, match=message):
        backward(saved, cotangent)


def test_a_tuple_valued_function_checks_each_cotangent():
    with pytest.raises(sd.SourceDiffError, match=r"cotangent of tuple_valued's value has shape \(2,\) at \[1\], but the value\[1\] has shape \(3,\)"):
        sd.vjp(tuple_valued)(X, Y, (1.0, np.ones(2)))
    with pytest.raises(sd.SourceDiffError, match=r"cotangent of tuple_valued's value is a tuple of 3"):
        sd.vjp(tuple_valued)(X, Y, (1.0, np.ones(3), 1.0))
    u = np.array([0.5, -1.0, 2.0])
    _, g = sd.vjp(tuple_valued)(X, Y, (1.5, u))
    np.testing.assert_allclose(g, 1.5 * Y + 2.0 * u)
    forward, backward = sd.vjp(tuple_valued, motion="split")
    _, saved = forward(X, Y)
    np.testing.assert_allclose(backward(saved, (1.5, u)), g)


def test_a_list_valued_function_takes_a_list_of_cotangents():
    def pieces(x):
        return [x[0] * x[1], np.sin(x[2])]
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(sd.ArgumentError, match=r"is an array of shape \(2,\), but the value is a list of 2"):
        sd.vjp(pieces)(x, np.array([1.0, 0.5]))  # its gradient came out as zeros
    expected = central_gradient(lambda v: pieces(v)[0] + 0.5 * pieces(v)[1], x)
    np.testing.assert_allclose(sd.vjp(pieces)(x, [1.0, 0.5])[1], expected, rtol=1e-6)


def test_right_tangents_and_cotangents_still_agree_with_finite_differences():
    u = np.array([0.5, -1.0, 2.0])
    expected = central_gradient(lambda x: np.sum(u * sine_weighted(x, Y)), X)
    np.testing.assert_allclose(sd.vjp(sine_weighted)(X, Y, u)[1], expected, rtol=1e-6)
    np.testing.assert_allclose(sd.jvp(sine_weighted)(X, Y, u)[1], np.cos(X) * u * Y, rtol=1e-12)
    np.testing.assert_allclose(sd.vjp(sine_weighted)(X, Y, u.astype(np.float32))[1], expected, rtol=1e-6)


# -- missing and extra arguments ------------------------------------------------------------------------

def with_default(x, scale=2.0):
    return np.sum(np.sin(x)) * scale


@pytest.mark.parametrize("f", [sine_weighted, with_default], ids=lambda f: f.__name__)
def test_missing_or_extra_arguments_are_named(f):
    jvp, vjp, grad = sd.jvp(f), sd.vjp(f), sd.grad(f)
    forward, backward = sd.vjp(f, motion="split")
    fg = sd.forward_gradient(f)
    expected = r"\(x, y\)" if f is sine_weighted else r"\(x, scale=2.0\)"
    for call, message in [(lambda: jvp(X), "dx"), (lambda: jvp(X, Y, X, Y, X), "positional arguments"),
                          (lambda: vjp(X), "cotangent" if f is with_default else "'y' and 'b"),
                          (lambda: vjp(X, Y, X, Y, X), "positional arguments"),
                          (lambda: grad(), f"takes the arguments of {f.__name__}{expected}: missing a required "
                                           "argument: 'x'"),
                          (lambda: grad(X, Y, X), f"{expected}: too many positional arguments"),
                          (lambda: forward(), "missing .* 'x'"), (lambda: backward(None), "'cotangent'"),
                          (lambda: fg(), "missing .* 'x'"), (lambda: fg(X, Y, X), "positional arguments")]:
        with pytest.raises(TypeError, match=message):
            call()


# -- standalone modules ---------------------------------------------------------------------------------

def test_standalone_modules_check_their_arguments(tmp_path, capsys):
    source = tmp_path / "model.py"
    source.write_text(textwrap.dedent("""
        import numpy as np


        def model(x, y):
            return np.sin(x) * y
    """))
    for mode, extra in (("forward", []), ("reverse", []), ("reverse", ["--motion", "split"])):
        out = tmp_path / f"model_{mode}_{len(extra)}.py"
        assert cli.main(["emit", str(source), "model", "--mode", mode, "-o", str(out)] + extra) == 0
        spec = importlib.util.spec_from_file_location(out.stem, out)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        with pytest.raises(Exception, match=r"has shape \(4,\)"):
            if mode == "forward":
                module.model_jvp_x(X, Y, np.ones(4))
            elif not extra:
                module.model_vjp_x(X, Y, np.ones(4))
            else:
                _, saved = module.model_forward_x(X, Y)
                module.model_backward_x(saved, np.ones(4))
