"""Corpus of user-style Python/NumPy functions for testing sourcediff.

Every function is a plain module-level ``def`` so that ``inspect.getsource``
works on it.  ``CASES`` at the bottom of the file registers each function with
an input maker and the ``wrt`` argument to pass to ``sourcediff.jvp``.

Inputs are chosen so that each function is smooth at the sample points:
arguments of abs/max/min/where/clip stay away from ties and kinks, log/sqrt/
arcsin arguments stay in-domain, matrices stay well conditioned and while
loops terminate.

``Case.autograd`` is True when the function also runs under autograd once the
module-level name ``np`` is replaced by ``autograd.numpy`` (for the function
and the corpus helpers it calls).  Functions that write into arrays, call the
``math`` module on traced values, use ``x.dot``/``x.copy``/``//`` on traced
arrays or use the ``xp`` alias are marked False.
"""
import math
from dataclasses import dataclass
from math import sin as msin
from typing import Any, Callable

import numpy as np
import numpy as xp


@dataclass(frozen=True)
class Case:
    name: str
    fn: Callable
    make_args: Callable[[np.random.Generator], tuple]
    wrt: Any
    autograd: bool = True


# ---------------------------------------------------------------------------
# Scalar arithmetic, builtins and the math module
# ---------------------------------------------------------------------------

def arith_ops(x, y, n):
    a = -x + 2.0 * y - x / y
    b = (x * y) ** 2 - 3.0 ** x + x ** 0.5
    c = y % x + x % 1.5 + (y // x) * x + (n // 2) * y + n % 3
    return a * b - c


def reassign_and_augment(x, y):
    z = x * y
    z = z + x
    z += y * y
    z *= 0.5
    z -= x / 3.0
    z /= y
    z **= 2
    w = z
    w = w - 1.0
    return w


def builtin_reductions(x, y, z):
    terms = [x * y, y - z, abs(x - z), max(x, z), min(y, 3.0 * x)]
    return sum(terms) / len(terms) + max(terms) * min(terms) - float(max(x, y, z))


def chained_piecewise(x):
    if 0.0 < x < 1.0:
        return x * x
    elif 1.0 <= x < 3.0:
        return 2.0 * x - 1.0
    else:
        return 5.0


def piecewise_sum(a, b, c):
    return chained_piecewise(a) + 2.0 * chained_piecewise(b) + 3.0 * chained_piecewise(c)


def conditional_expressions(x, y, lam):
    a = x - lam if x > lam else x + lam
    b = y - lam if y > lam else (y + lam if y < -lam else 0.0)
    scale = 2.0 if a * b > 0 else -1.0
    return scale * a * b + (a if a > b else b)


def early_return(x, y):
    if x < 0.0:
        return -x * y
    if y > 2.0:
        return x * np.log(y)
    z = x + y
    return z * z


def scalar_exp_log(x, y):
    a = math.exp(0.5 * x) + math.log(x)
    b = math.log(y, 2.0) - math.log1p(x * y)
    return a * b + math.expm1(-x)


def scalar_roots_powers(x, y):
    r = math.hypot(x, y)
    return math.sqrt(r) + math.pow(x, 3) - y ** 2.5 + math.fabs(y - x) / r


def scalar_trig(x, y):
    s = math.sin(x) * math.cos(y) + math.tan(0.5 * x)
    t = math.asin(x / 2.0) + math.acos(y / 3.0)
    return s * t + math.atan(x * y) - math.atan2(y, x)


def scalar_hyperbolic_erf(x):
    return math.sinh(x) * math.cosh(0.5 * x) + math.tanh(x) ** 2 + math.erf(x / math.sqrt(2.0))


def norm_cdf(z):
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def black_scholes_call(spot, strike, rate, vol, t):
    d1 = (math.log(spot / strike) + (rate + 0.5 * vol ** 2) * t) / (vol * math.sqrt(t))
    d2 = d1 - vol * math.sqrt(t)
    return spot * norm_cdf(d1) - strike * math.exp(-rate * t) * norm_cdf(d2)


def polar_to_cartesian(r, theta):
    return r * math.cos(theta), r * math.sin(theta)


def trapezoid_integral(a, b, n=50):
    h = (b - a) / n
    total = 0.5 * (math.exp(-a * a) + math.exp(-b * b))
    for i in range(1, n):
        t = a + i * h
        total += math.exp(-t * t)
    return total * h


def projectile_range(speed, angle, drag=0.1, dt=0.01):
    x, y = 0.0, 0.0
    vx, vy = speed * math.cos(angle), speed * math.sin(angle)
    prev_x, prev_y = x, y
    while y >= 0.0:
        prev_x, prev_y = x, y
        v = math.sqrt(vx * vx + vy * vy)
        vx, vy = vx - dt * drag * v * vx, vy - dt * (9.81 + drag * v * vy)
        x, y = x + dt * vx, y + dt * vy
    return prev_x + (x - prev_x) * prev_y / (prev_y - y)


def aliased_imports(x, v):
    return msin(x) * xp.exp(v) + xp.sum(xp.log1p(v * v)) * x


# ---------------------------------------------------------------------------
# NumPy elementwise functions
# ---------------------------------------------------------------------------

def np_exp_logs(x):
    return np.exp(-x) + np.log(x) * np.log1p(x) - np.expm1(-0.5 * x) + np.log2(x) / np.log10(1.0 + x)


def np_roots_powers(x, y):
    return np.sqrt(x) * np.square(y) + np.power(x, y) - np.power(x, 3) + np.abs(y) * np.sign(y) + abs(y)


def np_trig(x, y):
    u = np.sin(x) * np.cos(y) + np.tan(0.5 * x)
    v = np.arcsin(0.9 * x) - np.arccos(0.5 * y) + np.arctan(x * y)
    return u * v + np.arctan2(y, x)


def np_hyperbolic(X):
    return np.sinh(X) * np.cosh(0.5 * X) - np.tanh(X) ** 2


def np_max_min_where_clip(x, y):
    hi = np.maximum(x, y)
    lo = np.minimum(x, y)
    return np.where(x > y, hi - lo, lo * hi) + np.clip(x, -1.0, 1.0) * np.maximum(x, 0.0)


def np_logaddexp(x, y):
    return np.logaddexp(x, y) - np.logaddexp(0.0, x)


def stable_softplus(x):
    return np.where(x > 0, x + np.log1p(np.exp(-x)), np.log1p(np.exp(x)))


def masks_combined(x):
    """Masks joined with |, & and ~, and integer ^ and >> (normalization's names for them crashed)."""
    outer = (x > 1.0) | (x < -1.0)
    w = np.where((x > 1.0) | (x < -1.0), x * x, np.sin(x))
    k = len(x) >> 1
    return np.sum(w[(x > 0.0) & ~outer]) + np.sum(w) * x[k ^ 1]


def sinc_filter(x, width):
    u = np.pi * x / width
    return np.sum(np.sin(u) / u)


# ---------------------------------------------------------------------------
# Reductions and array methods
# ---------------------------------------------------------------------------

def reductions_with_axes(X):
    a = np.sum(X, axis=0) * np.mean(X, axis=1, keepdims=True)
    b = np.prod(X, axis=1) + np.max(X, axis=1) - np.min(X, axis=1)
    c = np.cumsum(X, axis=1) + np.cumsum(X, axis=0)
    d = np.sum(X, axis=1, keepdims=True) * np.max(X, axis=0, keepdims=True)
    extremes = np.max(X) - np.min(X) + np.prod(X[0])
    return np.sum(a) + np.sum(b ** 2) + np.mean(c) + np.sum(d) + extremes + np.sum(np.cumsum(X))


def array_methods(X, y):
    centered = X - X.mean(axis=0)
    scaled = centered / X.max(axis=1, keepdims=True)
    n_rows, n_cols = X.shape
    flat = scaled.T.reshape(n_rows * n_cols)
    return flat.dot(flat) + X.sum(axis=0).dot(y) + X.min() * X.mean() + X.cumsum(axis=1).sum() / n_rows


def array_methods_traceable(X):
    m = X.max(axis=0, keepdims=True)
    s = X.sum(axis=1)
    return (X - m).T.reshape(-1) @ X.reshape(-1) + s.prod() + X.min(axis=0).mean() + X.T.cumsum(axis=0).max()


def astype_and_shape(x, counts):
    weights = counts.astype(float) / counts.sum()
    z = x.astype(float) * weights
    n = x.shape[0]
    return z.sum() * n + np.dot(weights, x ** 2)


def max_pool_1d(x, size=2):
    n = x.shape[0] // size
    return x[: n * size].reshape(n, size).max(axis=1)


def moving_average(x, w):
    c = np.cumsum(np.concatenate([np.zeros(1), x]))
    return (c[w:] - c[:-w]) / w


def cumulative_product(x):
    out = []
    running = 1.0
    for v in x:
        running = running * v
        out.append(running)
    return np.array(out)


# ---------------------------------------------------------------------------
# Linear algebra
# ---------------------------------------------------------------------------

def matmul_forms(A, B, x):
    C = A @ B
    D = np.matmul(A, B) - 0.5 * np.dot(A, B)
    u = A @ x
    return np.sum(C * C) + np.sum(D) + np.outer(u, x).sum() + np.inner(u, u) + x @ x


def einsum_forms(A, B, x):
    C = np.einsum('ij,jk->ik', A, B)
    y = np.einsum('ij,j->i', A, x)
    t = np.einsum('ij,ji->', A, B)
    return np.einsum('i,i->', y, y) + t * np.einsum('ij,ij->', A, A) + np.einsum('ij->j', C).sum()


def linalg_solve_det_inv(A, b):
    x = np.linalg.solve(A, b)
    A_inv = np.linalg.inv(A)
    return np.linalg.det(A) * np.sum(x) + np.trace(A_inv) + np.linalg.norm(A_inv @ b)


def norms_diag_trace(x, A):
    D = np.diag(x)
    d = np.diag(A)
    return np.linalg.norm(x) + np.linalg.norm(A) + np.sum(np.linalg.norm(A, axis=1)) + np.trace(D @ A) + d @ x


def quadratic_form(x, A):
    return x @ A @ x + 0.5 * x.dot(A.T.dot(x))


def cosine_similarity(a, b):
    return a @ b / (np.linalg.norm(a) * np.linalg.norm(b))


def mahalanobis(x, mean, cov):
    d = x - mean
    return np.sqrt(d @ np.linalg.solve(cov, d))


def mvn_logpdf(x, mean, cov):
    d = x - mean
    k = x.shape[0]
    return -0.5 * (d @ np.linalg.inv(cov) @ d + np.log(np.linalg.det(cov)) + k * np.log(2.0 * np.pi))


def matrix_power_loop(A, n):
    result = np.eye(A.shape[0])
    for _ in range(n):
        result = result @ A
    return result


def power_iteration(A, iters=30):
    v = np.ones(A.shape[0]) / np.sqrt(A.shape[0])
    for _ in range(iters):
        w = A @ v
        v = w / np.linalg.norm(w)
    return v @ A @ v


def gram_schmidt(A):
    basis = []
    for v in A.T:
        w = v
        for q in basis:
            w = w - (q @ v) * q
        basis.append(w / np.linalg.norm(w))
    return np.stack(basis, axis=1)


def kalman_update(mean, cov, z, H, R):
    S = H @ cov @ H.T + R
    K = cov @ H.T @ np.linalg.inv(S)
    new_mean = mean + K @ (z - H @ mean)
    new_cov = (np.eye(len(mean)) - K @ H) @ cov
    return new_mean, new_cov


def rotate_points(points, angle):
    c, s = np.cos(angle), np.sin(angle)
    R = np.array([[c, -s], [s, c]])
    return points @ R.T


# ---------------------------------------------------------------------------
# Shapes, stacking and constructors
# ---------------------------------------------------------------------------

def reshape_transpose(X):
    Y = np.transpose(X)
    Z = np.reshape(Y, (2, -1))
    col = X[:, 0][:, None]
    row = X[0][np.newaxis, :]
    e = np.expand_dims(X.sum(axis=1), axis=1)
    return np.squeeze(e) @ (col * row).sum(axis=1) + np.sum(Z[1] * Z[0]) + np.sum(X.T.reshape(-1)[::3])


def concat_stack(x, y):
    a = np.concatenate([x, y, x * y])
    b = np.stack([x, y], axis=1)
    c = np.hstack([x, 2.0 * y])
    d = np.vstack([x, y, x - y])
    e = np.broadcast_to(x[None, :], (3, x.shape[0]))
    return a, b, c, d * e


def tile_rows(x, n_rows):
    return np.broadcast_to(x, (n_rows, x.shape[0])) * np.arange(1.0, n_rows + 1)[:, None]


def array_from_scalars(a, b, c):
    v = np.array([a, b * c, a * a, 1.0])
    M = np.array([[a, b], [c, a + b]])
    return M @ v[:2] + v[2:]


def constructors_combined(x):
    n = x.shape[0]
    out = np.zeros((n, n))
    out = out + np.outer(x, np.ones(n))
    ramp = np.arange(n) + 1.0
    filled = np.full((n,), 0.5)
    return (np.eye(n) + out) @ (ramp * x) + np.ones_like(x) * x.sum() + np.zeros_like(x) + filled * x ** 2


def fill_buffer_inplace(x):
    n = x.shape[0]
    out = np.zeros(n + 1)
    out[0] = x[0]
    for i in range(1, n):
        out[i] = out[i - 1] * 0.5 + x[i]
    out[n] = out[n - 1] ** 2
    return out


def polynomial_features(x, degree):
    cols = [np.ones_like(x)]
    for d in range(1, degree + 1):
        cols.append(x ** d)
    return np.stack(cols, axis=1)


def ridge_fit_predict(x, y, lam, degree=3):
    Phi = polynomial_features(x, degree)
    A = Phi.T @ Phi + lam * np.eye(degree + 1)
    w = np.linalg.solve(A, Phi.T @ y)
    return Phi @ w


# ---------------------------------------------------------------------------
# Broadcasting an active scalar against inactive arrays
# ---------------------------------------------------------------------------

def broadcast_scalar_arith(x, c):
    return x + c, x / c, c ** x, x * c - x


def broadcast_scalar_select(x, c, mask):
    return np.maximum(x, c), np.where(mask, x, c), np.minimum(c, x) + np.where(mask, 0.0, x)


def broadcast_zero_d(x, C):
    return np.exp(x) * C + np.ones(C.shape) * x ** 2


def broadcast_scalar_matrix(x, A):
    return x * A - A @ np.full((A.shape[1],), x) + np.power(x, 2.0) * np.eye(A.shape[0])


# ---------------------------------------------------------------------------
# Control flow
# ---------------------------------------------------------------------------

def power_loop(x, n):
    result = 1.0
    for _ in range(n):
        result = result * x
    return result


def range_variants(x):
    n = len(x)
    total = 0.0
    for i in range(1, n - 1):
        total += x[i - 1] * x[i + 1]
    for i in range(0, n, 2):
        total += x[i] ** 2
    for i in range(n - 1, 0, -3):
        total -= x[i] * 0.5
    return total


def iterate_1d_array(x):
    acc = 0.0
    for v in x:
        acc = acc * 0.9 + np.sin(v)
    return acc


def iterate_rows(X, w):
    scores = []
    for row in X:
        scores.append(np.tanh(row @ w))
    return np.stack(scores)


def enumerate_zip(x, y):
    total = 0.0
    for i, v in enumerate(x):
        total = total + (i + 1) * v ** 2
    for a, b in zip(x, y):
        total = total + a * b
    for i, (a, b) in enumerate(zip(x, y)):
        if i % 2 == 0:
            total -= a / (1.0 + b * b)
    return total


def iterate_backwards(x, y):
    total = 0.0
    for j in reversed(range(1, len(x))):
        total = total * 0.5 + x[j] * x[j - 1]
    for v in reversed(y):
        total = total * 0.9 + np.sin(v)
    for k, v in enumerate(x, 1):
        total = total + k * v * v
    for pair in enumerate(y, start=2):
        total = total + pair[0] * pair[1] + x[pair[0] - 2]
    return total


def iterators_consumed_at_once(x, y):
    pairs = list(zip(x, y))
    total = sum(a * b for a, b in pairs)
    total = total + sum(k * v for k, v in list(enumerate(y)))
    total = total + sum(map(np.tanh, x))
    for v in map(lambda t: t * t, iter(y)):
        total = total + v
    total = total + sum(filter(lambda t: t > 0.0, x))
    total = total + np.sum(list(reversed(x)) * y)
    return total + np.dot([x[0], x[1] * y[1], 1.0, 2.0, 3.0] * y, x)


def grow_until_threshold(x):
    value = x
    steps = 0
    while value < 10.0:
        value = value * 1.5 + 0.1
        steps += 1
    return value / steps


def halve_until_small(x):
    while abs(x) > 1.0:
        x = x / 2.0
    return x * x + x


def loop_break_continue(x, limit):
    total = 0.0
    for v in x:
        if v < 0.0:
            continue
        total += np.sqrt(v)
        if total > limit:
            break
    return total


def first_crossing(x, threshold):
    total = 0.0
    for i in range(len(x)):
        total += x[i] ** 2
        if total > threshold:
            return total * (i + 1)
    return -total


def fibonacci_like(a, b, n):
    for _ in range(n):
        a, b = b, a + 0.5 * b
    return a, b


def nested_loops(A, x):
    n, m = A.shape
    total = 0.0
    for i in range(n):
        row_sum = 0.0
        for j in range(m):
            if j == i:
                continue
            row_sum += A[i, j] * x[j]
        total += row_sum ** 2
    return total


def activation(x, kind):
    if kind == "relu":
        return np.maximum(x, 0.0)
    elif kind == "tanh":
        return np.tanh(x)
    else:
        return 1.0 / (1.0 + np.exp(-x))


def activations_mix(x):
    return activation(x, "relu") + activation(x, kind="tanh") * activation(x, "sigmoid")


def clip_by_norm(g, max_norm):
    norm = np.linalg.norm(g)
    if norm > max_norm:
        g = g * (max_norm / norm)
    return g


def loan_balance(principal, annual_rate, payment, months):
    balance = principal
    r = annual_rate / 12.0
    for _ in range(months):
        balance = balance + balance * r - payment
        if balance <= 0.0:
            return 0.0
    return balance


def piecewise_linear_interp(x, knots, values):
    i = 0
    for i in range(len(knots) - 1):
        if knots[i] <= x < knots[i + 1]:
            break
    t = (x - knots[i]) / (knots[i + 1] - knots[i])
    return (1.0 - t) * values[i] + t * values[i + 1]


def welford_variance(x):
    mean = 0.0
    m2 = 0.0
    count = 0
    for v in x:
        count += 1
        delta = v - mean
        mean += delta / count
        m2 += delta * (v - mean)
    return mean, m2 / (count - 1)


def exponential_moving_average(x, alpha):
    ema = x[0]
    out = [ema]
    for v in x[1:]:
        ema = alpha * v + (1.0 - alpha) * ema
        out.append(ema)
    return np.stack(out)


# ---------------------------------------------------------------------------
# Lists, tuples and dicts
# ---------------------------------------------------------------------------

def list_ops(x, y):
    items = [x, y, x * y]
    items.append(np.sin(x))
    items[1] = items[1] + 1.0
    head = items[0] * items[-1] + items[2]
    return np.stack(items).sum(axis=0) * head


def weighted_list_sum(arrays, weights):
    total = np.zeros_like(arrays[0])
    for a, w in zip(arrays, weights):
        total = total + w * a
    return total


def tuple_param_unpack(params, x):
    W, b = params
    scale, shift = params[1][0], params[1][-1]
    return np.tanh(W @ x + b) * scale + shift


def dict_built_inside(x):
    stats = {}
    stats["mean"] = np.mean(x)
    stats["centered"] = x - stats["mean"]
    stats["var"] = np.mean(stats["centered"] ** 2)
    return stats["centered"] / np.sqrt(stats["var"])


# ---------------------------------------------------------------------------
# Indexing, slicing and in-place writes
# ---------------------------------------------------------------------------

def slicing(X, x):
    inner = X[1:-1, 1:-1]
    last = X[-1]
    col = X[:, -2]
    return inner.sum() * last[0] + col @ x[::2] + x[-1] * x[1:3].sum() + X[0, -1]


def gather_indices(x, idx):
    picked = x[idx]
    return picked * x[idx[::-1]] + x[[0, 2]].sum()


def masked_ops(x, y):
    pos = x[x > 0]
    neg = y[x <= 0]
    return np.sum(pos ** 2) - np.sum(np.exp(neg)) + np.where(x > 0, x, 0.0).mean()


def masked_mse(pred, target, valid):
    err = (pred - target)[valid]
    return np.sum(err ** 2) / max(len(err), 1)


def inplace_updates(x, X):
    y = x.copy()
    y[0] = x[1] * x[2]
    y[1] += x[0] ** 2
    y[-1] *= 3.0
    Z = np.copy(X)
    for j in range(Z.shape[1]):
        Z[:, j] *= y[j % len(y)]
    Z[1:, 0] -= y[0]
    return Z


def normalize_columns_inplace(X):
    for j in range(X.shape[1]):
        X[:, j] /= np.linalg.norm(X[:, j])
    return X


def tridiagonal_matvec(x, diag_value):
    y = diag_value * x
    y[1:] -= x[:-1]
    y[:-1] -= x[1:]
    return y


def heat_equation(u0, alpha, steps=20):
    u = u0.copy()
    for _ in range(steps):
        lap = u[2:] - 2.0 * u[1:-1] + u[:-2]
        u[1:-1] = u[1:-1] + alpha * lap
        u[0] = u[1]
        u[-1] = 0.5 * u[-2]
    return u


def finite_difference_laplacian(u, h):
    return (u[2:] - 2.0 * u[1:-1] + u[:-2]) / h ** 2


# ---------------------------------------------------------------------------
# User function calls: keywords, defaults, recursion, closures, lambdas
# ---------------------------------------------------------------------------

def affine(x, W, b=None, scale=1.0):
    out = W @ x
    if b is not None:
        out = out + b
    return scale * out


def calls_with_kwargs(x, W, b):
    h = affine(x, W, b, scale=0.5)
    g = affine(np.tanh(h), W.T @ W)
    return affine(x=g, W=W, b=b)


def rpow(x, n):
    if n == 0:
        return 1.0
    half = rpow(x, n // 2)
    if n % 2 == 0:
        return half * half
    return half * half * x


def horner_recursive(coeffs, x):
    if len(coeffs) == 1:
        return coeffs[0]
    return coeffs[0] + x * horner_recursive(coeffs[1:], x)


def nested_closure(x, a):
    scale = 2.0 * a

    def transform(v, shift=1.0):
        return np.tanh(scale * v + shift) * a

    return transform(x) + transform(x ** 2, shift=-0.5)


def lambda_usage(x, y):
    sq = lambda v: v * v + y
    mix = lambda u, w=0.5: w * u + (1.0 - w) * sq(u)
    return mix(x) + mix(np.sin(x), w=0.25)


def softmax(z):
    z = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)


def logsumexp(a, axis=None):
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(a - m), axis=axis))


# ---------------------------------------------------------------------------
# Realistic models, losses and simulations
# ---------------------------------------------------------------------------

def logistic_regression_loss(w, b, X, y, l2=0.01):
    z = X @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    nll = -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
    return nll + l2 * np.sum(w ** 2)


def softmax_cross_entropy(W, X, labels):
    probs = softmax(X @ W)
    n = X.shape[0]
    return -np.mean(np.log(probs[np.arange(n), labels]))


def mlp_tuple(params, x):
    W1, b1, W2, b2 = params
    h = np.tanh(x @ W1 + b1)
    return h @ W2 + b2


def mlp_dict_loss(params, x, y):
    h = np.maximum(0.0, x @ params["W1"] + params["b1"])
    out = h @ params["W2"] + params["b2"]
    return 0.5 * np.mean((out - y) ** 2)


def rnn_final_state(Wx, Wh, xs, h0):
    h = h0
    for x_t in xs:
        h = np.tanh(Wx @ x_t + Wh @ h)
    return h


def attention(Q, K, V):
    scores = Q @ K.T / np.sqrt(Q.shape[-1])
    return softmax(scores) @ V


def horner(coeffs, x):
    result = np.zeros_like(x)
    for c in coeffs:
        result = result * x + c
    return result


def euler_oscillator(k, damping, x0, v0, dt=0.01, steps=200):
    x, v = x0, v0
    for _ in range(steps):
        a = -k * x - damping * v
        x, v = x + dt * v, v + dt * a
    return x, v


def pendulum_rhs(state, length, g=9.81):
    theta, omega = state[0], state[1]
    return np.array([omega, -g / length * np.sin(theta)])


def rk4_pendulum(state, length, dt=0.05, steps=40):
    for _ in range(steps):
        k1 = pendulum_rhs(state, length)
        k2 = pendulum_rhs(state + 0.5 * dt * k1, length)
        k3 = pendulum_rhs(state + 0.5 * dt * k2, length)
        k4 = pendulum_rhs(state + dt * k3, length, g=9.81)
        state = state + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return state


def lotka_volterra(params, state0, dt=0.01, steps=100):
    alpha, beta, delta, gamma = params
    prey, pred = state0
    history = []
    for _ in range(steps):
        dprey = alpha * prey - beta * prey * pred
        dpred = delta * prey * pred - gamma * pred
        prey, pred = prey + dt * dprey, pred + dt * dpred
        history.append(prey)
    return np.mean(np.array(history)[-10:]), pred


def newton_kepler(M, e):
    E = M
    delta = 1.0
    it = 0
    while abs(delta) > 1e-12 and it < 50:
        delta = (E - e * np.sin(E) - M) / (1.0 - e * np.cos(E))
        E = E - delta
        it += 1
    return E


def newton_cube_root(a, tol=1e-12, max_iter=50):
    x = a if a > 1.0 else 1.0
    for _ in range(max_iter):
        step = (x ** 3 - a) / (3.0 * x ** 2)
        x = x - step
        if abs(step) < tol:
            break
    return x


def fixed_point_cos(a):
    x = 0.5
    x_prev = 0.0
    while abs(x - x_prev) > 1e-13:
        x_prev = x
        x = np.cos(a * x)
    return x


def gaussian_loglik(mu, log_sigma, x):
    sigma = np.exp(log_sigma)
    z = (x - mu) / sigma
    return np.sum(-0.5 * z ** 2 - log_sigma - 0.5 * np.log(2.0 * np.pi))


def gaussian_kl(mu1, logvar1, mu2, logvar2):
    return 0.5 * np.sum(logvar2 - logvar1 + (np.exp(logvar1) + (mu1 - mu2) ** 2) / np.exp(logvar2) - 1.0)


def huber_loss(pred, target, delta=1.0):
    r = pred - target
    abs_r = np.abs(r)
    quad = 0.5 * r ** 2
    lin = delta * (abs_r - 0.5 * delta)
    return np.mean(np.where(abs_r <= delta, quad, lin))


def huber_scalar_loop(residuals, delta):
    total = 0.0
    for r in residuals:
        if r > delta:
            total += delta * (r - 0.5 * delta)
        elif r < -delta:
            total += delta * (-r - 0.5 * delta)
        else:
            total += 0.5 * r * r
    return total / len(residuals)


def layer_norm(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def gmm_loglik(x, means, log_stds, logits):
    log_w = logits - logsumexp(logits)
    z = (x[:, None] - means[None, :]) / np.exp(log_stds)
    comp = -0.5 * z ** 2 - log_stds - 0.5 * np.log(2.0 * np.pi)
    return np.sum(logsumexp(log_w + comp, axis=1))


def entropy_of_softmax(logits, temperature):
    p = softmax(logits / temperature)
    return -np.sum(p * np.log(p))


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def beale(x, y):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


def pairwise_distances(X):
    diff = X[:, None, :] - X[None, :, :]
    return np.sqrt(np.sum(diff ** 2, axis=-1) + 1e-9)


def kernel_ridge_predict(X, y, X_test, lengthscale, lam=0.1):
    def rbf(A, B):
        d2 = np.sum((A[:, None, :] - B[None, :, :]) ** 2, axis=-1)
        return np.exp(-0.5 * d2 / lengthscale ** 2)

    K = rbf(X, X) + lam * np.eye(X.shape[0])
    alpha = np.linalg.solve(K, y)
    return rbf(X_test, X) @ alpha


def net_present_value(rate, cashflows):
    npv = 0.0
    for t, cf in enumerate(cashflows):
        npv += cf / (1.0 + rate) ** t
    return npv


def logistic_map(r, x0, n=20):
    x = x0
    for _ in range(n):
        x = r * x * (1.0 - x)
    return x


def conv1d_valid(x, kernel):
    k = len(kernel)
    return np.array([np.dot(x[i:i + k], kernel) for i in range(len(x) - k + 1)])


def bezier_point(control_points, t):
    pts = list(control_points)
    while len(pts) > 1:
        nxt = []
        for i in range(len(pts) - 1):
            nxt.append((1.0 - t) * pts[i] + t * pts[i + 1])
        pts = nxt
    return pts[0]


def spring_chain_energy(positions, k, rest):
    energy = 0.0
    for i in range(len(positions) - 1):
        stretch = np.linalg.norm(positions[i + 1] - positions[i]) - rest
        energy += 0.5 * k * stretch ** 2
    return energy


def gradient_descent_quadratic(A, b, lr, steps=25):
    x = np.zeros_like(b)
    for _ in range(steps):
        grad = A @ x - b
        x = x - lr * grad
    return 0.5 * x @ A @ x - b @ x


def sgd_logistic_steps(w, X, y, lr=0.1, epochs=3):
    for _ in range(epochs):
        for xi, yi in zip(X, y):
            p = 1.0 / (1.0 + np.exp(-(xi @ w)))
            w = w - lr * (p - yi) * xi
    return w


def smooth_max(x, beta):
    return logsumexp(beta * x) / beta


def cross_entropy_clipped(p, y):
    p = np.clip(p, 1e-7, 1.0 - 1e-7)
    return -np.sum(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def batch_standardize(X):
    mu = X.mean(axis=0)
    sd = np.sqrt(((X - mu) ** 2).mean(axis=0) + 1e-8)
    return (X - mu) / sd


def triangle_area(p, q, r):
    M = np.array([[q[0] - p[0], r[0] - p[0]], [q[1] - p[1], r[1] - p[1]]])
    return 0.5 * np.abs(np.linalg.det(M))


# ---------------------------------------------------------------------------
# Input makers
# ---------------------------------------------------------------------------

def _uniform(rng, lo, hi, *shape):
    """A Python float when no shape is given, else a float64 array."""
    if not shape:
        return float(rng.uniform(lo, hi))
    return rng.uniform(lo, hi, size=shape)


def _normal(rng, *shape, scale=1.0):
    """A Python float when no shape is given, else a float64 array."""
    if not shape:
        return scale * float(rng.standard_normal())
    return scale * rng.standard_normal(shape)


def _kink_free(rng, *shape):
    """Magnitudes in [0.2, 0.8] or [1.2, 2.0]: at least 0.2 away from 0 and +-1."""
    magnitude = np.where(rng.random(shape) < 0.5, rng.uniform(0.2, 0.8, shape), rng.uniform(1.2, 2.0, shape))
    return rng.choice([-1.0, 1.0], size=shape) * magnitude


def _distinct(rng, *shape):
    """Values at least 0.2 apart from each other (no ties for max/min)."""
    size = int(np.prod(shape))
    values = 0.3 * rng.permutation(size) - 0.15 * size + rng.uniform(-0.05, 0.05, size)
    return values.reshape(shape)


def _well_conditioned(rng, n):
    return 2.0 * np.eye(n) + 0.3 * rng.standard_normal((n, n))


def _spd(rng, n):
    B = rng.standard_normal((n, n))
    return B @ B.T / n + np.eye(n)


def _away_from(rng, x, shape, gap=0.3):
    """Array of values at least ``gap`` away from the scalar ``x``."""
    return x + rng.choice([-1.0, 1.0], size=shape) * rng.uniform(gap, 1.5, shape)


def _broadcast_select_args(rng):
    x = _uniform(rng, 0.4, 0.6)
    return x, _away_from(rng, x, (2, 3)), rng.random((2, 3)) < 0.5


def _max_min_args(rng):
    x = _kink_free(rng, 6)
    return x, x + rng.choice([-1.0, 1.0], size=6) * rng.uniform(0.3, 1.0, 6)


def _mlp_tuple_args(rng):
    params = (_normal(rng, 3, 5), _normal(rng, 5), _normal(rng, 5, 2), _normal(rng, 2))
    return params, _normal(rng, 4, 3)


def _mlp_dict_args(rng):
    params = {"W1": _normal(rng, 3, 6), "b1": _normal(rng, 6), "W2": _normal(rng, 6, 2), "b2": _normal(rng, 2)}
    return params, _normal(rng, 5, 3), _normal(rng, 5, 2)


def _kalman_args(rng):
    return (_normal(rng, 3), _spd(rng, 3), _normal(rng, 2), _normal(rng, 2, 3), 0.5 * np.eye(2))


def _symmetric_dominant(rng, n):
    B = 0.2 * rng.standard_normal((n, n))
    return B + B.T + np.diag(np.arange(n, 0, -1) * 1.5)


# ---------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------

def _case(fn, make_args, wrt=0, autograd=True, name=None):
    return Case(name or fn.__name__, fn, make_args, wrt, autograd)


CASES = [
    # Scalar arithmetic, builtins and the math module.
    _case(arith_ops, lambda rng: (_uniform(rng, 2.0, 2.8), _uniform(rng, 3.2, 3.8), int(rng.integers(2, 7))),
          wrt=(0, 1), autograd=False),
    _case(reassign_and_augment, lambda rng: (_uniform(rng, 0.5, 2.0), _uniform(rng, 0.5, 2.0)), wrt=(0, 1)),
    _case(builtin_reductions, lambda rng: (_uniform(rng, 1.0, 1.5), _uniform(rng, 2.0, 2.5), _uniform(rng, 4.0, 4.5)),
          wrt=("x", "y", "z"), autograd=False),
    _case(piecewise_sum, lambda rng: (_uniform(rng, 0.1, 0.9), _uniform(rng, 1.2, 2.8), _uniform(rng, 3.5, 5.0)),
          wrt=(0, 1, 2)),
    _case(conditional_expressions,
          lambda rng: (_uniform(rng, 1.0, 2.0), _uniform(rng, -2.0, -1.0), _uniform(rng, 0.2, 0.5)), wrt=(0, 1, 2)),
    _case(early_return, lambda rng: (_uniform(rng, -2.0, -0.5), _uniform(rng, 0.5, 3.0)), wrt=(0, 1),
          name="early_return_negative"),
    _case(early_return, lambda rng: (_uniform(rng, 0.5, 2.0), _uniform(rng, 2.5, 4.0)), wrt=(0, 1),
          name="early_return_large_y"),
    _case(early_return, lambda rng: (_uniform(rng, 0.5, 2.0), _uniform(rng, 0.5, 1.5)), wrt=(0, 1),
          name="early_return_fallthrough"),
    _case(scalar_exp_log, lambda rng: (_uniform(rng, 0.5, 2.0), _uniform(rng, 1.0, 3.0)), wrt=(0, 1),
          autograd=False),
    _case(scalar_roots_powers, lambda rng: (_uniform(rng, 0.5, 1.0), _uniform(rng, 1.5, 2.5)), wrt=(0, 1),
          autograd=False),
    _case(scalar_trig, lambda rng: (_uniform(rng, 0.2, 1.5), _uniform(rng, 0.5, 2.0)), wrt=(0, 1), autograd=False),
    _case(scalar_hyperbolic_erf, lambda rng: (_uniform(rng, -1.5, 1.5),), autograd=False),
    _case(black_scholes_call,
          lambda rng: (_uniform(rng, 80.0, 120.0), 100.0, _uniform(rng, 0.01, 0.05), _uniform(rng, 0.1, 0.4),
                       _uniform(rng, 0.5, 2.0)),
          wrt=("spot", "vol", "t"), autograd=False),
    _case(polar_to_cartesian, lambda rng: (_uniform(rng, 0.5, 2.0), _uniform(rng, -3.0, 3.0)), wrt=(0, 1),
          autograd=False),
    _case(trapezoid_integral, lambda rng: (_uniform(rng, -1.0, 0.0), _uniform(rng, 0.5, 2.0)), wrt=(0, 1),
          autograd=False),
    _case(projectile_range, lambda rng: (_uniform(rng, 5.0, 10.0), _uniform(rng, 0.3, 1.2)), wrt=("speed", "angle"),
          autograd=False),
    _case(aliased_imports, lambda rng: (_uniform(rng, -1.0, 1.0), _normal(rng, 4)), wrt=(0, 1), autograd=False),
    # NumPy elementwise.
    _case(np_exp_logs, lambda rng: (_uniform(rng, 0.5, 2.0, 5),)),
    _case(np_roots_powers, lambda rng: (_uniform(rng, 0.5, 2.0, 4), _kink_free(rng, 4)), wrt=(0, 1)),
    _case(np_trig, lambda rng: (_uniform(rng, -0.9, 0.9, 2, 3), _uniform(rng, 0.2, 1.5, 2, 3)), wrt=(0, 1)),
    _case(np_hyperbolic, lambda rng: (_normal(rng, 3, 2),)),
    _case(np_max_min_where_clip, _max_min_args, wrt=(0, 1)),
    _case(np_logaddexp, lambda rng: (_normal(rng, 5, scale=2.0), _normal(rng, 5, scale=2.0)), wrt=(0, 1)),
    _case(stable_softplus, lambda rng: (3.0 * _kink_free(rng, 6),)),
    _case(masks_combined, lambda rng: (3.0 * _kink_free(rng, 6),)),
    _case(sinc_filter, lambda rng: (_kink_free(rng, 5), _uniform(rng, 1.5, 3.0)), wrt=(0, 1)),
    # Reductions and array methods.
    _case(reductions_with_axes, lambda rng: (_distinct(rng, 3, 4),)),
    _case(array_methods, lambda rng: (_uniform(rng, 1.0, 3.0, 3, 4), _normal(rng, 4)), wrt=(0, 1), autograd=False),
    _case(array_methods_traceable, lambda rng: (_distinct(rng, 3, 4),)),
    _case(astype_and_shape, lambda rng: (_normal(rng, 5), rng.integers(1, 10, size=5))),
    _case(max_pool_1d, lambda rng: (_distinct(rng, 9),)),
    _case(moving_average, lambda rng: (_normal(rng, 8), 3)),
    _case(cumulative_product, lambda rng: (_uniform(rng, 0.5, 1.5, 6),)),
    # Linear algebra.
    _case(matmul_forms, lambda rng: (_normal(rng, 3, 4), _normal(rng, 4, 3), _normal(rng, 4)), wrt=(0, 1, 2)),
    _case(einsum_forms, lambda rng: (_normal(rng, 3, 4), _normal(rng, 4, 3), _normal(rng, 4)), wrt=("A", "B", "x")),
    _case(linalg_solve_det_inv, lambda rng: (_well_conditioned(rng, 4), _normal(rng, 4)), wrt=(0, 1)),
    _case(norms_diag_trace, lambda rng: (_normal(rng, 4), _normal(rng, 4, 4)), wrt=(0, 1)),
    _case(quadratic_form, lambda rng: (_normal(rng, 4), _normal(rng, 4, 4)), wrt=(0, 1), autograd=False),
    _case(cosine_similarity, lambda rng: (_normal(rng, 5), _normal(rng, 5)), wrt=(0, 1)),
    _case(mahalanobis, lambda rng: (_normal(rng, 3), _normal(rng, 3), _spd(rng, 3)), wrt=("x", "cov")),
    _case(mvn_logpdf, lambda rng: (_normal(rng, 3), _normal(rng, 3), _spd(rng, 3)), wrt=(0, 1, 2)),
    _case(matrix_power_loop, lambda rng: (_normal(rng, 3, 3, scale=0.5), 4)),
    _case(power_iteration, lambda rng: (_symmetric_dominant(rng, 4),)),
    _case(gram_schmidt, lambda rng: (_well_conditioned(rng, 3),)),
    _case(kalman_update, _kalman_args, wrt=("mean", "cov", "z")),
    _case(rotate_points, lambda rng: (_normal(rng, 5, 2), _uniform(rng, -3.0, 3.0)), wrt=(0, 1)),
    # Shapes, stacking and constructors.
    _case(reshape_transpose, lambda rng: (_normal(rng, 3, 4),)),
    _case(concat_stack, lambda rng: (_normal(rng, 4), _normal(rng, 4)), wrt=(0, 1)),
    _case(tile_rows, lambda rng: (_normal(rng, 4), 3), autograd=False),
    _case(array_from_scalars, lambda rng: (_normal(rng), _normal(rng), _normal(rng)), wrt=(0, 1, 2)),
    _case(constructors_combined, lambda rng: (_normal(rng, 4),)),
    _case(fill_buffer_inplace, lambda rng: (_normal(rng, 5),), autograd=False),
    _case(ridge_fit_predict, lambda rng: (_uniform(rng, -1.0, 1.0, 8), _normal(rng, 8), _uniform(rng, 0.1, 1.0)),
          wrt=(0, 1, 2)),
    # Broadcasting an active scalar against inactive arrays.
    _case(broadcast_scalar_arith, lambda rng: (_uniform(rng, 0.5, 1.5), _uniform(rng, 0.5, 2.0, 2, 3))),
    _case(broadcast_scalar_select, _broadcast_select_args, autograd=False),
    _case(broadcast_zero_d, lambda rng: (np.array(_uniform(rng, -1.0, 1.0)), _normal(rng, 3))),
    _case(broadcast_scalar_matrix, lambda rng: (_uniform(rng, -1.0, 1.0), _normal(rng, 3, 3))),
    # Control flow.
    _case(power_loop, lambda rng: (_uniform(rng, 0.5, 1.5), int(rng.integers(1, 6)))),
    _case(range_variants, lambda rng: (_normal(rng, 8),)),
    _case(iterate_1d_array, lambda rng: (_normal(rng, 6),)),
    _case(iterate_rows, lambda rng: (_normal(rng, 4, 3), _normal(rng, 3)), wrt=(0, 1)),
    _case(enumerate_zip, lambda rng: (_normal(rng, 5), _normal(rng, 5)), wrt=(0, 1)),
    _case(iterate_backwards, lambda rng: (_normal(rng, 5), _normal(rng, 5)), wrt=(0, 1)),
    _case(iterators_consumed_at_once, lambda rng: (_kink_free(rng, 5), _normal(rng, 5)), wrt=(0, 1),
          autograd=False),
    _case(grow_until_threshold, lambda rng: (_uniform(rng, 0.3, 2.0),)),
    _case(halve_until_small, lambda rng: (_uniform(rng, 3.0, 40.0),)),
    _case(loop_break_continue, lambda rng: (_kink_free(rng, 8), _uniform(rng, 0.5, 2.5))),
    _case(first_crossing, lambda rng: (_normal(rng, 6), _uniform(rng, 0.5, 3.0))),
    _case(fibonacci_like, lambda rng: (_uniform(rng, -1.0, 1.0), _uniform(rng, -1.0, 1.0), 6), wrt=(0, 1)),
    _case(nested_loops, lambda rng: (_normal(rng, 3, 4), _normal(rng, 4)), wrt=(0, 1)),
    _case(activations_mix, lambda rng: (_kink_free(rng, 6),)),
    _case(clip_by_norm, lambda rng: (_normal(rng, 4, scale=2.0), 1.0), name="clip_by_norm_clipped"),
    _case(clip_by_norm, lambda rng: (_normal(rng, 4, scale=0.1), 5.0), name="clip_by_norm_unclipped"),
    _case(loan_balance, lambda rng: (_uniform(rng, 800.0, 1200.0), _uniform(rng, 0.02, 0.08), 20.0, 24),
          wrt=("principal", "annual_rate")),
    _case(piecewise_linear_interp,
          lambda rng: (_uniform(rng, 0.05, 0.95) + float(rng.integers(0, 3)), np.arange(5.0), _normal(rng, 5)),
          wrt=("x", "values")),
    _case(welford_variance, lambda rng: (_normal(rng, 7),)),
    _case(exponential_moving_average, lambda rng: (_normal(rng, 6), _uniform(rng, 0.1, 0.9)), wrt=(0, 1)),
    # Lists, tuples and dicts.
    _case(list_ops, lambda rng: (_normal(rng, 3), _normal(rng, 3)), wrt=(0, 1)),
    _case(weighted_list_sum, lambda rng: ([_normal(rng, 3) for _ in range(3)], [_normal(rng) for _ in range(3)]),
          wrt=("arrays", "weights")),
    _case(tuple_param_unpack, lambda rng: ((_normal(rng, 3, 4), _normal(rng, 3)), _normal(rng, 4)), wrt=(0, 1)),
    _case(dict_built_inside, lambda rng: (_normal(rng, 5),)),
    # Indexing, slicing and in-place writes.
    _case(slicing, lambda rng: (_normal(rng, 4, 5), _normal(rng, 7)), wrt=(0, 1)),
    _case(gather_indices, lambda rng: (_normal(rng, 6), rng.integers(0, 6, size=4))),
    _case(masked_ops, lambda rng: (_kink_free(rng, 7), _normal(rng, 7)), wrt=(0, 1)),
    _case(masked_mse, lambda rng: (_normal(rng, 6), _normal(rng, 6), np.array([True, False, True, True, False, True])),
          wrt=("pred", "target")),
    _case(inplace_updates, lambda rng: (_normal(rng, 3), _normal(rng, 4, 5)), wrt=(0, 1), autograd=False),
    _case(normalize_columns_inplace, lambda rng: (_normal(rng, 4, 3),), autograd=False),
    _case(tridiagonal_matvec, lambda rng: (_normal(rng, 6), _uniform(rng, 2.0, 3.0)), wrt=(0, 1), autograd=False),
    _case(heat_equation, lambda rng: (_normal(rng, 8), _uniform(rng, 0.1, 0.4)), wrt=(0, 1), autograd=False),
    _case(finite_difference_laplacian, lambda rng: (_normal(rng, 7), _uniform(rng, 0.5, 1.0)), wrt=(0, 1)),
    # User function calls.
    _case(calls_with_kwargs, lambda rng: (_normal(rng, 3), _normal(rng, 3, 3, scale=0.5), _normal(rng, 3)),
          wrt=(0, 1, 2)),
    _case(rpow, lambda rng: (_uniform(rng, 0.5, 1.5), int(rng.integers(3, 12)))),
    _case(horner_recursive, lambda rng: (_normal(rng, 5), _normal(rng, 4)), wrt=(0, 1)),
    _case(nested_closure, lambda rng: (_normal(rng, 4), _uniform(rng, 0.5, 1.5)), wrt=(0, 1)),
    _case(lambda_usage, lambda rng: (_normal(rng, 4), _uniform(rng, -1.0, 1.0)), wrt=(0, 1)),
    # Realistic models, losses and simulations.
    _case(logistic_regression_loss,
          lambda rng: (_normal(rng, 3), _normal(rng), _normal(rng, 10, 3), (rng.random(10) < 0.5).astype(float)),
          wrt=("w", "b")),
    _case(softmax_cross_entropy, lambda rng: (_normal(rng, 3, 4), _normal(rng, 6, 3), rng.integers(0, 4, size=6))),
    _case(mlp_tuple, _mlp_tuple_args, wrt=(0, 1)),
    _case(mlp_dict_loss, _mlp_dict_args, wrt="params"),
    _case(rnn_final_state,
          lambda rng: (_normal(rng, 4, 3, scale=0.5), _normal(rng, 4, 4, scale=0.5), _normal(rng, 5, 3), np.zeros(4)),
          wrt=(0, 1, 2)),
    _case(attention, lambda rng: (_normal(rng, 3, 4), _normal(rng, 5, 4), _normal(rng, 5, 2)), wrt=(0, 1, 2)),
    _case(horner, lambda rng: (_normal(rng, 5), _normal(rng, 3)), wrt=(0, 1)),
    _case(euler_oscillator,
          lambda rng: (_uniform(rng, 1.0, 4.0), _uniform(rng, 0.1, 0.5),
                       _uniform(rng, -1.0, 1.0), _uniform(rng, -1.0, 1.0)),
          wrt=(0, 1, 2, 3)),
    _case(rk4_pendulum, lambda rng: (np.array([_uniform(rng, -1.0, 1.0), _uniform(rng, -1.0, 1.0)]),
                                     _uniform(rng, 0.5, 2.0)), wrt=("state", "length")),
    _case(lotka_volterra,
          lambda rng: ((_uniform(rng, 0.8, 1.2), _uniform(rng, 0.3, 0.5),
                        _uniform(rng, 0.2, 0.4), _uniform(rng, 0.8, 1.2)),
                       (_uniform(rng, 1.0, 2.0), _uniform(rng, 0.5, 1.5))),
          wrt=("params", "state0")),
    _case(newton_kepler, lambda rng: (_uniform(rng, 0.3, 2.5), _uniform(rng, 0.1, 0.6)), wrt=(0, 1)),
    _case(newton_cube_root, lambda rng: (_uniform(rng, 0.2, 20.0),)),
    _case(fixed_point_cos, lambda rng: (_uniform(rng, 0.5, 1.2),)),
    _case(gaussian_loglik, lambda rng: (_normal(rng, 3), _normal(rng, 3, scale=0.3), _normal(rng, 6, 3)), wrt=(0, 1)),
    _case(gaussian_kl,
          lambda rng: (_normal(rng, 4), _normal(rng, 4, scale=0.3), _normal(rng, 4), _normal(rng, 4, scale=0.3)),
          wrt=(0, 1, 2, 3)),
    _case(huber_loss, lambda rng: (_kink_free(rng, 8), np.zeros(8)), wrt=("pred", "target")),
    _case(huber_scalar_loop, lambda rng: (_kink_free(rng, 8), 1.0), wrt=(0, 1)),
    _case(layer_norm, lambda rng: (_normal(rng, 3, 5), _normal(rng, 5), _normal(rng, 5)), wrt=(0, 1, 2)),
    _case(gmm_loglik, lambda rng: (_normal(rng, 6), _normal(rng, 3), _normal(rng, 3, scale=0.3), _normal(rng, 3)),
          wrt=("means", "log_stds", "logits")),
    _case(entropy_of_softmax, lambda rng: (_normal(rng, 5), _uniform(rng, 0.5, 2.0)), wrt=(0, 1)),
    _case(rosenbrock, lambda rng: (_normal(rng, 5),)),
    _case(beale, lambda rng: (_uniform(rng, -2.0, 2.0), _uniform(rng, -1.0, 1.0)), wrt=(0, 1)),
    _case(pairwise_distances, lambda rng: (_normal(rng, 4, 3),)),
    _case(kernel_ridge_predict,
          lambda rng: (_normal(rng, 6, 2), _normal(rng, 6), _normal(rng, 3, 2), _uniform(rng, 0.5, 2.0)),
          wrt=("X", "y", "lengthscale")),
    _case(net_present_value, lambda rng: (_uniform(rng, 0.01, 0.1), _normal(rng, 6)), wrt=(0, 1)),
    _case(logistic_map, lambda rng: (_uniform(rng, 2.5, 3.2), np.array(_uniform(rng, 0.2, 0.8))), wrt=(0, 1)),
    _case(conv1d_valid, lambda rng: (_normal(rng, 8), _normal(rng, 3)), wrt=(0, 1)),
    _case(bezier_point, lambda rng: (_normal(rng, 4, 2), _uniform(rng, 0.1, 0.9)), wrt=(0, 1)),
    _case(spring_chain_energy, lambda rng: (np.cumsum(_uniform(rng, 0.5, 1.5, 5, 2), axis=0), _uniform(rng, 1.0, 3.0),
                                            _uniform(rng, 0.5, 1.0)), wrt=(0, 1, 2)),
    _case(gradient_descent_quadratic, lambda rng: (_spd(rng, 3), _normal(rng, 3), _uniform(rng, 0.05, 0.2)),
          wrt=(0, 1, 2)),
    _case(sgd_logistic_steps, lambda rng: (_normal(rng, 3), _normal(rng, 5, 3), (rng.random(5) < 0.5).astype(float)),
          wrt=(0, 1)),
    _case(smooth_max, lambda rng: (_normal(rng, 5), _uniform(rng, 1.0, 5.0)), wrt=(0, 1)),
    _case(cross_entropy_clipped, lambda rng: (_uniform(rng, 0.05, 0.95, 6), (rng.random(6) < 0.5).astype(float))),
    _case(batch_standardize, lambda rng: (_normal(rng, 6, 3),)),
    _case(triangle_area, lambda rng: (_normal(rng, 2, scale=0.3), _normal(rng, 2, scale=0.3) + np.array([2.0, 0.0]),
                                      _normal(rng, 2, scale=0.3) + np.array([0.0, 2.0])), wrt=(0, 1, 2)),
]
