"""How long generating a derivative takes as the function grows: sd.jvp and sd.grad of straight-line
functions of 100, 300, 1,000 and 3,000 lines.

    python benchmarks/generation.py              # plain-text table
    python benchmarks/generation.py --markdown   # the same as Markdown (for docs/performance.md)

The functions come from `gen_straightline.py` (`sized_source`), the same kind of line as the 200-line
`straightline.py` (one operation each, on 6 inputs, mostly reading recent values): "floats" on Python
floats, "arrays" the same lines on NumPy arrays of 3 values (np.sin for math.sin, the result summed),
and "loop" the floats' body inside `for _ in range(3)`. Each is written to a temporary directory and
imported, and each transform runs on fresh function objects (forward.fresh), so the cache never
answers. The table gives, over the runs, the median of the process's CPU time (time.process_time, which
other processes on a shared machine disturb little) and of the wall time, and the CPU time per line.
Before timing, every generated derivative is checked against central finite differences at the
generator's inputs.
"""
import argparse
import gc
import importlib.util
import os
import statistics
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))

import sourcediff as sd  # noqa: E402

import forward  # noqa: E402
import gen_straightline  # noqa: E402

SIZES = (100, 300, 1000, 3000)
TARGETS_S = {1000: 1.0, 3000: 3.0}  # issue 10: sd.grad of 1,000 lines under 1 s, 3,000 under 3 s
TRANSFORMS = (("sd.jvp", sd.jvp), ("sd.grad", sd.grad))


def load(directory, n_lines, kind):
    path = os.path.join(directory, f"straightline_{kind}_{n_lines}.py")
    with open(path, "w") as f:
        f.write(gen_straightline.sized_source(n_lines, kind))
    spec = importlib.util.spec_from_file_location(f"straightline_{kind}_{n_lines}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.straightline


def inputs(kind):
    if kind == "arrays":
        return tuple(np.array([x, x + 1e-3, x - 1e-3]) for x in gen_straightline.INPUTS)
    return gen_straightline.INPUTS


def check_derivatives(f, kind, label):
    """sd.jvp along a direction mixing every input, and sd.grad, against central differences."""
    xs = inputs(kind)
    wrt = tuple(range(len(xs)))
    directions = [0.5 + 0.1 * i * (-1) ** i for i in range(len(xs))]
    eps = 1e-6
    fd = (f(*(x + eps * d for x, d in zip(xs, directions))) - f(*(x - eps * d for x, d in zip(xs, directions)))) \
        / (2 * eps)
    _, tangent = sd.jvp(f, wrt)(*xs, *(d * np.ones_like(x) for x, d in zip(xs, directions)))
    gradient = sd.grad(f, wrt)(*xs)
    along = sum(float(np.sum(g * d)) for g, d in zip(gradient, directions))
    for name, value in (("sd.jvp", tangent), ("sd.grad", along)):
        forward.check(abs(value - fd) <= 1e-5 * max(1.0, abs(fd)),
                      f"{label}: {name} gives {value!r}, central differences {fd!r}")


def time_generation(f, transform, runs):
    """[(CPU seconds, wall seconds)] of transform on `runs` fresh copies of f."""
    out = []
    for _ in range(runs):
        g = forward.fresh(f)
        gc.collect()
        cpu, wall = time.process_time(), time.perf_counter()
        generated = transform(g, tuple(range(6)))
        out.append((time.process_time() - cpu, time.perf_counter() - wall))
        forward.check(generated.source and g in sd.api._CACHE, "generation: nothing was generated")
    return out


def bench(sizes, kinds, runs):
    """Rows (kind, lines, transform, median CPU s, median wall s, CPU ms per line)."""
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for kind in kinds:
            for n_lines in sizes:
                f = load(directory, n_lines, kind)
                check_derivatives(f, kind, f"{kind}, {n_lines} lines")
                for label, transform in TRANSFORMS:
                    times = time_generation(f, transform, runs)
                    cpu, wall = (statistics.median(t[i] for t in times) for i in (0, 1))
                    rows.append((kind, n_lines, label, cpu, wall, 1e3 * cpu / n_lines))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--runs", type=int, default=3, help="runs per transform and size (default 3)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="lines (default 100 300 1000 3000)")
    parser.add_argument("--kinds", nargs="+", default=list(gen_straightline.KINDS), choices=gen_straightline.KINDS)
    options = parser.parse_args()
    command = "python benchmarks/generation.py" + "".join(f" {a}" for a in sys.argv[1:])
    started = time.perf_counter()
    load_before = forward.load_average()
    try:
        rows = bench(options.sizes, options.kinds, options.runs)
    except forward.Failure as exc:
        print(f"CORRECTNESS CHECK FAILED: {exc}", file=sys.stderr)
        return 1
    header = ["function", "lines", "transform", "CPU time", "wall time", "CPU ms per line"]
    table = [[kind, f"{n:,}", label, f"{cpu:.2f} s", f"{wall:.2f} s", f"{per_line:.2f}"]
             for kind, n, label, cpu, wall, per_line in rows]
    footer = []
    for kind, n, label, cpu, wall, _ in rows:
        if kind == "floats" and label == "sd.grad" and n in TARGETS_S:
            footer.append(f"Target sd.grad of {n:,} lines < {TARGETS_S[n]:g} s: "
                          f"{'met' if cpu < TARGETS_S[n] else 'MISSED'} (CPU {cpu:.2f} s, wall {wall:.2f} s).")
    info = (f"medians of {options.runs} runs of each transform on fresh function objects (the first in the process "
            "included); every generated derivative matches central finite differences")
    notes = forward.machine_notes()
    notes.append(f"Total benchmark time {time.perf_counter() - started:.0f} s.")
    notes.append(f"Load average (1, 5, 15 min) before: {load_before}; after: {forward.load_average()} "
                 "(other processes on the machine slow generation down as much as they share its cores)")
    print(forward.render([("Generation time by function length", info, header, table, footer)], notes,
                         options.markdown, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
