"""Generate benchmarks/straightline.py: a 200-line straight-line scalar function and a hand-written tangent.

Run `python benchmarks/gen_straightline.py` to regenerate; the output is deterministic (fixed seed),
and the generated file is committed so its source can be read.

Each of the 200 body lines of `straightline` is one operation on Python floats, drawn from a mix of
+ - * /, math.sin, math.cos, math.exp, math.log, math.sqrt, math.tanh and ** 2 (some binary
operations take a constant operand, as real code does). Operands are mostly recent values, so the
dependency chain is deep; older unused values are consumed now and then so that almost every line
feeds the result. Domains are kept safe by evaluating the function at the benchmark inputs while
generating, together with its gradient (the last 30 lines combine values nothing has used yet, so
that every line feeds the result): a candidate line is redrawn when it would take the log or sqrt of
a value below 0.25, divide by a value below 0.5 in magnitude, exponentiate a value above 2.5,
produce a value outside [0.01, 20] in magnitude, or a partial derivative above 20 in magnitude, so
the function is well conditioned around the benchmark inputs and finite differences can check it.

`straightline_tangent` is the same function written out the way a careful person writes forward-mode
(dual-number) code by hand: each primal line followed by its tangent line, reusing the primal value
where the derivative allows (exp, sqrt, tanh, division) and with no temporaries beyond that.
"""
import math
import os
import random

N_INPUTS = 6
N_LINES = 200
INPUTS = (0.7, 1.3, -0.4, 2.1, 0.9, -1.6)  # the benchmark's evaluation point
SEED = 20240601

BINARY = ["+", "-", "*", "/"]
UNARY = ["sin", "cos", "exp", "log", "sqrt", "tanh"]


def _consts(rng):
    return round(rng.uniform(0.2, 2.0), 2)


MAX_PARTIAL = 20.0  # largest |d value / d input| allowed, so the function stays well conditioned


def generate(seed=SEED, n_lines=N_LINES):
    rng = random.Random(seed)
    names = [f"x{i}" for i in range(N_INPUTS)]
    values = dict(zip(names, INPUTS))
    grads = {n: [float(i == j) for j in range(N_INPUTS)] for i, n in enumerate(names)}
    uses = {n: 0 for n in names}
    lines = []  # (target, kind, op, a, b); b is a name, a float constant, or None

    def pick(recent=8):
        pool = names[-recent:]
        stale = [n for n in names[:-recent] if uses[n] == 0]
        if stale and rng.random() < 0.35:
            return stale[0]
        return rng.choice(pool)

    attempts = 0
    while len(lines) < n_lines:
        attempts += 1
        if attempts > 50 * n_lines:
            raise RuntimeError(f"stuck at line {len(lines)}: try another SEED")
        target = f"v{len(lines)}"
        # Towards the end, gather the values nothing has used yet, so that they feed the result.
        closing = len(lines) >= n_lines - 30
        unused_now = [n for n in names[N_INPUTS:] if uses[n] == 0]
        r = rng.random()
        if closing and len(unused_now) >= 2:
            r = 0.0
        a = unused_now[0] if closing and unused_now else pick()
        xa, ga = values[a], grads[a]
        if r < 0.42:  # binary op on two values
            op = rng.choice(BINARY)
            b = unused_now[1] if closing and len(unused_now) >= 2 else pick()
            if b == a:
                continue
            xb, gb = values[b], grads[b]
            if op == "/" and abs(xb) < 0.5:
                continue
            result = {"+": xa + xb, "-": xa - xb, "*": xa * xb, "/": xa / xb if xb else math.inf}[op]
            grad = [{"+": p + q, "-": p - q, "*": p * xb + xa * q, "/": (p - result * q) / xb}[op]
                    for p, q in zip(ga, gb)]
            entry = (target, "bin", op, a, b)
        elif r < 0.54:  # binary op with a constant
            op = rng.choice(["+", "-", "*", "/"])
            c = _consts(rng)
            result = {"+": xa + c, "-": xa - c, "*": xa * c, "/": xa / c}[op]
            factor = {"+": 1.0, "-": 1.0, "*": c, "/": 1.0 / c}[op]
            grad = [factor * p for p in ga]
            entry = (target, "const", op, a, c)
        elif r < 0.60:  # square
            result = xa ** 2
            grad = [2.0 * xa * p for p in ga]
            entry = (target, "square", "**", a, None)
        else:
            op = rng.choice(UNARY)
            if op in ("log", "sqrt") and xa < 0.25:
                continue
            if op == "exp" and xa > 2.5:
                continue
            result = getattr(math, op)(xa)
            factor = {"sin": math.cos(xa), "cos": -math.sin(xa), "exp": result, "log": 1.0 / xa,
                      "sqrt": 0.5 / result if result else math.inf, "tanh": 1.0 - result * result}[op]
            grad = [factor * p for p in ga]
            entry = (target, "unary", op, a, None)
        if not (1e-2 < abs(result) < 20.0) or max(abs(g) for g in grad) > MAX_PARTIAL:
            continue
        lines.append(entry)
        names.append(target)
        values[target] = result
        grads[target] = grad
        uses[target] = 0
        uses[a] += 1
        if entry[1] == "bin":
            uses[entry[4]] += 1
    return lines, dead_lines(lines), values[lines[-1][0]], grads[lines[-1][0]]


def dead_lines(lines):
    """Targets of the lines the returned value does not depend on."""
    operands = {t: [a] + ([b] if kind == "bin" else []) for t, kind, _, a, b in lines}
    live, stack = set(), [lines[-1][0]]
    while stack:
        n = stack.pop()
        if n not in live:
            live.add(n)
            stack += operands.get(n, [])
    return [t for t in operands if t not in live]


def primal_line(target, kind, op, a, b):
    if kind == "bin":
        return f"{target} = {a} {op} {b}"
    if kind == "const":
        return f"{target} = {a} {op} {b!r}"
    if kind == "square":
        return f"{target} = {a} ** 2"
    return f"{target} = math.{op}({a})"


def tangent_line(target, kind, op, a, b):
    """The tangent of one line, written by hand: reuse the primal value where the derivative allows."""
    t, da = "d" + target, "d" + a
    if kind == "bin":
        db = "d" + b
        return {
            "+": f"{t} = {da} + {db}",
            "-": f"{t} = {da} - {db}",
            "*": f"{t} = {da} * {b} + {a} * {db}",
            "/": f"{t} = ({da} - {target} * {db}) / {b}",
        }[op]
    if kind == "const":
        return {
            "+": f"{t} = {da}",
            "-": f"{t} = {da}",
            "*": f"{t} = {da} * {b!r}",
            "/": f"{t} = {da} / {b!r}",
        }[op]
    if kind == "square":
        return f"{t} = 2.0 * {a} * {da}"
    return {
        "sin": f"{t} = math.cos({a}) * {da}",
        "cos": f"{t} = -math.sin({a}) * {da}",
        "exp": f"{t} = {target} * {da}",
        "log": f"{t} = {da} / {a}",
        "sqrt": f"{t} = {da} / (2.0 * {target})",
        "tanh": f"{t} = (1.0 - {target} * {target}) * {da}",
    }[op]


def render(lines, unused, value, grad):
    args = ", ".join(f"x{i}" for i in range(N_INPUTS))
    dargs = ", ".join(f"dx{i}" for i in range(N_INPUTS))
    last = lines[-1][0]
    counts = {}
    for _, kind, op, _, _ in lines:
        key = {"bin": op, "const": op + " const", "square": "** 2"}.get(kind, f"math.{op}")
        counts[key] = counts.get(key, 0) + 1
    mix = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    out = [
        '"""GENERATED by benchmarks/gen_straightline.py -- do not edit; rerun the generator instead.',
        "",
        f"straightline: {N_LINES} one-operation lines on Python floats, {N_INPUTS} inputs.",
        f"Operation mix: {mix}.",
        f"Lines the result does not depend on: {len(unused)}.",
        f"At INPUTS the result is {value:.6g} and its gradient is ({', '.join(f'{g:.4g}' for g in grad)}).",
        "straightline_tangent: the same function with a hand-written forward-mode tangent.",
        '"""',
        "import math",
        "",
        f"INPUTS = {INPUTS!r}",
        "",
        "",
        f"def straightline({args}):",
    ]
    out += [f"    {primal_line(*entry)}" for entry in lines]
    out += [f"    return {last}", "", "", f"def straightline_tangent({args}, {dargs}):"]
    for entry in lines:
        out.append(f"    {primal_line(*entry)}")
        out.append(f"    {tangent_line(*entry)}")
    out += [f"    return {last}, d{last}", ""]
    return "\n".join(out)


KINDS = ("floats", "arrays", "loop")


def sized_source(n_lines, kind="floats"):
    """Source of a module defining `straightline(x0, ..., x5)` with n_lines drawn as above, for
    benchmarks/generation.py: "floats" is the function of this file at another length; "arrays" the
    same lines on NumPy arrays (np.sin for math.sin; the result summed); "loop" the floats' body run
    three times by a for loop that adds each result to a total."""
    lines = generate(n_lines=n_lines)[0]
    args = ", ".join(f"x{i}" for i in range(N_INPUTS))
    body = [primal_line(*entry) for entry in lines]
    last = lines[-1][0]
    out = [f'"""GENERATED by benchmarks/gen_straightline.py: {n_lines} lines, {kind}."""', "import math", "",
           "import numpy as np", "", "", f"def straightline({args}):"]
    if kind == "floats":
        out += [f"    {line}" for line in body] + [f"    return {last}"]
    elif kind == "arrays":
        out += [f"    {line.replace('math.', 'np.')}" for line in body] + [f"    return np.sum({last})"]
    elif kind == "loop":
        out += ["    total = 0.0", "    for _ in range(3):"] + [f"        {line}" for line in body]
        out += [f"        total = total + {last}", "    return total"]
    else:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    return "\n".join(out) + "\n"


def main():
    lines, unused, value, grad = generate()
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "straightline.py")
    with open(path, "w") as f:
        f.write(render(lines, unused, value, grad))
    print(f"wrote {path}: {len(lines)} lines, {len(unused)} of them not feeding the result")


if __name__ == "__main__":
    main()
