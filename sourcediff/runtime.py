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


def unbroadcast(g, x):
    """g summed over the axes along which x was broadcast, so that it has x's shape."""
    shape = np.shape(x)
    if np.shape(g) == shape:
        return g
    g = np.sum(g, axis=tuple(range(np.ndim(g) - len(shape)))) if np.ndim(g) > len(shape) else g
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and np.shape(g)[i] != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    return g if shape else float(g)


def add_at(g, x, index, value):
    """The cotangent g of x with value added at x[index] (repeated indices add up). g is 0.0 until x's
    cotangent is first needed; a list, tuple or dict x gets a cotangent of its own structure."""
    if isinstance(x, dict):
        g = dict(g) if isinstance(g, dict) else {}
        g[index] = g.get(index, 0.0) + value
        return g
    if isinstance(x, (list, tuple)):
        g = list(g) if isinstance(g, (list, tuple)) else [0.0] * len(x)
        g[index] = g[index] + value
        return type(x)(g) if isinstance(x, tuple) else g
    if not isinstance(g, np.ndarray) or not g.flags.writeable:
        g = zeros_like(np.asarray(x)) + g
    np.add.at(g, index, value)
    return g


def component(g, i):
    """Part i of the cotangent g of a tuple or list (0.0 while g is still the zero it started as)."""
    return g[i] if isinstance(g, (list, tuple)) else 0.0


def cotangent_like(g, x):
    """The cotangent g of x in x's own structure and shape: zeros where nothing reached it."""
    if isinstance(x, dict):
        return {k: cotangent_like(g.get(k, 0.0) if isinstance(g, dict) else 0.0, v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        parts = g if isinstance(g, (list, tuple)) else [0.0] * len(x)
        return type(x)(cotangent_like(p, v) for p, v in zip(parts, x))
    if isinstance(x, np.ndarray):
        return np.broadcast_to(g, x.shape).astype(np.result_type(x.dtype, float)) if np.shape(g) != x.shape else g
    return float(g)


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
