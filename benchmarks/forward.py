"""Forward-mode performance of sourcediff, measured side by side in one run.

    python benchmarks/forward.py              # plain-text tables
    python benchmarks/forward.py --markdown   # the same as Markdown (for docs/performance.md)

(1) straight-line scalar code: `straightline.py`, 200 one-operation lines on Python floats generated
    by `gen_straightline.py`, tangent with respect to all 6 inputs, against the primal and a
    hand-written tangent from the same generator.
(2) a 784-256-256-10 MLP on a batch of 128 (float64, tanh then ReLU, returns the logits), tangent
    with respect to all weights and biases, against the primal and a hand-written tangent; timed
    after freeing a 16 MiB array, which raises glibc's dynamic mmap/trim thresholds so the 256 KiB
    activations are recycled from the heap (the steady state of a program handling large arrays).
(2b) the same, in a subprocess that never frees a large array first (the thresholds at their
    defaults): then whether a call page-faults depends on how much it keeps alive at its peak, which
    the peak-memory and page-fault columns show.
(3) code generation: how long `sd.jvp(f)` takes for the 100-line `hundred_lines.py`, on a fresh
    function object each time so sourcediff's cache (keyed on the function object) never answers.

Timing is timeit-style: `timeit.Timer` with `time.perf_counter`, the number of calls per repeat
calibrated so that a repeat lasts at least --min-time seconds, the repeats of all variants of one
case interleaved (so drift on a shared machine hits them alike), and the per-call median and best
(minimum) over the repeats reported. A ratio is the median over the rounds of the two variants'
times within one round, so that a change of the machine's speed during the run (common on a shared
host) cancels out. The peak memory a call allocates (tracemalloc) and its minor page faults (fresh
memory the kernel maps in for large NumPy temporaries) are measured in separate untimed passes. BLAS
threading is left as found and reported, as is the load average. Each case is checked for
correctness (sourcediff vs hand-written, and vs central finite differences) before it is timed; the
script exits with status 1 if a check fails.
"""
import argparse
import ctypes
import gc
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import timeit
import tracemalloc
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))

import sourcediff as sd  # noqa: E402
import sourcediff.api  # noqa: E402

import hundred_lines  # noqa: E402
import mlp  # noqa: E402
import straightline  # noqa: E402

TARGET_RATIO = 2.5
PUBLIC, HAND = "sourcediff, jf = sd.jvp(f)", "hand-written tangent"
TARGET_GENERATION_MS = 100.0


# -- machine -----------------------------------------------------------------------------------------

def blas_info():
    """(name and version, threads in use or None) of the BLAS NumPy was built with."""
    name = "unknown"
    try:
        config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        name = f"{config.get('name')} {config.get('version')}"
    except Exception:
        pass
    threads = None
    try:
        with open("/proc/self/maps") as maps:
            libs = sorted({line.split()[-1] for line in maps if "blas" in line.lower() and ".so" in line})
    except OSError:
        libs = []
    getters = ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
               "openblas_get_num_threads64_", "openblas_get_num_threads", "MKL_Get_Max_Threads")
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for getter in getters:
            fn = getattr(lib, getter, None)
            if fn is not None:
                fn.restype = ctypes.c_int
                threads = fn()
                break
        if threads is not None:
            break
    return name, threads


def git_state():
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "sourcediff"], cwd=os.path.dirname(HERE),
                               capture_output=True, text=True, check=True).stdout.strip()
        return commit + (" (sourcediff/ has uncommitted changes)" if dirty else "")
    except Exception:
        return "unknown"


def machine_notes():
    blas, threads = blas_info()
    env = ", ".join(f"{k}={os.environ[k]}" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
                    if k in os.environ) or "none of OMP/OPENBLAS/MKL_NUM_THREADS set"
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return [
        f"CPU: {os.cpu_count()} logical cores ({cpu or 'unknown model'}), {platform.system()} {platform.machine()}",
        f"Python {platform.python_version()} ({platform.python_implementation()}), NumPy {np.__version__}",
        f"BLAS: {blas}, {threads if threads is not None else 'unknown'} thread(s) in use ({env}); "
        "threading left as found",
        f"sourcediff {sd.__version__} at git {git_state()}",
    ]


# -- timing ------------------------------------------------------------------------------------------

def calibrate(timer, min_time):
    number = 1
    while True:
        if timer.timeit(number) >= min_time:
            return number
        number *= 2 if number < 8 else 4


def time_variants(variants, namespace, repeat, min_time):
    """{label: {median, best, samples (seconds per call), faults, peak}} for [(label, stmt)], the
    repeats interleaved: round r times every variant once, in order."""
    timers = {label: timeit.Timer(stmt, timer=time.perf_counter, globals=namespace) for label, stmt in variants}
    numbers = {label: calibrate(t, min_time) for label, t in timers.items()}
    samples = {label: [] for label in timers}
    for _ in range(repeat):
        for label, t in timers.items():
            samples[label].append(t.timeit(numbers[label]) / numbers[label])
    faults = {label: page_faults(t, numbers[label]) for label, t in timers.items()}
    peaks = {label: peak_memory(t) for label, t in timers.items()}
    return {label: {"median": statistics.median(s), "best": min(s), "faults": faults[label], "peak": peaks[label],
                    "samples": s} for label, s in samples.items()}


def ratio(times, label, reference):
    """Median over the repeats of label's time / reference's time in the same round: the two were
    measured moments apart, so a change in the machine's speed during the run cancels out."""
    return statistics.median(a / b for a, b in zip(times[label]["samples"], times[reference]["samples"]))


def page_faults(timer, number):
    """Minor page faults per call (memory the kernel had to map in), measured apart from the timing."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    timer.timeit(number)
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / number


def peak_memory(timer):
    """Bytes allocated at the peak of one call beyond what was live before it (tracemalloc, which
    NumPy reports its array buffers to), measured apart from the timing."""
    tracemalloc.start()
    try:
        timer.timeit(1)
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        timer.timeit(1)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def load_average():
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "unknown"


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


# -- (1) straight-line scalar code ------------------------------------------------------------------

def bench_straightline(repeat, min_time):
    f, hand = straightline.straightline, straightline.straightline_tangent
    n = f.__code__.co_argcount
    jf = sd.jvp(f, wrt=tuple(range(n)))
    xs = straightline.INPUTS
    dxs = tuple(0.5 + 0.1 * i * (-1) ** i for i in range(n))  # a fixed direction mixing every input

    value, tangent = jf(*xs, *dxs)
    value_hand, tangent_hand = hand(*xs, *dxs)
    check(value == f(*xs), "straightline: sourcediff's value differs from the primal")
    check(math.isclose(tangent, tangent_hand, rel_tol=1e-12, abs_tol=1e-14),
          f"straightline: sourcediff tangent {tangent!r} != hand-written {tangent_hand!r}")
    eps = 1e-6
    fd = (f(*(x + eps * d for x, d in zip(xs, dxs))) - f(*(x - eps * d for x, d in zip(xs, dxs)))) / (2 * eps)
    check(math.isclose(tangent_hand, fd, rel_tol=1e-5, abs_tol=1e-7),
          f"straightline: hand-written tangent {tangent_hand!r} != finite differences {fd!r}")

    ns = {"f": f, "jf": jf, "hand": hand, **{f"x{i}": x for i, x in enumerate(xs)},
          **{f"dx{i}": d for i, d in enumerate(dxs)}}
    args = ", ".join(f"x{i}" for i in range(n))
    dargs = ", ".join(f"dx{i}" for i in range(n))
    variants = [
        ("primal", f"f({args})"),
        (PUBLIC, f"jf({args}, {dargs})"),
        (HAND, f"hand({args}, {dargs})"),
    ]
    times = time_variants(variants, ns, repeat, min_time)
    info = (f"{n} float inputs, 200 one-operation lines, tangent w.r.t. all {n} inputs; "
            f"result {value:.6g}, tangent {tangent:.6g} (matches hand-written and finite differences)")
    return times, info, jf


# -- (2) MLP ----------------------------------------------------------------------------------------

WARM_HEAP_BYTES = 16 * 2 ** 20


def bench_mlp(repeat, min_time, warm_heap=True):
    """Timings of the MLP variants.

    glibc's malloc serves blocks above its mmap threshold (128 KiB at start) with fresh mappings,
    and returns the top of the heap to the kernel once more than its trim threshold is free; freeing
    a mapped block raises the mmap threshold to that block's size (up to 32 MiB) and the trim
    threshold to twice that. Whether the 256 KiB activations of this MLP cost page faults on every
    call therefore depends on the largest array the process freed before. warm_heap=True frees one
    16 MiB array first, as any program that handles large arrays will have done (thresholds 16 and
    32 MiB: activations are recycled); warm_heap=False (the --fresh-heap-mlp subprocess) frees
    nothing large first and skips the finite-difference check, which would.
    """
    f, hand = mlp.mlp, mlp.mlp_tangent
    params, x, dparams = mlp.make_inputs()
    jf = sd.jvp(f, wrt=0)

    value, tangent = jf(params, x, dparams)
    value_hand, tangent_hand = hand(params, x, dparams)
    check(np.allclose(value, f(params, x), rtol=1e-12, atol=1e-12), "mlp: sourcediff's value differs from the primal")
    check(np.allclose(tangent, tangent_hand, rtol=1e-10, atol=1e-10),
          f"mlp: sourcediff tangent differs from hand-written by {np.max(np.abs(tangent - tangent_hand)):.3g}")
    checked = "hand-written"
    if warm_heap:
        eps = 1e-6
        plus = tuple(p + eps * d for p, d in zip(params, dparams))
        minus = tuple(p - eps * d for p, d in zip(params, dparams))
        fd = (f(plus, x) - f(minus, x)) / (2 * eps)
        rel = np.max(np.abs(tangent_hand - fd)) / np.max(np.abs(fd))
        check(rel < 1e-5, f"mlp: hand-written tangent differs from finite differences (relative {rel:.3g})")
        del plus, minus, fd
        checked = f"hand-written and finite differences (relative {rel:.1e})"
        big = np.empty(WARM_HEAP_BYTES // 8)  # freeing it raises glibc's thresholds (see above)
        del big
    ns = {"f": f, "jf": jf, "hand": hand, "params": params, "x": x, "dparams": dparams}
    variants = [
        ("primal", "f(params, x)"),
        (PUBLIC, "jf(params, x, dparams)"),
        (HAND, "hand(params, x, dparams)"),
    ]
    times = time_variants(variants, ns, repeat, min_time)
    sizes = "-".join(map(str, mlp.SIZES))
    info = (f"{sizes}, batch {mlp.BATCH}, float64, tanh then ReLU (np.maximum), returns the logits "
            f"({mlp.BATCH}x{mlp.SIZES[-1]}); tangent w.r.t. all 6 weights and biases; matches {checked}")
    return times, info, jf


def bench_mlp_fresh_heap(options):
    """bench_mlp in a new process that has not freed a large array yet (glibc heap thresholds at
    their defaults), as the first calls of a short script see it."""
    command = [sys.executable, os.path.abspath(__file__), "--fresh-heap-mlp", "--repeat", str(options.repeat),
               "--min-time", str(options.min_time)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise Failure(f"mlp (fresh heap) subprocess failed:\n{done.stderr}")
    result = json.loads(done.stdout)
    return dict(result["times"]), result["info"]


# -- (3) generation time ----------------------------------------------------------------------------

def fresh(f):
    """A new function object with f's code: sourcediff's cache, keyed on the function object, misses."""
    g = types.FunctionType(f.__code__, f.__globals__, f.__name__, f.__defaults__, f.__closure__)
    g.__kwdefaults__ = f.__kwdefaults__
    g.__qualname__ = f.__qualname__
    g.__module__ = f.__module__
    return g


def time_generation(f, wrt, runs, reference=None, transform=sd.jvp):
    """(first, [later]) milliseconds for transform (sd.jvp, sd.grad) on fresh copies of f; with a
    reference, after each run one sample of its timer (seconds per call) is appended to
    `reference.samples`."""
    out = []
    for _ in range(runs + 1):
        g = fresh(f)
        check(g not in sourcediff.api._CACHE, "generation: fresh function unexpectedly cached")
        gc.collect()
        start = time.perf_counter()
        generated = transform(g, wrt)
        out.append((time.perf_counter() - start) * 1e3)
        check(generated.source and g in sourcediff.api._CACHE, "generation: nothing was generated")
        del generated, g
        if reference is not None:
            reference.samples.append(reference.timer.timeit(reference.number) / reference.number)
    return out[0], out[1:]


def bench_generation(runs):
    """Rows of generation times, an info line, and the median per-call time of the straight-line
    primal sampled between the runs: a pure-Python yardstick of the machine's speed meanwhile."""
    reference = types.SimpleNamespace(
        timer=timeit.Timer("f(*xs)", timer=time.perf_counter,
                           globals={"f": straightline.straightline, "xs": straightline.INPUTS}),
        number=2000, samples=[])
    rows = []
    cases = [
        ("hundred_lines (100-line body)", hundred_lines.hundred_lines, (0, 1, 2, 5)),
        ("straightline (200-line body)", straightline.straightline, tuple(range(6))),
        ("mlp (4-line body)", mlp.mlp, 0),
    ]
    for label, f, wrt in cases:
        first, later = time_generation(f, wrt, runs, reference)
        rows.append((label, first, statistics.median(later), min(later), max(later)))
    args = hundred_lines.make_inputs()
    sd.check_grads(hundred_lines.hundred_lines, args, wrt=(0, 1, 2, 5))
    lines = sd.jvp(hundred_lines.hundred_lines, wrt=(0, 1, 2, 5)).source.count("\n")
    info = (f"median of {runs} runs after a first one, each on a fresh function object (cache bypassed); "
            f"hundred_lines w.r.t. W, U, v, temperature generates {lines} lines and passes sd.check_grads")
    return rows, info, statistics.median(reference.samples)


# -- output -----------------------------------------------------------------------------------------

def fmt_time(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    return f"{seconds * 1e3:.3f} ms"


def fmt_bytes(n):
    return f"{n / 2 ** 20:.2f} MiB" if n >= 2 ** 20 else f"{n / 2 ** 10:.1f} KiB"


def timing_rows(times):
    rows = []
    for label, t in times.items():
        vs_primal = "" if label == "primal" else f"{ratio(times, label, 'primal'):.2f}"
        vs_hand = "" if label in ("primal", HAND) else f"{ratio(times, label, HAND):.2f}"
        rows.append([label, fmt_time(t["median"]), fmt_time(t["best"]), vs_primal, vs_hand, fmt_bytes(t["peak"]),
                     f"{t['faults']:.0f}"])
    return rows


def verdict(value, target, unit=""):
    return f"{'met' if value <= target else 'MISSED'} ({value:.2f}{unit} vs ≤ {target:g}{unit})"


def render(sections, notes, markdown, command):
    out = []
    if markdown:
        out.append(f"Command: `{command}`\n")
        out += [f"- {n}" for n in notes]
        out.append("")
    else:
        out += notes
        out.append("")
    for title, info, header, rows, footer in sections:
        if markdown:
            out.append(f"### {title}\n\n{info}\n")
            out.append("| " + " | ".join(header) + " |")
            out.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
            out += ["| " + " | ".join(r) + " |" for r in rows]
            out += ["", *footer, ""]
        else:
            out.append(f"== {title}")
            out.append(f"   {info}")
            widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
            line = lambda r: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)  # noqa: E731
                                       for i, (c, w) in enumerate(zip(r, widths)))
            out.append("   " + line(header))
            out.append("   " + "  ".join("-" * w for w in widths))
            out += ["   " + line(r) for r in rows]
            out += [f"   {f}" for f in footer]
            out.append("")
    return "\n".join(out)


def timing_parser(description, transform):
    """The options both benchmark scripts take."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--repeat", type=int, default=21, help="timed rounds (one repeat of each variant) (default 21)")
    parser.add_argument("--min-time", type=float, default=0.03,
                        help="minimum seconds per repeat, sets the calls per repeat (default 0.03)")
    parser.add_argument("--generation-runs", type=int, default=15, help=f"{transform} runs per function (default 15)")
    return parser


def main():
    parser = timing_parser(__doc__.split("\n\n")[0], "sd.jvp")
    parser.add_argument("--fresh-heap-mlp", action="store_true", help=argparse.SUPPRESS)  # internal: see below
    options = parser.parse_args()
    if options.fresh_heap_mlp:
        times, info, _ = bench_mlp(options.repeat, options.min_time, warm_heap=False)
        print(json.dumps({"times": list(times.items()), "info": info}))
        return 0
    command = "python benchmarks/forward.py" + "".join(f" {a}" for a in sys.argv[1:])
    started = time.perf_counter()
    load_before = load_average()
    try:
        # Generation first, so its "first" column is the first sd.jvp of each function in the process.
        generation, generation_info, yardstick = bench_generation(options.generation_runs)
        line_times, line_info, _ = bench_straightline(options.repeat, options.min_time)
        mlp_times, mlp_info, _ = bench_mlp(options.repeat, options.min_time)
        fresh_times, fresh_info = bench_mlp_fresh_heap(options)
    except Failure as exc:
        print(f"CORRECTNESS CHECK FAILED: {exc}", file=sys.stderr)
        return 1
    header = ["variant", "median / call", "best / call", "÷ primal ¹", "÷ hand-written ¹", "peak memory / call",
              "page faults / call"]
    sections = []
    for title, times, info in (("(1) Straight-line scalar code (straightline.py)", line_times, line_info),
                               ("(2) MLP forward pass (mlp.py), warm heap", mlp_times,
                                mlp_info + f"; timed after freeing one {WARM_HEAP_BYTES // 2 ** 20} MiB array, so "
                                "glibc recycles the 256 KiB activations (see bench_mlp)"),
                               ("(2b) The same MLP in a fresh process (glibc heap thresholds at their defaults)",
                                fresh_times, fresh_info + "; run in a subprocess that never freed a large array, "
                                "so glibc hands large activations back to the kernel and maps them again")):
        footer = [
            f"Target tangent/primal ≤ {TARGET_RATIO:g}: "
            f"sourcediff {verdict(ratio(times, PUBLIC, 'primal'), TARGET_RATIO)}; "
            f"hand-written {ratio(times, HAND, 'primal'):.2f}.",
        ]
        sections.append((title, info, header, timing_rows(times), footer))
    gen_header = ["function", "first sd.jvp", "median", "best", "worst"]
    gen_rows = [[label, f"{a:.1f} ms", f"{b:.1f} ms", f"{c:.1f} ms", f"{d:.1f} ms"]
                for label, a, b, c, d in generation]
    target_median = generation[0][2]
    sections.append(("(3) Generation time of sd.jvp", generation_info, gen_header, gen_rows,
                     [f"Target < {TARGET_GENERATION_MS:g} ms for the 100-line function: "
                      f"{'met' if target_median < TARGET_GENERATION_MS else 'MISSED'} "
                      f"(median {target_median:.1f} ms). Absolute times track the machine's speed, which "
                      f"varies between runs on a shared host: the straight-line primal, timed between "
                      f"these runs as a yardstick, took {fmt_time(yardstick)} per call (median)."]))
    notes = machine_notes()
    notes.append(f"Timing: timeit.Timer/perf_counter, {options.repeat} interleaved rounds of one repeat "
                 f"(≥ {options.min_time:g} s) per variant; median and best per-call time. ¹ Ratios are the median "
                 "over rounds of the two variants' times in the same round. "
                 f"Total benchmark time {time.perf_counter() - started:.0f} s.")
    notes.append(f"Load average (1, 5, 15 min) before: {load_before}; after: {load_average()} "
                 "(the 'after' figure includes this benchmark's own load; other processes on the machine distort "
                 "the timings, the two-thread BLAS ones most)")
    print(render(sections, notes, options.markdown, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
