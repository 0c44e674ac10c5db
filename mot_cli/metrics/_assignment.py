"""`linear_sum_assignment` without the half-second import of `scipy.optimize`.

TrackEval matches with scipy's solver, and its tie-breaking decides which pair is matched
when two assignments score the same, so reproducing TrackEval to the last digit needs that very
solver. `import scipy.optimize` however loads most of scipy (about 0.5 s here), more than the
whole evaluation. The solver itself lives in one small compiled module, `scipy.optimize._lsap`,
that depends on numpy only; this module loads it directly and falls back to the ordinary import
whenever that is not possible (another scipy layout, scipy already imported, ...).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np

_MODULE = "scipy.optimize._lsap"


@cache
def _solver() -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    if "scipy.optimize" in sys.modules or _MODULE in sys.modules:
        from scipy.optimize import linear_sum_assignment

        return linear_sum_assignment
    try:
        spec = importlib.util.find_spec("scipy")
        folder = Path(spec.submodule_search_locations[0]) / "optimize"  # type: ignore[union-attr,index]
        suffixes = importlib.machinery.EXTENSION_SUFFIXES
        file = next(f for s in suffixes if (f := folder / f"_lsap{s}").is_file())
        loader = importlib.machinery.ExtensionFileLoader(_MODULE, str(file))
        module_spec = importlib.util.spec_from_file_location(_MODULE, file, loader=loader)
        module = importlib.util.module_from_spec(module_spec)  # type: ignore[arg-type]
        loader.exec_module(module)
        sys.modules[_MODULE] = module  # a later `import scipy.optimize` reuses it
        return module.linear_sum_assignment
    except Exception:  # any surprise: take the slow, ordinary road
        from scipy.optimize import linear_sum_assignment

        return linear_sum_assignment


def linear_sum_assignment(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-cost assignment of rows to columns; scipy's own solver (see module docstring)."""
    return _solver()(cost)
