"""Property tests: random straight-line, branching and looping programs, tangents and gradients against
finite differences."""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sourcediff as sd
from sourcediff.derivation import Derivation

import differential

# Smooth and well-defined on the sampled inputs (no `x - x`, whose zero puts hypot at its kink).
UNARY = ["np.sin({})", "np.cos({})", "np.tanh({})", "np.exp(np.tanh({}))", "np.sqrt(1.0 + {} * {})",
         "np.log1p({} * {})", "np.arctan({})", "-{}", "({} ** 2)", "1.0 / (1.0 + {} * {})"]
BINARY = ["{} + {}", "{} - 0.5 * {}", "{} * {}", "{} / (1.5 + np.sin({}))", "np.maximum({}, {})",
          "np.hypot({}, {})", "np.arctan2({}, 2.0 + np.cos({}))"]


@st.composite
def programs(draw):
    """Source of `def f(x, y)` with random statements over earlier variables, maybe a branch and a loop."""
    names = ["x", "y"]
    lines = []
    for i in range(draw(st.integers(2, 10))):
        if draw(st.booleans()):
            template = draw(st.sampled_from(UNARY))
            arg = draw(st.sampled_from(names))
            expr = template.format(*[arg] * template.count("{}"))
        else:
            template = draw(st.sampled_from(BINARY))
            a, b = draw(st.sampled_from(names)), draw(st.sampled_from(names))
            expr = template.format(a, b) if template.count("{}") == 2 else template.format(a, b, b)
        target = f"v{i}" if draw(st.integers(0, 4)) else draw(st.sampled_from(names))  # sometimes reassign
        if draw(st.integers(0, 5)) == 0:
            lines.append(f"    if np.sum({names[-1]}) > 0.0:\n        {target} = {expr}\n    else:\n"
                         f"        {target} = {expr} * 0.5")
        elif draw(st.integers(0, 6)) == 0:
            lines.append(f"    for k in range(2):\n        {target} = {expr} * 0.5")
        else:
            lines.append(f"    {target} = {expr}")
        if target not in names:
            names.append(target)
    return "import math\nimport numpy as np\n\n\ndef f(x, y):\n" + "\n".join(lines) + \
        f"\n    return np.sum({names[-1]}) + np.sum({draw(st.sampled_from(names))})\n"


def load(source, directory):
    return differential.load(source, directory).f


def point(seed, y_shape):
    """x (3 floats), y (a float for the shape (), else an array of y_shape), and a direction (dx, dy)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, 3)
    if y_shape == ():
        return x, float(rng.uniform(-1.0, 1.0)), rng.standard_normal(3), 0.7
    return x, rng.uniform(-1.0, 1.0, y_shape), rng.standard_normal(3), rng.standard_normal(y_shape)


def central_difference(f, x, y, dx, dy, h=1e-6):
    return (f(x + h * dx, y + h * dy) - f(x - h * dx, y - h * dy)) / (2 * h)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=programs(), seed=st.integers(0, 2 ** 16), scalar_y=st.booleans())
def test_random_programs_match_finite_differences(tmp_path, source, seed, scalar_y):
    f = load(source, tmp_path)
    x, y, dx, dy = point(seed, () if scalar_y else (3,))
    value, tangent = sd.jvp(f, wrt=(0, 1))(x, y, dx, dy)
    assert np.isclose(value, f(x, y))
    assert np.isclose(tangent, central_difference(f, x, y, dx, dy), rtol=1e-5, atol=1e-6), source


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=programs(), seed=st.integers(0, 2 ** 16), y_shape=st.sampled_from([(), (3,), (2, 3), (2, 1)]))
def test_random_programs_reverse_matches_finite_differences(tmp_path, source, seed, y_shape):
    """<u, J v> from finite differences against <J^T u, v> from the generated gradient; y may
    broadcast x to two dimensions, so that cotangents must be summed back to each shape."""
    f = load(source, tmp_path)
    x, y, dx, dy = point(seed, y_shape)
    value, (bx, by) = sd.vjp(f, wrt=(0, 1))(x, y, 1.0)
    numeric = central_difference(f, x, y, dx, dy)
    assert np.isclose(value, f(x, y))
    assert np.shape(bx) == np.shape(x) and np.shape(by) == np.shape(y)
    assert np.isclose(float(bx @ dx + np.sum(by * dy)), numeric, rtol=1e-5, atol=1e-6), source


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=programs(), seed=st.integers(0, 2 ** 16), y_shape=st.sampled_from([(), (3,), (2, 3), (2, 1)]))
def test_random_programs_vector_mode_matches_finite_differences(tmp_path, source, seed, y_shape):
    """Tangents carrying 4 directions (forward gradients' vector mode; no argument has a size of 4), each
    against finite differences; y may broadcast x to two dimensions."""
    f = load(source, tmp_path)
    points = [point(seed + j, y_shape) for j in range(4)]
    x, y = points[0][:2]
    derivation = Derivation(4)
    vector_jvp = derivation.compile(derivation.function_jvp(f, ("x", "y"), entry=True)[0])
    value, tangent = vector_jvp(x, y, np.stack([p[2] for p in points]), np.stack([p[3] for p in points]))
    assert np.isclose(value, f(x, y)) and np.shape(tangent) == (4,)
    for j, (_, _, dx, dy) in enumerate(points):
        assert np.isclose(tangent[j], central_difference(f, x, y, dx, dy), rtol=1e-5, atol=1e-6), source
