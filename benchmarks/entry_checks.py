"""What checking tangents costs the straight-line tangent (benchmarks/straightline.py, 6 floats).

    python benchmarks/entry_checks.py [ROUNDS]

sd.jvp's function checks each differentiated argument and its tangent in two type tests
(`type(x) is not float or type(dx) is not float`); before tangents were checked it took one
(`type(x) is not float`). Both forms are compiled from the same generated source, and timed in
ROUNDS (default 201) paired rounds of 2,000 calls; printed: the best time of each and the median of
the paired ratios.
"""
import ast
import os
import statistics
import sys
import timeit

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))

import sourcediff as sd  # noqa: E402
import straightline  # noqa: E402


def variant(generated, one_test):
    """The generated function compiled again; with one_test, its checks test the argument alone."""
    tree = ast.parse(generated.source)
    for fdef in tree.body:
        for stmt in fdef.body:
            if one_test and isinstance(stmt, ast.If) and isinstance(stmt.test, ast.BoolOp):
                stmt.test = stmt.test.values[0]
                stmt.body[0].value.args = stmt.body[0].value.args[:3]
    scope = dict(generated.__globals__)
    exec(compile(ast.unparse(tree), generated.__code__.co_filename, "exec"), scope)
    return scope[generated.__name__]


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 201
    generated = sd.jvp(straightline.straightline, wrt=tuple(range(6)))
    args = straightline.INPUTS + (1.0, 0.5, -0.3, 0.2, 0.1, 0.7)
    two, one = variant(generated, False), variant(generated, True)
    assert two(*args) == one(*args)
    timers = timeit.Timer(lambda: two(*args)), timeit.Timer(lambda: one(*args))
    times = [[], []]
    for _ in range(rounds):
        for timer, kept in zip(timers, times):
            kept.append(timer.timeit(2000) / 2000)
    ratio = statistics.median(a / b for a, b in zip(*times))
    print(f"two tests per argument {min(times[0]) * 1e6:.2f} µs, one test {min(times[1]) * 1e6:.2f} µs (best of "
          f"{rounds} rounds); median paired ratio {ratio:.4f}")


if __name__ == "__main__":
    main()
