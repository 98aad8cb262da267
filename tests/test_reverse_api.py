"""Reverse-mode API: grad, value_and_grad, vjp (joint and split), the adjoint decorator, errors.
References are analytic derivatives and central finite differences."""
import math

import numpy as np
import pytest

import sourcediff as sd
from sourcediff.runtime import add_at, unreduce


def loss(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def loss_gradient(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return X.T @ (p - y) / len(y)


def data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((20, 3))
    return 0.3 * rng.standard_normal(3), X, (rng.random(20) > 0.5).astype(float)


def test_grad_has_the_argument_shape():
    w, X, y = data()
    g = sd.grad(loss)(w, X, y)
    assert g.shape == w.shape
    np.testing.assert_allclose(g, loss_gradient(w, X, y), rtol=1e-10)


def test_value_and_grad_and_tuple_wrt():
    def f(a, b):
        return a * a * b + np.sin(b)
    value, (ga, gb) = sd.value_and_grad(f, wrt=(0, 1))(1.5, 0.3)
    assert value == pytest.approx(f(1.5, 0.3))
    assert ga == pytest.approx(2 * 1.5 * 0.3) and gb == pytest.approx(1.5 ** 2 + np.cos(0.3))
    assert isinstance(ga, float) and isinstance(gb, float)
    (only,) = sd.grad(f, wrt=(1,))(1.5, 0.3)
    assert only == pytest.approx(gb)


def test_grad_of_a_non_scalar_points_to_vjp():
    def f(x):
        return x * 2.0
    with pytest.raises(sd.SourceDiffError, match="use sd.vjp"):
        sd.grad(f)(np.ones(3))


def test_vjp_of_a_tuple_valued_function_takes_a_tuple_of_cotangents():
    def f(x):
        return x * x, np.sum(x)
    x = np.array([1.0, 2.0])
    value, g = sd.vjp(f)(x, (np.array([1.0, 0.5]), 2.0))
    np.testing.assert_allclose(g, 2 * x * np.array([1.0, 0.5]) + 2.0)


def test_split_backward_can_run_many_times():
    w, X, y = data(1)
    forward, backward = sd.vjp(loss, motion="split")
    value, saved = forward(w, X, y)
    assert value == pytest.approx(loss(w, X, y))
    for scale in (1.0, -2.0, 0.5):
        np.testing.assert_allclose(backward(saved, scale), scale * loss_gradient(w, X, y), rtol=1e-10)
    assert "def loss_backward_w(saved," in backward.source


def test_adjoint_decorator():
    @sd.adjoint(wrt="w")
    def model_loss(w, X, y):
        return loss(w, X, y)
    w, X, y = data(2)
    assert model_loss(w, X, y) == pytest.approx(loss(w, X, y))
    np.testing.assert_allclose(model_loss.grad(w, X, y), loss_gradient(w, X, y), rtol=1e-10)
    value, g = model_loss.value_and_grad(w, X, y)
    assert value == pytest.approx(loss(w, X, y))
    assert "def model_loss_vjp_w(" in model_loss.source


def test_gradient_of_dict_parameters_has_their_structure():
    def f(params, x):
        return np.sum(np.tanh(x @ params["W"] + params["b"]))
    rng = np.random.default_rng(3)
    params = {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2), "unused": rng.standard_normal(4)}
    x = rng.standard_normal((5, 3))
    g = sd.grad(f)(params, x)
    assert set(g) == set(params) and g["unused"].shape == (4,) and not np.any(g["unused"])
    h = 1e-6
    moved = dict(params, b=params["b"] + h * np.array([1.0, 0.0]))
    back = dict(params, b=params["b"] - h * np.array([1.0, 0.0]))
    assert g["b"][0] == pytest.approx((f(moved, x) - f(back, x)) / (2 * h), rel=1e-6)


def test_integer_argument_is_refused():
    def f(x):
        return x * x
    with pytest.raises(sd.NonDifferentiableError, match="holds integers"):
        sd.grad(f)(3)


def test_bad_motion():
    with pytest.raises(sd.SourceDiffError, match="motion"):
        sd.vjp(loss, motion="sideways")


def test_gradient_of_a_reassigned_parameter_has_the_argument_shape():
    """Found by the random-program test: y is replaced by an array, so its argument gets a zero float."""
    def f(x, y):
        y = x + x
        return np.sum(y)
    gx, gy = sd.grad(f, wrt=(0, 1))(np.ones(3), 0.5)
    np.testing.assert_allclose(gx, 2.0 * np.ones(3))
    assert gy == 0.0 and isinstance(gy, float)
    forward, backward = sd.vjp(f, wrt=(0, 1), motion="split")
    _, saved = forward(np.ones(3), 0.5)
    assert backward(saved, 1.0)[1] == 0.0



def test_unreduce_is_a_read_only_view_that_add_at_copies():
    """np.sum's cotangent repeats one number with zero strides; an indexed update must not write
    through it into every element."""
    x = np.zeros(3)
    g = unreduce(2.0, x)
    assert g.shape == x.shape and not g.flags.writeable
    np.testing.assert_array_equal(add_at(g, x, 0, 1.0), [3.0, 2.0, 2.0])
    np.testing.assert_array_equal(g, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(unreduce(np.ones(2), np.zeros((2, 3)), 1), np.ones((2, 3)))


def recurrence(a, x):
    for i in range(50):
        x = a * np.sin(x) + x
    return x


def test_a_loop_saves_what_its_adjoints_read_in_one_push_per_step():
    """What the step's adjoints read is pushed together, once per step, and the gradient matches
    finite differences, for numbers and for arrays."""
    source = sd.vjp(recurrence, wrt=(0, 1)).source
    loop = source[source.index("for i in range(50):"):source.index("value = x")]
    assert loop.count("stack.append(") == 1
    h = 1e-6
    for a, x in [(0.3, 0.4), (np.array([0.3, -0.2]), np.array([0.4, 1.1]))]:
        _, (ga, gx) = sd.vjp(recurrence, wrt=(0, 1))(a, x, np.ones_like(x))
        da, dx = np.ones_like(a) * 0.7, np.ones_like(x) * -0.4
        numeric = np.sum(recurrence(a + h * da, x + h * dx) - recurrence(a - h * da, x - h * dx)) / (2 * h)
        assert np.isclose(np.sum(ga * da) + np.sum(gx * dx), numeric, rtol=1e-6)


def scalar_steps(a, x):
    for i in range(20):
        e = math.exp(x)
        x = a * e + math.sin(x) * x
    return x


def test_scalar_code_recomputes_math_values_instead_of_pushing_them():
    """exp's adjoint reads its output: in the scalar variant it is computed again from the popped x,
    and the gradient still matches finite differences."""
    source = sd.vjp(scalar_steps, wrt=(0, 1)).source
    scalar_variant = source[:source.index("def scalar_steps_vjp(")]
    assert "stack.append(x)" in scalar_variant and "stack.append((" not in scalar_variant
    a, x, h = 0.1, 0.3, 1e-6
    ga, gx = sd.grad(scalar_steps, wrt=(0, 1))(a, x)
    numeric = (scalar_steps(a + h * 0.5, x - h) - scalar_steps(a - h * 0.5, x + h)) / (2 * h)
    assert math.isclose(0.5 * ga - gx, numeric, rel_tol=1e-6)


def straight_line_scalars(x, y, n):
    half = n // 2
    s = x + y  # joins lists, or adds numbers: decided when it runs in the general function
    r = s * 3
    t = math.sin(x * y) * half + r / y
    return t * t - math.exp(-x)


def test_straight_line_scalar_code_gets_the_general_function_specialised_to_numbers():
    """With nothing pushed, the variant for Python numbers is the cleaned general function without its
    entry checks, its broadcasting and container helpers spelled as arithmetic; its gradient and the
    general function's (called with 0-d arrays) both match finite differences."""
    source = sd.vjp(straight_line_scalars, wrt=(0, 1)).source
    scalar_variant = source[:source.index("def straight_line_scalars_vjp_x_y(")]
    general = source[source.index("def straight_line_scalars_vjp_x_y("):]
    for helper in ("unbroadcast", "add_cotangents", "summand_cotangent", "factor_cotangent", "require_real"):
        assert helper not in scalar_variant
    assert "summand_cotangent" in general and "require_real" in general
    x, y, n, h = 0.4, 1.3, 5, 1e-6
    gx, gy = sd.grad(straight_line_scalars, wrt=(0, 1))(x, y, n)
    assert type(gx) is float and type(gy) is float
    numeric_x = (straight_line_scalars(x + h, y, n) - straight_line_scalars(x - h, y, n)) / (2 * h)
    numeric_y = (straight_line_scalars(x, y + h, n) - straight_line_scalars(x, y - h, n)) / (2 * h)
    assert math.isclose(gx, numeric_x, rel_tol=1e-6) and math.isclose(gy, numeric_y, rel_tol=1e-6)
    ax, ay = sd.grad(straight_line_scalars, wrt=(0, 1))(np.array(x), np.array(y), n)
    assert math.isclose(float(ax), numeric_x, rel_tol=1e-6) and math.isclose(float(ay), numeric_y, rel_tol=1e-6)


def overwritten_product(x, y):
    if np.sum(y) > 0.0:
        v = x * y
    else:
        v = x * y * 0.5
    v = np.sin(x)
    return np.sum(v) + np.sum(x)


def test_a_cotangent_left_at_zero_is_summed_to_a_broadcast_operand():
    """v = x * y is overwritten before use, so its cotangent stays the number 0.0 and x * 0.0 has x's
    shape (3,), which must be summed to y's (2, 1)."""
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1.0, 1.0, 3), rng.uniform(-1.0, 1.0, (2, 1))
    _, (bx, by) = sd.vjp(overwritten_product, wrt=(0, 1))(x, y, 1.0)
    np.testing.assert_allclose(bx, np.cos(x) + 1.0)
    np.testing.assert_array_equal(by, np.zeros((2, 1)))
