"""Forward gradient against reverse-mode gradient descent on the Beale and Rosenbrock functions
(Baydin et al. 2022, "Gradients without Backpropagation", section 5.1).

Both runs start at the same point and use the same optimiser, plain SGD with the learning rate
initial * exp(-decay * t) (the paper's schedule form); the forward gradient draws its directions
from a seeded generator, so every run prints the same numbers. Settings (chosen so that both
methods converge; a larger rate makes the forward gradient, whose steps are noisier, overflow):

- Beale from (1, 1.5): rate 0.02, decay 1e-3, 2000 steps (minimum at (3, 0.5)).
- Rosenbrock from (-1, 2): rate 5e-4, decay 2e-5, 20000 steps (minimum at (1, 1)).

Run: python examples/forward_gradient_test_functions.py [--out DIR] [--steps N]
writes DIR/beale.png and DIR/rosenbrock.png (DIR defaults to docs/images) and prints the final
points and losses.
"""
import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import sourcediff as sd  # noqa: E402
from sourcediff.optim import SGD, exponential_decay  # noqa: E402

IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"


def beale(x, y):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


def rosenbrock(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


# name: (function, start, initial rate, decay, steps, plot box (x range, y range), minimum)
PROBLEMS = {
    "beale": (beale, (1.0, 1.5), 0.02, 1e-3, 2000, ((-1.5, 4.0), (-1.0, 2.0)), (3.0, 0.5)),
    "rosenbrock": (rosenbrock, (-1.0, 2.0), 5e-4, 2e-5, 20000, ((-2.0, 1.5), (-0.5, 2.5)), (1.0, 1.0)),
}


def descend(gradient, start, rate, decay, steps):
    """The points visited by SGD from start, one gradient call per step."""
    optimizer = SGD(exponential_decay(rate, decay))
    point, points = start, [start]
    for _ in range(steps):
        point = optimizer.step(point, gradient(*point))
        points.append(point)
    return np.array(points)


def plot(name, f, trajectories, box, minimum, path):
    """The trajectories over f's contours, with levels spaced evenly in log scale."""
    (x0, x1), (y0, y1) = box
    xs, ys = np.meshgrid(np.linspace(x0, x1, 400), np.linspace(y0, y1, 400))
    zs = f(xs, ys)
    levels = np.logspace(np.log10(max(zs.min(), 1e-3)), np.log10(zs.max()), 25)
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.contour(xs, ys, zs, levels=levels, norm=matplotlib.colors.LogNorm(), cmap="viridis", linewidths=0.7)
    for label, points in trajectories.items():
        ax.plot(points[:, 0], points[:, 1], lw=1.2, label=label)
    ax.plot(*trajectories[next(iter(trajectories))][0], "ko", ms=5, label="start")
    ax.plot(*minimum, "r*", ms=12, label="minimum")
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="x", ylabel="y", title=name.capitalize())
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    """Run both methods on both functions; return {name: {method: (first loss, final point, final loss)}}."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMAGES, help="folder for the PNGs (default docs/images)")
    parser.add_argument("--steps", type=int, help="steps for every function (default: each its own)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, (f, start, rate, decay, steps, box, minimum) in PROBLEMS.items():
        steps = args.steps or steps
        rng = np.random.default_rng(0)
        forward = sd.forward_gradient(f, wrt=(0, 1))
        gradients = {"forward gradient": lambda x, y: forward(x, y, rng=rng)[1],
                     "gradient (reverse mode)": sd.grad(f, wrt=(0, 1))}
        trajectories = {label: descend(g, start, rate, decay, steps) for label, g in gradients.items()}
        path = args.out / f"{name}.png"
        plot(name, f, trajectories, box, minimum, path)
        print(f"{name}: start {start}, SGD rate {rate} * exp(-{decay} t), {steps} steps -> {path}")
        results[name] = {}
        for label, points in trajectories.items():
            x, y = points[-1]
            results[name][label] = (f(*start), (x, y), f(x, y))
            print(f"  {label:<24} final point ({x:.6f}, {y:.6f})  loss {f(x, y):.3e}")
    return results


if __name__ == "__main__":
    main()
