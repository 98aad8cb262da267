"""sd.native: straight-line float code (a primal, or a derivative sourcediff generated) as native code.

The result is a builtin function that runs the lowered code when its arguments are exact floats (and,
for a forward gradient, rng= is a numpy Generator), and the Python function otherwise, so it always
behaves as the Python function does, to within floating-point rounding.
"""
import inspect

from ..errors import NativeError


class NativeCode:
    """What a native function was made from; the builtin's __self__.

    python: the function it runs when the native code does not apply; ir: the optimised LLVM IR."""

    def __init__(self, python):
        self.python = python
        self.ir = None
        self.method_def = None
        self.references = []  # objects the code refers to by address

    @property
    def source(self):
        """The Python source the native code was lowered from."""
        return getattr(self.python, "source", None) or inspect.getsource(self.python)

    def __repr__(self):
        return f"<native code of {self.python.__qualname__}>"


def native(f):
    """f lowered to native code through LLVM: a builtin function computing what f computes.

    f is a Python function on floats made of assignments of arithmetic (+ - * / **), math functions
    (or their NumPy ufunc twins) and a return of a float or a tuple of floats, or a derivative that
    sourcediff generated from such a function: sd.jvp, or sd.forward_gradient with one normal
    direction, whose N(0, 1) draws are NumPy's own (the same numbers for the same Generator state).
    Anything else raises NativeError naming the construct and its line.
    """
    from .jit import builtin, machine
    from .lower import lower
    if hasattr(f, "sd_primal"):  # an @sd.tangent / @sd.adjoint function: its primal
        f = f.sd_primal
    if not inspect.isfunction(f) or inspect.unwrap(f) is not f:
        raise NativeError(f"sd.native lowers a function defined with def; {f!r} is not one",
                          hint="pass the function itself (for a forward gradient with a tuple wrt of one "
                               "parameter, use wrt=the parameter instead of a tuple)")
    jit = machine()
    code = NativeCode(f)
    ir_text, name, forward_gradient = lower(f, jit, code.references)
    if forward_gradient and not jit.has_standard_normal:
        raise NativeError("this NumPy does not export random_standard_normal, which native forward gradients "
                          "draw with; use the Python function")
    address, code.ir = jit.compile(ir_text, name)
    doc = f"{f.__name__}(...) in native code; .__self__.ir is its LLVM IR, .__self__.python the Python function."
    return builtin(address, f.__name__, doc, code)
