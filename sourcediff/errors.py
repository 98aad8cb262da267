"""Errors sourcediff raises: each names file, line and column, quotes the line and says what to do."""


class SourceDiffError(Exception):
    """Base class of every error sourcediff raises about user code."""

    def __init__(self, message, *, filename=None, lineno=None, col=None, line=None, hint=None):
        self.message = message
        self.filename = filename
        self.lineno = lineno
        self.col = col
        self.line = line
        self.hint = hint
        super().__init__(self._format())

    def _format(self):
        text = self.message
        if self.filename is not None and self.lineno is not None:
            text = f"{self.filename}:{self.lineno}:{(self.col or 0) + 1}: {text}"
        if self.line is not None:
            text += f"\n    {self.line.rstrip()}\n    {' ' * (self.col or 0)}^"
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text


class UnsupportedSyntaxError(SourceDiffError):
    """A construct outside the subset sourcediff can differentiate."""


class NonDifferentiableError(SourceDiffError):
    """A derivative that cannot be computed: an integer argument, or a call with no rule and no source."""


class ArgumentError(SourceDiffError, ValueError):
    """A tangent or cotangent unlike the argument or value it is for (another structure, shape or dtype)."""


class UnknownNameError(SourceDiffError):
    """A name that is neither local, global, a closure variable nor a builtin."""


class NativeError(SourceDiffError):
    """Code the native backend cannot lower (sd.native), or a platform that lacks a piece it needs."""
