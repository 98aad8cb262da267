"""The few helpers generated code calls; each is small enough to inline into a standalone module."""
import numpy as np


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
