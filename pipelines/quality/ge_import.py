"""Great Expectations imported with SciPy's statistics deferred until an expectation uses them.

Importing GE imports `scipy.stats` (its KL-divergence expectation does `from scipy import stats`
at module level): some 0.7 s of GE's 2.3 s import, paid by every process that checks the catalog
or validates, for the three distribution expectations that call it, and only when they run.
`import_great_expectations()` puts a lazy `scipy.stats` in place first (the standard library's
`importlib.util.LazyLoader`): the name exists, and the module runs on its first attribute access.
It is also set as the `stats` attribute of the `scipy` package, because `from scipy import stats`
would otherwise ask SciPy's `__getattr__`, whose import machinery touches the lazy module and
loads it at once.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

_LAZY = "scipy.stats"


def _defer(name: str) -> None:
    """Register `name` as a module that executes on first attribute access (if not imported)."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    setattr(sys.modules[parent], child, module)


def import_great_expectations() -> ModuleType:
    """The `great_expectations` package, imported once per process, `scipy.stats` deferred."""
    if "great_expectations" not in sys.modules:
        try:
            _defer(_LAZY)
        except ImportError:  # no SciPy: GE's own import says so
            pass
    import great_expectations

    return great_expectations
