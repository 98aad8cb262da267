"""The few helpers generated code calls; each is small enough to inline into a standalone module."""
import copy
import math

import numpy as np

from .errors import NonDifferentiableError


def zeros_like(x, count=None):
    """A zero derivative shaped like x: 0.0 for a scalar, zeros for an array, the same structure for
    containers; with count, one zero per direction, stacked first."""
    if isinstance(x, (list, tuple)):
        return type(x)(zeros_like(v, count) for v in x)
    if isinstance(x, dict):
        return {k: zeros_like(v, count) for k, v in x.items()}
    if count is not None:
        return np.zeros((count,) + np.shape(x), dtype=np.result_type(np.asarray(x).dtype, float))
    if isinstance(x, np.ndarray):
        return np.zeros_like(x, dtype=np.result_type(x.dtype, float))
    return 0.0


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
    g = np.sum(g, axis=tuple(range(np.ndim(g) - len(shape)))) if np.ndim(g) > len(shape) else g
    if np.ndim(g) < len(shape):  # from a zero cotangent, with fewer dimensions: align it with x's axes
        g = np.reshape(g, (1,) * (len(shape) - np.ndim(g)) + np.shape(g))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and np.shape(g)[i] != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    return g if shape else float(g)


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
        return type(x)(g) if isinstance(x, tuple) else g
    if not isinstance(g, np.ndarray) or not g.flags.writeable:
        g = zeros_like(np.asarray(x)) + g
    np.add.at(g, index, value)
    return g


def _plus(g, x, value):
    """add_like(g, x, value), without copying value when g is still the 0.0 a cotangent starts as."""
    return as_cotangent(value, x) if type(g) is float and g == 0.0 else add_like(g, x, value)


def pieces(g, count):
    """The cotangents of the count elements of a list or tuple, from its cotangent g: g's own elements
    (or rows, where NumPy made an array of the list), or g for each while g is the 0.0 it started as."""
    return g if isinstance(g, (list, tuple, np.ndarray)) else [g] * count


def cotangent_at(g, index):
    """g[index] of a cotangent that may still be the 0.0 it started as (or a dict's cotangent that no
    contribution to that key reached yet)."""
    if isinstance(g, dict):
        return g.get(index, 0.0)
    return g[index] if isinstance(g, (np.ndarray, list, tuple)) else 0.0


def zero_at(g, index):
    """g with zeros at index (a cotangent still 0.0 stays so): what a write to x[index] leaves of the
    cotangent of x's earlier contents."""
    if isinstance(g, np.ndarray):
        g[index] = 0.0
    elif isinstance(g, (list, dict)):
        g = type(g)(g)
        g[index] = 0.0
    return g


MISSING = object()


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


def summand_cotangent(g, x, y, i):
    """The cotangent of x (i = 0) or y (i = 1) from the cotangent g of x + y: its slice of g where x + y
    joined two lists or tuples, else g summed over the axes along which the summand was broadcast."""
    if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
        return cotangent_at(g, slice(None, len(x)) if i == 0 else slice(len(x), None))
    return unbroadcast(g, y if i else x)


def factor_cotangent(g, x, n):
    """The cotangent of x from the cotangent g of x * n, where n carries no derivative: the sum of the
    repeats of x where x is a list or tuple and n an integer, else g * n summed to x's shape."""
    if isinstance(x, (list, tuple)) and isinstance(n, (int, np.integer)):
        return unrepeat(g, len(x))
    return unbroadcast(g * n, x)


def unrepeat(g, count):
    """The cotangent of a list or tuple x of count elements from the cotangent g of x * n: the sum of
    g's n slices of count parts."""
    if count == 0 or not isinstance(g, (list, tuple, np.ndarray)):
        return 0.0
    total = 0.0
    for start in range(0, len(g), count):
        total = add_cotangents(total, g[start:start + count])
    return total


def pop_cotangent(g):
    """(cotangent of a list's last element, cotangent of the list without it), undoing an append."""
    return (g[-1], g[:-1]) if isinstance(g, (list, np.ndarray)) else (0.0, g)


def cotangent_like(g, x):
    """The cotangent g of x in x's own structure and shape: zeros where nothing reached it."""
    if isinstance(x, dict):
        return {k: cotangent_like(g.get(k, 0.0) if isinstance(g, dict) else 0.0, v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(cotangent_like(p, v) for p, v in zip(pieces(g, len(x)), x))
    if isinstance(x, np.ndarray):
        return np.broadcast_to(g, x.shape).astype(np.result_type(x.dtype, float)) if np.shape(g) != x.shape else g
    return float(g)


def unreduce(g, x, axis=None, keepdims=False, mean=False):
    """The cotangent of x from the cotangent g of a sum of x over axis (with mean, of a mean): g
    repeated along the reduced axes, a read-only view of x's shape that copies nothing (for a number,
    one with zero strides)."""
    shape = np.shape(x)
    if mean:
        count = np.size(x) if axis is None else np.prod([shape[a] for a in np.atleast_1d(axis)])
        g = g * (1.0 / count)
    if axis is None and np.ndim(g) == 0:
        g = np.asarray(g)
        view = np.ndarray(shape, g.dtype, g, 0, (0,) * len(shape))
        view.flags.writeable = False
        return view
    return np.broadcast_to(expand_reduced(g, x, axis, keepdims), shape)


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
    shape = np.shape(x)
    if np.shape(value) != shape:
        value = unbroadcast(value, x) if np.ndim(value) >= len(shape) else np.broadcast_to(value, shape)
    return float(value) if isinstance(x, float) else value


def split_like(g, xs, axis=0, ndmin=0):
    """The cotangent g of np.concatenate(xs, axis) cut back into one piece per element of xs, each
    shaped like its element (ndmin: the elements were first given that many dimensions, by
    prepending ones, as np.hstack and np.vstack do)."""
    if axis is None:
        g, axis = np.ravel(g), 0
        sizes = [np.size(x) for x in xs]
    else:
        sizes = [((1,) * (ndmin - np.ndim(x)) + np.shape(x))[axis] for x in xs]
    pieces = np.split(g, np.cumsum(sizes)[:-1], axis)
    return [np.reshape(piece, np.shape(x)) for piece, x in zip(pieces, xs)]


def embed_diagonal(g, shape, k=0):
    """A zero matrix of the given shape holding the vector g on its k-th diagonal."""
    out = np.zeros(shape, dtype=np.result_type(g, float))
    rows = np.arange(len(g)) + max(-k, 0)
    out[rows, rows + k] = g
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


def kron_cotangent(g, operands, i):
    """The cotangent of operands[i] (i = 0 or 1) from the cotangent g of np.kron(*operands)."""
    nd = max(np.ndim(v) for v in operands)
    shapes = [(1,) * (nd - np.ndim(v)) + np.shape(v) for v in operands]
    g = np.reshape(g, [n for pair in zip(*shapes) for n in pair])
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[:2 * nd]
    own, other = letters[i::2], letters[1 - i::2]
    result = np.reshape(np.einsum(f"{letters},{other}->{own}", g, np.reshape(operands[1 - i], shapes[1 - i])),
                        np.shape(operands[i]))
    return float(result) if isinstance(operands[i], float) else result


# Cotangents of products. Generated code calls them where operand ranks are known only at run time.

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
        return type(x)(_sample_like(v, draw, count) for v in x)
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
    if missing <= 0 or np.ndim(t) == 0:
        return t
    return np.reshape(t, np.shape(t)[:1] + (1,) * missing + np.shape(t)[1:])


def as_directions(t):
    """A tangent as one array with the directions first: a list or tuple of tangents (of a list that
    NumPy will turn into an array) is stacked along axis 1."""
    if isinstance(t, (list, tuple)):
        parts = [as_directions(e) for e in t]
        rank = max(np.ndim(p) for p in parts)
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
    if isinstance(x, (list, tuple)) and isinstance(n, (int, np.integer)):
        return dx * n
    return aligned(dx, z) * n


def direction(t, j):
    """Direction j of a tangent that carries several (a zero literal serves every direction)."""
    if isinstance(t, (list, tuple)):
        return type(t)(direction(e, j) for e in t)
    if isinstance(t, dict):
        return {k: direction(e, j) for k, e in t.items()}
    return t[j] if np.ndim(t) else t


def stack_directions(parts):
    """The tangent whose direction j is parts[j]: the inverse of `direction`."""
    first = parts[0]
    if isinstance(first, (list, tuple)):
        return type(first)(stack_directions(column) for column in zip(*parts))
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
