"""NumPy functions, methods and index builders as users write them, in both modes, against autograd
(an independent implementation) and central differences; and the refusals that keep a derivative
from ever being silently zero."""
import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import sourcediff as sd
from sourcediff.errors import NonDifferentiableError, SourceDiffError

rng = np.random.default_rng(7)


def central_jvp(f, args, i, v, h=1e-6):
    plus, minus = list(args), list(args)
    plus[i], minus[i] = args[i] + h * v, args[i] - h * v
    return (np.asarray(f(*plus)) - np.asarray(f(*minus))) / (2 * h)


def assert_both_modes(f, reference, *args):
    """sd.grad against autograd's gradient of the reference (f written with autograd.numpy), and
    sd.jvp against central differences of f, for each argument."""
    for i in range(len(args)):
        expected = autograd.grad(reference, i)(*args)
        np.testing.assert_allclose(sd.grad(f, wrt=i)(*args), expected, rtol=1e-7, atol=1e-9)
        v = rng.standard_normal(np.shape(args[i]))
        value, tangent = sd.jvp(f, wrt=i)(*args, v if np.ndim(args[i]) else float(v))
        np.testing.assert_allclose(value, f(*args))
        np.testing.assert_allclose(tangent, central_jvp(f, args, i, v), rtol=1e-6, atol=1e-6)


# -- np.r_ and np.c_ (issue 10, defect 2: a zero derivative in both modes) -------------------------

def r_twice(x):
    b = np.r_[x, x]
    return np.sum(b * b)


def r_twice_reference(x):
    b = anp.concatenate([x, x])
    return anp.sum(b * b)


def c_columns(x):
    b = np.c_[x, 2 * x]
    return np.sum(b * b)


def c_columns_reference(x):
    b = anp.stack([x, 2 * x], axis=1)
    return anp.sum(b * b)


def test_r_and_c_carry_derivatives_in_both_modes():
    x = rng.standard_normal(3)
    assert_both_modes(r_twice, r_twice_reference, x)
    assert_both_modes(c_columns, c_columns_reference, x)


class Interpolated:
    """A user object whose subscript computes with its index."""

    def __getitem__(self, t):
        return 3.0 * t


TABLE = Interpolated()


def reads_a_table(x):
    return TABLE[x] * 2.0


def index_expression_of_x(x):
    s = np.s_[x]
    return s * s


def grid_to_x(x):
    g = np.mgrid[0.0:x:0.5]
    return np.sum(g)


@pytest.mark.parametrize("f", [reads_a_table, index_expression_of_x, grid_to_x])
@pytest.mark.parametrize("transform", [sd.grad, sd.jvp])
def test_a_subscript_whose_index_carries_a_derivative_is_refused_where_it_is_written(f, transform):
    with pytest.raises(NonDifferentiableError, match="index") as info:
        transform(f)
    assert info.value.filename == __file__ and info.value.lineno == f.__code__.co_firstlineno + 1
