"""Checkpointed reverse mode (`checkpoint=`): loops keep their state every segment instead of what every
iteration overwrites. Gradients against central differences, and equal to those without checkpoints;
memory measured with tracemalloc."""
import tracemalloc

import numpy as np
import pytest

import sourcediff as sd
from corpus_tools import central_gradient


def recurrence(x, w, steps):
    for i in range(steps):
        x = np.tanh(w * x + 0.1)
    return np.sum(x ** 2)


def in_place_and_branches(x, steps):
    y = x.copy()
    total = 0.0
    for i in range(steps):
        if y[0] > 0.0:
            y[1:] = y[1:] * 0.9 + np.sin(y[:-1])
        else:
            y[0] = y[0] + 0.5
        total = total + np.sum(y * y) * 0.01
        for j in range(2):
            y[:] = y - 0.1 * np.tanh(y) * (j + 1.0)
    return total + np.sum(y)


def over_an_array(x):
    h = 0.0
    for v in x:
        h = np.tanh(0.5 * h + v)
    return h * h


def appends_and_skips(x):
    items = []
    for i in range(6):
        x = np.sin(x) + 0.1 * i
        if x[0] > 0.5:
            continue
        items.append(x * x)
    return np.sum(np.stack(items)) + np.sum(x)


def written_in_place_after_a_branch(x, w):
    """The fuzzer's seed 230000159, shrunk: v is saved (for the branch's adjoint) before the loop writes
    into it; the checkpoint must restore the same array, not bind the name to a copy."""
    v = np.mean(x) * np.mean(x) / (1.5 + np.sin(w))
    if np.sum(x) <= -0.3:
        v = 0.5 * v + 0.5 * v
    for t in x:
        v[[0, 2]] += np.arctan(x[:2])
    return np.sin(x) * np.sum(v) + x


def written_into_then_rebound(x, q, c):
    """The fuzzer's seed 260001275, shrunk: the second loop rebinds v, so its backward sweep leaves v bound
    to a value of its own; the first loop's checkpoint must bind v again to the array it writes into (which
    the write before the loop saved) before restoring its contents."""
    v = q * 1.0
    v[0] = np.sum(x * v)
    for t in x:
        if np.sum(v[v > 0.1]) < 1.5:
            v[1:] = x[:2]
    for t in x:
        v = 0.5 * v + 0.5 * c
    return np.sum(v * v)


def scalar_code(a, b):
    s = 0.0
    for i in range(30):
        s = s + a * (i + 1.0)
        a = a * b
    return s


CASES = [(recurrence, lambda: (np.linspace(-1.0, 1.0, 7), 0.9, 25), (0, 1)),
         (in_place_and_branches, lambda: (np.array([0.3, -0.2, 0.5, 0.1]), 9), 0),
         (over_an_array, lambda: (np.linspace(-0.5, 0.7, 11),), 0),
         (appends_and_skips, lambda: (np.array([0.3, -0.4, 0.8]),), 0),
         (lambda x, w: np.sum(written_in_place_after_a_branch(x, w) * np.array([1.0, -0.5, 0.7])),
          lambda: (np.array([0.3, 0.5, 0.9]), np.array([0.1, 0.2, 0.3])), (0, 1)),
         (written_into_then_rebound, lambda: (np.array([0.27, -0.46, -0.92]), np.array([-0.97, 0.63, 0.83]), 0.3),
          (0, 1)),
         (scalar_code, lambda: (0.3, 0.97), (0, 1))]


@pytest.mark.parametrize("checkpoint", [True, 1, 3, 100])
@pytest.mark.parametrize("f, make, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_checkpointed_gradients_match_differences_and_the_plain_gradient(f, make, wrt, checkpoint):
    args = make()
    plain = sd.grad(f, wrt)(*args)
    ours = sd.grad(f, wrt, checkpoint=checkpoint)(*args)
    positions = wrt if isinstance(wrt, tuple) else (wrt,)
    for k, p in enumerate(positions):
        mine = ours[k] if isinstance(wrt, tuple) else ours
        reference = plain[k] if isinstance(wrt, tuple) else plain

        def along(v, p=p):
            moved = list(args)
            moved[p] = v if np.ndim(args[p]) else float(v)
            return f(*moved)

        np.testing.assert_allclose(mine, central_gradient(along, np.asarray(args[p], dtype=float)), rtol=1e-5,
                                   atol=1e-7)
        np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-14)


def test_split_motion_and_value_and_grad_checkpoint_too():
    x, w = np.linspace(-1.0, 1.0, 5), 0.8
    forward, backward = sd.vjp(recurrence, (0, 1), motion="split", checkpoint=4)
    value, saved = forward(x, w, 17)
    for _ in range(2):  # the saved state serves several cotangents
        gx, gw = backward(saved, 1.0)
        np.testing.assert_allclose(gx, central_gradient(lambda v: recurrence(v, w, 17), x), rtol=1e-5, atol=1e-8)
    assert value == pytest.approx(recurrence(x, w, 17))
    v, (gx2, _) = sd.value_and_grad(recurrence, (0, 1), checkpoint=True)(x, w, 17)
    assert v == pytest.approx(value) and np.allclose(gx2, gx)


def test_the_checkpointed_source_keeps_states_not_iterations():
    source = sd.vjp(recurrence, (0, 1), checkpoint=True).source
    assert "checkpoint_segment(loop_range, None)" in source
    assert "if position % segment == 0:\n            # for i in range(steps):\n            stack.append(x)\n" in source
    assert "stack.append((total, y, copy_saved(y)))" in sd.vjp(in_place_and_branches, checkpoint=True).source  # y written into
    assert "checkpoint_segment" not in sd.vjp(recurrence, (0, 1)).source


def peak(fn):
    tracemalloc.start()
    fn()
    size = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return size


def test_checkpoints_bound_the_memory_of_a_long_loop():
    x, w, steps = np.linspace(-1.0, 1.0, 1000), 0.9, 2500
    plain, checkpointed = sd.grad(recurrence, (0, 1)), sd.grad(recurrence, (0, 1), checkpoint=True)
    plain(x, w, 2), checkpointed(x, w, 2)  # generated before measuring
    # plain: two arrays of 8 kB pushed per iteration (20 MB); checkpointed: about 2 √n = 100 arrays
    assert peak(lambda: checkpointed(x, w, steps)) < 0.1 * peak(lambda: plain(x, w, steps))


def draws(x, rng):
    for i in range(3):
        x = x + rng.normal(size=x.shape)
    return np.sum(x * x)


def calls_a_helper(x):
    for i in range(3):
        x = helper(x)
    return np.sum(x)


def helper(x):
    return np.sin(x)


def carried_from_inside(x):
    for i in range(4):
        if i > 0:
            x = x * previous  # noqa: F821  (carried from the iteration before: the point of the test)
        previous = x + 1.0  # noqa: F841
    return np.sum(x)


@pytest.mark.parametrize("f, args, words", [
    (draws, (np.ones(2), np.random.default_rng(0)), "may not give the same result"),
    (calls_a_helper, (np.ones(2),), "helper"),
    (carried_from_inside, (np.ones(2),), "'previous'")])
def test_what_checkpointing_cannot_run_twice_is_refused(f, args, words):
    with pytest.raises(sd.UnsupportedSyntaxError, match=words) as refused:
        sd.grad(f, checkpoint=True)(*args)
    assert refused.value.lineno is not None


def test_checkpoint_option_is_checked():
    with pytest.raises(sd.SourceDiffError, match="checkpoint=0"):
        sd.grad(recurrence, checkpoint=0)
    with pytest.raises(sd.SourceDiffError, match="checkpoint='yes'"):
        sd.vjp(recurrence, checkpoint="yes")


def assigns_and_writes(x):
    y = x * 1.0
    for i in range(3):
        y[0] = y[1] * 2.0
        y = y * 0.5
    return np.sum(y)


def test_a_loop_that_assigns_and_writes_into_one_variable_is_refused():
    with pytest.raises(sd.UnsupportedSyntaxError, match="both assigns and writes into"):
        sd.grad(assigns_and_writes, checkpoint=True)(np.ones(3))


def with_break(x):
    for i in range(10):
        x = np.tanh(x) * 1.1
        if x[0] > 0.9:
            break
    return np.sum(x)


def test_a_loop_with_break_is_kept_as_it_is():
    x = np.array([0.2, 0.4])
    g = sd.grad(with_break, checkpoint=True)(x)
    np.testing.assert_allclose(g, central_gradient(with_break, x), rtol=1e-5, atol=1e-8)
    assert "checkpoint_segment" not in sd.vjp(with_break, checkpoint=True).source
