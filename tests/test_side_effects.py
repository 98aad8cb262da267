"""Reverse mode never runs user code twice (issue 10, defect 6): a backward pass that recomputed a
callee's forward sweep drew its random numbers again, so the gradient belonged to another sample than
the value. Draws are counted through the generator's state; gradients are checked against central
differences taken with the same seed."""
import numpy as np
import pytest

import sourcediff as sd
from corpus_tools import central_gradient


# A variational objective in the style of autograd's mixture example: a helper that defines a nested
# function and draws samples inside a list comprehension, the generator held by a closure.

def make_objective(rng, num_samples=10):
    def lower_bound(params):
        def log_density(z):
            return -0.5 * np.sum(z ** 2)

        mean, log_std = params[:2], params[2:]
        samples = [rng.standard_normal(2) * np.exp(log_std) + mean for _ in range(num_samples)]
        return np.mean(np.array([log_density(s) for s in samples])) + np.sum(log_std)

    def objective(params):
        return -lower_bound(params)

    return objective


def generator_state(rng):
    return rng.bit_generator.state["state"]["state"]


def test_a_helper_that_draws_in_a_comprehension_draws_once():
    params = np.array([0.3, -0.2, 0.1, -0.4])
    primal_rng = np.random.default_rng(7)
    value = make_objective(primal_rng)(params)
    rng = np.random.default_rng(7)
    got_value, gradient = sd.value_and_grad(make_objective(rng))(params)
    assert generator_state(rng) == generator_state(primal_rng)  # as many draws as the primal
    assert got_value == pytest.approx(value, rel=1e-12)
    expected = central_gradient(lambda p: make_objective(np.random.default_rng(7))(p), params)
    np.testing.assert_allclose(gradient, expected, rtol=1e-6, atol=1e-8)


def noisy_sum_of_squares(w):
    eps = np.random.normal(size=3)
    z = w * eps
    z[0] = z[0] * 2.0
    return np.sum(z ** 2)


def global_draws(w):
    return noisy_sum_of_squares(w) + np.sum(w)


def test_a_callee_that_writes_in_place_draws_once_from_the_global_generator():
    w = np.array([0.5, -1.0, 2.0])
    np.random.seed(3)
    value = global_draws(w)
    after_primal = np.random.get_state()[2]
    np.random.seed(3)
    got_value, gradient = sd.value_and_grad(global_draws)(w)
    assert np.random.get_state()[2] == after_primal
    assert got_value == pytest.approx(value, rel=1e-12)

    def seeded(v):
        np.random.seed(3)
        return global_draws(v)
    np.testing.assert_allclose(gradient, central_gradient(seeded, w), rtol=1e-6, atol=1e-8)


def test_a_split_pair_draws_once_and_its_backward_runs_again():
    w = np.array([0.5, -1.0, 2.0])
    np.random.seed(3)
    global_draws(w)
    after_primal = np.random.get_state()[2]
    forward, backward = sd.vjp(global_draws, motion="split")
    np.random.seed(3)
    value, saved = forward(w)
    assert np.random.get_state()[2] == after_primal
    first, second = backward(saved, 1.0), backward(saved, 2.0)
    assert np.random.get_state()[2] == after_primal

    def seeded(v):
        np.random.seed(3)
        return global_draws(v)
    expected = central_gradient(seeded, w)
    np.testing.assert_allclose(first, expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(second, 2.0 * expected, rtol=1e-6, atol=1e-8)


def fill_first(buffer, v):
    buffer[0] = 2.0
    return np.sum(buffer) * v


def fills_a_buffer(x):
    buffer = np.ones(3)
    a = np.sum(x * buffer)  # its adjoint reads buffer as it is here
    b = fill_first(buffer, x[0])
    return a + b


def zero_first(x):
    x[0] = 0.0
    return np.sum(x)


def writes_through_a_callee(x):
    y = x * 1.0
    total = 0.0
    for _ in range(2):
        total = total + np.sum(np.sin(y)) + zero_first(y)
    return total


def test_a_callee_writing_into_a_differentiated_argument_is_refused():
    for transform in (sd.grad, lambda f: sd.vjp(f, motion="split")):
        with pytest.raises(sd.UnsupportedSyntaxError, match=r"zero_first writes into its argument 'x' \(y here\)"):
            transform(writes_through_a_callee)


def appends_in_a_callee(x):
    parts = []
    for i in range(3):
        parts.append(x[i] * x[i])
    return parts


def sums_appended_parts(x):
    parts = appends_in_a_callee(x)
    return parts[0] + parts[1] * parts[2]


def through_a_view(x):
    y = x * 1.0
    head = y[:2]
    a = np.sum(np.sin(head))  # its adjoint reads head as it is here
    y[0] = 5.0  # head sees the write
    return a + np.sum(y ** 2)


def calls_through_a_view(x):
    return through_a_view(x * 2.0) + through_a_view(x)


@pytest.mark.parametrize("f", [fills_a_buffer, sums_appended_parts, through_a_view, calls_through_a_view],
                         ids=lambda f: f.__name__)
def test_in_place_writes_undone_once_per_backward_run(f):
    x = np.array([1.0, 2.0, 3.0])
    expected = central_gradient(f, x)
    np.testing.assert_allclose(sd.grad(f)(x.copy()), expected, rtol=1e-6, atol=1e-8)
    forward, backward = sd.vjp(f, motion="split")
    argument = x.copy()
    value, saved = forward(argument)
    np.testing.assert_allclose(backward(saved, 1.0), expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(backward(saved, 1.0), expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(argument, x)  # the primal does not write into its argument here
