"""Shared pieces of the corpus tests: trees of arguments, sampling, and the independent references
(central finite differences, autograd)."""
import copy
import inspect
import types

import autograd
import autograd.numpy as anp
from autograd.misc import flatten as autograd_flatten
import numpy as np

FD_STEP = 1e-6


# ---------------------------------------------------------------------------
# Tree utilities over float / ndarray / tuple / list / dict
# ---------------------------------------------------------------------------

def tree_map(f, *trees):
    first = trees[0]
    if isinstance(first, (tuple, list)):
        return type(first)(tree_map(f, *children) for children in zip(*trees))
    if isinstance(first, dict):
        return {key: tree_map(f, *(tree[key] for tree in trees)) for key in first}
    return f(*trees)


def tree_leaves(tree):
    if isinstance(tree, (tuple, list)):
        return [leaf for child in tree for leaf in tree_leaves(child)]
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in tree_leaves(tree[key])]
    return [tree]


def tree_structure(tree):
    """Container types and leaf shapes, e.g. ('tuple', [(3,), ()])."""
    if isinstance(tree, (tuple, list)):
        return type(tree).__name__, [tree_structure(child) for child in tree]
    if isinstance(tree, dict):
        return {key: tree_structure(tree[key]) for key in tree}
    return np.shape(tree)


def flat(tree):
    return np.concatenate([np.ravel(np.asarray(leaf, dtype=float)) for leaf in tree_leaves(tree)])


def random_like(x, rng):
    """Random direction scaled by the leaf's magnitude, so that a fixed step FD_STEP is relative."""
    scale = max(1.0, float(np.max(np.abs(x))))
    if isinstance(x, np.ndarray):
        return scale * np.asarray(rng.standard_normal(x.shape))
    return scale * float(rng.standard_normal())


def step(x, direction, h):
    """x + h * direction, keeping floats as floats and arrays (incl. 0-d) as arrays."""
    if isinstance(x, np.ndarray):
        return np.array(x + h * direction)
    return float(x + h * direction)


# ---------------------------------------------------------------------------
# Case setup and references
# ---------------------------------------------------------------------------

def wrt_positions(fn, wrt):
    params = list(inspect.signature(fn).parameters)
    entries = wrt if isinstance(wrt, tuple) else (wrt,)
    return tuple(params.index(entry) if isinstance(entry, str) else entry for entry in entries)


def sample(case, seed):
    """Arguments, positions of the wrt arguments and one random tangent per wrt argument."""
    rng = np.random.default_rng(seed)
    args = case.make_args(rng)
    positions = wrt_positions(case.fn, case.wrt)
    tangents = tuple(tree_map(lambda x: random_like(x, rng), args[p]) for p in positions)
    return args, positions, tangents


def finite_difference_jvp(fn, args, positions, tangents):
    """Central difference of fn along the tangents."""
    def evaluate(h):
        moved = list(copy.deepcopy(args))
        for p, tangent in zip(positions, tangents):
            moved[p] = tree_map(lambda x, t: step(x, t, h), moved[p], tangent)
        return flat(fn(*moved))

    return (evaluate(FD_STEP) - evaluate(-FD_STEP)) / (2.0 * FD_STEP)


def central_gradient(f, x, h=FD_STEP):
    """The gradient of the scalar f at the array x, one central difference per element."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def autograd_version(fn):
    """Copy of fn (and of the corpus functions it calls by name) that sees autograd.numpy as np."""
    namespace = dict(fn.__globals__, np=anp)
    for name, obj in fn.__globals__.items():
        if isinstance(obj, types.FunctionType) and obj.__globals__ is fn.__globals__:
            namespace[name] = types.FunctionType(
                obj.__code__, namespace, obj.__name__, obj.__defaults__, obj.__closure__)
    return namespace[fn.__name__]


def autograd_jacobian(fn, args, positions):
    """The Jacobian, by autograd, of fn's flattened output w.r.t. its flattened wrt arguments (columns in
    autograd's flattening order of the wrt arguments)."""
    ag_fn = autograd_version(fn)
    primals, unflatten = autograd_flatten([args[p] for p in positions])

    def flat_output(flat_primals):
        moved = list(copy.deepcopy(args))
        for p, value in zip(positions, unflatten(flat_primals)):
            moved[p] = value
        return anp.concatenate([anp.ravel(leaf) for leaf in tree_leaves(ag_fn(*moved))])

    return autograd.jacobian(flat_output)(primals)
