"""Lists, tuples and dicts of differentiable values, written as users write them: literals handed to
NumPy, nested parameters, self-assignments, concatenations, dict literals. Each function runs in
forward mode and reverse mode (joint and split) against central finite differences, and its gradient
must have its argument's structure; forward gradients (one direction and several) are checked
against (∇f·v) v for the directions they draw."""
import numpy as np
import scipy.linalg as scipy_linalg
import pytest

import sourcediff as sd
from corpus_tools import flat

H = 1e-6


def structure(tree):
    """Container types, dict keys and leaf shapes; a float leaf is ('float',)."""
    if isinstance(tree, (list, tuple)):
        return type(tree).__name__, [structure(child) for child in tree]
    if isinstance(tree, dict):
        return {key: structure(tree[key]) for key in tree}
    return ("float",) if isinstance(tree, float) else np.shape(tree)


def rebuild(tree, values):
    """tree with its leaves replaced, in order, by the next values (arrays keep their shapes)."""
    if isinstance(tree, (list, tuple)):
        return type(tree)(rebuild(child, values) for child in tree)
    if isinstance(tree, dict):  # in the order flat reads the leaves: keys sorted
        return {key: rebuild(tree[key], values) for key in sorted(tree)}
    if isinstance(tree, np.ndarray):
        return np.reshape([next(values) for _ in range(tree.size)], tree.shape)
    return float(next(values))


def unflatten(tree, vector):
    return rebuild(tree, iter(vector))


def numerical_gradient(f, args, position):
    """The gradient of the scalar f with respect to args[position], by central differences."""
    base = flat(args[position])
    gradient = np.zeros_like(base)
    for k in range(base.size):
        values = []
        for h in (H, -H):
            moved = base.copy()
            moved[k] += h
            changed = list(args)
            changed[position] = unflatten(args[position], moved)
            values.append(float(f(*changed)))
        gradient[k] = (values[0] - values[1]) / (2 * H)
    return unflatten(args[position], gradient)


def assert_close(actual, expected):
    assert structure(actual) == structure(expected), (structure(actual), structure(expected))
    np.testing.assert_allclose(flat(actual), flat(expected), rtol=1e-5, atol=1e-6)


def check(f, *args, wrt=0):
    """f's gradient in every mode against central differences, with its argument's structure."""
    positions = wrt if isinstance(wrt, tuple) else (wrt,)
    expected = tuple(numerical_gradient(f, args, p) for p in positions)
    value, joint = sd.value_and_grad(f, wrt=positions)(*args)
    assert value == pytest.approx(f(*args))
    forward, backward = sd.vjp(f, wrt=positions, motion="split")
    split_value, saved = forward(*args)
    assert split_value == pytest.approx(f(*args))
    split = backward(saved, 1.0)
    again = backward(saved, 2.0)
    rng = np.random.default_rng(0)
    tangents = [unflatten(args[p], rng.standard_normal(flat(args[p]).size)) for p in positions]
    jvp_value, directional = sd.jvp(f, wrt=positions)(*args, *tangents)
    for got, twice, e in zip(joint, again, expected):
        assert_close(got, e)
        np.testing.assert_allclose(flat(twice), 2 * flat(e), rtol=1e-5, atol=1e-6)
    for got, e in zip(split, expected):
        assert_close(got, e)
    assert jvp_value == pytest.approx(f(*args))
    assert float(directional) == pytest.approx(sum(flat(t) @ flat(e) for t, e in zip(tangents, expected)),
                                               rel=1e-5, abs=1e-6)
    return joint


# -- 1. list and tuple literals handed to NumPy ------------------------------------------------------

def list_literal_sum(a):
    b = [1, a * a, 2]
    return np.sum(b)


def list_of_products_sum(x):
    b = [1.0, x[0] * x[1] * x[2], 2.0]
    return np.sum(b)


def array_of_two(a, b):
    v = np.array([a, b * a])
    return np.sum(v ** 2)


def tuple_literal_mean(a, b):
    return np.mean((a, a * b, 3.0))


def stacked_rows(x, y):
    m = np.stack([x, x * y, y])
    return np.sum(np.sin(m))


def comprehension_to_numpy(x):
    squares = [x[i] * x[i] for i in range(3)]
    return np.prod(np.exp(squares))


def list_parameter_to_numpy(xs):
    return np.sum(np.tanh(xs)) * 2.0


def dot_of_literal(a, x):
    return np.dot([a, 2.0 * a, 1.0], x)


def literal_read_and_summed(a, b):
    t = [a, b * b]
    return np.sum(t) * t[1]


def pair(a):
    return a, a * a


def tuple_result_summed(a):
    t = pair(a)
    return np.sum(t) + t[1]


def sum_of_parameters(ws):
    return np.sum(np.sum(ws, axis=0) ** 2)


def appended_then_summed(x):
    xs = []
    for i in range(3):
        xs.append(x[i] ** 2)
    return np.sum(xs) * xs[0]


def singular_values_summed(z):
    return np.sum(z[1])


def svd_handed_whole_twice(a):  # the tuple's cotangent gathers from two calls: `+` would join the tuples
    z = np.linalg.svd(a)
    return singular_values_summed(z) + 2.0 * singular_values_summed(z)


def eigh_in_two_lists(a):
    z = np.linalg.eigh(a)
    t = [z, a]
    u = [z, a * 2.0]
    return np.sum(t[0][0] ** 2) + np.sum(u[0][0]) * np.sum(u[1])


def split_in_two_tuples(x):
    parts = np.split(x, 2)
    first, second = (parts, 1.0), (parts, x[0])
    return np.sum(first[0][0] * second[0][1]) + np.sum(second[0][0]) * second[1]


def repeats_its_parameter(x, p, c):
    q = p * 2  # a tuple repeated, its parts' cotangents added up on two paths
    u = (q, 1.0)
    r = np.sum(u[0][1] * x)
    if c > 0.0:
        t = (q, x)
        r = r + np.sum(t[0][2] * x)
    return r


def calls_a_repeater(x, p, c):
    return repeats_its_parameter(x, p, c) + repeats_its_parameter(x * 2.0, p, c)


SYMMETRIC = np.array([[2.0, 0.5, 0.1], [0.5, 1.0, -0.3], [0.1, -0.3, 3.0]])


@pytest.mark.parametrize("f, args, wrt", [
    (svd_handed_whole_twice, (SYMMETRIC + np.diag([0.0, 0.5, 1.0]),), 0),
    (eigh_in_two_lists, (SYMMETRIC,), 0),
    (split_in_two_tuples, (np.array([0.3, -1.2, 0.5, 2.0]),), 0),
    (calls_a_repeater, (np.array([0.3, 0.5]), (np.array([1.0, 2.0]), np.array([0.5, -1.0])), 1.0), 1),
    (calls_a_repeater, (np.array([0.3, 0.5]), (np.array([1.0, 2.0]), np.array([0.5, -1.0])), -1.0), 1),
    (tuple_result_summed, (1.3,), 0),
    (sum_of_parameters, ((np.array([1.0, 2.0]), np.array([0.5, -1.0])),), 0),
    (sum_of_parameters, ([np.array([1.0, 2.0]), np.array([0.5, -1.0])],), 0),
    (appended_then_summed, (np.array([0.5, -1.0, 2.0]),), 0),
    (list_literal_sum, (3.0,), 0),
    (list_of_products_sum, (np.array([1.5, 2.0, -0.5]),), 0),
    (array_of_two, (1.5, -0.7), (0, 1)),
    (tuple_literal_mean, (1.5, -0.7), (0, 1)),
    (stacked_rows, (np.array([0.3, -1.2]), np.array([0.5, 2.0])), (0, 1)),
    (comprehension_to_numpy, (np.array([0.3, -0.2, 0.4]),), 0),
    (list_parameter_to_numpy, ([0.3, -0.2, 0.4],), 0),
    (list_parameter_to_numpy, ((0.3, -0.2),), 0),
    (list_parameter_to_numpy, ([np.array([0.3, 0.1]), np.array([-0.2, 0.7])],), 0),
    (dot_of_literal, (0.7, np.array([1.0, -2.0, 0.5])), (0, 1)),
    (literal_read_and_summed, (0.7, -1.3), (0, 1)),
])
def test_containers_handed_to_numpy(f, args, wrt):
    check(f, *args, wrt=wrt)


def test_list_literal_gradient_is_not_zero():
    assert sd.grad(list_literal_sum)(3.0) == pytest.approx(6.0)


# -- 3. assignments whose value may be the target itself ----------------------------------------------

def running_best(x):
    best = x[0]
    for i in range(3):
        v = x[i] * 2.0
        best = v if v > best else best
    return best


def kept_by_a_plain_self_assignment(a, b):
    c = a * b
    if a > 0.0:
        c = c
    else:
        c = c * 2.0
    return c * a


def copied_back_and_forth(a, b):
    c = a * b
    d = c
    c = d
    d = c * c
    return c + d


def swapped(a, b):
    for _ in range(3):
        a, b = b, a * b
    a, b = b, a
    return a * 2.0 + b


def swapped_with_itself(a, b):
    a, b = a, b
    b, a = b, a
    return a * b * b


def keep_second(a, b):
    return b


def best_through_calls(x):
    best = x[0] * 1.0
    for i in range(1, 3):
        best = keep_second(x[i], best) if x[i] < best else max(best, x[i])
    return best * best


@pytest.mark.parametrize("f, args, wrt", [
    (best_through_calls, (np.array([1.0, 3.0, 2.0]),), 0),
    (best_through_calls, (np.array([3.0, 1.0, 2.0]),), 0),
    (running_best, (np.array([1.0, 3.0, 2.0]),), 0),
    (running_best, (np.array([3.0, 1.0, 2.0]),), 0),
    (kept_by_a_plain_self_assignment, (1.5, -0.7), (0, 1)),
    (kept_by_a_plain_self_assignment, (-1.5, -0.7), (0, 1)),
    (copied_back_and_forth, (1.5, -0.7), (0, 1)),
    (swapped, (1.1, 0.9), (0, 1)),
    (swapped_with_itself, (1.1, 0.9), (0, 1)),
])
def test_self_assignments_keep_the_cotangent(f, args, wrt):
    check(f, *args, wrt=wrt)


# -- 4. and 10. parameters read through nested containers ----------------------------------------------

def nested_tuple_product(p):
    return p[0][0] * p[0][1]


def nested_dict_product(p):
    return p['i']['j'] * p['i']['k']


def deep_mixture(p):
    layer = p["layers"][1]
    return layer["w"][0] * np.sum(layer["w"][1]) + p["layers"][0]["w"][1] ** 2 + p["scale"]


def mlp_on_nested_lists(params, x):
    h = np.tanh(x @ params[0][0] + params[0][1])
    out = h @ params[1][0] + params[1][1]
    return np.sum(out ** 2)


def mlp_on_nested_dicts(p, x):
    h = np.tanh(x @ p["l1"]["W"] + p["l1"]["b"])
    return np.sum((h @ p["l2"]["W"] + p["l2"]["b"]) ** 2)


def mlp_over_layers(params, x):
    for W, b in params:
        x = np.tanh(x @ W + b)
    return np.sum(x)


def _layers(rng, sizes, kind):
    return [kind(rng.standard_normal((m, n)), rng.standard_normal(n)) for m, n in zip(sizes[:-1], sizes[1:])]


RNG = np.random.default_rng(3)
X = RNG.standard_normal((2, 3))


@pytest.mark.parametrize("f, args, wrt", [
    (nested_tuple_product, (((3.0, 4.0),),), 0),
    (nested_tuple_product, ([[3.0, 4.0]],), 0),
    (nested_dict_product, ({'i': {'j': 2.0, 'k': 5.0}},), 0),
    (deep_mixture, ({"layers": [{"w": (1.0, 2.0)}, {"w": [3.0, np.array([0.5, 1.5])]}], "scale": 2.0},), 0),
    (mlp_on_nested_lists, (_layers(RNG, (3, 4, 2), lambda w, b: [w, b]), X), 0),
    (mlp_on_nested_lists, (tuple(_layers(RNG, (3, 4, 2), lambda w, b: (w, b))), X), (0, 1)),
    (mlp_on_nested_dicts, ({"l1": {"W": RNG.standard_normal((3, 4)), "b": RNG.standard_normal(4)},
                            "l2": {"W": RNG.standard_normal((4, 2)), "b": RNG.standard_normal(2)}}, X), 0),
    (mlp_over_layers, (_layers(RNG, (3, 4, 2), lambda w, b: (w, b)), X), (0, 1)),
])
def test_parameters_read_through_nested_containers(f, args, wrt):
    check(f, *args, wrt=wrt)


def test_nested_tuple_gradient():
    assert sd.grad(nested_tuple_product)(((3.0, 4.0),)) == ((4.0, 3.0),)


def last_layer(params, x):
    W, b = params[-1]
    return np.sum(np.tanh(x @ W + b))


def test_an_unpacked_part_is_held_under_its_targets_names():
    """`W, b = params[-1]` holds params[-1] as W_b, as a loop over (W, b) pairs does: it was held as
    `value`, the name gradients give what they return (which then became value_2)."""
    args = (_layers(RNG, (4, 3, 2), lambda w, b: (w, b)), X)
    check(last_layer, *args, wrt=0)
    source = sd.grad(last_layer).source
    assert "W_b = params[-1]" in source and "value = np.sum(" in source


# -- 10. dicts built from differentiable values ---------------------------------------------------------

def dict_literal(a):
    d = {'x': a, 'y': a * a}
    return d['x'] + d['y']


def dict_call(a, b):
    d = dict(x=a, y=a * b)
    return d['x'] * d['y']


def dict_of_arrays_to_helper(w, x):
    params = {"w": w, "shift": np.sum(w)}
    return np.sum(affine(params, x) ** 2)


def affine(params, x):
    return x @ params["w"] + params["shift"]


def dict_updated(a, b):
    d = {"a": a}
    d["b"] = a * b
    d["a"] = d["a"] * 3.0
    return d["a"] + d["b"]


def copied_dict_extended(a):
    d = {'a': a}
    e = d.copy()
    e['b'] = a * 2.0
    return e['a'] * e['b']


def nested_dict_literal(a, b):
    p = {"outer": {"a": a, "ab": [a, b]}, "b": b}
    return p["outer"]["ab"][1] * p["outer"]["a"] + p["b"]


def unpacks_a_dict(a, extra):
    d = {**extra, "a": a}
    return d["a"] * d["b"]


def test_unpacking_a_differentiable_dict_is_refused_in_reverse_mode():
    with pytest.raises(sd.UnsupportedSyntaxError, match=r"unpacks a differentiable dict") as info:
        sd.grad(unpacks_a_dict, wrt=(0, 1))
    assert info.value.lineno == unpacks_a_dict.__code__.co_firstlineno + 1
    assert sd.grad(unpacks_a_dict)(2.0, {"b": 3.0}) == 3.0


@pytest.mark.parametrize("f, args, wrt", [
    (dict_literal, (3.0,), 0),
    (dict_call, (3.0, -0.5), (0, 1)),
    (dict_of_arrays_to_helper, (np.array([0.5, -1.0, 2.0]), X), 0),
    (dict_updated, (1.3, 0.4), (0, 1)),
    (nested_dict_literal, (1.3, 0.4), (0, 1)),
    (copied_dict_extended, (1.3,), 0),
])
def test_dicts_built_from_differentiable_values(f, args, wrt):
    check(f, *args, wrt=wrt)


# -- 12. joined lists and tuples ---------------------------------------------------------------------------

def joined_tuples_to_hstack(x, y):
    return np.sum(np.hstack((x, y) + (np.ones(2),)) ** 2)


def joined_lists(a, b, c):
    items = [a] + [b, c]
    return np.sum(np.array(items) ** 2) + items[0] * items[2]


def joined_comprehensions(x):
    xs = [x[i] * 2.0 for i in range(2)]
    ys = [np.sin(x[i]) for i in range(3)]
    zs = xs + ys
    return np.sum(np.stack(zs)) * zs[3]


def joined_with_a_constant_list(a):
    items = [1.0, 2.0] + [a, a * a]
    return np.prod(items)


def joined_in_a_loop(x):
    total = []
    for i in range(3):
        total = total + [x[i] * x[i]]
    return np.sum(total)


def joined_arguments(xs, ys):
    return np.sum(np.array(xs + ys) ** 2) * 0.5 + xs[0]


def repeated_list(a, b):
    items = [a, b * a] * 3
    return np.sum(np.array(items) ** 2) + items[3] * items[4]


def repeated_in_a_loop(x):
    row = [x[0], x[1] * 2.0]
    rows = []
    for k in range(1, 3):
        rows = rows + row * k
    return np.prod(np.array(rows))


def repeated_argument(xs, n):
    return np.sum(np.array(xs * n) ** 2) + np.sum(xs[0] * n)


def joined_with_itself(xs):
    both = xs + xs
    return np.sum(np.array(both) * np.arange(1.0, 1.0 + len(both)))


@pytest.mark.parametrize("f, args, wrt", [
    (joined_with_itself, ([0.5, -2.0],), 0),
    (joined_with_itself, (np.array([0.5, -2.0]),), 0),
    (repeated_argument, ([0.5], 3), 0),
    (repeated_argument, ((0.5, -2.0), 2), 0),
    (repeated_argument, (np.array([0.5, -2.0]), 2), 0),
    (repeated_argument, (np.array([0.5, -2.0]), np.array([[2.0], [3.0]])), 0),
    (joined_arguments, ([1.0, 2.0], [3.0, -4.0]), (0, 1)),
    (joined_arguments, ([1.0], [3.0, -4.0]), 1),
    (joined_arguments, ((1.0, 2.0), (3.0,)), 0),
    (joined_arguments, (np.array([1.0, 2.0]), np.array([3.0, -4.0])), (0, 1)),
    (joined_arguments, (np.array([1.0, 2.0]), np.array([[3.0], [-4.0]])), (0, 1)),
    (repeated_list, (0.7, -1.3), (0, 1)),
    (repeated_in_a_loop, (np.array([0.7, -1.3]),), 0),
    (joined_tuples_to_hstack, (np.array([0.3, -1.2]), np.array([0.5, 2.0, 1.0])), (0, 1)),
    (joined_tuples_to_hstack, (np.array([0.3, -1.2]), np.array([0.5, 2.0, 1.0])), 1),
    (joined_lists, (0.7, -1.1, 2.0), (0, 1, 2)),
    (joined_lists, (0.7, -1.1, 2.0), 1),
    (joined_comprehensions, (np.array([0.3, -0.6, 1.2]),), 0),
    (joined_with_a_constant_list, (1.7,), 0),
    (joined_in_a_loop, (np.array([0.3, -0.6, 1.2]),), 0),
])
def test_joined_lists_and_tuples(f, args, wrt):
    check(f, *args, wrt=wrt)


# -- 11. a user function called in a loop on arguments whose shape changes ------------------------------

def relu(z):
    return np.maximum(z, 0.0)


def biased_tanh(z, b):
    return np.tanh(z + b)


def column_weights(z):
    out = np.zeros_like(z)
    for j in range(z.shape[-1]):
        out[..., j] = np.tanh(z[..., j]) * (j + 1.0)
    return out


def relu_layers(params, inputs):
    for W, b in params:
        inputs = relu(inputs @ W + b)
    return np.sum(inputs ** 2)


def bias_inside_over_zip(Ws, bs, inputs):
    for W, b in zip(Ws, bs):
        inputs = biased_tanh(inputs @ W, b)
    return np.sum(inputs)


def column_loop_layers(params, x):
    for W, b in params:
        x = column_weights(x @ W + b)
    return np.sum(x ** 2)


LAYERS = _layers(RNG, (3, 5, 2, 4), lambda w, b: (w, b))


@pytest.mark.parametrize("f, args, wrt", [
    (relu_layers, (LAYERS, X), (0, 1)),
    (bias_inside_over_zip, ([w for w, _ in LAYERS], [b for _, b in LAYERS], X[0]), (0, 1, 2)),
    (column_loop_layers, (LAYERS, X), (0, 1)),
])
def test_user_function_called_on_changing_shapes(f, args, wrt):
    check(f, *args, wrt=wrt)


# -- forward gradients of functions that assign a differentiated parameter again --------------------------

def layers_reassigning_the_input(params, x):
    for W, b in params:
        x = np.tanh(x @ W + b)
    return np.sum(x)


@pytest.mark.parametrize("directions", [None, 3])
@pytest.mark.parametrize("f, args, wrt", [
    (swapped, (1.1, 0.9), (0, 1)),
    (layers_reassigning_the_input, (LAYERS, X), (0, 1)),
    (joined_arguments, ([1.0, 2.0], [3.0, -4.0]), (0, 1)),
    (joined_arguments, ([1.0], [3.0, -4.0]), 1),
    (joined_arguments, (np.array([1.0, 2.0]), np.array([[3.0], [-4.0]])), (0, 1)),
    (joined_arguments, (np.array([1.0, 2.0]), np.array([[3.0], [-4.0]])), 1),
    (repeated_argument, ([0.5], 3), 0),
    (repeated_argument, (np.array([0.5, -2.0]), np.array([[2.0], [3.0]])), 0),
])
def test_forward_gradient_estimates_along_the_drawn_directions(f, args, wrt, directions):
    """(∇f·v) v with the directions v drawn at the top, not with what the parameter's tangent holds
    after the parameter is assigned again."""
    from sourcediff.runtime import direction, normal_like
    rng = np.random.default_rng(5)
    wrt = wrt if isinstance(wrt, tuple) else (wrt,)
    drawn = [normal_like(args[p], rng, directions) for p in wrt]
    vs = [flat(drawn)] if directions is None else [flat([direction(d, j) for d in drawn]) for j in range(directions)]
    gradient = np.concatenate([flat(numerical_gradient(f, args, p)) for p in wrt])
    expected = sum((gradient @ v) * v for v in vs) / len(vs)
    _, estimate = sd.forward_gradient(f, wrt=wrt, directions=directions or 1)(*args, rng=np.random.default_rng(5))
    np.testing.assert_allclose(flat(estimate), expected, rtol=1e-5, atol=1e-6)


# -- parts no cotangent reaches: a cotangent of zeros is 0.0 until something adds to it ---------------

def lower_solve_and_norm(x):
    A = np.diag(np.exp(x)) + 0.1 * np.tril(np.outer(x, x))
    return np.sum(x * x), scipy_linalg.solve_triangular(A, x, lower=True)


def uses_the_norm_only(x):
    norm, solved = lower_solve_and_norm(x)
    return norm


def indexes_past_a_solve(x):
    A = np.diag(np.exp(x)) + 0.1 * np.tril(np.outer(x, x))
    parts = (np.sum(x), scipy_linalg.solve_triangular(A, x, lower=True)) + (np.sum(x * x),)
    return parts[2] + parts[0]


def product_on_a_branch_not_taken(x, W):
    h = W @ x
    m = np.reshape(h, (1, 2))
    if np.sum(x) > 100.0:
        return np.sum(m * m)
    return np.sum(x * x)


def reshaped_then_unpacked(x):
    rows = np.reshape(x * 2.0, (2, 2)).T
    first, second = rows
    return np.sum(first ** 2)


@pytest.mark.parametrize("f", [uses_the_norm_only, indexes_past_a_solve, reshaped_then_unpacked])
def test_a_shape_changing_adjoint_that_no_cotangent_reached(f):
    """Found by the fuzzer: the adjoint of a solve, a product or a transpose ran on the 0.0 that stands
    for zeros and failed inside NumPy; reverse mode now makes that cotangent an array first where
    nothing proves it is one."""
    check(f, np.array([0.3, 0.5, 0.7, 0.2]) if f is reshaped_then_unpacked else np.array([0.3, 0.5, 0.7]))


def repeats_its_argument(xs):
    ys = xs * 2  # a list or tuple argument repeated: generated code multiplied its cotangent by 2 (TypeError)
    return np.sum(sum(ys) + ys[3] * ys[0]) + np.sum((2 * xs)[1] * np.ones(2))


@pytest.mark.parametrize("xs", [[0.5, 1.5], (0.5, 1.5), [np.array([0.5, -1.0]), np.array([2.0, 0.25])]])
def test_a_sequence_argument_repeated_by_an_integer(xs):
    check(repeats_its_argument, xs)


def returns_early_from_a_loop(a1, a2):
    v = np.outer(a1[:2], a1)
    for i in range(3):
        v = 0.5 * v + 0.5 * (a1[1:][:, None] * a1)
        if 0.0 < a1.sum() < 1.5:
            return np.r_[np.array([0.6, -0.2]), a2]
    return v[1]


def product_with_an_early_return(x, s):
    return np.sum(returns_early_from_a_loop(x, s) * x)


def test_a_broadcast_product_whose_cotangent_an_early_return_left_at_zero():
    """Found by the fuzzer (seed 60010263): the zero that stands for v's cotangent times the (2, 1) column
    a1[1:][:, None] gave a (2, 1) array, which unbroadcast summed to shape (1,) for a1 of shape (3,)."""
    for x in (np.array([0.363, 0.025, 0.627]), np.array([0.363, 1.025, 0.627])):  # early return, and not
        check(product_with_an_early_return, x, -0.5, wrt=(0, 1))


def test_a_product_whose_cotangent_a_branch_not_taken_left_at_zero():
    x, W = np.array([0.3, 0.5, 0.7]), np.arange(6.0).reshape(2, 3) / 7.0
    check(product_on_a_branch_not_taken, x, W, wrt=(0, 1))


def test_vjp_with_a_zero_cotangent_for_a_vector_value():
    """0.0 is accepted for the cotangent of any value (zeros), and gives zero cotangents."""
    def project(W, x):
        return np.reshape(W @ x, (2, 1))
    W, x = np.ones((2, 3)), np.array([0.3, 0.5, 0.7])
    _, (bW, bx) = sd.vjp(project, wrt=(0, 1))(W, x, 0.0)
    assert np.shape(bW) == (2, 3) and not np.any(bW) and np.shape(bx) == (3,) and not np.any(bx)


def concatenations_on_a_branch_not_taken(x, s, p):
    v = np.r_[p['c'], s] * np.c_[np.tanh(p['c']), p['c'], np.linalg.norm(p['W'], axis=1)]
    if s <= -0.3:
        return np.sum(x) * 0.5
    return np.sum(x) + 0.25 * np.sum(v)


def test_concatenations_whose_cotangent_a_branch_not_taken_left_at_zero():
    """Found by the fuzzer: the 0.0 cotangent of a product, times the other factor, came to np.c_'s
    adjoint as an array of a broadcast shape, which it could not split."""
    p = {'c': np.array([0.2, 0.4]), 'W': np.full((2, 3), 0.3)}
    for s in (-0.4, 0.2):
        check(concatenations_on_a_branch_not_taken, np.array([0.3, -0.5, 0.8]), s, p, wrt=(0, 1, 2))
