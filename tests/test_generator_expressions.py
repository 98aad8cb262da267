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


# -- iterator builtins: zip, enumerate, map, filter, reversed, iter --------------------------------------------

def zip_made_into_a_list(w):
    pairs = list(zip(w, w * w))  # zip and enumerate were registered as inactive: a zero derivative in both modes
    return sum(a * b for a, b in pairs) + sum(k * v for k, v in list(enumerate(w)))


def loops_over_iterators(w):
    total = 0.0
    for j in reversed(range(len(w))):  # each loop here crashed (len of an iterator) or was refused
        total = total * 0.5 + w[j]
    for v in reversed([w[0], w[1] * w[2]]):
        total = total * 2.0 + v
    for k, v in enumerate(w, 1):
        total = total + k * v * v
    for pair in enumerate(w):
        total = total + pair[0] * np.sin(pair[1])
    for v in map(np.tanh, iter(w)):
        total = total + v
    return total + sum(filter(lambda v: v > 0.0, w)) + sum(map(lambda a, b: a * b, w, w[::-1]))


def reversed_while_written(w):
    items = [w[0], w[1], w[2]]
    total = 0.0
    for v in reversed(items):  # reversed reads the list as it is then: the writes to items[0] are seen
        items[0] = items[0] * v
        total = total + items[0]
    return total


def list_times_array(w):
    return np.sum([w[0], w[1], 1.0, 2.0] * w) + np.sum([w[3], 0.5, w[2], 1.0] + w)  # NumPy's, not repetition


@pytest.mark.parametrize("f", [zip_made_into_a_list, loops_over_iterators, reversed_while_written, list_times_array])
def test_iterator_builtins_match_finite_differences(f):
    w = np.array([0.3, -1.2, 0.8, 2.1])
    expected = central_difference_gradient(f, w)
    value, gradient = sd.value_and_grad(f)(w)
    assert np.isclose(value, f(w)) and np.allclose(gradient, expected, atol=1e-6)
    direction = np.array([0.5, -1.0, 2.0, 0.25])
    value, tangent = sd.jvp(f)(w, direction)
    assert np.isclose(value, f(w))
    assert np.isclose(tangent, expected @ direction, atol=1e-6)


def kept_zip(w):
    pairs = zip(w, w)
    return sum(a * b for a, b in pairs)


def kept_map(w):
    squares = map(np.square, w)
    return sum(squares)


@pytest.mark.parametrize("f", [kept_zip, kept_map])
@pytest.mark.parametrize("transform", [sd.grad, sd.jvp])
def test_an_iterator_held_in_a_variable_is_refused_where_it_is_made(f, transform):
    with pytest.raises(UnsupportedSyntaxError, match="consumed at once") as error:
        transform(f)
    assert error.value.filename == __file__ and error.value.lineno == f.__code__.co_firstlineno + 1
