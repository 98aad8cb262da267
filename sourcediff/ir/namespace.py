"""Names: the global namespace of a generated module, and fresh local names derived from the primal."""
import builtins
import inspect
import copy
import keyword
import math
import re

import gast
import numpy as np

from .. import runtime
from .build import walk

# every function of the runtime module, under its own name
RUNTIME_HELPERS = {name: obj for name, obj in vars(runtime).items()
                   if inspect.isfunction(obj) and obj.__module__ == runtime.__name__}


class Namespace:
    """The globals of one generated module: NumPy, math, the runtime helpers and the user's objects."""

    def __init__(self):
        self.objects = {"np": np, "math": math, "copy": copy, **RUNTIME_HELPERS}
        # (user function, its function-valued parameters) -> its functools.partial specialisation to them
        self.specialisations = {}
        # names the differentiated functions assign: a global bound under one would be hidden there
        self.local_names = set()

    def bind(self, preferred, obj):
        """Bind obj under preferred (or preferred_2, ...), a name no differentiated function assigns, and
        return the name used."""
        candidate, n = preferred, 1
        while self.objects.get(candidate, obj) is not obj or (candidate in self.local_names
                                                               and candidate not in self.objects):
            n += 1
            candidate = f"{preferred}_{n}"
        self.objects[candidate] = obj
        return candidate

    def avoid_locals_of(self, fdef):
        """Keep the names fdef assigns (`def g(x): g = ...` would hide the global g) free of globals."""
        self.local_names.update(n.id for n in walk(fdef) if isinstance(n, gast.Name)
                                and isinstance(n.ctx, (gast.Store, gast.Param)))

    def reserve(self, preferred):
        """A fresh global name for a function the generated module itself defines."""
        return self.bind(preferred, object())


# Never generated as a local: they would shadow builtins or the module's own globals.
RESERVED = set(dir(builtins)) | set(keyword.kwlist) | {"np", "math", "copy", *RUNTIME_HELPERS}


class NameGenerator:
    """Fresh identifiers that read like the primal: `x_times_y`, `dx`, `x_times_y_2`."""

    MAX_LENGTH = 24

    def __init__(self, taken=(), temporaries=()):
        self.taken = set(taken) | RESERVED
        self.temporaries = set(temporaries)  # generated names that no user wrote: free to fold away
        self.last_suffix = {}  # hint -> the suffix fresh gave it last (it and all below are taken)

    def reserve(self, identifier):
        self.taken.add(identifier)

    def fresh(self, hint, limit=MAX_LENGTH, temporary=True):
        hint = re.sub(r"\W", "_", hint or "t").strip("_") or "t"
        if hint[0].isdigit():
            hint = "t" + hint
        if limit is not None and len(hint) > limit:
            hint = hint[:limit].rstrip("_")
        n = self.last_suffix.get(hint, 1)  # names are never given back: start where the last search ended
        candidate = hint if n == 1 else f"{hint}_{n}"
        while candidate in self.taken:
            n += 1
            candidate = f"{hint}_{n}"
        self.last_suffix[hint] = n
        self.taken.add(candidate)
        if temporary:
            self.temporaries.add(candidate)
        return candidate
