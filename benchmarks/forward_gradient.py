"""Forward-gradient performance of sourcediff, measured side by side in one run.

    python benchmarks/forward_gradient.py                  # plain-text tables
    python benchmarks/forward_gradient.py --markdown       # the same as Markdown
    python benchmarks/forward_gradient.py --blas-threads 1 # pin OpenBLAS to one thread

(1) The cost table of Baydin et al. (2022) for an MLP: the 784-256-256-10 softmax cross-entropy
    MLP of benchmarks/reverse_cases.py (b), float64, at batch 128 (as there) and at batch 1024. Timed: the loss f; the fused forward
    gradient sd.forward_gradient(f) (k = 1, sampling v inside: normal, and Rademacher); its parts
    apart: sampling v alone (runtime.normal_like) and the tangent along a given v (sd.jvp(f));
    and the reverse-mode gradient sd.grad(f). R_f = forward gradient / f, R_b = gradient / f.
(2) Vector mode on the same MLP: one call with k = 8 directions against 8 calls with k = 1.
(3) Beale and Rosenbrock (benchmarks/test_functions.py), on two floats and on one 2-vector: the
    fused forward gradient against the plain function; on floats also both lowered by sd.native.

Timing reuses benchmarks/forward.py (with glibc's thresholds raised, see tune_allocator; interleaved rounds; a ratio is the median over rounds of the two
variants' times in the same round). Every estimate is checked before timing: its mean over many
directions matches the reverse-mode gradient, which matches finite differences.
"""
import ctypes
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))

import sourcediff as sd  # noqa: E402
from sourcediff.runtime import normal_like  # noqa: E402

import forward  # noqa: E402
import reverse_cases as cases  # noqa: E402
import test_functions  # noqa: E402
from mlp import SIZES, init_params  # noqa: E402
from forward import Failure, check, fmt_time, ratio, render, time_variants  # noqa: E402
from reverse import blas_option, directional_fd, machine_notes, set_blas_threads  # noqa: E402

TARGET_R_F = 2.5
TARGET_VECTOR = 0.75
TARGET_TEST_FUNCTIONS = 2.5
K = 8
# glibc hands arrays above its mmap threshold (128 KiB at first) back to the system when they are
# freed, so each new one is faulted in page by page: on this VM that costs more than the arithmetic
# on the tangents of vector mode, which are k times larger. The benchmark raises the thresholds for
# every variant alike, as MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ would.
MMAP_THRESHOLD, TRIM_THRESHOLD = 256 * 2 ** 20, 512 * 2 ** 20


def tune_allocator():
    """Raise glibc's mmap and trim thresholds (mallopt); True if done."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    return bool(libc.mallopt(-3, MMAP_THRESHOLD)) and bool(libc.mallopt(-1, TRIM_THRESHOLD))


def check_estimate(f, args, wrt, fg, samples):
    """Projected on random vectors u, the mean of `samples` estimates lies within 5 standard errors of
    sd.grad's, itself checked against a central finite difference along a random direction."""
    gradient = sd.grad(f, wrt)(*args)
    flat = lambda g: np.concatenate([np.ravel(leaf) for leaf in (g if isinstance(g, tuple) else (g,))])  # noqa: E731
    rng = np.random.default_rng(0)
    v = tuple(rng.standard_normal(np.shape(p)) for p in args[wrt]) if isinstance(args[wrt], tuple) \
        else rng.standard_normal(np.shape(args[wrt]))
    fd = directional_fd(f, args, (wrt,), (v,), 1e-6)
    check(abs(float(flat(gradient) @ flat(v)) - fd) <= 1e-5 * (1 + abs(fd)), f"sd.grad of {f.__name__} vs finite differences")
    u = rng.standard_normal((4, flat(gradient).size))
    projections = np.array([u @ flat(fg(*args, rng=rng)[1]) for _ in range(samples)])
    error = np.abs(projections.mean(axis=0) - u @ flat(gradient))
    bound = 5 * projections.std(axis=0, ddof=1) / np.sqrt(samples) + 1e-12
    check(np.all(error <= bound), f"forward-gradient estimate of {f.__name__} is off the gradient")


def mlp_inputs(batch, seed=0):
    """reverse_cases.mlp_inputs at another batch size."""
    rng = np.random.default_rng(seed)
    params = init_params(rng)
    x = rng.standard_normal((batch, SIZES[0]))
    return params, x, np.eye(SIZES[-1])[rng.integers(0, SIZES[-1], batch)]


def bench_mlp(batch, repeat, min_time):
    params, x, labels = mlp_inputs(batch)
    f = cases.mlp_loss
    fg, fg_rademacher = sd.forward_gradient(f), sd.forward_gradient(f, distribution="rademacher")
    fg_vector = sd.forward_gradient(f, directions=K)
    check_estimate(f, (params, x, labels), 0, fg_vector, 200)
    v = normal_like(params, np.random.default_rng(1))
    namespace = dict(f=f, params=params, x=x, labels=labels, fg=fg, fg_rademacher=fg_rademacher,
                     fg_vector=fg_vector, jvp=sd.jvp(f), grad=sd.grad(f), v=v, normal_like=normal_like,
                     rng=np.random.default_rng(2), K=K)
    variants = [
        ("objective f", "f(params, x, labels)"),
        ("forward gradient, k = 1, normal", "fg(params, x, labels, rng=rng)"),
        ("forward gradient, k = 1, Rademacher", "fg_rademacher(params, x, labels, rng=rng)"),
        ("  its part: sampling v ~ N(0, I)", "normal_like(params, rng)"),
        ("  its part: primal and tangent along v (sd.jvp)", "jvp(params, x, labels, v)"),
        ("gradient by reverse mode (sd.grad)", "grad(params, x, labels)"),
        (f"forward gradient, k = {K}, normal (one call)", "fg_vector(params, x, labels, rng=rng)"),
        (f"{K} calls of the forward gradient, k = 1, normal", "for _ in range(K): fg(params, x, labels, rng=rng)"),
    ]
    return time_variants(variants, namespace, repeat, min_time)


def bench_test_functions(repeat, min_time):
    """On two floats: f, the fused forward gradient, and both lowered by sd.native; on a 2-vector (which
    native code does not take): f and the fused forward gradient."""
    rows = []
    worst_python, worst_native = 0.0, 0.0
    for name, args in (("beale", (1.0, 1.5)), ("rosenbrock", (-0.5, 0.8))):
        for suffix, call_args, wrt in (("", args, (0, 1)), ("_vector", (np.array(args),), 0)):
            f = getattr(test_functions, name + suffix)
            fg = sd.forward_gradient(f, wrt=wrt)
            namespace = dict(f=f, fg=fg, args=call_args, rng=np.random.default_rng(3))
            variants = [("f", "f(*args)"), ("fg", "fg(*args, rng=rng)")]
            if suffix:
                check_estimate(f, call_args, 0, fg, 2000)
            else:  # the native forward gradient's estimates, checked as estimates of the vector form's gradient
                native_fg = sd.native(fg)
                on_vector = lambda theta, rng: (None, np.array(native_fg(*theta.tolist(), rng=rng)[1]))  # noqa: E731
                check_estimate(getattr(test_functions, name + "_vector"), (np.array(args),), 0, on_vector, 2000)
                namespace.update(native_f=sd.native(f), native_fg=native_fg)
                variants += [("native f", "native_f(*args)"), ("native fg", "native_fg(*args, rng=rng)")]
            times = time_variants(variants, namespace, repeat, min_time)
            r = ratio(times, "fg", "f")
            worst_python = max(worst_python, r)
            spelled = f"{name}{suffix}({'theta' if suffix else 'x, y'})"
            row = [spelled, fmt_time(times["f"]["median"]), fmt_time(times["fg"]["median"]), f"{r:.2f}"]
            if suffix:
                row += ["—", "—", "—", "—"]
            else:
                native_ratio = ratio(times, "native fg", "f")
                worst_native = max(worst_native, native_ratio)
                row += [fmt_time(times["native fg"]["median"]), f"{native_ratio:.2f}",
                        fmt_time(times["native f"]["median"]), f"{ratio(times, 'native fg', 'native f'):.2f}"]
            rows.append(row)
    footer = [f"Target ≤ {TARGET_TEST_FUNCTIONS:g} × f. The fused forward gradient in Python: "
              f"{'met' if worst_python <= TARGET_TEST_FUNCTIONS else 'MISSED'} (worst {worst_python:.2f}). Lowered "
              f"by sd.native (on floats): {'met' if worst_native <= TARGET_TEST_FUNCTIONS else 'MISSED'} "
              f"(worst {worst_native:.2f})."]
    return rows, footer


def mlp_section(batch, times):
    labels = list(times)
    f_label, fg_label, grad_label = labels[0], labels[1], labels[5]
    header = ["variant", "median / call", "best / call", "÷ objective f ¹"]
    rows = [[label, fmt_time(t["median"]), fmt_time(t["best"]), f"{ratio(times, label, f_label):.2f}"]
            for label, t in times.items()]
    r_f, r_b = ratio(times, fg_label, f_label), ratio(times, grad_label, f_label)
    vector = ratio(times, labels[6], labels[7])
    footer = [f"R_f = {r_f:.2f} (target ≤ {TARGET_R_F:g}: {'met' if r_f <= TARGET_R_F else 'MISSED'}), "
              f"R_f with Rademacher directions = {ratio(times, labels[2], f_label):.2f}, R_b = {r_b:.2f}.",
              f"k = {K} in one call ÷ {K} calls with k = 1: {vector:.2f} "
              f"(target ≤ {TARGET_VECTOR:g}: {'met' if vector <= TARGET_VECTOR else 'MISSED'})."]
    return (f"MLP 784-256-256-10, batch {batch}, softmax cross-entropy: R_f, R_b and vector mode",
            "params = (W1, b1, W2, b2, W3, b3), 269,322 parameters, float64", header, rows, footer)


def main():
    parser = forward.timing_parser(__doc__.split("\n\n")[0], "sd.forward_gradient")
    blas_option(parser)
    parser.add_argument("--batches", type=int, nargs="+", default=[128, 1024], help="MLP batch sizes (default 128 1024)")
    parser.add_argument("--print-source", action="store_true", help="also print the generated MLP forward gradient")
    options = parser.parse_args()
    command = "python benchmarks/forward_gradient.py" + "".join(f" {a}" for a in sys.argv[1:])
    started = time.perf_counter()
    load_before = forward.load_average()
    pinned = options.blas_threads is not None and set_blas_threads(options.blas_threads)
    tuned = tune_allocator()
    try:
        mlp_times = {batch: bench_mlp(batch, options.repeat, options.min_time) for batch in options.batches}
        test_rows, test_footer = bench_test_functions(options.repeat, options.min_time)
    except Failure as exc:
        print(f"CORRECTNESS CHECK FAILED: {exc}", file=sys.stderr)
        return 1
    sections = [mlp_section(batch, times) for batch, times in mlp_times.items()]
    sections.append(("(3) Test functions: fused forward gradient ÷ plain function",
                     "k = 1, normal directions, rng a Generator passed in",
                     ["function", "f", "forward gradient", "÷ f ¹", "native forward gradient", "÷ f ¹",
                      "native f", "native fg ÷ native f ¹"], test_rows, test_footer))
    notes = machine_notes(options, pinned)
    notes.append(f"glibc mmap threshold {MMAP_THRESHOLD >> 20} MiB, trim threshold {TRIM_THRESHOLD >> 20} MiB "
                 "(mallopt, for every variant)" if tuned else "glibc's mallopt not found: allocator left as found")
    notes.append(f"Timing: {options.repeat} interleaved rounds (≥ {options.min_time:g} s each) per variant. ¹ Ratios "
                 f"are medians over rounds of the two variants' times in the same round. Total benchmark time "
                 f"{time.perf_counter() - started:.0f} s.")
    notes.append(f"Load average (1, 5, 15 min) before: {load_before}; after: {forward.load_average()}")
    print(render(sections, notes, options.markdown, command))
    if options.print_source:
        print("\n" + sd.forward_gradient(cases.mlp_loss).source)
    return 0


if __name__ == "__main__":
    sys.exit(main())
