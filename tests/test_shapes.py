"""modes/shapes.py: which expressions provably have the same shape, and where nothing is known."""
import gast
import numpy as np

import sourcediff as sd
from corpus_tools import central_gradient
from sourcediff.modes.shapes import Shapes


def expression(source):
    return gast.parse(source).body[0].value


def shapes_of(definitions, floating=()):
    return Shapes({n: expression(v) if v else None for n, v in definitions.items()}, floating)


def test_elementwise_definitions_share_the_shape_of_their_operands():
    shapes = shapes_of({"x": None, "y": None, "e": "np.exp(-x)", "p": "1.0 / (1.0 + e)", "t": "y * p"},
                       floating={"e", "p"})
    assert shapes.shape("p") == shapes.shape("x") == frozenset({"x"})
    assert shapes.shape("t") == frozenset({"x", "y"})  # y may broadcast x: not x's shape
    assert shapes.same(expression("p * 2.0 - e"), expression("x"))
    assert not shapes.same(expression("t"), expression("p"))


def test_nothing_is_known_without_a_floating_operand_or_through_other_calls():
    shapes = shapes_of({"xs": None, "n": None, "s": "np.sum(xs)"})
    assert shapes.of(expression("xs * n")) is None  # a list repeated n times, perhaps
    assert shapes.of(expression("xs * 2.0")) == frozenset({"xs"})  # elementwise, or an error
    assert shapes.shape("s") == frozenset({"s"})  # a reduction is its own atom


def test_a_name_assigned_more_than_once_is_its_own_atom_and_hides_what_reads_it():
    shapes = shapes_of({"x": None, "u": "x + 1.0"})  # v is assigned twice: not in definitions
    assert shapes.shape("u") == frozenset({"x"})
    shapes = shapes_of({"x": None, "w": "v * 2.0"})
    assert shapes.shape("v") == frozenset({"v"}) and shapes.shape("w") == frozenset({"w"})


def test_a_generalized_ufunc_is_not_elementwise():
    """np.matmul is an np.ufunc, but of core dimensions: `x @ x` is a number whatever x's shape."""
    shapes = shapes_of({"x": None, "m": "np.matmul(x, x)"})
    assert shapes.shape("m") == frozenset({"m"})


def inner_product_scaled(x):
    return np.sum((x @ x) * x)


def inner_product_relaxed(x, A):
    v = ((0.5 * x - 0.25) @ (x / (1.5 + np.sin(np.mean(x))))) * x
    for _ in x:
        v = 0.5 * v + 0.5 * A[[1, 0, 1], [0, 2, 1]]
    return np.sum(v) + 0.5 * np.sum(A)


def test_the_cotangent_of_an_inner_product_times_a_vector_is_summed():
    """Found by the fuzzer: matmul taken for elementwise dropped the unbroadcast that sums the cotangent
    of `x @ x` in `(x @ x) * x` to a number (ValueError, or a TypeError in cotangent_like)."""
    x, A = np.array([0.3, -0.5, 0.8]), np.arange(6.0).reshape(2, 3) / 5
    np.testing.assert_allclose(sd.grad(inner_product_scaled)(x), central_gradient(inner_product_scaled, x),
                               rtol=1e-6)
    gx, gA = sd.grad(inner_product_relaxed, wrt=(0, 1))(x, A)
    np.testing.assert_allclose(gx, central_gradient(lambda v: inner_product_relaxed(v, A), x), rtol=1e-6)
    np.testing.assert_allclose(gA, central_gradient(lambda B: inner_product_relaxed(x, B), A), rtol=1e-6)
