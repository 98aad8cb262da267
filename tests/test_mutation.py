"""Mutation and aliasing: calls that change an object in place, and writes through names that may share
memory with another. Each function is either differentiated right (values and derivatives against
central finite differences on fresh copies of the argument) or refused with an error naming the line."""
import inspect

import numpy as np
import pytest

import sourcediff as sd
from corpus_tools import central_gradient
from sourcediff.runtime import copy_saved

W = np.array([1.3, -0.7, 2.1, 0.4, -1.9, 1.1])


def finite_differences(f, w, eps=1e-6):
    """Central differences of f at w, each evaluation on a fresh copy (f may write into its argument)."""
    grad = np.zeros_like(w)
    for i in range(w.size):
        step = np.zeros_like(w)
        step[i] = eps
        grad[i] = (f(w + step) - f(w - step)) / (2 * eps)
    return grad


def assert_derivatives_right(f, w=W):
    value, want = f(w.copy()), finite_differences(f, w)
    got_value, gradient = sd.value_and_grad(f)(w.copy())
    np.testing.assert_allclose(got_value, value, rtol=1e-12)
    np.testing.assert_allclose(gradient, want, rtol=1e-6, atol=1e-6)
    split_forward, split_backward = sd.vjp(f, motion="split")
    split_value, saved = split_forward(w.copy())
    np.testing.assert_allclose(split_value, value, rtol=1e-12)
    np.testing.assert_allclose(split_backward(saved, 1.0), want, rtol=1e-6, atol=1e-6)
    f_jvp = sd.jvp(f)
    for i, direction in enumerate(np.eye(w.size)):
        tangent_value, tangent = f_jvp(w.copy(), direction)
        np.testing.assert_allclose(tangent_value, value, rtol=1e-12)
        np.testing.assert_allclose(tangent, want[i], rtol=1e-6, atol=1e-6)


def assert_refused(f, text, match, w=W):
    """Both modes refuse f with an error located at the line holding text (when generating, or when the
    generated function finds at run time that an array would change in place)."""
    lines, first = inspect.getsourcelines(f)
    line = first + next(i for i, source in enumerate(lines) if text in source)
    for transform in (sd.grad, lambda f: (lambda w: sd.jvp(f)(w, np.ones_like(w)))):
        with pytest.raises(sd.SourceDiffError) as info:
            transform(f)(w.copy())
        error = info.value
        assert (error.filename, error.lineno) == (__file__, line), str(error)
        assert match in error.message, str(error)
        assert error.hint


# -- calls that change their receiver or argument, supported --------------------------------------

def fills(w):
    z = np.zeros_like(w)
    z.fill(w[0])
    return np.sum(z ** 2)


def fills_part(w):
    z = w * 2.0
    z[1:3].fill(w[4])
    return np.sum(z ** 2)


def extends_with_literal(w):
    items = [w[0]]
    items.extend([w[1], w[2] * w[3]])
    return sum(items) * items[2]


def extends_with_list(w):
    items = [w[0]]
    more = [w[1], w[2] * 3.0]
    items.extend(more)
    return items[0] * items[1] + items[2]


def extends_in_loop(w):
    items = []
    for i in range(3):
        items.extend((w[i], w[i + 3] ** 2))
    return np.sum(np.array(items) ** 2)


def updates_dict_by_keyword(w):
    d = {"a": 1.0, "b": 2.0}
    d.update(a=w[0] * 3.0, b=w[1])
    return d["a"] * 2.0 + d["b"]


def updates_dict_with_literal(w):
    d = {"a": 1.0}
    d.update({"a": w[0], "b": w[2] ** 2})
    return d["a"] * d["b"]


def adds_at(w):
    z = np.zeros_like(w)
    np.add.at(z, [0, 0, 1], w[:3])
    return np.sum(z ** 2)


def subtracts_at_matrix(w):
    z = np.outer(w, w[:2])
    np.subtract.at(z, ([0, 0, 2], [1, 1, 0]), w[3:] * 2.0)
    return np.sum(z ** 2)


def passes_out_none(w):
    """`out=None` written out by position writes into nothing."""
    m = w.reshape(2, 3)
    return np.sum(np.std(m, 1, None, None, 1)) + np.sum(np.exp(w))


def setflags_changes_no_value(w):
    z = w * 2.0
    z.setflags(write=False)
    return np.sum(z ** 2)


@pytest.mark.parametrize("f", [fills, fills_part, extends_with_literal, extends_with_list, extends_in_loop,
                               updates_dict_by_keyword, updates_dict_with_literal, adds_at, subtracts_at_matrix,
                               setflags_changes_no_value, passes_out_none])
def test_supported_mutating_calls(f):
    assert_derivatives_right(f)


# -- writes at repeated indices: NumPy keeps one write per element --------------------------------

def adds_at_repeated_indices(w):
    z = np.zeros(3)
    z[[0, 0, 1]] += w[:3]
    return np.sum(z ** 2)


def writes_repeated_indices(w):
    z = w * 1.0
    index = np.array([2, 0, 2, 2])
    z[index] = w[:4] ** 2
    return np.sum(z ** 3)


def writes_repeated_pairs(w):
    z = np.outer(w[:3], w[3:])
    z[[0, 1, 0], [2, 2, 2]] = w[:3] * 5.0
    return np.sum(z ** 2)


def writes_broadcast_value_at_repeated_indices(w):
    z = w * 1.0
    z[[1, 1, 4]] = w[5]
    return np.sum(z ** 2)


@pytest.mark.parametrize("f", [adds_at_repeated_indices, writes_repeated_indices, writes_repeated_pairs,
                               writes_broadcast_value_at_repeated_indices])
def test_writes_at_repeated_indices(f):
    assert_derivatives_right(f)


# -- ordinary code that writes in place, or updates names, keeps working --------------------------

def writes_into_copy(w):
    y = w.copy()
    y[0] = w[1] * 3.0
    return np.sum(y ** 2)


def writes_into_zeros(w):
    h = np.zeros(len(w))
    for i in range(len(w)):
        h[i] = w[i] * w[i - 1]
    return np.sum(h)


def accumulates_floats(w):
    s = w[0]
    for i in range(1, len(w)):
        s += w[i] * w[0]
    return s * w[0]


def accumulates_arrays(w):
    total = np.zeros(3)
    for i in range(2):
        total += w[:3] ** 2 * w[i + 3]
    total *= w[0]
    return np.sum(total)


def records_running_float(w):
    acc = 0.0
    history = []
    for i in range(len(w)):
        acc += w[i]
        history.append(acc)
    return np.sum(np.array(history) ** 2)


def writes_into_argument(w):
    w[1:3] = w[0] * 2.0
    return np.sum(w ** 2)


def rebinds_alias(w):
    m = w.copy()
    r = m
    r = r + 1.0
    return np.sum(m ** 2) + np.sum(r)


def jacobi_sweeps(w):
    u = w.copy()
    for sweep in range(3):
        new = u.copy()
        for i in range(1, len(u) - 1):
            new[i] = 0.5 * (u[i - 1] + u[i + 1]) + 0.1 * w[i]
        u = new
    return np.sum(u ** 2)


def builds_rows(w):
    rows = []
    for i in range(3):
        row = np.zeros(2)
        row[0] = w[i]
        row[1] = w[i + 3] * row[0]
        rows.append(row)
    return np.sum(np.array(rows) ** 2)


def fills_grid_rows(w):
    grid = np.zeros((3, 2))
    for i in range(3):
        grid[i, :] = w[i] * w[i + 3]
    return np.sum(grid ** 3)


def swaps_then_writes(w):
    a = w[:3] * 1.0
    b = w[3:] * 2.0
    a, b = b, a
    a[0] = 0.0
    return np.sum(a * b)


def sums_rows_of_matrix(w):
    m = np.outer(w[:3], w[3:])
    total = np.zeros(3)
    for row in m:
        total += row
    return np.sum(total ** 2) + np.sum(m)


@pytest.mark.parametrize("f", [writes_into_copy, writes_into_zeros, accumulates_floats, accumulates_arrays,
                               records_running_float, writes_into_argument, rebinds_alias,
                               jacobi_sweeps, builds_rows, fills_grid_rows, swaps_then_writes,
                               sums_rows_of_matrix])
def test_ordinary_in_place_code(f):
    assert_derivatives_right(f)


# -- calls that change their receiver or argument, refused ----------------------------------------

def sorts_in_place(w):
    z = w.copy()
    z.sort()
    return np.sum(z * np.arange(6))


def adds_in_place_by_method(w):
    z = w * 1.0
    z.__iadd__(w)
    return np.sum(z)


def inserts(w):
    items = [w[0], w[1]]
    items.insert(0, w[2] * 5.0)
    return items[0] * 2.0 + items[1]


def reverses(w):
    items = [w[0], w[1] * 3.0]
    items.reverse()
    return items[0] * 2.0


def pops(w):
    items = [w[0], w[1] * 3.0]
    last = items.pop()
    return last * 2.0


def removes(w):
    items = [w[0], w[1]]
    items.remove(w[0])
    return items[0]


def clears_list(w):
    items = [w[0]]
    items.clear()
    items.append(w[1])
    return items[0]


def sorts_list(w):
    items = [w[1], w[0]]
    items.sort()
    return items[0] * 2.0


def sets_default(w):
    d = {"a": w[0]}
    d.setdefault("b", w[1])
    return d["a"] * d["b"]


def pops_key(w):
    d = {"a": w[0], "b": w[1]}
    value = d.pop("a")
    return value * d["b"]


def pops_with_default(w):
    d = {"a": w[0], "b": w[1]}
    value = d.pop("c", w[2])
    return value * d["b"]


def pops_in_a_while_loop(w):
    items = [w[0], np.sin(w[1]), w[2] * w[3]]
    total = 0.0
    while items:
        total = total * 0.5 + items.pop() ** 2
    return total


def pops_by_index_and_drops(w):
    queue = [w[0] * 3.0, w[1], w[2]]
    first = queue.pop(0)
    queue.pop()  # dropped
    return first * queue[-1] + np.sum(w[3:] * 2.0)


def pops_a_value_it_never_reads(w):
    """The tangent of `v` is read nowhere either: the clean-up once dropped its pop, and the tangent list
    fell out of step with the list (silently wrong)."""
    items = []
    for t in w:
        items.append(t * t)
    total = 0.0
    while len(items) > 1:
        v = items.pop()  # noqa: F841
        total = total + items[-1]
    return total


@pytest.mark.parametrize("f", [pops, pops_key, pops_in_a_while_loop, pops_by_index_and_drops, pops_a_value_it_never_reads])
def test_pop_is_followed_in_both_modes(f):
    """`items.pop()` pops the tangent list in step (forward over generated reverse-mode code needs it:
    that code restores saved values with `stack.pop()`); reverse mode puts the element back where it
    was in the backward sweep (`unpop`), its cotangent at its position (`unpopped_cotangent`); forward
    mode over that reverse-mode code too."""
    want = finite_differences(f, W)
    for i, direction in enumerate(np.eye(W.size)):
        value, tangent = sd.jvp(f)(W.copy(), direction)
        assert value == pytest.approx(f(W.copy()), rel=1e-12)
        assert tangent == pytest.approx(want[i], rel=1e-6, abs=1e-6)
    np.testing.assert_allclose(sd.grad(f)(W.copy()), want, rtol=1e-6, atol=1e-6)
    forward, backward = sd.vjp(f, motion="split")
    _, saved = forward(W.copy())
    for _ in range(2):  # the backward function puts elements back into copies of what it saved
        np.testing.assert_allclose(backward(saved, 1.0), want, rtol=1e-6, atol=1e-6)
    vjp, v = sd.vjp(f), np.linspace(-0.5, 0.5, W.size)
    second = sd.jvp(vjp)(W.copy(), 1.0, v)[1][1]
    step = 1e-6
    expected = (vjp(W + step * v, 1.0)[1] - vjp(W - step * v, 1.0)[1]) / (2 * step)
    np.testing.assert_allclose(second, expected, rtol=1e-5, atol=1e-6)


def clears_dict(w):
    d = {"a": w[0]}
    d.clear()
    d["a"] = w[1]
    return d["a"]


def updates_dict_from_variable(w):
    d = {"a": 1.0}
    e = {"a": w[0]}
    d.update(e)
    return d["a"]


def resizes(w):
    z = w * 1.0
    z.resize(3, refcheck=False)
    return np.sum(z ** 2)


def partitions(w):
    z = w * 1.0
    z.partition(2)
    return z[0] * 3.0


def puts(w):
    z = w * 1.0
    z.put([0, 2], w[3])
    return np.sum(z ** 2)


def shuffles(w):
    z = w * 1.0
    np.random.shuffle(z)
    return np.sum(z ** 2)


def multiplies_at(w):
    z = w * 1.0
    np.multiply.at(z, [0, 1], w[2])
    return np.sum(z ** 2)


@pytest.mark.parametrize("f, text, match", [
    (sorts_in_place, "z.sort()", "z.sort() changes z in place"),
    (adds_in_place_by_method, "z.__iadd__(w)", "z.__iadd__() changes z in place"),
    (inserts, "items.insert(", "items.insert() changes items in place"),
    (reverses, "items.reverse()", "items.reverse() changes items in place"),
    (removes, "items.remove(", "items.remove() changes items in place"),
    (clears_list, "items.clear()", "items.clear() changes items in place"),
    (sorts_list, "items.sort()", "items.sort() changes items in place"),
    (sets_default, "d.setdefault(", "d.setdefault() changes d in place"),
    (pops_with_default, "d.pop(", "d.pop() changes d in place"),
    (clears_dict, "d.clear()", "d.clear() changes d in place"),
    (updates_dict_from_variable, "d.update(e)", "d.update() changes d in place"),
    (resizes, "z.resize(", "z.resize() changes z in place"),
    (partitions, "z.partition(", "z.partition() changes z in place"),
    (puts, "z.put(", "z.put() changes z in place"),
    (shuffles, "np.random.shuffle(z)", "writes into an array whose changes sourcediff cannot follow"),
    (multiplies_at, "np.multiply.at(", "writes into an array whose changes sourcediff cannot follow"),
])
def test_unsupported_mutating_calls(f, text, match):
    assert_refused(f, text, match)


# -- writes through a name that shares memory with another ---------------------------------------

def augments_alias(w):
    m = w.copy()
    r = m
    r += 1.0
    return np.sum(m ** 2)


def writes_through_slice_view(w):
    m = w * 1.0
    r = m[0:1]
    r[0] = 7.0
    return np.sum(m ** 2)


def writes_through_transpose(w):
    z = np.outer(w, w)
    y = z.T
    y[0] = 1.0
    return np.sum(z ** 2)


def writes_through_reshape(w):
    m = w * 1.0
    r = m.reshape(2, 3)
    r[0, 0] = 7.0
    return np.sum(m ** 2)


def augments_row_view(w):
    m = np.outer(w, w)
    r = m[0]
    r += 1.0
    return np.sum(m ** 2)


def writes_into_viewed_array(w):
    m = w * 1.0
    r = m[0:3]
    m[0] = 7.0
    return np.sum(r ** 2)


def records_running_array(w):
    acc = np.zeros(2)
    history = []
    for i in range(3):
        acc += w[2 * i:2 * i + 2]
        history.append(acc)
    return np.sum(np.array(history) ** 2)


def augments_argument_alias(w):
    s = w
    s += 1.0
    return np.sum(s * w)


def writes_through_list_element(w):
    m = w * 2.0
    items = [m]
    first = items[0]
    first[0] = 0.0
    return np.sum(m ** 2)


def writes_through_ravel(w):
    m = np.outer(w[:2], w[2:4])
    flat = np.ravel(m)
    flat[1] = 3.0
    return np.sum(m ** 2)


def writes_alias_then_augments_the_value_written(w):
    y = np.zeros(3)
    total = np.mean(w)
    alias = y
    y[0] = total  # refused: alias reads it afterwards; the guarded `total /= 2.0` below hid that (a wrong gradient)
    total /= 2.0
    return np.sum(y) + total + np.sum(alias)


@pytest.mark.parametrize("f, text, match", [
    (writes_alias_then_augments_the_value_written, "y[0] = total", "may share memory with alias"),
    (augments_alias, "r += 1.0", "may share memory with m"),
    (writes_through_slice_view, "r[0] = 7.0", "may share memory with m"),
    (writes_through_transpose, "y[0] = 1.0", "may share memory with z"),
    (writes_through_reshape, "r[0, 0] = 7.0", "may share memory with m"),
    (augments_row_view, "r += 1.0", "may share memory with m"),
    (writes_into_viewed_array, "m[0] = 7.0", "may share memory with r"),
    (records_running_array, "acc += w", "may share memory with history"),
    (augments_argument_alias, "s += 1.0", "may share memory with what the caller passed as w"),
    (writes_through_list_element, "first[0] = 0.0", "may share memory with"),
    (writes_through_ravel, "flat[1] = 3.0", "may share memory with m"),
])
def test_writes_through_shared_memory_are_refused(f, text, match):
    assert_refused(f, text, match)


def shift_in_place(a):
    a += 1.0
    return 2.0


def helper_augments_argument(w):
    m = w * 2.0
    scale = shift_in_place(m)
    return np.sum(m ** 2) * scale


def augments_argument(w):
    w += 1.0
    return np.sum(w ** 2)


def test_augmented_assignment_to_an_array_argument_is_refused_where_it_runs():
    """A helper's `a += 1.0` changes its caller's array in Python, not in the generated code (an argument
    may be shared with the caller): refused at the helper's line, in both modes; the same in the entry
    function, whose caller's array Python would change."""
    first = inspect.getsourcelines(shift_in_place)[1]
    for f in (helper_augments_argument, augments_argument):
        line = first + 1 if f is helper_augments_argument else inspect.getsourcelines(f)[1] + 1
        for transform in (sd.grad, lambda f: (lambda w: sd.jvp(f)(w, np.ones_like(w)))):
            with pytest.raises(sd.UnsupportedSyntaxError, match="what the caller passed as") as info:
                transform(f)(W.copy())
            assert (info.value.filename, info.value.lineno) == (__file__, line)


def shifted(x, y):
    x += y * x
    return x * y


def shifts_numbers(w):
    return shifted(w[0], w[1]) + shifted(w[2] * 1.0, 2.0) * w[3]


def test_augmented_assignment_to_a_number_argument_runs():
    assert_derivatives_right(shifts_numbers)


def test_native_code_lowers_the_check_of_a_number_argument():
    """The run-time check of `x += v` on an argument passes every float, so native code leaves it out."""
    pytest.importorskip("llvmlite")
    tangent = sd.jvp(shifted)
    assert "refuse_in_place(x" in tangent.source
    assert sd.native(tangent)(1.5, 0.5, 1.0) == pytest.approx(tangent(1.5, 0.5, 1.0), rel=1e-14)


def sorts_in_nested_function(w):
    items = [w[1], w[0]]

    def order():
        items.sort()
        return items[0]

    return order() * 2.0


def test_in_place_call_on_an_enclosing_variable_is_refused():
    assert_refused(sorts_in_nested_function, "items.sort()", "items.sort() changes items in place")


def relu(z):
    return np.maximum(z, 0.0)


def first_row(m):
    return m[0]


def writes_into_helper_result(w):
    out = relu(w)
    out[0] = w[1] * 3.0
    return np.sum(out ** 2) + np.sum(w)


def writes_into_helper_view(w):
    m = np.outer(w[:2], w[2:4])
    row = first_row(m)
    row[0] = 0.0
    return np.sum(m ** 2)


def writes_into_library_result(w):
    p = np.tanh(w)
    p[0] = w[1] * 2.0
    return np.sum(p ** 2) + np.sum(w)


def test_writes_into_what_a_helper_returns():
    """A helper's result is followed into its source: a new array may be written into, a view of an
    argument may not while the argument is read later."""
    assert_derivatives_right(writes_into_helper_result)
    assert_derivatives_right(writes_into_library_result)
    assert_refused(writes_into_helper_view, "row[0] = 0.0", "may share memory with m")


def writes_into_enclosing_array(w):
    buf = np.zeros(3)

    def put(v):
        buf[0] = v * 2.0
        return 0.0

    unused = put(w[0])
    return np.sum(buf ** 2) + w[1] + unused


def appends_to_enclosing_list(w):
    acc = [w[0]]

    def push(v):
        acc.append(v)
        return 1.0

    scale = push(w[1] * 3.0)
    return acc[0] * acc[1] * scale


@pytest.mark.parametrize("f, text", [(writes_into_enclosing_array, "buf[0] = v * 2.0"),
                                     (appends_to_enclosing_list, "acc.append(v)")])
def test_nested_function_changing_an_enclosing_variable_is_refused(f, text):
    assert_refused(f, text, "a variable of the enclosing function, in place")


def halves_above_threshold(w):
    y = w * 1.0
    y[y > 0.3] *= 0.5
    return np.sum(y ** 2)


def clips_negatives_in_place(w):
    y = w * 2.0
    y[y < 0.0] = 0.0
    return np.sum(y * w)


@pytest.mark.parametrize("f", [halves_above_threshold, clips_negatives_in_place])
def test_a_mask_read_from_the_array_it_writes(f):
    """The mask is computed once, before the write: the tangent written after the primal write used to
    compute it again from the new contents (found by the fuzzer; wrong in both modes)."""
    assert_derivatives_right(f)


def stacked_in_depth_then_written(x, A):  # the fuzzer's program, shrunk
    y4 = np.zeros((3,))
    y4[np.var(A, axis=0) < 0.1] += 1.0
    v5 = A
    v6 = (np.stack((x, x) + ())[:, [2, 0, 1]] ** 2)
    if 0.2 < ((np.mean(x), x) + (x[1],))[2] < 1.5:
        v6 = 0.5 * v6 + 0.5 * (np.dsplit(np.dstack(((v6 if np.mean(x) >= 0.2 else v6),
                                                     (v5 if np.mean(x) < 0.0 else v6))), 2)[1][:, :, 0])
    return 1.0 * np.sum(x) + 0.5 * np.sum(A) + -0.75 * np.sum(y4) + 0.25 * np.sum(v5) + 1.25 * np.sum(v6)


def test_split_motion_saves_a_view_of_an_array_with_permuted_axes():
    """np.dstack gives an array contiguous in neither C nor Fortran order; a saved view of it was copied
    as a view of the copy through the buffer protocol, which such an array does not export (ValueError
    in the backward function, fuzzer seed 210030407). The copy's memory is now read in its own order."""
    x, A = np.array([0.5, 0.9, 0.3]), np.array([[0.3, 0.2, 0.1], [0.5, 0.05, 0.7]])
    forward, backward = sd.vjp(stacked_in_depth_then_written, (0, 1), motion="split")
    _, saved = forward(x, A)
    gx, gA = backward(saved, 1.0)
    np.testing.assert_allclose(gx, central_gradient(lambda v: stacked_in_depth_then_written(v, A), x), rtol=1e-6,
                               atol=1e-8)
    np.testing.assert_allclose(gA, central_gradient(lambda B: stacked_in_depth_then_written(x, B), A), rtol=1e-6,
                               atol=1e-8)
    base = np.dstack((np.ones((2, 3)), np.zeros((2, 3))))
    copied_base, copied_view = copy_saved((base, base[:, :, :1]))
    copied_base[0, 0, 0] = 5.0  # the copies keep the view relation
    assert copied_view[0, 0, 0] == 5.0 and base[0, 0, 0] == 1.0
