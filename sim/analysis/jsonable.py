"""Plain JSON values from NumPy and pandas ones (``summary.json``, ``--json``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd


def plain(value: Any) -> Any:
    """Turn a NumPy or pandas scalar into plain Python, NaN and NA into None.

    Args:
        value: a scalar of any kind.

    Returns:
        The value as a Python scalar; None for None, NA, NaT and NaN.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def to_jsonable(obj: Any) -> Any:
    """Recursively convert a structure to plain JSON types (NaN becomes None).

    Args:
        obj: dicts, lists, tuples, numpy / pandas scalars and arrays.

    Returns:
        The same structure built from dict, list, str, int, float, bool, None.
    """
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | np.ndarray | pd.Series):
        return [to_jsonable(v) for v in obj]
    return plain(obj)
