"""The few helpers generated code calls; each is small enough to inline into a standalone module."""
import copy
import math

import numpy as np

from .errors import ArgumentError, NonDifferentiableError, UnsupportedSyntaxError

MISSING = object()  # no value: a dict key not there yet, an argument not given


def read_for_derivatives(fn):
    """Mark a helper written in primitives that have rules: the modes differentiate its calls by reading
    its source, as they do a user's function, so that generated code calling it can be differentiated
    again, to any order, without rules of its own."""
    fn.sd_read_for_derivatives = True
    return fn


def zeros_like(x, count=None):
    """A zero derivative shaped like x: 0.0 for a scalar, zeros for an array, the same structure for
    containers (a range's is a tuple of zeros); with count, one zero per direction, stacked first."""
    if isinstance(x, (list, tuple, range)):
        return sequence_like(x, (zeros_like(v, count) for v in x))
    if isinstance(x, dict):
        return {k: zeros_like(v, count) for k, v in x.items()}
    if count is not None:
        return np.zeros((count,) + np.shape(x), dtype=np.result_type(np.asarray(x).dtype, float))
    if isinstance(x, np.ndarray):
        return np.zeros_like(x, dtype=np.result_type(x.dtype, float))
    return 0.0


def sequence_like(x, items):
    """items as a list where x is a list, else as a plain tuple (the parts of a named tuple such as
    np.linalg.slogdet's result too)."""
    return list(items) if isinstance(x, list) else tuple(items)


def broadcast_like(t, z, count=None):
    """t broadcast to z's shape: a derivative keeps its value's shape when a zero operand carried it
    (with count, t carries that many directions first)."""
    shape = np.shape(z) if count is None else (count,) + np.shape(z)
    if np.shape(t) == shape:
        return t
    return np.broadcast_to(t if count is None else aligned(t, z), shape).copy()


def unbroadcast(g, x):
    """g summed over the axes along which x was broadcast, so that it has x's shape."""
    if type(g) is np.ndarray and type(x) is np.ndarray and g.shape == x.shape:
        return g
    if type(x) is float:
        return g if type(g) is float else float(g.sum() if type(g) is np.ndarray else np.sum(g))
    shape = np.shape(x)
    if np.shape(g) == shape:
        return g
    if np.ndim(g) == 0:  # a number broadcasts as it is (0.0, the cotangent of zeros, stays that)
        return g
    g = np.sum(g, axis=tuple(range(np.ndim(g) - len(shape)))) if np.ndim(g) > len(shape) else g
    if np.shape(g) != shape:  # from a zero cotangent, with fewer or size-1 axes: spread it over x's axes
        g = np.array(np.broadcast_to(g, np.broadcast_shapes(np.shape(g), shape)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and np.shape(g)[i] != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    return g if shape else float(g)


@read_for_derivatives
def spread_like(b, g, x):
    """The transpose of unbroadcast(g, x): b (shaped like x) broadcast to g's shape, through the shape they
    share where g had fewer or size-1 axes than x's broadcast (a zero cotangent, which unbroadcast spreads)."""
    return unbroadcast(_spread(b, g, np.broadcast_shapes(np.shape(g), np.shape(x))), g)


def add_at(g, x, index, value):
    """The cotangent g of x with value added at x[index] (repeated indices add up). g is 0.0 until x's
    cotangent is first needed; a list, tuple or dict x gets a cotangent of its own structure, whose
    parts may be containers in turn."""
    if isinstance(x, dict):
        g = dict(g) if isinstance(g, dict) else {}
        g[index] = _plus(g.get(index, 0.0), x[index], value)
        return g
    if isinstance(x, (list, tuple)):
        g = list(pieces(g, len(x)))
        g[index] = _plus(g[index], x[index], value)
        return tuple(g) if isinstance(x, tuple) else g
    if not isinstance(g, np.ndarray) or not g.flags.writeable:
        g = zeros_like(np.asarray(x)) + g
    np.add.at(g, index, value)
    return g


def gathered(g, index):
    """g[index], each position as often as index names it (the transpose of adding at index), of a
    cotangent that may still be the 0.0 it started as (or a dict's that nothing reached at that key)."""
    if isinstance(g, dict):
        return g.get(index, 0.0)
    if not isinstance(g, (np.ndarray, list, tuple)):
        return 0.0
    return g[index]


def _plus(g, x, value):
    """add_like(g, x, value), without copying value when g is still the 0.0 a cotangent starts as."""
    return as_cotangent(value, x) if type(g) is float and g == 0.0 else add_like(g, x, value)


def pieces(g, count):
    """The cotangents of the count elements of a list or tuple, from its cotangent g: g's own elements
    (or rows, where NumPy made an array of the list), or g for each while g is the 0.0 it started as."""
    return g if isinstance(g, (list, tuple, np.ndarray)) else [g] * count


def cotangent_at(g, index):
    """g[index] of a cotangent that may still be the 0.0 it started as (or a dict's cotangent that no
    contribution to that key reached yet): the cotangent of the value a write `x[index] = v` stored.
    Where integer indices repeat, the write kept one value per element (NumPy does not say which), so
    the cotangent goes to the value kept: the one whose position a write of the positions themselves,
    through the same index, keeps."""
    if isinstance(g, dict):
        return g.get(index, 0.0)
    if not isinstance(g, (np.ndarray, list, tuple)):
        return 0.0
    part = g[index]
    if type(g) is np.ndarray and type(index) is not int and _may_repeat(index):
        positions = np.arange(np.size(part)).reshape(np.shape(part))
        kept = np.full(g.shape, -1)
        kept[index] = positions
        part = np.where(kept[index] == positions, part, 0.0)
    return part


def placed_at(g, index, value):
    """Zeros in g's structure and shape holding value at index: the transpose of cotangent_at (where
    integer indices repeat, a write keeps one value per element, the one cotangent_at reads)."""
    if isinstance(g, dict):
        return {index: value}
    if isinstance(g, (list, tuple)):
        parts = [0.0] * len(g)
        if isinstance(index, slice):
            parts[index] = pieces(value, len(range(*index.indices(len(g)))))
        else:
            parts[index] = value
        return sequence_like(g, parts)
    if not isinstance(g, np.ndarray):
        return 0.0
    out = np.zeros(g.shape, dtype=np.result_type(g, float))
    out[index] = value
    return out


def _may_repeat(index):
    """Whether an index holds an integer array (or list) of more than one element."""
    for p in index if type(index) is tuple else (index,):
        if (type(p) is list or type(p) is np.ndarray) and np.size(p) > 1 and np.asarray(p).dtype.kind in "iu":
            return True
    return False


def zero_at(g, index):
    """g with zeros at index (a cotangent still 0.0 stays so): what a write to x[index] leaves of the
    cotangent of x's earlier contents."""
    if isinstance(g, np.ndarray):
        g[index] = 0.0
    elif isinstance(g, (list, dict)):
        g = type(g)(g)
        g[index] = 0.0
    return g


def overwritten(x, index):
    """A copy of x[index] before a write replaces it (MISSING for a dict key not there yet)."""
    try:
        return copy.copy(x[index])
    except (KeyError, IndexError):
        return MISSING


def restore(x, index, old):
    """Undo the write to x[index] that `overwritten(x, index)` saved old for."""
    if old is MISSING:
        del x[index]
    else:
        x[index] = old


def copy_saved(saved):
    """A copy of what a forward function saved, for a backward function that undoes in-place writes in
    it and may run again: each list, tuple, dict and array is copied once, and an array that views
    another is the same view of that one's copy, so that undoing a write shows through both as it did
    in the forward sweep. Other objects are shared: the backward sweep writes only into those."""
    copies = {}

    def copied(value):
        if id(value) in copies:
            return copies[id(value)]
        if isinstance(value, np.ndarray):
            result = _copy_array(value, copied)
        elif isinstance(value, list):
            result = copies[id(value)] = []  # before its items, which may hold it
            result.extend(copied(v) for v in value)
        elif isinstance(value, tuple):
            result = tuple(copied(v) for v in value)
        elif isinstance(value, dict):
            result = copies[id(value)] = {}
            result.update((k, copied(v)) for k, v in value.items())
        else:
            return value
        copies[id(value)] = result
        return result

    return copied(saved)


def _copy_array(a, copied):
    """A copy of the array a; where a views another array, the same view of that array's copy."""
    base = a
    while isinstance(base.base, np.ndarray):
        base = base.base
    if base is a or type(a) is not np.ndarray:
        return a.copy(order="K")
    root = copied(base)
    # the copy's memory as one block, in the order it is laid out (an array whose axes are permuted,
    # as np.dstack gives, is contiguous in neither C nor Fortran order, and exports no buffer itself)
    memory = root if root.flags.c_contiguous else root.ravel(order="K")
    if root.strides != base.strides or not np.shares_memory(memory, root):  # a layout a copy does not keep
        return a.copy(order="K")
    offset = a.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    view = np.ndarray(a.shape, a.dtype, buffer=memory, offset=offset, strides=a.strides)
    view.flags.writeable = a.flags.writeable
    return view


def added_at(x, index, values):
    """A copy of x with values added at x[index], repeated indices adding up: np.add.at(x, index,
    values) as a new array, which the modes then write into x."""
    z = np.copy(x)
    np.add.at(z, index, values)
    return z


def refuse_in_place(value, statement, shared_with, filename, lineno, col):
    """Refuse `x += v` (statement) where x holds an array, list or dict that may share memory with
    shared_with: Python changes x in place there, while sourcediff computes x = x + v (exact for numbers)."""
    if isinstance(value, (np.ndarray, list, dict)):
        target, operator = statement.split()[:2]
        raise UnsupportedSyntaxError(
            f"{statement} changes {target} in place here, and {target} may share memory with {shared_with}: "
            f"sourcediff computes it as a new value", filename=filename, lineno=lineno, col=col,
            hint=f"write {target} = {target} {operator[:-1]} ... to make a new value, or copy first: "
                 f"{target} = {target}.copy()")


def require_no_derivative(tangent, what, filename, lineno, col):
    """Refuse a tangent that is not zero where a rule follows none (an index, a count). In generated code
    differentiated again, a value taken off the reverse sweep's stack may be an integer or an index:
    which values carry derivatives shows only when it runs."""
    if any(np.any(np.asarray(leaf) != 0) for leaf in _leaves(tangent)):
        raise NonDifferentiableError(f"{what} carries a derivative, which its rule does not follow",
                                     filename=filename, lineno=lineno, col=col)


def require_container(value, what, filename, lineno, col):
    """Refuse reading value through an index that carries a derivative unless value is an array, list,
    tuple, dict or string, whose indices (integers, masks and keys) carry none, or a number (a cotangent
    still the 0.0 it started as, which add_at reads nothing of): another object's `__getitem__` may read
    the index as data."""
    if not isinstance(value, (np.ndarray, np.generic, list, tuple, dict, str, range, int, float)):
        raise NonDifferentiableError(f"{what} reads a {type(value).__name__} through an index that carries a "
                                     "derivative, which its rule does not follow", filename=filename, lineno=lineno,
                                     col=col, hint="call a function instead of indexing, or register a rule for one")


def summand_cotangent(g, x, y, i):
    """The cotangent of x (i = 0) or y (i = 1) from the cotangent g of x + y: its slice of g where x + y
    joined two lists or tuples, else g summed over the axes along which the summand was broadcast."""
    if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
        return cotangent_at(g, slice(None, len(x)) if i == 0 else slice(len(x), None))
    return unbroadcast(g, y if i else x)


def repeats_a_list(x, n):
    """Whether x * n repeats a list or tuple x (n an integer) rather than multiplying numbers or arrays."""
    return isinstance(x, (list, tuple)) and isinstance(n, (int, np.integer))


def factor_cotangent(g, x, n):
    """The cotangent of x from the cotangent g of x * n, where n carries no derivative: the sum of the
    repeats of x where x is a list or tuple and n an integer, else g * n summed to x's shape."""
    if repeats_a_list(x, n):
        return unrepeat(g, len(x))
    return unbroadcast(g * n, x)


@read_for_derivatives
def factor_cotangent_along(g, x, n, dn):
    """The change of factor_cotangent(g, x, n) along a tangent dn of n: none where n repeats a list, else g * dn
    summed to x's shape (mixed second derivatives, sd.jvp(sd.vjp(f, 0), 1) of x * s)."""
    if repeats_a_list(x, n):
        return 0.0
    return unbroadcast(g * dn, x)


@read_for_derivatives
def factor_spread_along(b, g, x, n, dn):
    """The change of factor_spread(b, g, x, n) along a tangent dn of n: none where n repeats a list."""
    if repeats_a_list(x, n):
        return 0.0
    return unbroadcast(broadcast_like(b, g) * dn, g)


@read_for_derivatives
def factor_cotangent_of_n(b, g, x, n):
    """The cotangent of n from the cotangent b of factor_cotangent(g, x, n): none where n repeats a list, else
    the sum of b (spread to g's shape) times g, to n's shape (g may be the 0.0 that stands for zeros)."""
    if repeats_a_list(x, n) or type(g) is float and g == 0.0:
        return 0.0
    return unbroadcast(broadcast_like(b, g) * g, n)


def unrepeat(g, count):
    """The cotangent of a list or tuple x of count elements from the cotangent g of x * n: the sum of
    g's n slices of count parts."""
    if count == 0 or not isinstance(g, (list, tuple, np.ndarray)):
        return 0.0
    total = 0.0
    for start in range(0, len(g), count):
        total = add_cotangents(total, g[start:start + count])
    return total


def summand_spread(b, g, x, y, i):
    """The transpose of summand_cotangent(g, x, y, i): the cotangent b of one summand of x + y placed in
    (for two lists or tuples) or broadcast to (otherwise) the shape of the sum's cotangent g."""
    if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
        return placed_at(g, slice(None, len(x)) if i == 0 else slice(len(x), None), b)
    return _spread(b, g, np.broadcast_shapes(np.shape(x), np.shape(y)))


def factor_spread(b, g, x, n):
    """The transpose of factor_cotangent(g, x, n): the cotangent b of x given to each repeat of x in
    g's structure, or broadcast to g's shape and multiplied by n."""
    if repeats_a_list(x, n):
        return repeated_cotangent(b, g, len(x))
    return unbroadcast(_spread(b, g, np.broadcast_shapes(np.shape(x), np.shape(n))) * n, g)


@read_for_derivatives
def _spread(b, g, shape):
    """b broadcast to the shape of the value whose cotangent g is: g's own, unless g is a number standing for
    a larger value (the 0.0 a cotangent nothing reached starts as, or a number times an array n)."""
    return broadcast_like(b, g) if np.shape(g) == shape else np.broadcast_to(b, shape)


def repeated_cotangent(b, g, count):
    """The transpose of unrepeat(g, count): the cotangent b of a list of count elements given to each
    of g's slices of count parts (g's rows where NumPy made an array of the repeated list)."""
    if count == 0 or not isinstance(g, (list, tuple, np.ndarray)):
        return 0.0
    parts = list(pieces(b, count)) * (len(g) // count)
    if isinstance(g, np.ndarray):
        return np.array([np.broadcast_to(part, np.shape(row)) for part, row in zip(parts, g)], dtype=float)
    return sequence_like(g, parts)


def extreme_index(extreme, x):
    """The position max(x) (extreme=max) or min(x) returns the element of: the first, where it ties."""
    return extreme(range(len(x)), key=x.__getitem__)


def checkpoint_segment(loop_range, length=None):
    """Iterations per checkpointed segment of a loop over loop_range: length, or about √n (at least 1)."""
    return length or max(1, math.isqrt(len(loop_range)))


def restore_contents(current, saved):
    """Put saved's contents back into current, in place: a checkpoint restores what a loop writes into,
    which other names (and values saved for the backward sweep) may hold."""
    if isinstance(current, np.ndarray):
        current[...] = saved
    elif isinstance(current, list):
        current[:] = saved
    elif isinstance(current, dict):
        current.clear()
        current.update(saved)


def pop_cotangent(g):
    """(cotangent of a list's last element, cotangent of the list without it), undoing an append."""
    return (g[-1], g[:-1]) if isinstance(g, (list, np.ndarray)) else (0.0, g)


def appended_cotangent(b, g):
    """The transpose of pop_cotangent(g): the cotangent of a list (or array) from the cotangents
    b = (of its last element, of the rest)."""
    last, rest = pieces(b, 2)
    if isinstance(g, list):
        return list(pieces(rest, len(g) - 1)) + [last]
    if isinstance(g, np.ndarray):
        out = np.zeros(g.shape, dtype=np.result_type(g, float))
        out[:-1], out[-1] = rest, last
        return out
    return rest


def unpop(items, value, index=None):
    """Undo `value = items.pop(index)`: the element back where it was (a dict's key back in place)."""
    if isinstance(items, dict):
        items[index] = value
    elif index is None:
        items.append(value)
    else:
        items.insert(index if index >= 0 else len(items) + 1 + index, value)


def unpopped_cotangent(b, items, index=None):
    """The cotangent of a list or dict before `value = items.pop(index)` (items as it was, the pop undone),
    from b = (the cotangent of value, that of what the pop left): value's at its position among the rest's."""
    part, rest = pieces(b, 2)
    if isinstance(items, dict):
        out = dict(rest) if isinstance(rest, dict) else {}
        out[index] = part
        return out
    parts = list(pieces(rest, len(items) - 1))
    parts.insert(len(parts) if index is None else index % len(items), part)
    return parts


def popped_parts(g, items, index=None):
    """(The part of the cotangent g of a list or dict at the position `items.pop(index)` takes, the rest):
    the transpose of unpopped_cotangent."""
    if isinstance(items, dict):
        rest = dict(g) if isinstance(g, dict) else {}
        return rest.pop(index, 0.0), rest
    parts = list(pieces(g, len(items)))
    position = len(parts) - 1 if index is None else index % len(items)
    return parts[position], parts[:position] + parts[position + 1:]


def cotangent_like(g, x):
    """The cotangent g of x in x's own structure and shape: zeros where nothing reached it."""
    if type(g) is np.ndarray and type(x) is np.ndarray and g.shape == x.shape:
        return g  # the common case, first: every gradient's return passes here
    if isinstance(x, dict):
        return {k: cotangent_like(g.get(k, 0.0) if isinstance(g, dict) else 0.0, v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return sequence_like(x, (cotangent_like(p, v) for p, v in zip(pieces(g, len(x)), x)))
    if isinstance(x, np.ndarray):
        return np.broadcast_to(g, x.shape).astype(np.result_type(x.dtype, float)) if np.shape(g) != x.shape else g
    return float(g)


def unreduce(g, x, axis=None, keepdims=False, mean=False):
    """The cotangent of x from the cotangent g of a sum of x over axis (with mean, of a mean): g
    repeated along the reduced axes, a read-only view of x's shape that copies nothing (for a number,
    one with zero strides)."""
    shape = np.shape(x)
    if mean:
        g = g * (1.0 / reduced_count(x, axis))
    if np.ndim(g) == 0:  # a reduction to a number, or the 0.0 cotangent that stands for zeros
        g = np.asarray(g)
        view = np.ndarray(shape, g.dtype, g, 0, (0,) * len(shape))
        view.flags.writeable = False
        return view
    return np.broadcast_to(expand_reduced(g, x, axis, keepdims), shape)


def reduce_like(b, g, x, axis=None, keepdims=False, mean=False):
    """The transpose of unreduce(g, x, axis, keepdims, mean): b, shaped like x, summed over axis (with
    mean, divided by the count) into g's shape. What differentiating a gradient again reads."""
    total = np.sum(b, axis=axis, keepdims=keepdims)
    if mean:
        total = total * (1.0 / reduced_count(x, axis))
    return unbroadcast(total, g) if np.ndim(g) or np.ndim(total) else float(total)


@read_for_derivatives
def _interp_segments(x, xp):
    """(i, w) with np.interp(x, xp, fp) == (1 - w) * fp[i] + w * fp[i + 1] (xp increasing, at least two
    points): x's segment, and where in it x lies (0 before xp[0], 1 after xp[-1], where the value is held)."""
    xp = np.asarray(xp, dtype=float)
    i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    return i, np.clip((np.asarray(x, dtype=float) - xp[i]) / (xp[i + 1] - xp[i]), 0.0, 1.0)


@read_for_derivatives
def interp_slope(x, xp, fp):
    """The derivative of np.interp(x, xp, fp) in x: the slope of x's segment, 0 outside [xp[0], xp[-1]]."""
    if len(xp) < 2:
        return np.zeros(np.shape(x)) if np.ndim(x) else 0.0
    i, _ = _interp_segments(x, xp)
    fp, xp = np.asarray(fp, dtype=float), np.asarray(xp, dtype=float)
    slope = np.where((x >= xp[0]) & (x <= xp[-1]), (fp[i + 1] - fp[i]) / (xp[i + 1] - xp[i]), 0.0)
    return slope if np.ndim(x) else float(slope)


@read_for_derivatives
def interp_fp_cotangent(g, x, xp):
    """The cotangent of fp in np.interp(x, xp, fp) from the cotangent g of its value: each point's g
    shared between the two ends of its segment."""
    if len(xp) < 2:
        return np.full(len(xp), float(np.sum(g)))
    i, w = _interp_segments(x, xp)
    g = np.broadcast_to(g, np.shape(i))
    cotangent = np.zeros(len(xp))
    np.add.at(cotangent, i, g * (1.0 - w))
    np.add.at(cotangent, i + 1, g * w)
    return cotangent


@read_for_derivatives
def product_of_others(x, z, axis=None, keepdims=False):
    """For each element of x, the product of the other elements reduced with it by z = np.prod(x, axis):
    z / x where x has no zeros, else from exclusive cumulative products (exact at zeros, where z / x
    is nan)."""
    if np.all(x):
        return expand_reduced(z, x, axis, keepdims) / x
    if np.ndim(x) == 0:
        return np.ones_like(x, dtype=float)
    x = np.asarray(x)
    axes = tuple(range(x.ndim)) if axis is None else tuple(
        a % x.ndim for a in (axis if isinstance(axis, tuple) else (axis,)))
    last = tuple(range(x.ndim - len(axes), x.ndim))
    moved = np.moveaxis(x, axes, last)
    rows = moved.reshape(moved.shape[:x.ndim - len(axes)] + (-1,))
    ones = np.ones(rows.shape[:-1] + (1,))
    before = np.cumprod(np.concatenate([ones, rows[..., :-1]], -1), -1)
    after = np.flip(np.cumprod(np.concatenate([ones, np.flip(rows, -1)[..., :-1]], -1), -1), -1)
    return np.moveaxis((before * after).reshape(moved.shape), last, axes)


@read_for_derivatives
def cumprod_tangent(dx, x, z, axis):
    """The tangent of z = np.cumprod(x, axis): z * np.cumsum(dx / x) where x has no zeros, else from the
    partial derivatives themselves (exact at zeros, where dx / x is nan)."""
    if np.all(x):
        return z * np.cumsum(dx / x, axis)
    along = np.einsum("...ik,...k->...i", _cumprod_partials(_axis_last(x, x, axis)), _axis_last(dx, x, axis))
    return along if axis is None else np.moveaxis(along, -1, axis)


@read_for_derivatives
def cumprod_cotangent(bz, x, z, axis):
    """The cotangent of x from that of z = np.cumprod(x, axis), exact at zeros as cumprod_tangent."""
    if np.all(x):
        return reshape_like(np.flip(np.cumsum(np.flip(bz * z, axis), axis), axis), x) / x
    along = np.einsum("...ik,...i->...k", _cumprod_partials(_axis_last(x, x, axis)),
                      np.broadcast_to(bz, np.shape(z)) if axis is None else _axis_last(bz, z, axis))
    return np.reshape(along, np.shape(x)) if axis is None else np.moveaxis(along, -1, axis)


@read_for_derivatives
def _axis_last(a, x, axis):
    """a, broadcast to x's shape, with the cumulative axis last (flattened for axis=None)."""
    a = np.broadcast_to(a, np.shape(x))
    return np.ravel(a) if axis is None else np.moveaxis(a, axis, -1)


@read_for_derivatives
def _cumprod_partials(x):
    """M[..., i, k] = ∂(prod of x[..., :i + 1]) / ∂x[..., k]: the product of x[..., j] over j <= i, j != k."""
    n = x.shape[-1]
    partials = np.zeros(x.shape + (n,))
    before = np.cumprod(np.concatenate([np.ones(x.shape[:-1] + (1,)), x[..., :-1]], -1), -1)
    for k in range(n):
        after = np.cumprod(np.concatenate([np.ones(x.shape[:-1] + (1,)), x[..., k + 1:]], -1), -1)
        partials[..., k:, k] = before[..., k:k + 1] * after
    return partials


def expand_reduced(z, x, axis, keepdims):
    """The result z of a reduction of x over axis, reshaped to broadcast against x (a number, or the
    0.0 cotangent that stands for zeros, broadcasts as it is)."""
    if axis is None or keepdims or np.ndim(z) == 0:
        return z
    return np.expand_dims(z, axis)


def is_integral(leaf):
    """Integers and booleans have no derivative."""
    if isinstance(leaf, (bool, int, np.integer, np.bool_)):
        return True
    return isinstance(leaf, np.ndarray) and leaf.dtype.kind in "biu"


def require_real(value, name, function, tangent=MISSING):
    """Refuse what has no derivative where one is asked for: integers and booleans, complex numbers (the
    rules are written for real values) and what is not a number (a str, None, another object); given the
    tangent for this argument, refuse one of another structure, shape or dtype, before any arithmetic
    meets it."""
    for leaf in _leaves(value):
        if type(leaf) is np.ndarray and leaf.dtype.kind == "f":
            continue
        if is_integral(leaf):
            _refuse(NonDifferentiableError, function, f"argument '{name}' of {function.__qualname__} holds integers or "
                    "booleans, which have no derivative", f"pass floating-point values (e.g. 3.0 or x.astype(float)) "
                    f"or leave '{name}' out of wrt")
        elif is_complex(leaf):
            _refuse(NonDifferentiableError, function, f"argument '{name}' of {function.__qualname__} holds complex "
                    "numbers, which sourcediff does not differentiate",
                    "pass the real and imaginary parts as separate real arguments")
        elif not _is_number(leaf):
            _refuse(NonDifferentiableError, function, f"argument '{name}' of {function.__qualname__} holds "
                    f"{_kind(leaf)}, which has no derivative", f"leave '{name}' out of wrt")
    if tangent is not MISSING:
        mismatch = _mismatch(tangent, value, name)
        if mismatch:
            _refuse(ArgumentError, function, f"the tangent for argument '{name}' of {function.__qualname__} {mismatch}",
                    f"pass a tangent of floating-point numbers shaped like '{name}'")
    return value


def _leaves(value):
    """The values inside nested dicts, lists and tuples."""
    pending = [value]
    while pending:
        leaf = pending.pop()
        if isinstance(leaf, dict):
            pending.extend(leaf.values())
        elif isinstance(leaf, (list, tuple)):
            pending.extend(leaf)
        else:
            yield leaf


def refuse_complex(value, name, function, array_members=()):
    """Refuse complex numbers in an argument no derivative is asked for: they would meet the derivatives
    of the others in rules written for real values, and make them silently wrong. Where the function
    reads array_members of the argument (`.sum()`, `.T`), read as NumPy's, refuse another object."""
    if array_members and not isinstance(value, (np.ndarray, np.generic, int, float)):
        member = array_members[0]
        _refuse(NonDifferentiableError, function, f"argument '{name}' of {function.__qualname__} is a "
                f"{type(value).__name__}, but sourcediff reads {name}{member} as the NumPy array's "
                f"{member.strip('.()')}", f"pass a NumPy array, or use {type(value).__name__}'s "
                f"{member.strip('.()')} outside the differentiated function")
    for leaf in _leaves(value):
        if is_complex(leaf):
            _refuse(NonDifferentiableError, function, f"argument '{name}' of {function.__qualname__} holds complex "
                    "numbers, which sourcediff does not differentiate through",
                    "pass the real and imaginary parts as separate real arguments")


def returned_none(function):
    """The function differentiated returned None on this call: it has no derivative."""
    _refuse(NonDifferentiableError, function, f"{function.__qualname__} returned None, which has no derivative",
            "return the value to differentiate on every path through the function")


def require_cotangent(cotangent, value, function):
    """Refuse a value of None, and a cotangent of another structure, shape or dtype than the value
    (0.0 stands for zeros of any shape, as in generated code), before any arithmetic meets it; return
    the cotangent in the value's structure and shape."""
    if value is None:
        returned_none(function)
    if type(cotangent) is float and (cotangent == 0.0 or isinstance(value, float)):
        return cotangent_like(cotangent, value)
    mismatch = _mismatch(cotangent, value, "the value")
    if mismatch:
        _refuse(ArgumentError, function, f"the cotangent of {function.__qualname__}'s value {mismatch}",
                "sd.grad needs a function returning a scalar; for another value use sd.vjp with a cotangent shaped "
                "like the value" if isinstance(cotangent, float) else
                "pass a cotangent of floating-point numbers shaped like the value")
    return cotangent_like(cotangent, value)


def _refuse(cls, function, message, hint):
    code = function.__code__
    raise cls(message, filename=code.co_filename, lineno=code.co_firstlineno, hint=hint)


def _is_number(leaf):
    if isinstance(leaf, np.ndarray):
        return leaf.dtype.kind in "fc"
    return isinstance(leaf, (float, complex, np.floating, np.complexfloating))


def is_complex(leaf):
    """Complex numbers: refused as arguments and constants, since the rules are written for real values."""
    return leaf.dtype.kind == "c" if isinstance(leaf, np.ndarray) else isinstance(leaf, (complex, np.complexfloating))


def _kind(v):
    """v described in a few words: 'a str', 'None', 'an array of shape (3,)', 'a list of 2'."""
    if v is None:
        return "None"
    if isinstance(v, np.ndarray):
        return f"an array of shape {v.shape}" if v.dtype.kind in "biufc" else f"an array of dtype {v.dtype.str}"
    if isinstance(v, (list, tuple)):
        return f"a {type(v).__name__} of {len(v)}"
    if isinstance(v, dict):
        return f"a dict with keys {', '.join(sorted(map(repr, v)))}" if v else "an empty dict"
    kind = type(v).__name__
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"


def _mismatch(t, x, label, path=()):
    """How t, a tangent or cotangent, differs from the value x it is for (None if it does not): label
    names x, path leads from it to the part compared."""
    if type(t) is np.ndarray and type(x) is np.ndarray and t.shape == x.shape and t.dtype.kind == x.dtype.kind == "f":
        return None
    if isinstance(x, (list, tuple, dict)):
        keys = range(len(x)) if isinstance(x, (list, tuple)) else x.keys()
        if isinstance(t, (list, tuple)) and len(t) == len(x) if isinstance(x, (list, tuple)) else \
                isinstance(t, dict) and t.keys() == x.keys():
            return next(filter(None, (_mismatch(t[k], x[k], label, path + (k,)) for k in keys)), None)
        problem = f"is {_kind(t)}", f"is {_kind(x)}"
    elif not _is_number(x):  # an integer or another value that carries no derivative: anything goes
        return None
    elif isinstance(t, (list, tuple, dict)) or not (_is_number(t) or is_integral(t)):
        problem = f"is {_kind(t)}", f"is {_kind(x)}"
    elif is_integral(t):
        problem = "holds integers", "holds floating-point numbers"
    elif is_complex(t) and not is_complex(x):
        problem = "holds complex numbers", "is real"
    elif np.shape(t) != np.shape(x):
        problem = "is a float" if isinstance(t, float) else f"has shape {np.shape(t)}", f"has shape {np.shape(x)}"
    else:
        return None
    where = "".join(f"[{k!r}]" for k in path)
    return f"{problem[0]}{' at ' + where if where else ''}, but {label}{where} {problem[1]}"


def add_like(g, x, value):
    """The cotangent g of x with the cotangent value of x added, value in x's structure and shape
    (see as_cotangent) or in another form that as_cotangent turns into it."""
    if type(x) is float and type(value) is float or \
            type(x) is np.ndarray and type(value) is np.ndarray and value.shape == x.shape:
        return g + value
    return add_cotangents(g, as_cotangent(value, x))


def add_cotangents(g, h):
    """g + h for two cotangents of one value. The cotangent of a list, tuple or dict takes any of these
    forms: 0.0 (nothing reached it yet), the value's own structure (0.0 for parts nothing reached),
    or an array whose rows are a list's parts (where a NumPy function made an array of the list);
    they are added part by part."""
    if type(g) is type(h) and type(g) in (float, np.ndarray):
        return g + h
    if isinstance(g, (list, tuple)) or isinstance(h, (list, tuple)):
        kind = g if isinstance(g, (list, tuple)) else h
        parts = [add_cotangents(a, b) for a, b in zip(pieces(g, len(kind)), pieces(h, len(kind)))]
        return tuple(parts) if isinstance(kind, tuple) else parts
    if isinstance(g, dict) or isinstance(h, dict):
        out = dict(g) if isinstance(g, dict) else {}
        for key, part in (h.items() if isinstance(h, dict) else ()):
            out[key] = add_cotangents(out.get(key, 0.0), part)
        return out
    return g + h


def as_cotangent(value, x):
    """value, a cotangent of x held another way, in x's structure and shape: a list or tuple x takes the
    pieces of a list (or the rows of an array, where NumPy made one of x), a dict x the entries of a
    dict for its keys; an array x takes value summed over the axes along which x was broadcast (or
    value broadcast to x's shape), a float x a float. value itself where it already is so."""
    if type(x) is np.ndarray and type(value) is np.ndarray and value.shape == x.shape:
        return value
    if isinstance(x, (list, tuple)):
        items = [as_cotangent(part, xi) for part, xi in zip(pieces(value, len(x)), x)]
        return tuple(items) if isinstance(x, tuple) else items
    if isinstance(x, dict):  # a key x lacks was written later, into a copy of x
        return {key: as_cotangent(v, x[key]) for key, v in value.items() if key in x} if isinstance(value, dict) else {}
    if isinstance(x, np.ndarray) and isinstance(value, (list, tuple)):
        value = np.array([as_cotangent(v, xi) for v, xi in zip(value, x)], dtype=float)
    if isinstance(x, float) and isinstance(value, (list, tuple, dict)):
        # x is a cotangent still the 0.0 it started as (code differentiated again): value is its own, one array
        # where NumPy makes one of it (arithmetic on x expects a number or an array), else its structure
        try:
            return np.array(value, dtype=float)
        except (ValueError, TypeError):
            return value
    shape = np.shape(x)
    if np.shape(value) != shape:
        value = unbroadcast(value, x) if np.ndim(value) >= len(shape) else np.broadcast_to(value, shape)
    return float(value) if isinstance(x, float) else value


def split_like(g, xs, axis=0, ndmin=0):
    """The cotangent g of np.concatenate(xs, axis) cut back into one piece per element of xs, each
    shaped like its element (ndmin: an element with fewer dimensions was first given that many,
    extent one along axis, as np.vstack, np.column_stack, np.dstack, np.r_ and np.c_ do). A cotangent
    still the 0.0 it started as gives each piece 0.0."""
    if np.ndim(g) == 0 and g == 0.0:
        return [0.0] * len(xs)
    if axis is None:
        g, axis = np.ravel(g), 0
        sizes = [np.size(x) for x in xs]
    else:
        sizes = [np.shape(x)[axis] if np.ndim(x) >= max(ndmin, 1) else 1 for x in xs]
    pieces = np.split(g, np.cumsum(sizes)[:-1], axis)
    return [np.reshape(piece, np.shape(x)) for piece, x in zip(pieces, xs)]


def joined_like(b, g, xs, axis=0, ndmin=0):
    """The transpose of split_like(g, xs, axis, ndmin): the cotangents b of the pieces, one per element
    of xs, joined into the shape of the concatenation's cotangent g."""
    if np.ndim(g) == 0:
        return 0.0
    parts = [np.broadcast_to(part, np.shape(x)) for part, x in zip(pieces(b, len(xs)), xs)]
    if axis is None:
        return np.reshape(np.concatenate([np.ravel(part) for part in parts]), np.shape(g))
    shape = list(np.shape(g))
    joined = []
    for part, x in zip(parts, xs):
        shape[axis] = np.shape(x)[axis] if np.ndim(x) >= max(ndmin, 1) else 1
        joined.append(np.reshape(part, shape))
    return np.concatenate(joined, axis)


def embed_diagonal(g, shape, k=0, axis1=0, axis2=1):
    """Zeros of the given shape holding g on the k-th diagonal of axes axis1 and axis2, where
    np.diagonal reads it (the diagonal along g's last axis)."""
    out = np.zeros(shape, dtype=np.result_type(g, float))
    rows = np.arange(np.shape(g)[-1]) + max(-k, 0)
    np.moveaxis(out, (axis1, axis2), (-2, -1))[..., rows, rows + k] = g
    return out


def einsum_cotangent(subscripts, g, operands, i):
    """The cotangent of operands[i] from the cotangent g of np.einsum(subscripts, *operands).

    It is the einsum of g with the other operands into operands[i]'s indices. An index only
    operands[i] has gets its extent from a ones vector, an index repeated in it (a diagonal) is
    spread back with an identity matrix, and axes broadcast against the other operands are summed."""
    spec = subscripts.replace(" ", "")
    inputs, arrow, output = spec.partition("->")
    inputs = inputs.split(",")
    if not arrow:  # implicit output: the indices that appear once, sorted, after any ellipsis
        letters = "".join(inputs).replace(".", "")
        output = ("..." if "..." in spec else "") + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    x = operands[i]
    terms = [output] + inputs[:i] + inputs[i + 1:]
    arrays = [g] + list(operands[:i]) + list(operands[i + 1:])
    available = set("".join(terms))
    spare = (c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in spec)
    tokens = inputs[i].replace("...", ".")
    shape = np.shape(x)
    ellipsis = len(shape) - (len(tokens) - ("." in tokens))
    result, axis = "", 0
    for token in tokens:
        if token == ".":
            result, axis = result + "...", axis + ellipsis
            continue
        n = shape[axis]
        if token in result:  # a repeated index: a diagonal
            new = next(spare)
            terms.append(token + new)
            arrays.append(np.eye(n))
            token = new
        elif token not in available:  # summed over in the primal, so the cotangent is constant along it
            terms.append(token)
            arrays.append(np.ones(n))
        result, axis = result + token, axis + 1
    return unbroadcast(np.einsum(",".join(terms) + "->" + result, *arrays), x)


def einsum_cotangent_tangent(subscripts, g, dg, operands, doperands, i):
    """The tangent of einsum_cotangent(subscripts, g, operands, i): it is linear in g and in each operand but
    the i-th, which it reads for its shape alone (a tangent still 0.0 adds nothing)."""
    total = zeros_like(operands[i]) if type(dg) is float and dg == 0.0 else einsum_cotangent(subscripts, dg, operands, i)
    for j, d in enumerate(pieces(doperands, len(operands))):
        if j != i and not (type(d) is float and d == 0.0):
            total = total + einsum_cotangent(subscripts, g, operands[:j] + (d,) + operands[j + 1:], i)
    return total


def einsum_replaced(subscripts, operands, i, value):
    """np.einsum(subscripts, *operands) with operands[i] replaced by value: the transpose of
    einsum_cotangent(subscripts, g, operands, i) in g."""
    return np.einsum(subscripts, *(operands[:i] + (value,) + operands[i + 1:]))


def einsum_cotangent_transposed(subscripts, g, operands, i, b):
    """The cotangents of the operands from the cotangent b of einsum_cotangent(subscripts, g, operands, i):
    <b, that> = <g, einsum(operands with the i-th replaced by b)>, whose derivative in operand j is the
    cotangent of operand j there; operand i, read for its shape, has none."""
    replaced = operands[:i] + (b,) + operands[i + 1:]
    return tuple(0.0 if j == i else einsum_cotangent(subscripts, g, replaced, j) for j in range(len(operands)))


@read_for_derivatives
def kron_cotangent(g, operands, i):
    """The cotangent of operands[i] (i = 0 or 1) from the cotangent g of np.kron(*operands)."""
    nd = max(np.ndim(v) for v in operands)
    shapes = [(1,) * (nd - np.ndim(v)) + np.shape(v) for v in operands]
    g = np.reshape(g, [n for pair in zip(shapes[0], shapes[1]) for n in pair])  # axes a0 b0 a1 b1 ...
    axes = list(range(2 * nd))
    moved = np.transpose(g, axes[1 - i::2] + axes[i::2])  # the other operand's axes first, then its own
    result = np.reshape(np.tensordot(np.reshape(operands[1 - i], shapes[1 - i]), moved, nd), np.shape(operands[i]))
    return float(result) if isinstance(operands[i], float) else result


def reshape_like(g, x):
    """g reshaped to x's shape (a float for a float x)."""
    return float(np.reshape(g, ())) if isinstance(x, float) else np.reshape(g, np.shape(x))


def reduced_count(x, axis):
    """How many elements of x a reduction over axis combines into each result."""
    shape = np.shape(x)
    return np.size(x) if axis is None else int(np.prod([shape[a] for a in np.atleast_1d(axis)]))


def rolled_axis(axis, start, ndim):
    """Where np.rollaxis(x, axis, start) puts axis, for an x of ndim dimensions."""
    axis, start = axis % ndim, start + ndim if start < 0 else start
    return start - 1 if axis < start else start


def take_cotangent(g, x, indices, axis=None):
    """The cotangent of x from the cotangent g of np.take(x, indices, axis): repeated indices add up."""
    out = np.zeros(np.shape(x), dtype=np.result_type(g, float))
    axis = None if axis is None else axis % np.ndim(x)
    target = np.reshape(out, -1) if axis is None else np.moveaxis(out, axis, 0)  # views of out
    at = 0 if axis is None else axis
    g = np.moveaxis(np.asarray(g), list(range(at, at + np.ndim(indices))), list(range(np.ndim(indices))))
    np.add.at(target, indices, g)
    return reshape_like(out, x)


def take_along_axis_cotangent(g, x, indices, axis):
    """The cotangent of x from the cotangent g of np.take_along_axis(x, indices, axis): g added at the
    positions indices took (repeated ones add up; where x had extent 1 beside axis, its one row)."""
    out = np.zeros(np.shape(x), dtype=np.result_type(g, float))
    indices = np.asarray(indices)
    if axis is None:
        np.add.at(out.reshape(-1), indices, np.broadcast_to(g, indices.shape))
        return out
    axis = axis % out.ndim
    taken = list(out.shape)
    taken[axis] = indices.shape[axis]
    g = np.broadcast_to(g, np.broadcast_shapes(tuple(taken), indices.shape))  # 0.0 stands for zeros
    positions = list(np.ogrid[tuple(slice(n) for n in g.shape)])
    positions = [0 if d != axis and out.shape[d] == 1 else p for d, p in enumerate(positions)]
    positions[axis] = np.broadcast_to(indices, g.shape)
    np.add.at(out, tuple(positions), g)
    return out


def repeat_cotangent(g, x, repeats, axis=None):
    """The cotangent of x from the cotangent g of np.repeat(x, repeats, axis): each element's copies summed."""
    flat = axis is None
    source = np.ravel(x) if flat else np.asarray(x)
    axis = 0 if flat else axis % source.ndim
    n = np.shape(source)[axis]
    owners = np.repeat(np.arange(n), np.broadcast_to(repeats, (n,)))
    out = np.zeros(np.shape(source), dtype=np.result_type(g, float))
    np.add.at(np.moveaxis(out, axis, 0), owners, np.moveaxis(np.asarray(g), axis, 0))
    return reshape_like(out, x)


def tile_cotangent(g, x, reps):
    """The cotangent of x from the cotangent g of np.tile(x, reps): the tiles summed."""
    reps = (reps,) if np.ndim(reps) == 0 else tuple(reps)
    n = max(np.ndim(x), len(reps))
    shape = (1,) * (n - np.ndim(x)) + np.shape(x)
    reps = (1,) * (n - len(reps)) + reps
    tiles = np.reshape(g, [m for pair in zip(reps, shape) for m in pair])
    return reshape_like(np.sum(tiles, axis=tuple(range(0, 2 * n, 2))), x)


def diff_cotangent(g, x, n, axis):
    """The cotangent of x from the cotangent g of np.diff(x, n, axis)."""
    if np.shape(x)[axis] <= n:  # the differences are empty
        return np.zeros(np.shape(x))
    for _ in range(n):
        g = -np.diff(g, 1, axis, prepend=0.0, append=0.0)
    return g


def pad_cotangent(g, x, pad_width, mode):
    """The cotangent of x from the cotangent g of np.pad(x, pad_width, mode), for a mode whose every
    element is a copy of one of x's or the constant 0: each copy's cotangent added to its source."""
    index = np.reshape(np.arange(np.size(x)), np.shape(x))
    source = np.pad(index, pad_width, mode, **({"constant_values": -1} if mode == "constant" else {}))
    copies = source >= 0
    return reshape_like(np.bincount(source[copies], np.broadcast_to(g, np.shape(source))[copies], np.size(x)), x)


@read_for_derivatives
def gradient_cotangent(g, x, *spacing, axis=None, edge_order=1):
    """The cotangent of x from the cotangent g of np.gradient(x, *spacing, axis=axis, edge_order=...):
    one array, or one per axis. Along an axis the operator is banded, each row at most three
    neighbouring columns; their coefficients are np.gradient of three combs, and the cotangent adds
    each row's g times its coefficients into those columns."""
    axes = list(range(np.ndim(x))) if axis is None else [a % np.ndim(x) for a in np.atleast_1d(axis)]
    parts = g if isinstance(g, (list, tuple)) else [g] * len(axes)
    spacing = spacing * len(axes) if len(spacing) == 1 else spacing or (1.0,) * len(axes)
    out = np.zeros(np.shape(x))
    for a, h, part in zip(axes, spacing, parts):
        out = out + _gradient_transposed_along(np.broadcast_to(part, np.shape(x)), a, h, edge_order)
    return reshape_like(out, x)


@read_for_derivatives
def _gradient_transposed_along(part, a, h, edge_order):
    """The transpose of np.gradient along axis a (step or coordinates h), applied to part."""
    rows = np.moveaxis(part, a, 0)
    n = len(rows)
    positions = np.array(range(n))
    first = np.clip(positions - 1, 0, max(n - 3, 0))  # each row's first column
    moved = np.zeros(np.shape(rows))
    for r in range(3):
        coefficients = np.gradient((positions % 3 == r) * 1.0, h, edge_order=edge_order)
        columns = first + (r - first) % 3
        inside = columns < n
        weights = np.reshape(coefficients[inside], (-1,) + (1,) * (np.ndim(rows) - 1))
        np.add.at(moved, columns[inside], weights * rows[inside])
    return np.moveaxis(moved, 0, a)


def none_holds(condlist):
    """Where none of the conditions holds: where np.select(condlist, choicelist, default) is default."""
    return np.logical_not(np.logical_or.reduce(np.broadcast_arrays(*condlist)))


@read_for_derivatives
def select_cotangents(g, condlist, choicelist):
    """The cotangents of the choices from the cotangent g of np.select(condlist, choicelist, ...): each
    takes g where its condition is the first that holds."""
    taken, parts = False, []
    for condition, choice in zip(condlist, choicelist):
        chosen = np.logical_and(condition, np.logical_not(taken))
        parts.append(unbroadcast(np.where(chosen, g, 0.0), choice))
        taken = np.logical_or(taken, chosen)
    return parts


def unsplit(g, pieces, axis):
    """The cotangent of x from the cotangent g of the list of pieces np.split(x, ..., axis) gave
    (a piece nothing reached has a cotangent still 0.0)."""
    parts = g if isinstance(g, (list, tuple)) else [g] * len(pieces)
    return np.concatenate([np.broadcast_to(part, np.shape(piece)) for part, piece in zip(parts, pieces)], axis)


@read_for_derivatives
def tensordot_cotangent(g, x, y, axes, i):
    """The cotangent of x (i = 0) or y (i = 1) from the cotangent g of np.tensordot(x, y, axes)."""
    if np.ndim(axes) == 0:
        summed = [list(range(np.ndim(x) - axes, np.ndim(x))), list(range(axes))]
    else:
        summed = [list(np.atleast_1d(a) % max(np.ndim(v), 1)) for a, v in zip(axes, (x, y))]
    free = [[a for a in range(np.ndim(v)) if a not in summed[k]] for k, v in enumerate((x, y))]
    # g's axes are x's free axes, then y's; contract g with the other operand over its free axes
    if i == 0:
        out = np.tensordot(g, y, (list(range(len(free[0]), np.ndim(g))), free[1]))
        order = free[0] + [summed[0][k] for k in np.argsort(summed[1])]
    else:
        out = np.tensordot(x, g, (free[0], list(range(len(free[0])))))
        order = [summed[1][k] for k in np.argsort(summed[0])] + free[1]
    return reshape_like(np.transpose(out, np.argsort(order)), (x, y)[i])


@read_for_derivatives
def cross_cotangent(g, x, y, i, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cotangent of x (i = 0) or y (i = 1) from the cotangent g of np.cross(x, y, ...):
    <g, x × y> = <x, y × g> = <y, g × x>, with 2-vectors as 3-vectors whose last component is 0."""
    if axis is not None:
        axisa = axisb = axisc = axis
    vectors = [np.moveaxis(x, axisa, -1), np.moveaxis(y, axisb, -1)]
    padded = [np.concatenate([v, np.zeros(np.shape(v)[:-1] + (3 - np.shape(v)[-1],))], -1) for v in vectors]
    if np.shape(vectors[0])[-1] == np.shape(vectors[1])[-1] == 2:  # the result was the third component alone
        g = np.stack([np.zeros_like(g), np.zeros_like(g), g], -1)
    else:
        g = np.moveaxis(g, axisc, -1)
    own = np.cross(padded[1], g) if i == 0 else np.cross(g, padded[0])
    own = unbroadcast(own[..., :np.shape(vectors[i])[-1]], vectors[i])
    return np.moveaxis(own, -1, axisa if i == 0 else axisb)


def sample_fractions(z, num, endpoint):
    """Where the samples z of np.linspace(start, stop, num, endpoint) lie between start (0) and stop
    (1), shaped to broadcast against z."""
    return np.reshape(np.linspace(0.0, 1.0, num, endpoint), (-1,) + (1,) * (np.ndim(z) - 1))


def item(x):
    """`x.item()`: the one number of an array, or of a NumPy scalar, as a Python number."""
    return np.asarray(x).item()


def concatenate_rows(items):
    """np.r_[a, b, ...] for items that are numbers and arrays (a slice item is np.r_[start:stop] itself)."""
    return np.r_[tuple(items)]


def concatenate_columns(items):
    """np.c_[a, b, ...] for items that are numbers and arrays."""
    return np.c_[tuple(items)]


# Cotangents of products. Generated code calls them where operand ranks are known only at run time.

def sinc_slope(x):
    """np.sinc's derivative, (cos(pi x) - sinc(x)) / x, by its series near 0 (where the quotient cancels):
    a function of its own, whose rule (sinc_curvature) gives the second derivative at 0 too, where
    differentiating the quotient would not."""
    small = np.abs(x) < 1e-3
    safe = np.where(small, 1.0, x)
    return np.where(small, -np.pi ** 2 / 3 * x + np.pi ** 4 / 30 * x ** 3,
                    (np.cos(np.pi * safe) - np.sinc(safe)) / safe)


@read_for_derivatives
def sinc_curvature(x):
    """np.sinc's second derivative, (-pi sin(pi x) - 2 sinc'(x)) / x, by its series near 0 (-pi**2/3 at 0)."""
    small = np.abs(x) < 1e-3
    safe = np.where(small, 1.0, x)
    return np.where(small, -np.pi ** 2 / 3 + np.pi ** 4 / 10 * x * x,
                    (-np.pi * np.sin(np.pi * safe) - 2.0 * sinc_slope(safe)) / safe)


def matmul_left_cotangent(g, x, y):
    """Cotangent of x in np.matmul(x, y): a 1-D x is a row, a 1-D y a column; batch dimensions broadcast."""
    if np.ndim(y) == 1:
        return np.multiply.outer(g, y)
    return unbroadcast(np.matmul(g if np.ndim(x) > 1 else np.expand_dims(g, -2), np.swapaxes(y, -1, -2)), x)


def matmul_right_cotangent(g, x, y):
    """Cotangent of y in np.matmul(x, y)."""
    if np.ndim(y) == 1:
        return np.matmul(g, x) if np.ndim(x) == 2 else np.tensordot(g, x, np.ndim(g))
    if np.ndim(x) > 1:
        return unbroadcast(np.matmul(np.swapaxes(x, -1, -2), g), y)
    return unbroadcast(np.expand_dims(x, -1) * np.expand_dims(g, -2), y)


def dot_left_cotangent(g, x, y):
    """Cotangent of x in np.dot(x, y): a scalar operand multiplies; else x's last axis meets y's
    second-to-last (or only) one."""
    if np.ndim(x) == 0 or np.ndim(y) == 0:
        return unbroadcast(g * y, x)
    if np.ndim(y) == 1:
        return np.multiply.outer(g, y)
    return np.tensordot(g, np.moveaxis(y, -2, -1), np.ndim(y) - 1)


def dot_right_cotangent(g, x, y):
    """Cotangent of y in np.dot(x, y)."""
    if np.ndim(x) == 0 or np.ndim(y) == 0:
        return unbroadcast(x * g, y)
    leading = [range(np.ndim(x) - 1), range(np.ndim(x) - 1)]
    if np.ndim(y) == 1:
        return np.tensordot(g, x, leading)
    return np.moveaxis(np.tensordot(x, g, leading), 0, -2)


def inner_left_cotangent(g, x, y):
    """Cotangent of x in np.inner(x, y): a scalar operand multiplies; else the last axes meet."""
    if np.ndim(x) == 0 or np.ndim(y) == 0:
        return unbroadcast(g * y, x)
    return np.tensordot(g, y, np.ndim(y) - 1)


def inner_right_cotangent(g, x, y):
    """Cotangent of y in np.inner(x, y)."""
    if np.ndim(x) == 0 or np.ndim(y) == 0:
        return unbroadcast(x * g, y)
    return np.tensordot(g, x, [range(np.ndim(x) - 1), range(np.ndim(x) - 1)])


# -- forward gradients: sampled directions, and tangents that carry several directions at once ------------
# In vector mode the tangent of an array or float holds one direction per row of a leading axis; the
# tangent of a list, tuple or dict is a container of such tangents.

def normal_like(x, rng, count=None):
    """A direction for x drawn from N(0, I), in x's structure; with count, `count` of them stacked first."""
    if count is None and type(x) is float:
        return rng.standard_normal()
    if count is None and type(x) is np.ndarray and x.ndim:
        return rng.standard_normal(x.shape) if x.size < FAST_FILL_MINIMUM else standard_normal(rng, x.shape)
    return _sample_like(x, lambda shape: standard_normal(rng, shape), count)


# bit generator type -> fill(bit_generator, out) drawing the numbers rng.standard_normal(out.shape) would,
# faster; sourcediff.native puts one in for PCG64 when it reproduces NumPy exactly (empty otherwise).
FAST_NORMAL_FILLS = {}
FAST_FILL_MINIMUM = 1024  # numbers; for fewer, calling the fill costs what it saves


def standard_normal(rng, shape):
    """rng.standard_normal(shape): the same numbers, from a fast fill where one is installed."""
    fill = None if math.prod(shape) < FAST_FILL_MINIMUM else FAST_NORMAL_FILLS.get(type(rng.bit_generator))
    if fill is None:
        return rng.standard_normal(shape)
    out = np.empty(shape)
    fill(rng.bit_generator, out)
    return out


def rademacher_like(x, rng, count=None):
    """A direction for x with independent entries +1 or -1 (each with probability 1/2), like normal_like."""
    def signs(shape):
        n = int(np.prod(shape))
        bits = np.unpackbits(np.frombuffer(rng.bytes((n + 7) // 8), dtype=np.uint8), count=n)
        return (bits * 2.0 - 1.0).reshape(shape)
    return _sample_like(x, signs, count)


def _sample_like(x, draw, count):
    if isinstance(x, (list, tuple)):
        return sequence_like(x, (_sample_like(v, draw, count) for v in x))
    if isinstance(x, dict):
        return {k: _sample_like(v, draw, count) for k, v in x.items()}
    shape = np.shape(x) if count is None else (count,) + np.shape(x)
    return draw(shape) if shape else float(draw((1,))[0])


def antithetic(v):
    """The directions v followed by their negations -v (along the leading axis, in v's structure)."""
    if isinstance(v, (list, tuple)):
        return type(v)(antithetic(e) for e in v)
    if isinstance(v, dict):
        return {k: antithetic(e) for k, e in v.items()}
    return np.concatenate([v, -v])


def forward_gradient_estimate(derivative, v, count=None):
    """(∇f·v) v, in v's structure: with count directions stacked first, the mean of the count estimates."""
    if count is None and type(derivative) in (float, np.float64) and type(v) in (float, np.ndarray):
        return derivative * v
    if count is not None and np.shape(derivative) in ((), (1,)):  # a zero tangent, along one direction or none
        derivative = np.broadcast_to(derivative, (count,))
    if np.ndim(derivative) != (0 if count is None else 1):
        raise ValueError(f"a forward gradient needs a scalar function, but its value has shape "
                         f"{np.shape(derivative)[1 if count else 0:]}")
    if isinstance(v, (list, tuple)):
        return type(v)(forward_gradient_estimate(derivative, e, count) for e in v)
    if isinstance(v, dict):
        return {k: forward_gradient_estimate(derivative, e, count) for k, e in v.items()}
    if count is None:
        return derivative * v
    estimate = np.tensordot(derivative, v, axes=1) / count
    return estimate if np.ndim(estimate) else float(estimate)


def aligned(t, z):
    """A tangent with directions first, given axes after the first so that it broadcasts like z does
    (a list of tangents becomes one array first)."""
    t = as_directions(t)
    missing = np.ndim(z) + 1 - np.ndim(t)
    if missing <= 0:
        return t
    if np.ndim(t) == 0:  # the 0.0 of a zero tangent: zeros along one direction, so products keep the axis
        return np.zeros((1,) * (np.ndim(z) + 1))
    return np.reshape(t, np.shape(t)[:1] + (1,) * missing + np.shape(t)[1:])


def as_directions(t):
    """A tangent as one array with the directions first: a list or tuple of tangents (of a list that
    NumPy will turn into an array) is stacked along axis 1."""
    if isinstance(t, (list, tuple)):
        parts = [as_directions(e) for e in t]
        rank = max((np.ndim(p) for p in parts), default=0)
        if rank == 0:  # every part (of none) the 0.0 of a zero tangent: zeros along one direction, which broadcasts
            return np.zeros((1, len(parts)))
        parts = [p if np.ndim(p) in (0, rank) else np.reshape(p, p.shape[:1] + (1,) * (rank - p.ndim) + p.shape[1:])
                 for p in parts]
        return np.stack(np.broadcast_arrays(*parts), axis=1)
    return t


def sum_directions(dx, dy, x, y, z):
    """The tangent of z = x + y: x's and y's joined where x and y are lists or tuples, else each given
    axes so that it broadcasts as the operand did, and added."""
    if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
        return dx + dy
    return aligned(dx, z) + aligned(dy, z)


def product_directions(dx, x, n, z):
    """The tangent of z = x * n, where n carries no derivative: x's repeated n times where x is a list
    or tuple and n an integer, else given axes so that it broadcasts as x did, and multiplied by n."""
    if repeats_a_list(x, n):
        return dx * n
    return aligned(dx, z) * n


def direction(t, j):
    """Direction j of a tangent that carries several (a zero literal serves every direction, and so do
    the zeros along one direction that aligned and as_directions make of it)."""
    if isinstance(t, (list, tuple)):
        return sequence_like(t, (direction(e, j) for e in t))
    if isinstance(t, dict):
        return {k: direction(e, j) for k, e in t.items()}
    if not np.ndim(t):
        return t
    return t[0] if len(t) == 1 else t[j]


def stack_directions(parts):
    """The tangent whose direction j is parts[j]: the inverse of `direction`."""
    first = parts[0]
    if isinstance(first, (list, tuple)):
        return sequence_like(first, (stack_directions(column) for column in zip(*parts)))
    if isinstance(first, dict):
        return {k: stack_directions([p[k] for p in parts]) for k in first}
    return np.stack([np.asarray(p, dtype=float) for p in parts])


def directions_index(index):
    """index, for an array whose leading axis holds directions."""
    return (slice(None),) + (index if isinstance(index, tuple) else (index,))


def tangent_item(t, index):
    """The tangent of x[index], t being the tangent of x."""
    if isinstance(t, (list, tuple, dict)):
        return t[index]
    return t[directions_index(index)]


def set_tangent_item(t, index, value):
    """The tangent of `x[index] = value`: write value's tangent into x's tangent t."""
    if isinstance(t, (list, dict)):
        t[index] = value
        return
    index = directions_index(index)
    t[index] = aligned(value, t[index][0])


def direction_axes(axis, x):
    """A reduction's axis argument for x's tangent, whose leading axis holds directions."""
    if axis is None:
        return tuple(range(1, np.ndim(x) + 1))
    if isinstance(axis, tuple):
        return tuple(a + 1 if a >= 0 else a for a in axis)
    return axis + 1 if axis >= 0 else axis


def matmul_directions_left(dx, y):
    """The tangent of x @ y along the directions dx of x."""
    if np.ndim(y) <= 2:
        return np.matmul(dx, y)
    if np.ndim(dx) == 2:  # x is a vector: treat each direction as a one-row matrix
        return np.matmul(aligned(dx[:, None, :], y), y)[..., 0, :]
    return np.matmul(aligned(dx, y), y)


def matmul_directions_right(x, dy):
    """The tangent of x @ y along the directions dy of y."""
    if np.ndim(dy) == 2:  # y is a vector: treat each direction as a one-column matrix
        return np.matmul(x, aligned(dy[:, :, None], x))[..., 0]
    return np.matmul(x, aligned(dy, x))
