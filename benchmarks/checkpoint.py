"""Memory and time of checkpointed reverse mode, measured side by side in one run.

    python benchmarks/checkpoint.py              # plain text
    python benchmarks/checkpoint.py --markdown   # Markdown
    python benchmarks/checkpoint.py --steps 20000 --size 1000 --rounds 3

A recurrence x <- tanh(w * x + 0.1) over a state of --size numbers for --steps steps, its gradient with
respect to x and w: sd.grad without checkpoints, with checkpoint=True (segments of √n iterations), and
the objective alone. Peak memory of one call is measured with tracemalloc (which NumPy reports its
buffers to) in a separate untimed call; times are medians over interleaved rounds. The two gradients
are checked against each other and against a central difference along a random direction first.
Targets (issue 11): under 10% of the plain gradient's peak memory, at most 3 times its time.
"""
import argparse
import os
import statistics
import sys
import time
import tracemalloc

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))

import sourcediff as sd  # noqa: E402

import forward  # noqa: E402


def recurrence(x, w, steps):
    for i in range(steps):
        x = np.tanh(w * x + 0.1)
    return np.sum(x ** 2)


def peak(fn):
    tracemalloc.start()
    fn()
    size = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return size


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--markdown", action="store_true")
    options = parser.parse_args()
    command = "python benchmarks/checkpoint.py" + "".join(f" {a}" for a in sys.argv[1:])
    rng = np.random.default_rng(0)
    x, w, steps = rng.uniform(-1.0, 1.0, options.size), 0.9, options.steps
    plain, checkpointed = sd.grad(recurrence, (0, 1)), sd.grad(recurrence, (0, 1), checkpoint=True)
    gp, gc = plain(x, w, steps), checkpointed(x, w, steps)
    direction, eps = rng.standard_normal(options.size), 1e-6
    numeric = (recurrence(x + eps * direction, w, steps) - recurrence(x - eps * direction, w, steps)) / (2 * eps)
    if not (np.allclose(gp[0], gc[0], rtol=1e-12, atol=0) and np.isclose(gp[1], gc[1], rtol=1e-12)
            and np.isclose(gc[0] @ direction, numeric, rtol=1e-5, atol=1e-8)):
        print("CORRECTNESS CHECK FAILED: checkpointed and plain gradients or differences disagree", file=sys.stderr)
        return 1
    variants = {"objective": lambda: recurrence(x, w, steps), "sd.grad": lambda: plain(x, w, steps),
                "sd.grad(checkpoint=True)": lambda: checkpointed(x, w, steps)}
    times = {label: [] for label in variants}
    for _ in range(options.rounds):
        for label, fn in variants.items():
            started = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - started)
    peaks = {label: peak(fn) for label, fn in variants.items()}
    ratio = statistics.median(c / p for c, p in zip(times["sd.grad(checkpoint=True)"], times["sd.grad"]))
    memory = peaks["sd.grad(checkpoint=True)"] / peaks["sd.grad"]
    rows = [[label, f"{statistics.median(times[label]):.3f} s", f"{peaks[label] / 2 ** 20:.1f} MiB"]
            for label in variants]
    footer = [f"checkpointed / plain: time {ratio:.2f} (target ≤ 3: {'met' if ratio <= 3 else 'MISSED'}), peak "
              f"memory {memory:.4f} (target < 0.1: {'met' if memory < 0.1 else 'MISSED'})."]
    notes = forward.machine_notes() + [f"{options.rounds} interleaved rounds; peak memory from tracemalloc in one "
                                       "further call of each"]
    title = f"Recurrence over {options.size} numbers, {steps} steps"
    print(forward.render([(title, "gradient with respect to x and w", ["variant", "median time", "peak memory"],
                           rows, footer)], notes, options.markdown, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
