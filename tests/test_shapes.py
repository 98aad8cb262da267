"""modes/shapes.py: which expressions provably have the same shape, and where nothing is known."""
import gast

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
