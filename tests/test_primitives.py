"""NumPy functions, methods and index builders as users write them, in both modes, against autograd
(an independent implementation) and central differences; and the refusals that keep a derivative
from ever being silently zero."""
import functools

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


def central_gradient(f, args, i):
    basis = np.eye(np.size(args[i]))
    return np.reshape([central_jvp(f, args, i, np.reshape(e, np.shape(args[i]))) for e in basis], np.shape(args[i]))


def assert_both_modes(f, reference, *args):
    """sd.grad against autograd's gradient of the reference (f written with autograd.numpy; without one,
    against central differences), and sd.jvp against central differences of f, for each argument."""
    for i in range(len(args)):
        expected = autograd.grad(reference, i)(*args) if reference else central_gradient(f, args, i)
        np.testing.assert_allclose(sd.grad(f, wrt=i)(*args), expected, rtol=1e-7, atol=1e-9)
        v = rng.standard_normal(np.shape(args[i]))
        value, tangent = sd.jvp(f, wrt=i)(*args, v if np.ndim(args[i]) else float(v))
        np.testing.assert_allclose(value, f(*args))
        np.testing.assert_allclose(tangent, central_jvp(f, args, i, v), rtol=1e-6, atol=1e-6)


def refused_on_second_line(transform, f, error, match):
    """transform(f) raises error, located at the line after f's def."""
    with pytest.raises(error, match=match) as info:
        transform(f)
    assert info.value.filename == __file__ and info.value.lineno == f.__code__.co_firstlineno + 1


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
    """An object other than an array, list, tuple or dict may read its index as data: read through an
    index that carries a derivative, it is refused where the code runs (a check knows the object's type),
    located where it is written."""
    with pytest.raises(NonDifferentiableError, match="through an index that carries a derivative") as info:
        derivative = transform(f)
        derivative(2.0) if transform is sd.grad else derivative(2.0, 1.0)
    assert info.value.filename == __file__ and info.value.lineno == f.__code__.co_firstlineno + 1


def counter_reused_as_index(x):
    i = x[0] * 2.0
    total = i
    for i in range(3):
        total = total + C3[i] * x[i]
    return total


C3 = np.array([0.5, -1.0, 2.0])


@pytest.mark.parametrize("transform", [sd.grad, sd.jvp])
def test_an_array_read_through_an_index_that_carries_a_derivative_elsewhere(transform):
    """i carries a derivative before the loop that counts with it: reading a constant array through it is
    checked where the code runs (an array's index carries no derivative), not refused."""
    x = np.array([0.3, -0.4, 1.1])
    want = np.array([2.0 + 0.5, -1.0, 2.0])
    if transform is sd.grad:
        np.testing.assert_allclose(sd.grad(counter_reused_as_index)(x), want)
    else:
        assert sd.jvp(counter_reused_as_index)(x, np.ones(3))[1] == pytest.approx(want.sum())


# -- complex numbers: refused where they enter, never differentiated as if they were real -----------

def absolute_sum(x):
    return np.sum(np.abs(x))


@pytest.mark.parametrize("transform, extra", [(sd.grad, ()), (sd.jvp, (np.ones(2),)), (sd.vjp, (1.0,))])
@pytest.mark.parametrize("z", [np.array([1.0 + 1.0j, 2.0]), 1.0 + 2.0j, [np.complex128(1.0), 2.0]])
def test_a_complex_argument_is_refused_naming_the_function_and_argument(transform, extra, z):
    with pytest.raises(NonDifferentiableError, match="argument 'x' of absolute_sum holds complex numbers"):
        transform(absolute_sum)(z, *extra)


def imaginary_part_squared(x, c):
    return np.sum(np.imag(c * x) ** 2)


def modulus_of_a_product(x, c):
    return np.sum(np.abs(c * x))


@pytest.mark.parametrize("f", [imaginary_part_squared, modulus_of_a_product])
@pytest.mark.parametrize("transform, extra", [(sd.grad, ()), (sd.jvp, (np.ones(2),)), (sd.vjp, (1.0,)),
                                              (functools.partial(sd.vjp, motion="split"), None),
                                              (sd.forward_gradient, ())])
def test_a_complex_argument_no_derivative_is_asked_for_is_refused(f, transform, extra):
    """The derivative with respect to x of a function of complex data c was silently wrong (zero for
    np.imag, complex for np.abs): an argument holding complex numbers is refused, whichever it is."""
    x, c = np.array([1.0, 2.0]), np.array([1.0 + 2.0j, 0.5 - 1.0j])
    with pytest.raises(NonDifferentiableError, match=f"argument 'c' of {f.__name__} holds complex numbers") as info:
        result = transform(f, wrt=0)
        result[0](x, c) if extra is None else result(x, c, *extra)
    assert info.value.filename == __file__ and info.value.lineno == f.__code__.co_firstlineno


ROTATION = np.exp(0.3j) * np.ones(2)


def rotated_real_part(x):
    return np.sum(np.real(x * 1j))


def uses_a_complex_global(x):
    return np.sum(np.real(ROTATION * x))


def casts_to_complex(x):
    return np.sum(np.abs(x.astype(complex)))


@pytest.mark.parametrize("f", [rotated_real_part, uses_a_complex_global, casts_to_complex])
@pytest.mark.parametrize("transform", [sd.grad, sd.jvp])
def test_complex_values_in_the_code_are_refused_where_they_are_written(f, transform):
    refused_on_second_line(transform, f, SourceDiffError, "complex numbers are not supported")


def test_real_imag_and_conj_of_real_values():
    def f(x):
        return np.sum(np.real(x) * x.real + np.conj(x) * x.conj() + np.imag(x) + x.imag)

    def reference(x):
        return anp.sum(2.0 * x * x)

    assert_both_modes(f, reference, rng.standard_normal(3))


def test_complex_steps_in_index_builders_are_point_counts():
    def f(x):
        return np.sum(np.r_[0.0:1.0:5j] * x)

    def reference(x):
        return anp.sum(np.linspace(0.0, 1.0, 5) * x)

    assert_both_modes(f, reference, 2.0)


# -- einsum with its subscripts in a variable -------------------------------------------------------

CONTRACTION = "ij,jk->ik"


def einsum_through_names(a, b):
    spec = "ij,jk->ik"
    trace_spec = "ii"
    product = np.einsum(spec, a, b)
    return np.einsum(trace_spec, product @ product.T) + np.sum(np.einsum(CONTRACTION, a, b))


def einsum_through_names_reference(a, b):
    product = anp.einsum("ij,jk->ik", a, b)
    return anp.trace(anp.dot(product, product.T)) + anp.sum(product)


def test_einsum_subscripts_from_a_variable_holding_a_constant_string():
    assert_both_modes(einsum_through_names, einsum_through_names_reference,
                      rng.standard_normal((2, 3)), rng.standard_normal((3, 2)))


def einsum_subscripts_chosen_at_run_time(a, transpose):
    spec = "ij->ji" if transpose else "ij->ij"
    return np.sum(np.einsum(spec, a) * np.arange(6.0).reshape(3, 2))


def test_einsum_subscripts_that_vary_are_refused():
    with pytest.raises(NonDifferentiableError, match="einsum needs its subscripts as a string"):
        sd.grad(einsum_subscripts_chosen_at_run_time)


# -- array methods and attributes, as users write them ------------------------------------------------

def methods(x):
    centered = x - x.mean(axis=0)
    spread = x.std(axis=0, ddof=1) + x.var() + x.T.trace()
    grown = x.repeat(2, axis=1).cumprod(axis=1)
    return np.sum(centered.swapaxes(0, 1) @ x) + spread.sum() + grown.sum() + x.diagonal().sum() \
        + x.take([0, 4, 4]).sum()


def test_array_methods_become_the_numpy_functions():  # autograd has no rule for cumprod
    assert_both_modes(methods, None, rng.uniform(0.5, 1.5, (3, 3)))


def test_an_unknown_method_of_a_differentiable_value_is_refused_by_name():
    def f(x):
        return np.sum(x.ptp())

    for transform in (sd.grad, sd.jvp):
        with pytest.raises(NonDifferentiableError, match=r"no (derivative|adjoint) rule for the method \.ptp\(\)"):
            transform(f)


# -- a few of the new rules in user code, against autograd ----------------------------------------------

def shapes_and_orderings(x, y):
    stacked = np.column_stack([x, y]) + np.dstack((x, y))[0]
    parts = np.split(np.tile(x, 2), 2)
    ordered = np.sort(x * y)[::-1]
    rolled = np.roll(np.diff(x), 1) * np.flip(y)[1:]
    turned = np.tensordot(np.outer(x, y), np.triu(np.outer(y, x)), 2)
    return np.sum(stacked ** 2) + np.sum(parts[0] * parts[1]) + ordered[0] + np.sum(rolled) + turned \
        + np.sum(np.cross(x, y) ** 2) + np.sum(np.moveaxis(np.atleast_3d(x), 1, 0) ** 3)


def test_shape_functions_and_orderings_in_user_code():
    assert_both_modes(shapes_and_orderings, None, rng.standard_normal(3),
                      rng.standard_normal(3))


def elementwise_kin(x, y):
    return np.sum(np.fmax(x, y) * np.fmin(x, 2 * y) + np.logaddexp2(x, y) + np.exp2(x) + np.expm1(y)
                  + np.log2(x * x + 1) + np.log10(y * y + 1) + np.sinc(x) + np.remainder(x, 0.7)
                  + np.mod(y, 0.9) + np.fmod(x, 0.8))


def elementwise_kin_reference(x, y):
    return anp.sum(anp.fmax(x, y) * anp.fmin(x, 2 * y) + anp.logaddexp2(x, y) + anp.exp2(x) + anp.expm1(y)
                   + anp.log2(x * x + 1) + anp.log10(y * y + 1) + anp.sinc(x) + anp.remainder(x, 0.7)
                   + anp.mod(y, 0.9) + x - 0.8 * anp.trunc(x / 0.8))


def test_elementwise_functions_in_user_code():
    assert_both_modes(elementwise_kin, elementwise_kin_reference, np.array([0.31, -1.13, 2.07]),
                      np.array([0.52, 1.34, -0.45]))


# -- methods called for their effect: they may change their receiver in place ------------------------

def sorts_in_place(x):
    y = x * 1.0
    y.sort()
    return y[0] * 2.0


def shuffles(x, rng):
    y = x * 1.0
    rng.shuffle(y)
    return y[0]


@pytest.mark.parametrize("f", [sorts_in_place, shuffles])  # y.fill(v) is followed: test_mutation.py
@pytest.mark.parametrize("transform", [sd.grad, sd.jvp])
def test_a_method_called_for_its_effect_is_refused(f, transform):
    with pytest.raises(SourceDiffError, match="in place") as info:
        transform(f)
    assert info.value.lineno == f.__code__.co_firstlineno + 2


def appends(x, y):
    flat = np.append(x, y)
    rows = np.append(np.outer(x, y), [y * 2.0], axis=0)
    return np.sum(flat ** 3) + np.sum(rows * rows) + np.sum(np.append(x, 1.0) * 2.0)


def appends_reference(x, y):
    flat = anp.concatenate([x, y])
    rows = anp.concatenate([anp.outer(x, y), anp.reshape(y * 2.0, (1, -1))], axis=0)
    return anp.sum(flat ** 3) + anp.sum(rows * rows) + anp.sum(anp.concatenate([x, anp.ones(1)]) * 2.0)


def test_np_append_is_a_concatenation():
    assert_both_modes(appends, appends_reference, rng.standard_normal(3), rng.standard_normal(3))


def pads_with_the_mean(x):
    return np.sum(np.pad(x, 1, "mean"))


def pads_with_a_constant(x):
    return np.sum(np.pad(x, 1, constant_values=1.0) * x[0])


@pytest.mark.parametrize("f", [pads_with_the_mean, pads_with_a_constant])
@pytest.mark.parametrize("transform", [sd.grad, sd.jvp])
def test_np_pad_modes_that_do_not_copy_are_refused(f, transform):
    refused_on_second_line(transform, f, NonDifferentiableError, "cannot differentiate this call of np.pad")


def gradient_over_a_differentiable_step(x):
    return np.sum(np.gradient(x, x[0]) ** 2)


@pytest.mark.parametrize("transform", [sd.grad, sd.jvp])
def test_np_gradient_with_a_differentiable_spacing_is_refused(transform):
    refused_on_second_line(transform, gradient_over_a_differentiable_step, NonDifferentiableError,
                           "its spacing carries a derivative")


def concatenates_on_one_branch(x, flag):
    joined = np.concatenate([x, 2.0 * x])
    if flag > 0.0:
        return np.sum(joined ** 2)
    return np.sum(x ** 3)


def test_a_concatenation_whose_cotangent_nothing_reached():
    """On the branch that does not read `joined`, its adjoint runs on the 0.0 its cotangent started as
    (found by the fuzzer: split_like took the length of that float)."""
    x = np.array([0.3, -0.7, 1.1])
    for flag in (1.0, -1.0):
        expected = central_gradient(concatenates_on_one_branch, (x, flag), 0)
        assert np.allclose(sd.grad(concatenates_on_one_branch)(x, flag), expected, atol=1e-6)


def filled_like_an_expression(x):
    return np.sum(np.full_like(x * 2.0, x[0]) * x)


def filled_like_rows_picked(x, A):
    return np.sum(np.full_like(A[[1, 0]], x[1]) * A[0])


def adds_a_copy_in_place(x, A):
    v = x * 1.0
    v += A.copy()[0]
    v /= np.exp(np.tanh(v.copy()))
    return np.sum(v * v)


def test_full_like_of_an_expression_lends_only_its_shape():
    """Found by the fuzzer: the adjoint read the cotangent of `x * 2.0`, which np.full_like's rule never
    gives (the array lends only its shape), and failed with a NameError in generated code."""
    A = rng.standard_normal((2, 3))
    assert_both_modes(filled_like_an_expression, None, rng.standard_normal(3))
    assert_both_modes(filled_like_rows_picked, None, rng.standard_normal(3), A)


def test_a_method_call_inside_an_augmented_assignment():
    """Found by the fuzzer: `v += A.copy()` was refused (name 'copy' is not defined): the right-hand
    side, made canonical once, was made canonical again."""
    assert_both_modes(adds_a_copy_in_place, None, rng.standard_normal(3), rng.standard_normal((2, 3)))


def tanh_layers_one_filled_like(x, s):
    h = x * 1.0
    for W in (np.full_like(np.outer(x[1:], x), s).T, np.outer(x[1:], x)):
        h = np.tanh(h @ W + s)
    return np.sum(h)


def test_what_only_lends_a_shape_carries_no_cotangent_back():
    """Found by the fuzzer: np.outer(x[1:], x) read only by np.full_like left x[1:] waiting for a
    cotangent nothing gave (NameError in generated code). Reverse mode follows only the arguments a
    rule gives cotangents."""
    assert_both_modes(tanh_layers_one_filled_like, None, np.array([0.3, -0.5, 0.8]), 0.4)


def product_with_a_zero(x):
    return np.prod(np.array([np.sum(x[x > 0.1]), 0.5, x[0]]))


def test_np_prod_at_zeros():
    """Found by the fuzzer: np.prod's derivative divided the product by each factor, nan at a zero."""
    assert_both_modes(product_with_a_zero, None, np.array([0.05, -0.5, 0.08]))
    assert_both_modes(lambda x: np.prod(x * x, axis=1) @ np.array([1.0, -2.0]), None,
                      np.array([[0.0, 1.5, 0.2], [2.0, -1.0, 0.0]]))


def cumulative_product_with_a_zero(x):
    return np.sum(np.cumprod(np.array([x[0], np.sum(x[x > 0.1]), 0.5, x[1]])) * np.array([1.0, 2.0, -1.0, 0.5]))


def test_np_cumprod_at_zeros():
    """np.cumprod's derivative divided by each factor too (z * cumsum(dx / x)): nan at a zero."""
    assert_both_modes(cumulative_product_with_a_zero, None, np.array([0.05, -0.5, 0.08]))
    weights = np.array([[1.0, -2.0, 0.5], [0.3, 1.0, 2.0]])
    at_zeros = np.array([[0.0, 1.5, 0.2], [2.0, -1.0, 0.0]])
    assert_both_modes(lambda x: np.sum(weights.ravel() * np.cumprod(x * x)), None, at_zeros)
    assert_both_modes(lambda x: np.sum(weights * np.cumprod(x * x, axis=0)), None, at_zeros)
    assert_both_modes(lambda x: np.sum(weights * x.cumprod(axis=1)), None, at_zeros)


def interp_on_moving_points(xp):
    return np.sum(np.interp(np.array([0.2, 0.9]), xp, np.array([1.0, 3.0, 2.0])))


@pytest.mark.parametrize("transform", [sd.grad, sd.jvp])
def test_np_interp_with_sample_points_that_carry_a_derivative_is_refused(transform):
    refused_on_second_line(transform, interp_on_moving_points, NonDifferentiableError, "its xp carries a derivative")
