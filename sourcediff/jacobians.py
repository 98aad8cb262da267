"""Jacobians assembled from generated derivative functions, a basis direction or an output element at a
time. sd.jacrev, sd.jacobian and sd.hessian run these, and the modules `sourcediff emit --mode jacobian`
writes copy them (they need only NumPy).

The Jacobian of y = f(x) is shaped y.shape + x.shape; where the value or the wrt arguments hold tuples,
lists or dicts, it is the value's structure of the arguments' structure of such blocks (as JAX gives it).
"""
import numpy as np

from .errors import ArgumentError
from .structure import map_leaves


def jacobian(jvp, forward, backward, args, positions, several, name):
    """The Jacobian of the function name at args with respect to the arguments at positions (a tuple of
    them when several), from its tangent function jvp(*args, *tangents) and its split vector-Jacobian
    product: by columns (one tangent per element of the arguments) where it has at least as many outputs
    as inputs, else by rows (one backward sweep per output element)."""
    tree = tuple(args[p] for p in positions) if several else args[positions[0]]
    value, saved = forward(*args)
    if sum(np.size(y) for y in outputs(value, name)) >= sum(np.size(x) for x in flat(tree)):
        return by_columns(lambda d: jvp(*args, *(d if several else (d,)))[1], value, tree)
    return by_rows(value, saved, backward, tree, several, name)


def by_columns(along, value, tree):
    """The Jacobian blocks of a function of value's structure from along(direction), its derivative along
    each basis direction of the arguments tree."""
    xs = flat(tree)
    ys = flat(value)
    blocks = [[np.zeros(np.shape(y) + np.shape(x)) for x in xs] for y in ys]
    for j, xj in enumerate(xs):
        for k in range(np.size(xj)):
            direction = filled(tree, [basis(x, k) if m == j else zeros(x) for m, x in enumerate(xs)])
            for i, (y, column) in enumerate(paired(value, along(direction))):
                blocks[i][j].reshape(np.size(y), np.size(xj))[:, k] = np.ravel(column)
    return filled(value, [filled(tree, row) for row in blocks])


def by_rows(value, saved, backward, tree, several, name):
    """The Jacobian blocks from one backward sweep per element of the value, after the forward sweep that
    gave value and saved (several: backward's cotangents are those of a tuple of arguments, as tree is)."""
    ys, xs = outputs(value, name), flat(tree)
    results = []
    for index, y in enumerate(ys):
        blocks = [np.zeros(np.shape(y) + np.shape(x)) for x in xs]
        for k in range(np.size(y)):
            cotangent = filled(value, [basis(o, k) if i == index else zeros(o) for i, o in enumerate(ys)])
            cotangents = backward(saved, cotangent)
            for block, row in zip(blocks, flat(cotangents if several else cotangents[0])):
                block.reshape(np.size(y), -1)[k] = np.ravel(row)
        results.append(filled(tree, blocks))
    return filled(value, results)


def outputs(value, name):
    """The leaves of value, refused unless numbers or arrays."""
    ys = flat(value)
    if not all(isinstance(y, (float, np.floating, np.ndarray)) for y in ys):
        raise ArgumentError(f"{name} returns {type(value).__name__}: Jacobians are taken of floats and arrays (or "
                            "tuples, lists and dicts of them)")
    return ys


def flat(tree):
    """The leaves of a tuple, list or dict (nested), in the order filled puts them back."""
    found = []
    map_leaves(found.append, tree)
    return found


def filled(tree, values):
    """tree's structure holding values, one per leaf in flat's order."""
    remaining = iter(values)
    return map_leaves(lambda _: next(remaining), tree)


def zeros(x):
    return np.zeros(np.shape(x)) if np.ndim(x) else 0.0


def basis(x, k):
    """The k-th unit direction shaped like x."""
    if np.ndim(x) == 0:
        return 1.0
    e = zeros(x)
    e.flat[k] = 1.0
    return e


def paired(value, derivative):
    """(leaf, its derivative) for each leaf of value, in flat's order: a derivative that is 0.0 where value
    holds a container (nothing reached it) is 0.0 for each of its leaves."""
    if isinstance(value, (list, tuple, dict)):
        keys = value.keys() if isinstance(value, dict) else range(len(value))
        parts = derivative if isinstance(derivative, (list, tuple, dict)) else {k: derivative for k in keys}
        return [pair for k in keys for pair in paired(value[k], parts[k])]
    return [(value, derivative)]
