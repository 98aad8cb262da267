"""Second-order performance of sourcediff, measured side by side in one run.

    python benchmarks/higher_order.py                  # plain-text tables
    python benchmarks/higher_order.py --markdown       # the same as Markdown
    python benchmarks/higher_order.py --blas-threads 1 # pin OpenBLAS to one thread (default: as found)

(a) The Hessian-vector product of the 784-256-256-10 MLP's softmax cross-entropy at batch 128
    (benchmarks/reverse_cases.py, wrt the parameter tuple): the loss, `sd.grad`, `sd.hvp`, and autograd's
    Hessian-vector product (grad of the gradient's dot product with v) of the same code in autograd.numpy. Targets (issue 11): the
    HVP at most 2.5x the gradient and at most 6x the loss.
(b) `sd.hessian` of a smooth function of 100 parameters (a two-layer tanh regression loss with a
    log-barrier term), checked against central differences of `sd.grad`, and timed against 100
    `sd.hvp` calls, one per basis vector, and autograd's `hessian`.

Timing is benchmarks/forward.py's: interleaved rounds, per-call median and best, ratios as the median
over rounds of two variants' times in the same round. Every result is checked (against autograd and
against central differences of the gradient) before anything is timed; exit status 1 if a check fails.
"""
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))

import autograd  # noqa: E402
import autograd.numpy as anp  # noqa: E402

import sourcediff as sd  # noqa: E402

import forward  # noqa: E402
import reverse  # noqa: E402
import reverse_cases as cases  # noqa: E402
from forward import Failure, check, fmt_time, ratio, render, time_variants  # noqa: E402

TARGETS = {"hvp / grad": 2.5, "hvp / loss": 6.0}
N_PARAMETERS = 100


# -- (a) MLP Hessian-vector product --------------------------------------------------------------------

def mlp_loss_anp(params, x, labels):
    W1, b1, W2, b2, W3, b3 = params
    h1 = anp.tanh(anp.dot(x, W1) + b1)
    h2 = anp.tanh(anp.dot(h1, W2) + b2)
    logits = anp.dot(h2, W3) + b3
    shifted = logits - anp.max(logits, axis=1, keepdims=True)
    logp = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
    return -anp.sum(logp * labels) / x.shape[0]


def flat(tree):
    return np.concatenate([np.ravel(a) for a in tree])


def bench_mlp(repeat, min_time):
    params, x, labels = cases.mlp_inputs()
    v = tuple(np.random.default_rng(1).standard_normal(p.shape) for p in params)
    grad, hvp = sd.grad(cases.mlp_loss), sd.hvp(cases.mlp_loss)
    ag_gradient = autograd.grad(mlp_loss_anp)
    # autograd's hessian_vector_product takes one array: the same reverse over reverse for the tuple
    ag_hvp = autograd.grad(lambda p, x, labels, v: sum(anp.sum(g * d) for g, d in zip(ag_gradient(p, x, labels), v)))
    product = hvp(params, x, labels, v)
    eps = 1e-5
    moved = [tuple(p + s * eps * d for p, d in zip(params, v)) for s in (1.0, -1.0)]
    differences = (flat(grad(moved[0], x, labels)) - flat(grad(moved[1], x, labels))) / (2 * eps)
    error = np.max(np.abs(flat(product) - differences)) / np.max(np.abs(differences))
    check(error < 1e-5, f"(a) sd.hvp differs from differences of sd.grad (relative {error:.3g})")
    ag_error = np.max(np.abs(flat(product) - flat(ag_hvp(params, x, labels, v)))) / np.max(np.abs(differences))
    check(ag_error < 1e-9, f"(a) sd.hvp differs from autograd's (relative {ag_error:.3g})")
    namespace = dict(params=params, x=x, labels=labels, v=v, loss=cases.mlp_loss, grad=grad, hvp=hvp, ag_hvp=ag_hvp)
    variants = [("loss", "loss(params, x, labels)"), ("sd.grad", "grad(params, x, labels)"),
                ("sd.hvp", "hvp(params, x, labels, v)"), ("autograd hvp", "ag_hvp(params, x, labels, v)")]
    times = time_variants(variants, namespace, repeat, min_time)
    info = (f"batch {cases.BATCH}, float64; sd.hvp checked against central differences of sd.grad along v "
            f"(relative {error:.1e}) and against autograd (relative {ag_error:.1e})")
    return times, info


def mlp_section(times):
    header = ["variant", "median / call", "best / call", "÷ loss ¹", "÷ sd.grad ¹", "÷ autograd ¹"]
    rows = []
    for label in times:
        rows.append([label, fmt_time(times[label]["median"]), fmt_time(times[label]["best"]),
                     f"{ratio(times, label, 'loss'):.2f}", f"{ratio(times, label, 'sd.grad'):.2f}",
                     f"{ratio(times, label, 'autograd hvp'):.2f}"])
    over_grad, over_loss = ratio(times, "sd.hvp", "sd.grad"), ratio(times, "sd.hvp", "loss")
    footer = [f"Targets: sd.hvp ≤ {TARGETS['hvp / grad']:g}× sd.grad: "
              f"{'met' if over_grad <= TARGETS['hvp / grad'] else 'MISSED'} ({over_grad:.2f}); "
              f"≤ {TARGETS['hvp / loss']:g}× the loss: {'met' if over_loss <= TARGETS['hvp / loss'] else 'MISSED'} "
              f"({over_loss:.2f})."]
    return "(a) MLP 784-256-256-10 softmax cross-entropy: Hessian-vector product", footer, header, rows


# -- (b) a Hessian of 100 parameters ------------------------------------------------------------------

def regression(theta, X, y):
    """A smooth loss of 100 parameters: a tanh layer's squared error and a log barrier."""
    hidden = np.tanh(X @ theta[:50].reshape(10, 5))
    prediction = hidden @ theta[50:55] + np.sum(theta[55:] ** 3) / 100.0
    return np.mean((prediction - y) ** 2) - 0.01 * np.sum(np.log(1.0 + theta ** 2))


def regression_anp(theta, X, y):
    hidden = anp.tanh(anp.dot(X, anp.reshape(theta[:50], (10, 5))))
    prediction = anp.dot(hidden, theta[50:55]) + anp.sum(theta[55:] ** 3) / 100.0
    return anp.mean((prediction - y) ** 2) - 0.01 * anp.sum(anp.log(1.0 + theta ** 2))


def bench_hessian(repeat, min_time):
    rng = np.random.default_rng(2)
    theta, X, y = 0.3 * rng.standard_normal(N_PARAMETERS), rng.standard_normal((64, 10)), rng.standard_normal(64)
    hessian, hvp, grad = sd.hessian(regression), sd.hvp(regression), sd.grad(regression)
    H = hessian(theta, X, y)
    eps, basis = 1e-5, np.eye(N_PARAMETERS)
    differences = np.stack([(grad(theta + eps * e, X, y) - grad(theta - eps * e, X, y)) / (2 * eps) for e in basis],
                           axis=1)
    error = np.max(np.abs(H - differences)) / np.max(np.abs(differences))
    check(error < 1e-6, f"(b) sd.hessian differs from central differences of sd.grad (relative {error:.3g})")
    ag_hessian = autograd.hessian(regression_anp)
    ag_error = np.max(np.abs(H - ag_hessian(theta, X, y))) / np.max(np.abs(H))
    check(ag_error < 1e-10, f"(b) sd.hessian differs from autograd's (relative {ag_error:.3g})")

    def hvps():
        return [hvp(theta, X, y, e) for e in basis]

    namespace = dict(theta=theta, X=X, y=y, f=regression, grad=grad, hessian=hessian, hvps=hvps,
                     ag_hessian=ag_hessian)
    variants = [("loss", "f(theta, X, y)"), ("sd.grad", "grad(theta, X, y)"), ("sd.hessian", "hessian(theta, X, y)"),
                (f"{N_PARAMETERS} sd.hvp calls", "hvps()"), ("autograd hessian", "ag_hessian(theta, X, y)")]
    times = time_variants(variants, namespace, repeat, min_time)
    info = (f"{N_PARAMETERS} parameters, X of shape (64, 10); sd.hessian checked against central differences of "
            f"sd.grad (relative {error:.1e}) and against autograd (relative {ag_error:.1e})")
    return times, info


def hessian_section(times):
    header = ["variant", "median / call", "best / call", "÷ loss ¹", f"÷ {N_PARAMETERS} sd.hvp ¹", "÷ autograd ¹"]
    rows = [[label, fmt_time(times[label]["median"]), fmt_time(times[label]["best"]),
             f"{ratio(times, label, 'loss'):.1f}", f"{ratio(times, label, f'{N_PARAMETERS} sd.hvp calls'):.2f}",
             f"{ratio(times, label, 'autograd hessian'):.2f}"] for label in times]
    return f"(b) sd.hessian of a function of {N_PARAMETERS} parameters", [], header, rows


def main():
    parser = forward.timing_parser(__doc__.split("\n\n")[0], "sd.hvp")
    reverse.blas_option(parser)
    options = parser.parse_args()
    command = "python benchmarks/higher_order.py" + "".join(f" {a}" for a in sys.argv[1:])
    started = time.perf_counter()
    load_before = forward.load_average()
    pinned = options.blas_threads is not None and reverse.set_blas_threads(options.blas_threads)
    try:
        big = np.empty(forward.WARM_HEAP_BYTES // 8)  # freeing it raises glibc's thresholds (forward.bench_mlp)
        del big
        mlp_times, mlp_info = bench_mlp(options.repeat, options.min_time)
        hessian_times, hessian_info = bench_hessian(max(5, options.repeat // 3), options.min_time)
    except Failure as exc:
        print(f"CORRECTNESS CHECK FAILED: {exc}", file=sys.stderr)
        return 1
    title, footer, header, rows = mlp_section(mlp_times)
    sections = [(title, mlp_info, header, rows, footer)]
    title, footer, header, rows = hessian_section(hessian_times)
    sections.append((title, hessian_info, header, rows, footer))
    notes = reverse.machine_notes(options, pinned)
    notes.append(f"Timing: {options.repeat} interleaved rounds for (a), {max(5, options.repeat // 3)} for (b); "
                 "¹ ratios are medians over rounds of the two variants' times in the same round. "
                 f"Total benchmark time {time.perf_counter() - started:.0f} s.")
    notes.append(f"Load average (1, 5, 15 min) before: {load_before}; after: {forward.load_average()}")
    print(render(sections, notes, options.markdown, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
