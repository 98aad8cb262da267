"""Derivative rules: importing this package fills the registry."""
import importlib.util

from . import builtins, elementwise, linalg, mutation, numpy, reverse_helpers, runtime  # noqa: F401  (registration on import)
if importlib.util.find_spec("scipy") is not None:  # SciPy is optional: its rules register when it is installed
    from . import scipy  # noqa: F401
from .registry import RULES, derive_adjoints, rule_for, is_inactive, is_user_function, spelling  # noqa: F401

derive_adjoints()  # after every module registered its own
