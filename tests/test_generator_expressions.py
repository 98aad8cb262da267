"""Generator expressions consumed at once by a builtin (`sum(x * x for x in xs)`) mean a list comprehension."""
import numpy as np
import pytest

import sourcediff as sd
from sourcediff.errors import UnsupportedSyntaxError


def central_difference_gradient(f, x, h=1e-6):
    gradient = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        gradient[i] = (f(x + e) - f(x - e)) / (2 * h)
    return gradient


def sum_of_squares(w):
    return sum(wi ** 2 for wi in w)


def weighted_by_index(w):
    n = len(w)
    return sum(w[i] * i for i in range(n) if i % 2 == 0)


def largest_product(w):
    return max(a * b for a, b in zip(w[:-1], w[1:])) + min(np.sin(v) for v in w)


def through_tuple(w):
    parts = tuple(v * 2.0 for v in w)
    return parts[0] * parts[1] + sum(list(v for v in w))


@pytest.mark.parametrize("f", [sum_of_squares, weighted_by_index, largest_product, through_tuple])
def test_generator_expressions_match_finite_differences(f):
    w = np.array([0.3, -1.2, 0.8, 2.1])
    expected = central_difference_gradient(f, w)
    assert np.allclose(sd.grad(f)(w), expected, atol=1e-6)
    direction = np.array([0.5, -1.0, 2.0, 0.25])
    value, tangent = sd.jvp(f)(w, direction)
    assert np.isclose(value, f(w))
    assert np.isclose(tangent, expected @ direction, atol=1e-6)


def kept_generator(w):
    squares = (v * v for v in w)
    return sum(squares)


def generator_to_numpy(w):
    return np.sum(np.fromiter((v * v for v in w), float))


@pytest.mark.parametrize("f", [kept_generator, generator_to_numpy])
def test_other_generator_expressions_are_refused_with_a_location(f):
    with pytest.raises(UnsupportedSyntaxError, match="generator expression") as error:
        sd.grad(f)(np.array([1.0, 2.0]))
    assert "test_generator_expressions.py" in str(error.value)
