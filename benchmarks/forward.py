"""Forward-mode performance of sourcediff, measured side by side in one run.

    python benchmarks/forward.py              # plain-text tables
    python benchmarks/forward.py --markdown   # the same as Markdown (for docs/performance.md)

(1) straight-line scalar code: `straightline.py`, 200 one-operation lines on Python floats generated
    by `gen_straightline.py`, tangent with respect to all 6 inputs, against the primal and a
    hand-written tangent from the same generator.
(2) a 784-256-256-10 MLP on a batch of 128 (float64, tanh then ReLU, returns the logits), tangent
    with respect to all weights and biases, against the primal and a hand-written tangent; after
    the finite-difference check has freed multi-megabyte arrays, which raises glibc's dynamic
    mmap/trim thresholds so the 256 KiB activations are recycled from the heap (the steady state
    of a long-running program).
(2b) the same, in a subprocess that never frees a large array first (the thresholds at their
    defaults, as in a short script's first calls): every activation is then freshly mapped memory,
    and the page-fault column shows how much.
(3) code generation: how long `sd.jvp(f)` takes for the 100-line `hundred_lines.py`, on a fresh
    function object each time so sourcediff's cache (keyed on the function object) never answers.

Timing is timeit-style: `timeit.Timer` with `time.perf_counter`, the number of calls per repeat
calibrated so that a repeat lasts at least --min-time seconds, the repeats of all variants of one
case interleaved (so drift on a shared machine hits them alike), and the per-call median and best
(minimum) over the repeats reported. Ratios use the medians. Minor page faults per call (fresh
memory the kernel maps in for large NumPy temporaries) are counted in a separate untimed pass. BLAS
threading is left as found and reported, as is the load average. Each case is checked for correctness (sourcediff vs hand-written, and vs central finite
differences) before it is timed; the script exits with status 1 if a check fails.
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
    """{label: (median, best) seconds per call} for [(label, stmt)], repeats interleaved across variants."""
    timers = {label: timeit.Timer(stmt, timer=time.perf_counter, globals=namespace) for label, stmt in variants}
    numbers = {label: calibrate(t, min_time) for label, t in timers.items()}
    samples = {label: [] for label in timers}
    for _ in range(repeat):
        for label, t in timers.items():
            samples[label].append(t.timeit(numbers[label]) / numbers[label])
    faults = {label: page_faults(t, numbers[label]) for label, t in timers.items()}
    return {label: (statistics.median(s), min(s), faults[label]) for label, s in samples.items()}


def page_faults(timer, number):
    """Minor page faults per call (memory the kernel had to map in), measured apart from the timing."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    timer.timeit(number)
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / number


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


def tangent_kwargs(generated):
    code = generated.__code__
    return code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]


# -- (1) straight-line scalar code ------------------------------------------------------------------

def bench_straightline(repeat, min_time):
    f, hand = straightline.straightline, straightline.straightline_tangent
    n = f.__code__.co_argcount
    jf = sd.jvp(f, wrt=tuple(range(n)))
    raw = jf.__wrapped__
    xs = straightline.INPUTS
    dxs = tuple(0.5 + 0.1 * i * (-1) ** i for i in range(n))  # a fixed direction mixing every input
    kw = dict(zip(tangent_kwargs(raw), dxs))

    value, tangent = raw(*xs, **kw)
    value_api, tangent_api = jf(*xs, *dxs)
    value_hand, tangent_hand = hand(*xs, *dxs)
    check(value == f(*xs) == value_api, "straightline: sourcediff's value differs from the primal")
    check(math.isclose(tangent, tangent_hand, rel_tol=1e-12, abs_tol=1e-14) and tangent_api == tangent,
          f"straightline: sourcediff tangent {tangent!r} != hand-written {tangent_hand!r}")
    eps = 1e-6
    fd = (f(*(x + eps * d for x, d in zip(xs, dxs))) - f(*(x - eps * d for x, d in zip(xs, dxs)))) / (2 * eps)
    check(math.isclose(tangent_hand, fd, rel_tol=1e-5, abs_tol=1e-7),
          f"straightline: hand-written tangent {tangent_hand!r} != finite differences {fd!r}")

    ns = {"f": f, "raw": raw, "jf": jf, "hand": hand, **{f"x{i}": x for i, x in enumerate(xs)},
          **{f"dx{i}": d for i, d in enumerate(dxs)}}
    args = ", ".join(f"x{i}" for i in range(n))
    dargs = ", ".join(f"dx{i}" for i in range(n))
    kwargs = ", ".join(f"{k}=dx{i}" for i, k in enumerate(kw))
    variants = [
        ("primal", f"f({args})"),
        ("sourcediff, jf.__wrapped__ (keyword tangents)", f"raw({args}, {kwargs})"),
        ("sourcediff, jf (public wrapper)", f"jf({args}, {dargs})"),
        ("hand-written tangent", f"hand({args}, {dargs})"),
    ]
    times = time_variants(variants, ns, repeat, min_time)
    info = (f"{n} float inputs, 200 one-operation lines, tangent w.r.t. all {n} inputs; "
            f"result {value:.6g}, tangent {tangent:.6g} (matches hand-written and finite differences)")
    return times, info, jf


# -- (2) MLP ----------------------------------------------------------------------------------------

def bench_mlp(repeat, min_time, finite_differences=True):
    """Timings of the MLP variants. The finite-difference check frees multi-megabyte arrays, which
    (as any large temporary would) raises glibc's dynamic mmap and trim thresholds, so that 256 KiB
    activations are then recycled from the heap; `finite_differences=False` (the --fresh-heap-mlp
    subprocess) leaves the thresholds at their defaults, and each call then maps fresh pages."""
    f, hand = mlp.mlp, mlp.mlp_tangent
    params, x, dparams = mlp.make_inputs()
    jf = sd.jvp(f, wrt=0)
    raw = jf.__wrapped__
    (kwname,) = tangent_kwargs(raw)

    value, tangent = raw(params, x, **{kwname: dparams})
    value_api, tangent_api = jf(params, x, dparams)
    value_hand, tangent_hand = hand(params, x, dparams)
    check(np.allclose(value, f(params, x), rtol=1e-12, atol=1e-12) and np.array_equal(value, value_api),
          "mlp: sourcediff's value differs from the primal")
    check(np.allclose(tangent, tangent_hand, rtol=1e-10, atol=1e-10) and np.array_equal(tangent, tangent_api),
          f"mlp: sourcediff tangent differs from hand-written by {np.max(np.abs(tangent - tangent_hand)):.3g}")
    checked = "hand-written"
    if finite_differences:
        eps = 1e-6
        plus = tuple(p + eps * d for p, d in zip(params, dparams))
        minus = tuple(p - eps * d for p, d in zip(params, dparams))
        fd = (f(plus, x) - f(minus, x)) / (2 * eps)
        rel = np.max(np.abs(tangent_hand - fd)) / np.max(np.abs(fd))
        check(rel < 1e-5, f"mlp: hand-written tangent differs from finite differences (relative {rel:.3g})")
        del plus, minus, fd
        checked = f"hand-written and finite differences (relative {rel:.1e})"

    ns = {"f": f, "raw": raw, "jf": jf, "hand": hand, "params": params, "x": x, "dparams": dparams}
    variants = [
        ("primal", "f(params, x)"),
        ("sourcediff, jf.__wrapped__ (keyword tangents)", f"raw(params, x, {kwname}=dparams)"),
        ("sourcediff, jf (public wrapper)", "jf(params, x, dparams)"),
        ("hand-written tangent", "hand(params, x, dparams)"),
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
    return {label: tuple(v) for label, v in result["times"]}, result["info"]


# -- (3) generation time ----------------------------------------------------------------------------

def fresh(f):
    """A new function object with f's code: sourcediff's cache, keyed on the function object, misses."""
    g = types.FunctionType(f.__code__, f.__globals__, f.__name__, f.__defaults__, f.__closure__)
    g.__kwdefaults__ = f.__kwdefaults__
    g.__qualname__ = f.__qualname__
    g.__module__ = f.__module__
    return g


def time_generation(f, wrt, runs):
    """(first, [later]) milliseconds for sd.jvp on fresh copies of f."""
    out = []
    for _ in range(runs + 1):
        g = fresh(f)
        check(g not in sourcediff.api._CACHE, "generation: fresh function unexpectedly cached")
        gc.collect()
        start = time.perf_counter()
        jf = sd.jvp(g, wrt=wrt)
        out.append((time.perf_counter() - start) * 1e3)
        check(jf.__wrapped__ is not None and g in sourcediff.api._CACHE, "generation: nothing was generated")
        del jf, g
    return out[0], out[1:]


def bench_generation(runs):
    rows = []
    cases = [
        ("hundred_lines (100-line body)", hundred_lines.hundred_lines, (0, 1, 2, 5)),
        ("straightline (200-line body)", straightline.straightline, tuple(range(6))),
        ("mlp (4-line body)", mlp.mlp, 0),
    ]
    for label, f, wrt in cases:
        first, later = time_generation(f, wrt, runs)
        rows.append((label, first, statistics.median(later), min(later), max(later)))
    args = hundred_lines.make_inputs()
    sd.check_grads(hundred_lines.hundred_lines, args, wrt=(0, 1, 2, 5))
    lines = sd.jvp(hundred_lines.hundred_lines, wrt=(0, 1, 2, 5)).source.count("\n")
    info = (f"median of {runs} runs after a first one, each on a fresh function object (cache bypassed); "
            f"hundred_lines w.r.t. W, U, v, temperature generates {lines} lines and passes sd.check_grads")
    return rows, info


# -- output -----------------------------------------------------------------------------------------

def fmt_time(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    return f"{seconds * 1e3:.3f} ms"


def timing_rows(times):
    primal = times["primal"][0]
    hand = times["hand-written tangent"][0]
    rows = []
    for label, (median, best, faults) in times.items():
        ratio = "" if label == "primal" else f"{median / primal:.2f}"
        vs_hand = "" if label in ("primal", "hand-written tangent") else f"{median / hand:.2f}"
        rows.append([label, fmt_time(median), fmt_time(best), ratio, vs_hand, f"{faults:.0f}"])
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--repeat", type=int, default=15, help="timed repeats per variant (default 15)")
    parser.add_argument("--min-time", type=float, default=0.05,
                        help="minimum seconds per repeat, sets the calls per repeat (default 0.05)")
    parser.add_argument("--generation-runs", type=int, default=15, help="sd.jvp runs per function (default 15)")
    parser.add_argument("--fresh-heap-mlp", action="store_true", help=argparse.SUPPRESS)  # internal: see below
    options = parser.parse_args()
    if options.fresh_heap_mlp:
        times, info, _ = bench_mlp(options.repeat, options.min_time, finite_differences=False)
        print(json.dumps({"times": list(times.items()), "info": info}))
        return 0
    command = "python benchmarks/forward.py" + "".join(f" {a}" for a in sys.argv[1:])
    started = time.perf_counter()
    load_before = load_average()
    try:
        # Generation first, so its "first" column is the first sd.jvp of each function in the process.
        generation, generation_info = bench_generation(options.generation_runs)
        line_times, line_info, _ = bench_straightline(options.repeat, options.min_time)
        mlp_times, mlp_info, _ = bench_mlp(options.repeat, options.min_time)
        fresh_times, fresh_info = bench_mlp_fresh_heap(options)
    except Failure as exc:
        print(f"CORRECTNESS CHECK FAILED: {exc}", file=sys.stderr)
        return 1
    header = ["variant", "median / call", "best / call", "÷ primal", "÷ hand-written", "page faults / call"]
    sections = []
    for title, times, info in (("(1) Straight-line scalar code (straightline.py)", line_times, line_info),
                               ("(2) MLP forward pass (mlp.py), warm heap", mlp_times, mlp_info),
                               ("(2b) The same MLP in a fresh process (glibc heap thresholds at their defaults)",
                                fresh_times, fresh_info + "; run in a subprocess that never freed a large array, "
                                "so every 256 KiB activation is freshly mapped memory")):
        primal = times["primal"][0]
        footer = [
            f"Target tangent/primal ≤ {TARGET_RATIO:g}: "
            f"public jf {verdict(times['sourcediff, jf (public wrapper)'][0] / primal, TARGET_RATIO)}; "
            f"jf.__wrapped__ {verdict(times['sourcediff, jf.__wrapped__ (keyword tangents)'][0] / primal, TARGET_RATIO)}; "
            f"hand-written {times['hand-written tangent'][0] / primal:.2f}.",
        ]
        sections.append((title, info, header, timing_rows(times), footer))
    gen_header = ["function", "first sd.jvp", "median", "best", "worst"]
    gen_rows = [[label, f"{a:.1f} ms", f"{b:.1f} ms", f"{c:.1f} ms", f"{d:.1f} ms"]
                for label, a, b, c, d in generation]
    target_median = generation[0][2]
    sections.append(("(3) Generation time of sd.jvp", generation_info, gen_header, gen_rows,
                     [f"Target < {TARGET_GENERATION_MS:g} ms for the 100-line function: "
                      f"{'met' if target_median < TARGET_GENERATION_MS else 'MISSED'} "
                      f"(median {target_median:.1f} ms)."]))
    notes = machine_notes()
    notes.append(f"Timing: timeit.Timer/perf_counter, {options.repeat} interleaved repeats of ≥ {options.min_time:g} s "
                 f"per variant; median and best per-call time; ratios use medians. "
                 f"Total benchmark time {time.perf_counter() - started:.0f} s.")
    notes.append(f"Load average (1, 5, 15 min) before: {load_before}; after: {load_average()} "
                 "(other processes on this machine distort the timings, the BLAS ones most)")
    print(render(sections, notes, options.markdown, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
