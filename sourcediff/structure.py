"""Arguments as trees: a float, an array, or a tuple, list or dict of them (a model's parameters)."""
import numpy as np


def leaves(tree):
    """The floats and arrays in tree, in a fixed order."""
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in leaves(item)]
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree, key=repr) for leaf in leaves(tree[key])]
    return [tree]


def map_leaves(fn, *trees):
    """A tree of the first tree's structure with fn applied to corresponding leaves."""
    first = trees[0]
    if isinstance(first, (list, tuple)):
        return type(first)(map_leaves(fn, *items) for items in zip(*trees))
    if isinstance(first, dict):
        return {key: map_leaves(fn, *(t[key] for t in trees)) for key in first}
    return fn(*trees)


def flatten(tree):
    """One float vector of every leaf of tree."""
    parts = [np.ravel(np.asarray(leaf, dtype=float)) for leaf in leaves(tree)]
    return np.concatenate(parts) if parts else np.zeros(0)
