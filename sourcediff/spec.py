"""The SPEC of `sourcediff check --args`: the inputs a function is checked at, given or random.

A SPEC is written like keyword arguments and read with `ast` (never evaluated): `w=(100,), X=(50,
100), y=uniform(0, 1, (50,)), n=3`.
"""
import ast
import inspect

import numpy as np

from .frontend.parse import arguments_in_order

HELP = """SPEC gives every argument without a default, as name=value separated by commas:
  (d1, d2, ...)            a random array of that shape (standard normal); () a random float
  uniform(low, high, (d1, ...))  a random array with values uniform between low and high
  3, 0.5, -1e-3            that number (an integer argument is never differentiated)
  array([[1, 2], [3, 4]])  that array; load('x.npy') the array saved in that file
  [v, v, ...]              a list of values, each written in this syntax; {'key': v, ...} a dict
With no --wrt, check differentiates every argument that holds no integers."""


class SpecError(ValueError):
    """A SPEC that does not describe the function's arguments."""


def parse_spec(spec, fn, rng):
    """The positional arguments of fn that spec describes (see HELP), random parts drawn from rng."""
    try:
        call = ast.parse(f"f({spec})", mode="eval").body
    except SyntaxError:
        raise SpecError("not a list of name=value") from None
    if call.args or any(k.arg is None for k in call.keywords):
        raise SpecError("write every argument as name=value")
    values = {k.arg: _value(k.value, rng) for k in call.keywords}
    try:
        bound = inspect.signature(fn).bind(**values)
    except TypeError as exc:
        raise SpecError(f"does not fit {fn.__qualname__}: {exc}") from None
    bound.apply_defaults()
    return arguments_in_order(bound)


def _value(node, rng):
    if isinstance(node, ast.Tuple):
        shape = _shape(node)
        return rng.standard_normal(shape) if shape else float(rng.standard_normal())
    if isinstance(node, ast.List):
        return [_value(item, rng) for item in node.elts]
    if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) for k in node.keys):
        return {k.value: _value(v, rng) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _MAKERS:
        make, usage = _MAKERS[node.func.id]
        if len(node.args) != make.__code__.co_argcount - 1 or node.keywords:
            raise SpecError(f"write {usage}, not {ast.unparse(node)}")
        return make(rng, *node.args)
    return _number(node)


def _shape(node):
    if not isinstance(node, ast.Tuple):
        raise SpecError(f"{ast.unparse(node)!r} is not a shape such as (3, 4)")
    shape = [_number(item) for item in node.elts]
    if not all(isinstance(n, int) and n >= 0 for n in shape):
        raise SpecError("a shape holds sizes, such as (3, 4)")
    return shape


def _number(node):
    value = _literal(node)
    if type(value) not in (int, float):
        raise SpecError(f"cannot read {ast.unparse(node)!r}; write a shape such as (3, 4), a number, or another "
                        "form sourcediff check --help lists")
    return value


def _literal(node):
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def _uniform(rng, low, high, shape):
    low, high, shape = _number(low), _number(high), _shape(shape)
    return rng.uniform(low, high, shape) if shape else float(rng.uniform(low, high))


def _array(rng, values):
    try:
        array = np.array(_literal(values))
    except ValueError as exc:
        raise SpecError(f"cannot make an array of {ast.unparse(values)}: {exc}") from None
    if array.dtype.kind not in "biuf":
        raise SpecError(f"array() takes numbers or nested lists of them, not {ast.unparse(values)}")
    return array


def _load(rng, path):
    filename = _literal(path)
    if not isinstance(filename, str):
        raise SpecError(f"load() takes a file name in quotes, not {ast.unparse(path)}")
    try:
        return np.load(filename)
    except (OSError, ValueError) as exc:
        raise SpecError(f"cannot load {filename}: {exc}") from None


_MAKERS = {"uniform": (_uniform, "uniform(low, high, (d1, ...))"), "array": (_array, "array([...])"),
           "load": (_load, "load('x.npy')")}
