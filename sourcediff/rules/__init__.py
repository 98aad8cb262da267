"""Derivative rules: importing this package fills the registry."""
from . import builtins, elementwise, mutation, numpy  # noqa: F401  (registration on import)
from .registry import RULES, rule_for, is_inactive, spelling  # noqa: F401
