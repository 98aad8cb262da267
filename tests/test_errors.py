"""One test per refusal: each error names the file, line and column, quotes the line and gives a hint."""
import functools
import inspect
import math

import numpy as np
import pytest

import sourcediff as sd

COUNTER = 0


def line_of(fn, text):
    """The absolute line number in this file of the first line of fn containing text."""
    lines, first = inspect.getsourcelines(fn)
    for i, line in enumerate(lines):
        if text in line:
            return first + i, line.index(text)
    raise AssertionError(text)


def raises_at(exc_type, fn, text, *, wrt=0, args=None, match, transform=sd.jvp):
    with pytest.raises(exc_type) as info:
        jf = transform(fn, wrt=wrt)
        if args is not None:
            jf(*args)
    err = info.value
    line, col = line_of(fn, text)
    assert err.filename == __file__
    assert err.lineno == line
    assert err.col == col
    assert match in err.message
    assert str(err).startswith(f"{__file__}:{line}:{col + 1}: ")
    assert text in str(err)  # the offending line is quoted
    assert err.hint
    return err


def uses_try(x):
    try:
        y = x * 2
    except ValueError:
        y = x
    return y


def uses_with(x):
    with open("f") as f:
        pass
    return x


def uses_generator(x):
    yield x * 2


def uses_global(x):
    global COUNTER
    COUNTER = x
    return x


def uses_del(x):
    y = x * 2
    del y
    return x


def uses_walrus(x):
    return (y := x * 2) + y


def uses_generator_expression(x):
    squares = (v * v for v in x)  # kept, so it could be consumed twice: not a list comprehension
    return sum(squares)


def uses_star_in_a_literal(x):
    return np.sum([*x, 1.0])


def uses_star_args(*xs):
    return xs[0]


def uses_unknown_name(x):
    return x * undefined_scale  # noqa: F821


def uses_no_rule(x):
    y = x * 2.0
    return math.gamma(y)


def uses_or(x):
    y = x or 1.0
    return y


def uses_attribute(x):
    return x.flat * 2.0


async def uses_async(x):
    return x


@pytest.mark.parametrize("fn, text, match", [
    (uses_try, "try:", "try/except is not supported"),
    (uses_with, "with open", "with statement is not supported"),
    (uses_generator, "yield x", "yield (a generator) is not supported"),
    (uses_global, "global COUNTER", "global declaration is not supported"),
    (uses_del, "del y", "del is not supported"),
    (uses_walrus, "y := x * 2", "assignment expression (:=) is not supported"),
    (uses_generator_expression, "(v * v for v in x)", "generator expression is supported only as the argument"),
    (uses_star_in_a_literal, "*x", "star-unpacking (*x) outside a call is not supported"),
    (uses_star_args, "def uses_star_args", "*args parameters are supported only in functions called by"),
    (uses_async, "async def", "async function is not supported"),
])
def test_unsupported_syntax(fn, text, match):
    raises_at(sd.UnsupportedSyntaxError, fn, text, match=match)


def test_unknown_name():
    raises_at(sd.UnknownNameError, uses_unknown_name, "undefined_scale", match="name 'undefined_scale' is not defined")


def test_call_without_rule_or_source():
    err = raises_at(sd.NonDifferentiableError, uses_no_rule, "math.gamma(y)", match="no derivative rule for math.gamma")
    assert "register" in err.hint


def keyword_only_without_default(x, a=1.0, *, b):
    return x * a * b


def test_a_keyword_only_parameter_without_default_after_a_default():
    """Keyword-only parameters are read as ordinary ones (in order); one without a default after a parameter
    with a default has no such spelling."""
    err = raises_at(sd.UnsupportedSyntaxError, keyword_only_without_default, "def keyword_only_without_default",
                    match="the keyword-only parameter b has no default")
    assert "give b a default" in err.hint


def outer_by_ufunc_method(x):
    return np.sum(np.multiply.outer(x, x) ** 2)


@pytest.mark.parametrize("transform, kind", [(sd.jvp, "derivative"), (sd.grad, "adjoint")])
def test_a_ufunc_method_without_rule(transform, kind):
    """A ufunc's method (np.multiply.outer) is refused by its NumPy name (its __module__ is None, on
    which the hint once crashed with AttributeError)."""
    raises_at(sd.NonDifferentiableError, outer_by_ufunc_method, "np.multiply.outer(x, x)", transform=transform,
              match=f"no {kind} rule for np.multiply.outer")


def calls_a_parameter(x, loss=np.square):
    return np.sum(loss(x))


@pytest.mark.parametrize("transform", [sd.jvp, sd.grad])
def test_a_call_of_a_function_held_in_a_parameter(transform):
    err = raises_at(sd.NonDifferentiableError, calls_a_parameter, "loss(x)", transform=transform,
                    match="loss is a variable, whose function is known only when the code runs")
    assert "functools.partial" in err.hint
    bound = functools.partial(calls_a_parameter, loss=np.square)  # what the hint says works
    x = np.array([0.5, -2.0])
    derivative = sd.jvp(bound)(x, np.ones(2))[1] if transform is sd.jvp else sd.grad(bound)(x) @ np.ones(2)
    assert derivative == pytest.approx(2 * 0.5 + 2 * -2.0)  # d/dt sum((x + t)^2) at t = 0


def test_and_or_on_differentiable_values():
    raises_at(sd.NonDifferentiableError, uses_or, "x or 1.0", match="and/or on differentiable values")


def test_attribute_of_differentiable_value():
    raises_at(sd.UnsupportedSyntaxError, uses_attribute, "x.flat", match="the attribute .flat of a differentiable value")


def test_integer_argument_is_refused_at_call():
    def square(x):
        return x * x
    with pytest.raises(sd.NonDifferentiableError, match="argument 'x' of .*square holds integers") as info:
        sd.jvp(square)(3, 1)
    assert info.value.lineno == square.__code__.co_firstlineno
    with pytest.raises(sd.NonDifferentiableError):
        sd.jvp(square)(np.arange(3), np.ones(3))
    with pytest.raises(sd.NonDifferentiableError):
        sd.jvp(square)(True, 1.0)


def test_source_unavailable():
    scope = {}
    exec("def made_by_exec(x):\n    return x * 2\n", scope)
    with pytest.raises(sd.UnsupportedSyntaxError, match="source of made_by_exec is unavailable") as info:
        sd.jvp(scope["made_by_exec"])
    assert info.value.filename == "<string>"
    assert info.value.lineno == 1
    assert "define the function in a .py file" in info.value.hint


def test_builtin_is_not_a_python_function():
    with pytest.raises(sd.UnsupportedSyntaxError, match="is not a Python function"):
        sd.jvp(math.sin)


@pytest.mark.parametrize("wrt", [5, "nope", (0, 0), ()])
def test_bad_wrt(wrt):
    def f(x, y):
        return x * y
    with pytest.raises(sd.SourceDiffError, match="wrt"):
        sd.jvp(f, wrt=wrt)


def test_errors_are_source_diff_errors():
    for cls in (sd.UnsupportedSyntaxError, sd.NonDifferentiableError, sd.UnknownNameError):
        assert issubclass(cls, sd.SourceDiffError)


def uses_einsum_operand_lists(a, b):
    return np.sum(np.einsum(a, [0, 1], b, [1, 2]))


def test_einsum_needs_literal_subscripts():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    raises_at(sd.NonDifferentiableError, uses_einsum_operand_lists, "np.einsum(a, [0, 1], b, [1, 2])",
              match="einsum needs its subscripts as a string literal")
    with pytest.raises(sd.NonDifferentiableError, match="einsum needs its subscripts"):
        sd.vjp(uses_einsum_operand_lists)


def scale_in_place(v):
    v *= 2.0


def uses_call_for_side_effect(x):
    y = x * 1.0
    scale_in_place(y)
    return np.sum(y)


def tangent_only(x):
    return x


def uses_tangent_only_rule(x):
    return tangent_only(x * 2.0) + x


def test_reverse_refuses_calls_made_for_side_effects():
    raises_at(sd.UnsupportedSyntaxError, uses_call_for_side_effect, "scale_in_place(y)", transform=sd.vjp,
              match="a call of a user function made for its side effects is not supported in reverse mode")


def test_a_rule_without_adjoint_is_refused_in_reverse_mode():
    sd.register_tangent(tangent_only)(tangent_only_rule)
    with pytest.raises(sd.NonDifferentiableError, match="no adjoint rule for") as info:
        sd.vjp(uses_tangent_only_rule)
    assert info.value.lineno == line_of(uses_tangent_only_rule, "tangent_only(x * 2.0)")[0]


def tangent_only_rule(z, x):
    d[z] = d[x]  # noqa: F821  (template syntax)


def uses_upper_cholesky(a):
    return np.sum(np.linalg.cholesky(a, upper=True))


def test_a_linalg_option_without_a_rule_is_refused():
    raises_at(sd.NonDifferentiableError, uses_upper_cholesky, "np.linalg.cholesky(a, upper=True)",
              match="unsupported keyword argument upper=")
    with pytest.raises(sd.NonDifferentiableError, match="unsupported keyword argument upper="):
        sd.vjp(uses_upper_cholesky)


def sums_into_out(x, buffer):
    np.sum(x * x, 0, None, buffer)
    return np.sum(buffer)


def exps_into_out(x, buffer):
    y = np.exp(x, buffer)
    return np.sum(y)


def multiplies_into_out(x, buffer):
    np.multiply(x, 2.0, out=buffer)
    return np.sum(buffer)


def copies_into(x, buffer):
    np.copyto(buffer, x * 3.0)
    return np.sum(buffer)


@pytest.mark.parametrize("fn, text", [(sums_into_out, "np.sum(x * x, 0, None, buffer)"),
                                      (copies_into, "np.copyto(buffer, x * 3.0)"),
                                      (exps_into_out, "np.exp(x, buffer)"),
                                      (multiplies_into_out, "np.multiply(x, 2.0, out=buffer)")])
def test_numpy_out_arguments_are_refused(fn, text):
    """An out array changes behind sourcediff's back: refused by keyword or by position, in both modes."""
    raises_at(sd.UnsupportedSyntaxError, fn, text, match=r"writes into an array whose changes")
    with pytest.raises(sd.UnsupportedSyntaxError, match="assign the result instead"):
        sd.vjp(fn)


def names_a_parameter_like_a_helper(x, unbroadcast):
    return np.sum(np.sin(x) * unbroadcast)


def test_a_parameter_hiding_a_helper_the_generated_code_calls_is_refused():
    with pytest.raises(sd.UnsupportedSyntaxError, match="the parameter name 'unbroadcast' is one the generated code") \
            as info:
        sd.vjp(names_a_parameter_like_a_helper)
    assert info.value.lineno == line_of(names_a_parameter_like_a_helper, "def names_a_parameter_like_a_helper")[0]
    assert "rename the parameter 'unbroadcast'" in str(info.value)
