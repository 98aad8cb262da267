"""The few helpers generated code calls; each is small enough to inline into a standalone module."""
import numpy as np

from .errors import NonDifferentiableError


def zeros_like(x):
    """A zero derivative shaped like x: 0.0 for a scalar, zeros for an array, the same structure for containers."""
    if isinstance(x, np.ndarray):
        return np.zeros_like(x, dtype=np.result_type(x.dtype, float))
    if isinstance(x, (list, tuple)):
        return type(x)(zeros_like(v) for v in x)
    if isinstance(x, dict):
        return {k: zeros_like(v) for k, v in x.items()}
    return 0.0


def broadcast_like(t, z):
    """t broadcast to z's shape: a derivative keeps its value's shape when a zero operand carried it."""
    shape = np.shape(z)
    if np.shape(t) == shape:
        return t
    return np.broadcast_to(t, shape).copy()


def expand_reduced(z, x, axis, keepdims):
    """The result z of a reduction of x over axis, reshaped to broadcast against x."""
    if axis is None or keepdims:
        return z
    return np.expand_dims(z, axis)


def is_integral(leaf):
    """Integers and booleans have no derivative."""
    if isinstance(leaf, (bool, int, np.integer, np.bool_)):
        return True
    return isinstance(leaf, np.ndarray) and leaf.dtype.kind in "biu"


def require_real(value, name, function):
    """Refuse integers and booleans where a derivative is asked for: they have none."""
    leaves = [value]
    while leaves:
        leaf = leaves.pop()
        if isinstance(leaf, dict):
            leaves.extend(leaf.values())
        elif isinstance(leaf, (list, tuple)):
            leaves.extend(leaf)
        elif is_integral(leaf):
            code = function.__code__
            raise NonDifferentiableError(
                f"argument '{name}' of {function.__qualname__} holds integers or booleans, which have no derivative",
                filename=code.co_filename, lineno=code.co_firstlineno,
                hint=f"pass floating-point values (e.g. 3.0 or x.astype(float)) or leave '{name}' out of wrt")
    return value
