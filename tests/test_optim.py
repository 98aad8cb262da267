"""sourcediff.optim: each update rule against the formula worked by hand, on floats, arrays and
tuples of them, and training with a forward gradient and with a reverse-mode gradient."""
import math

import numpy as np
import pytest

import sourcediff as sd
from sourcediff.optim import SGD, Adam, exponential_decay


def test_exponential_decay():
    schedule = exponential_decay(0.5, 0.1)
    assert schedule(0) == 0.5 and schedule(10) == pytest.approx(0.5 * math.exp(-1.0))


def test_sgd_steps_against_the_gradient_in_the_parameters_structure():
    opt = SGD(0.1)
    params = opt.step((1.0, np.array([1.0, 2.0])), (2.0, np.array([10.0, -10.0])))
    assert type(params) is tuple and params[0] == pytest.approx(0.8)
    np.testing.assert_allclose(params[1], [0.0, 3.0])


def test_sgd_momentum_accumulates_velocity_and_follows_the_schedule():
    opt = SGD(exponential_decay(1.0, math.log(2.0)), momentum=0.5)  # rates 1, 1/2, 1/4
    x = 0.0
    for g in (1.0, 1.0, 1.0):
        x = opt.step(x, g)
    # velocities 1, 1.5, 1.75; steps 1 * 1, 0.5 * 1.5, 0.25 * 1.75
    assert x == pytest.approx(-(1.0 + 0.75 + 0.4375))


def test_adam_matches_its_formula():
    opt = Adam(0.1, beta1=0.9, beta2=0.99, eps=1e-8)
    x, m, v = np.array([1.0, -2.0]), 0.0, 0.0
    expected = x.copy()
    for t, g in enumerate((np.array([0.5, 1.0]), np.array([-1.0, 2.0]), np.array([0.25, 0.0])), start=1):
        x = opt.step(x, g)
        m, v = 0.9 * m + 0.1 * g, 0.99 * v + 0.01 * g * g
        expected = expected - 0.1 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.99 ** t)) + 1e-8)
        np.testing.assert_allclose(x, expected, rtol=1e-6)


def quadratic(w, A, b):
    return 0.5 * w @ (A @ w) - b @ w


@pytest.mark.parametrize("make", [lambda: SGD(0.05, momentum=0.5), lambda: Adam(exponential_decay(0.05, 1e-3))],
                         ids=["sgd_momentum", "adam"])
def test_training_with_a_forward_gradient_and_with_a_gradient_reaches_the_minimum(make):
    rng = np.random.default_rng(0)
    M = rng.standard_normal((4, 4))
    A, b = M @ M.T + 4 * np.eye(4), rng.standard_normal(4)
    minimum = np.linalg.solve(A, b)
    forward, reverse = sd.forward_gradient(quadratic, directions=4), sd.grad(quadratic)
    for gradient in (lambda w: forward(w, A, b, rng=rng)[1], lambda w: reverse(w, A, b)):
        opt, w = make(), np.zeros(4)
        for _ in range(3000):
            w = opt.step(w, gradient(w))
        np.testing.assert_allclose(w, minimum, atol=0.05)
