"""sourcediff: source-transformation automatic differentiation for Python and NumPy."""
from .api import check_grads, jvp, register_tangent, tangent
from .errors import NonDifferentiableError, SourceDiffError, UnknownNameError, UnsupportedSyntaxError

__version__ = "0.1.0"
__all__ = ["jvp", "tangent", "check_grads", "register_tangent", "SourceDiffError", "UnsupportedSyntaxError",
           "NonDifferentiableError", "UnknownNameError", "__version__"]
