"""sourcediff: source-transformation automatic differentiation for Python and NumPy."""
from .api import (adjoint, check_grads, forward_gradient, grad, jvp, register_adjoint, register_tangent, tangent,
                  value_and_grad, vjp)
from .errors import (ArgumentError, NativeError, NonDifferentiableError, SourceDiffError, UnknownNameError,
                     UnsupportedSyntaxError)
from .higher_order import hessian, hvp, jacfwd, jacobian, jacrev
from .native import native

__version__ = "0.1.0"
__all__ = ["jvp", "tangent", "grad", "value_and_grad", "vjp", "adjoint", "forward_gradient", "hvp", "hessian", "jacfwd", "jacrev",
           "jacobian", "native", "check_grads", "register_tangent",
           "register_adjoint", "SourceDiffError", "UnsupportedSyntaxError", "NonDifferentiableError", "NativeError",
           "UnknownNameError", "ArgumentError", "__version__"]
