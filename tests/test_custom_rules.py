"""Custom rules: a user teaches sourcediff a function it cannot see into, checked against finite differences."""
import math

import numpy as np
import pytest

import sourcediff as sd


def erfc_uses(x):
    return math.erfc(x * x) + x


@sd.register_tangent(math.erfc)
def erfc_rule(z, x):
    d[z] = -1.1283791670955126 * math.exp(-(x * x)) * d[x]  # noqa: F821  (d is template syntax)


def central_difference(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_rule_for_a_builtin_without_source():
    value, tangent = sd.jvp(erfc_uses)(0.7, 1.0)
    assert value == pytest.approx(erfc_uses(0.7))
    assert tangent == pytest.approx(central_difference(erfc_uses, 0.7), rel=1e-7)


def slow_softplus(x):
    return np.log(1.0 + np.exp(x))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@sd.register_tangent(slow_softplus)
def softplus_rule(z, x):
    d[z] = sigmoid(x) * d[x]  # noqa: F821  (the template's own helpers are visible to the generated code)


def uses_softplus(x):
    return np.sum(slow_softplus(2.0 * x))


def test_rule_overrides_a_python_function_and_sees_its_helpers():
    x = np.array([-1.0, 0.3, 2.0])
    jf = sd.jvp(uses_softplus)
    assert "sigmoid(" in jf.source and "slow_softplus_jvp" not in jf.source
    v = np.array([0.2, -1.0, 0.5])
    _, tangent = jf(x, v)
    assert tangent == pytest.approx(central_difference(lambda t: uses_softplus(x + t * v), 0.0), rel=1e-7)


def test_rule_needs_callables():
    with pytest.raises(sd.SourceDiffError, match="functions the rule is for"):
        sd.register_tangent("erfc")


@sd.register_adjoint(math.erfc)
def erfc_adjoint(z, x):
    d[x] = -1.1283791670955126 * math.exp(-(x * x)) * d[z]  # noqa: F821  (d is template syntax)


@sd.register_adjoint(slow_softplus)
def softplus_adjoint(z, x):
    d[x] = sigmoid(x) * d[z]  # noqa: F821


def test_adjoint_rules_give_gradients():
    assert sd.grad(erfc_uses)(0.7) == pytest.approx(central_difference(erfc_uses, 0.7), rel=1e-7)
    x = np.array([-1.0, 0.3, 2.0])
    gradient = sd.grad(uses_softplus)(x)
    for i in range(3):
        e = np.eye(3)[i]
        assert gradient[i] == pytest.approx(central_difference(lambda t: uses_softplus(x + t * e), 0.0), rel=1e-6)
    assert "sigmoid(" in sd.vjp(uses_softplus).source


def smooth_step(x, width):
    return 0.5 * (1.0 + np.tanh(x / width))


@sd.register_tangent(smooth_step, elementwise=True)
def smooth_step_rule(z, x, width):  # linear in d[x] and d[width]: reverse mode transposes it
    slope = 0.5 * (1.0 - np.tanh(x / width) ** 2) / width
    d[z] = slope * d[x] - slope * x / width * d[width]  # noqa: F821


def clipped_cube(x):
    return np.minimum(x, 1.0) ** 3


@sd.register_tangent(clipped_cube, pointwise=True)
def clipped_cube_rule(z, x):  # d[x] inside np.where: not a sum of coefficients times derivatives
    d[z] = np.where(x < 1.0, 3.0 * x * x * d[x], 0.0)  # noqa: F821


def test_reverse_mode_transposes_an_elementwise_tangent():
    """A tangent only, registered with elementwise=True: the adjoint is its transpose, the broadcast
    operand's cotangent summed back to its shape."""
    def loss(x, width):
        return np.sum(smooth_step(x, width) ** 2)

    x, width = np.array([-0.4, 0.1, 0.9]), 0.7
    gx, gw = sd.grad(loss, (0, 1))(x, width)
    numeric_x = [central_difference(lambda t: loss(x + t * e, width), 0.0) for e in np.eye(3)]
    assert gx == pytest.approx(numeric_x, rel=1e-6)
    assert gw == pytest.approx(central_difference(lambda w: loss(x, w), width), rel=1e-6)
    assert "unbroadcast(" in sd.vjp(loss, (0, 1)).source


def test_a_tangent_that_does_not_transpose_needs_its_adjoint():
    def loss(x):
        return np.sum(clipped_cube(x))

    x = np.array([0.2, 0.5])
    assert sd.jvp(loss)(x, np.ones(2))[1] == pytest.approx(3 * np.sum(x * x))
    with pytest.raises(sd.NonDifferentiableError, match="no adjoint rule for clipped_cube") as refused:
        sd.grad(loss)(x)
    assert "register_adjoint" in refused.value.hint
