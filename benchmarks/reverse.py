"""Reverse-mode performance of sourcediff, measured side by side in one run.

    python benchmarks/reverse.py                     # plain-text tables
    python benchmarks/reverse.py --markdown          # the same as Markdown
    python benchmarks/reverse.py --blas-threads 1    # pin OpenBLAS to one thread (default: as found)

Three objectives (benchmarks/reverse_cases.py), each timed as: the objective f alone; sourcediff's
gradient through the public `sd.grad(f, wrt)`; the generated function `sd.vjp(f, wrt)` called
directly with cotangent 1.0; a hand-written (value, gradient) as an expert writes it; and autograd's
`grad` of the same code written with autograd.numpy.
(a) logistic regression, mean binary cross-entropy written with np.exp/np.log, n=10,000 x 100
    features, gradient w.r.t. the weights and the (float) bias: wrt=(0, 1).
(b) MLP 784-256-256-10, batch 128, float64, tanh hidden layers, softmax cross-entropy with a max
    shift and log-sum-exp, gradient w.r.t. params = (W1, b1, W2, b2, W3, b3): wrt=0.
(c) x = a * math.sin(x) + x for 1,000 steps on Python floats (math.sin; autograd gets anp.sin),
    returning x, gradient w.r.t. a and x0: wrt=(0, 1).
(d) generation time of `sd.grad` for benchmarks/hundred_lines.py (and the three objectives above),
    on a fresh function object each time so that sourcediff's cache never answers.

Timing reuses benchmarks/forward.py's machinery: timeit.Timer with perf_counter, calls per repeat
calibrated to at least --min-time seconds, the repeats of all variants of one case interleaved round
by round, per-call median and best reported; a ratio is the median over the rounds of the two
variants' times in the same round (machine-speed drift cancels). Peak memory per call (tracemalloc)
and minor page faults are measured in separate untimed passes. Before timing, one 16 MiB array is
freed so glibc recycles the large temporaries (see forward.py's bench_mlp). Every gradient is
checked against the hand-written one and against central finite differences before anything is
timed; the script exits with status 1 if a check fails.
"""
import ctypes
import math
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))

import sourcediff as sd  # noqa: E402
import sourcediff.api  # noqa: E402

import forward  # noqa: E402  (timing, checking and rendering helpers)
import hundred_lines  # noqa: E402
import reverse_cases as cases  # noqa: E402
from forward import Failure, check, fmt_bytes, fmt_time, ratio, render, time_variants  # noqa: E402

OBJECTIVE = "objective f"
GRAD = "sourcediff sd.grad(f, wrt)"
VJP = "sourcediff sd.vjp(f, wrt) fn, cotangent 1.0"
HAND = "hand-written (value, gradient)"
HAND_ONLY = "hand-written, gradient only"
AUTOGRAD = "autograd grad(f_anp, argnum)"

TARGETS = {  # case: (gradient / objective, sourcediff / hand-written, sourcediff / autograd)
    "a": (3.0, 1.15, 1.0),
    "b": (3.0, 1.15, 1.0),
    "c": (4.0, 1.15, 1.0 / 3.0),
}
TARGET_GENERATION_MS = 200.0
UNSTABLE_SPREAD = 1.5  # median / best above which a case's timings are flagged


# -- BLAS threads -----------------------------------------------------------------------------------

def set_blas_threads(n):
    """Pin the OpenBLAS NumPy loaded to n threads (ctypes, as forward.blas_info reads them); True if done."""
    try:
        with open("/proc/self/maps") as maps:
            libs = sorted({line.split()[-1] for line in maps if "blas" in line.lower() and ".so" in line})
    except OSError:
        return False
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for setter in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                       "openblas_set_num_threads64_", "openblas_set_num_threads"):
            fn = getattr(lib, setter, None)
            if fn is not None:
                fn.argtypes = [ctypes.c_int]
                fn(n)
                return True
    return False


# -- correctness ------------------------------------------------------------------------------------

def leaves(g):
    return [float(v) if np.ndim(v) == 0 else np.asarray(v) for v in (g if isinstance(g, (tuple, list)) else (g,))]


def max_rel_diff(g, h):
    """Largest |g - h| over all leaves, relative to the largest |h|."""
    g, h = leaves(g), leaves(h)
    check(len(g) == len(h) and all(np.shape(a) == np.shape(b) for a, b in zip(g, h)),
          f"gradient structure differs: shapes {[np.shape(a) for a in g]} vs {[np.shape(b) for b in h]}")
    scale = max(float(np.max(np.abs(b))) for b in h) or 1.0
    return max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in zip(g, h)) / scale


def directional_fd(f, args, positions, directions, eps):
    """Central finite difference of f along `directions` (one per position, each a leaf or tuple of leaves)."""
    def shifted(step):
        out = list(args)
        for p, d in zip(positions, directions):
            a = args[p]
            out[p] = tuple(x + step * dx for x, dx in zip(a, d)) if isinstance(a, tuple) else a + step * d
        return out
    return (f(*shifted(eps)) - f(*shifted(-eps))) / (2 * eps)


def dot(gradient, directions):
    """<gradient, direction> summed over all leaves (gradient: one entry per position)."""
    total = 0.0
    for g, d in zip(gradient, directions):
        for gl, dl in zip(g if isinstance(g, tuple) else (g,), d if isinstance(d, tuple) else (d,)):
            total += float(np.sum(np.asarray(gl) * np.asarray(dl)))
    return total


def check_case(name, f, wrt, args, hand, ag_grad, g, v, hand_only=None):
    """Values and gradients of every variant against the hand-written one, and the hand-written one
    against central finite differences along random directions; returns a description."""
    positions = wrt if isinstance(wrt, tuple) else (wrt,)
    value = f(*args)
    hand_value, hand_grad = hand(*args)
    vjp_value, vjp_grad = v(*args, 1.0)
    check(math.isclose(hand_value, value, rel_tol=1e-12), f"{name}: hand-written value {hand_value!r} != f {value!r}")
    check(math.isclose(float(vjp_value), value, rel_tol=1e-12), f"{name}: sd.vjp value {vjp_value!r} != f {value!r}")
    others = [("sd.grad", g(*args)), ("sd.vjp", vjp_grad), ("autograd", ag_grad(*args))]
    if hand_only is not None:
        others.append(("hand-written gradient only", hand_only(*args)))
    worst = 0.0
    for label, other in others:
        rel = max_rel_diff(other, hand_grad)
        check(rel < 1e-9, f"{name}: {label} gradient differs from hand-written (relative {rel:.3g})")
        worst = max(worst, rel)
    rng = np.random.default_rng(1)
    every = [("hand-written", hand_grad)] + others
    fd_worst = 0.0
    for _ in range(3):
        directions = []
        for p in positions:
            a = args[p]
            directions.append(tuple(rng.standard_normal(np.shape(x)) for x in a) if isinstance(a, tuple)
                              else rng.standard_normal(np.shape(a)) if np.ndim(a) else float(rng.standard_normal()))
        fd = directional_fd(f, args, positions, directions, 1e-6)
        for label, gradient in every:
            exact = dot(gradient if isinstance(wrt, tuple) else (gradient,), directions)
            rel = abs(exact - fd) / max(abs(fd), 1e-12)
            check(rel < 1e-5, f"{name}: {label} gradient gives {exact!r} along a random direction, central finite "
                              f"differences {fd!r} (relative {rel:.3g})")
            fd_worst = max(fd_worst, rel)
    return (f"All gradients (sourcediff's, autograd's, hand-written) agree with the hand-written one to a relative "
            f"{worst:.1e} and with central finite differences along 3 random directions to {fd_worst:.1e}")


# -- cases ------------------------------------------------------------------------------------------

def run_case(key, repeat, min_time):
    from autograd import grad as autograd_grad
    ag = cases.autograd_functions()
    if key == "a":
        f, wrt, args, hand, hand_only, f_ag = (cases.logreg, (0, 1), cases.logreg_inputs(), cases.logreg_hand,
                                               cases.logreg_hand_grad_only, ag["logreg"])
        info = (f"Logistic regression: mean binary cross-entropy with np.exp/np.log, n={cases.N_SAMPLES:,} x "
                f"{cases.N_FEATURES} features, gradient w.r.t. w (100) and float b, wrt=(0, 1)")
    elif key == "b":
        f, wrt, args, hand, hand_only, f_ag = (cases.mlp_loss, 0, cases.mlp_inputs(), cases.mlp_hand,
                                               cases.mlp_hand_grad_only, ag["mlp"])
        info = (f"MLP {'-'.join(map(str, cases.SIZES))}, batch {cases.BATCH}, float64, tanh/tanh, softmax "
                "cross-entropy (max shift, log-sum-exp, one-hot labels), gradient w.r.t. params, wrt=0")
    else:
        f, wrt, args, hand, hand_only, f_ag = (cases.recurrence, (0, 1), cases.RECURRENCE_INPUTS,
                                               cases.recurrence_hand, None, ag["recurrence"])
        info = (f"Scalar recurrence x = a * math.sin(x) + x, {cases.STEPS} steps on Python floats "
                f"(a, x0) = {cases.RECURRENCE_INPUTS}, returns x; gradient w.r.t. a and x0, wrt=(0, 1); "
                "autograd runs the same loop with anp.sin")
    g = sd.grad(f, wrt)
    v = sd.vjp(f, wrt)
    ag_grad = autograd_grad(f_ag, argnum=wrt)
    checked = check_case(f"({key}) {f.__name__}", f, wrt, args, hand, ag_grad, g, v, hand_only)
    ns = {"f": f, "g": g, "v": v, "hand": hand, "hand_only": hand_only, "ag_grad": ag_grad, "args": args}
    variants = [(OBJECTIVE, "f(*args)"), (GRAD, "g(*args)"), (VJP, "v(*args, 1.0)"), (HAND, "hand(*args)")]
    if hand_only is not None:
        variants.append((HAND_ONLY, "hand_only(*args)"))
    variants.append((AUTOGRAD, "ag_grad(*args)"))
    times = time_variants(variants, ns, repeat, min_time)
    return times, f"{info}. {checked}.", v.source


def case_rows(times):
    rows = []
    for label, t in times.items():
        cells = [label, fmt_time(t["median"]), fmt_time(t["best"])]
        cells.append("" if label == OBJECTIVE else f"{ratio(times, label, OBJECTIVE):.2f}")
        cells.append(f"{ratio(times, label, HAND):.2f}" if label in (GRAD, VJP, AUTOGRAD, HAND_ONLY) else "")
        cells.append(f"{ratio(times, label, AUTOGRAD):.3f}" if label in (GRAD, VJP, HAND, HAND_ONLY) else "")
        cells += [fmt_bytes(t["peak"]), f"{t['faults']:.0f}"]
        rows.append(cells)
    return rows


def verdict(value, target):
    return f"{'met' if value <= target else 'MISSED'} ({value:.2f} vs ≤ {target:.2f})"


def case_footer(key, times):
    to_objective, to_hand, to_autograd = TARGETS[key]
    out = []
    for label, short in ((GRAD, "sd.grad"), (VJP, "sd.vjp fn")):
        speedup = 1.0 / ratio(times, label, AUTOGRAD)
        out.append(f"{short}: gradient/objective {verdict(ratio(times, label, OBJECTIVE), to_objective)}; "
                   f"÷ hand-written {verdict(ratio(times, label, HAND), to_hand)}; "
                   f"÷ autograd {verdict(ratio(times, label, AUTOGRAD), to_autograd)}, i.e. {speedup:.2f}x "
                   f"faster than autograd.")
    hand_line = f"Hand-written gradient/objective {ratio(times, HAND, OBJECTIVE):.2f}"
    if HAND_ONLY in times:
        hand_line += f" (without the loss {ratio(times, HAND_ONLY, OBJECTIVE):.2f})"
    out.append(hand_line + f"; autograd/objective {ratio(times, AUTOGRAD, OBJECTIVE):.2f}.")
    spread = max(t["median"] / t["best"] for t in times.values())
    if spread > UNSTABLE_SPREAD:
        out.append(f"WARNING: unstable timings (a variant's median is {spread:.1f}x its best): on a loaded machine a "
                   "multi-threaded BLAS call can wait a scheduler time slice for its second thread; rerun with "
                   "--blas-threads 1 or on an idle machine before trusting these ratios.")
    return out


# -- (d) generation time ----------------------------------------------------------------------------

def bench_generation(runs):
    rows = []
    generation_cases = [
        ("hundred_lines (100-line body), wrt=(0, 1, 2, 5)", hundred_lines.hundred_lines, (0, 1, 2, 5)),
        ("(a) logreg, wrt=(0, 1)", cases.logreg, (0, 1)),
        ("(b) mlp_loss, wrt=0", cases.mlp_loss, 0),
        ("(c) recurrence, wrt=(0, 1)", cases.recurrence, (0, 1)),
    ]
    for label, f, wrt in generation_cases:
        first, later = forward.time_generation(f, wrt, runs, transform=sd.grad)
        rows.append((label, first, statistics.median(later), min(later), max(later)))
    # the generated gradient of hundred_lines is right: against its own jvp along random directions
    args = hundred_lines.make_inputs()
    wrt = (0, 1, 2, 5)
    gradient = sd.grad(hundred_lines.hundred_lines, wrt)(*args)
    rng = np.random.default_rng(2)
    directions = [rng.standard_normal(np.shape(args[p])) if np.ndim(args[p]) else float(rng.standard_normal())
                  for p in wrt]
    fd = directional_fd(hundred_lines.hundred_lines, args, wrt, directions, 1e-6)
    exact = dot(gradient, directions)
    check(abs(exact - fd) <= 1e-5 * max(abs(fd), 1e-3),
          f"hundred_lines: sd.grad {exact!r} != finite differences {fd!r} along a random direction")
    lines = sd.vjp(hundred_lines.hundred_lines, wrt).source.count("\n")
    info = (f"median of {runs} runs after a first one, each on a fresh function object (cache bypassed); "
            f"hundred_lines w.r.t. W, U, v, temperature generates {lines} lines, and its gradient matches "
            f"central finite differences along a random direction")
    return rows, info


def blas_option(parser):
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="pin OpenBLAS to this many threads (default: leave threading as found)")


def machine_notes(options, pinned):
    """forward.machine_notes, saying how BLAS threads were set (--blas-threads)."""
    notes = forward.machine_notes()
    if pinned:
        return [n.replace("threading left as found", f"pinned with --blas-threads {options.blas_threads}")
                for n in notes]
    if options.blas_threads is not None:
        notes.append(f"--blas-threads {options.blas_threads} requested but no OpenBLAS setter was found")
    return notes


# -- main -------------------------------------------------------------------------------------------

def main():
    parser = forward.timing_parser(__doc__.split("\n\n")[0], "sd.grad")
    blas_option(parser)
    parser.add_argument("--print-source", action="store_true", help="also print the generated sd.vjp sources")
    options = parser.parse_args()
    command = "python benchmarks/reverse.py" + "".join(f" {a}" for a in sys.argv[1:])
    started = time.perf_counter()
    load_before = forward.load_average()
    pinned = options.blas_threads is not None and set_blas_threads(options.blas_threads)
    try:
        # Generation first, so its "first" column is the first sd.grad of each function in the process.
        generation, generation_info = bench_generation(options.generation_runs)
        big = np.empty(forward.WARM_HEAP_BYTES // 8)  # freeing it raises glibc's thresholds (forward.bench_mlp)
        del big
        results = {key: run_case(key, options.repeat, options.min_time) for key in "abc"}
    except Failure as exc:
        print(f"CORRECTNESS CHECK FAILED: {exc}", file=sys.stderr)
        return 1
    header = ["variant", "median / call", "best / call", "÷ objective ¹", "÷ hand-written ¹", "÷ autograd ¹",
              "peak memory / call", "page faults / call"]
    sections = []
    for key, (times, info, _) in results.items():
        title = {"a": "(a) Logistic regression loss", "b": "(b) MLP softmax cross-entropy",
                 "c": "(c) 1,000-step scalar recurrence"}[key]
        sections.append((title, info, header, case_rows(times), case_footer(key, times)))
    gen_header = ["function", "first sd.grad", "median", "best", "worst"]
    gen_rows = [[label, f"{a:.1f} ms", f"{b:.1f} ms", f"{c:.1f} ms", f"{d:.1f} ms"]
                for label, a, b, c, d in generation]
    median = generation[0][2]
    sections.append(("(d) Generation time of sd.grad", generation_info, gen_header, gen_rows,
                     [f"Target < {TARGET_GENERATION_MS:g} ms for hundred_lines: "
                      f"{'met' if median < TARGET_GENERATION_MS else 'MISSED'} (median {median:.1f} ms)."]))
    notes = machine_notes(options, pinned)
    try:
        from importlib.metadata import version
        autograd_version = version("autograd")
    except Exception:
        autograd_version = "(version unknown)"
    notes.append(f"autograd {autograd_version}")
    notes.append(f"Timing: timeit.Timer/perf_counter (garbage collector off while timing, as timeit does), "
                 f"{options.repeat} interleaved rounds of one repeat (≥ {options.min_time:g} s) per variant; median "
                 "and best per-call time. ¹ Ratios are the median over rounds of the two variants' times in the same "
                 "round; ÷ autograd below 1 means faster than autograd. "
                 f"Total benchmark time {time.perf_counter() - started:.0f} s.")
    notes.append(f"Load average (1, 5, 15 min) before: {load_before}; after: {forward.load_average()} "
                 "(other processes on the machine distort the timings, multi-threaded BLAS ones most)")
    print(render(sections, notes, options.markdown, command))
    if options.print_source:
        for key, (_, _, source) in results.items():
            print(f"\n# ---- ({key}) generated by sd.vjp ----\n{source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
