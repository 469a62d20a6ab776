"""Checks of scalar arguments shared by the entry points. The core takes unsigned integers, so
a negative, fractional or non-numeric count or seed must be refused here, by name: PyO3 alone
would truncate nothing but say only "can't convert negative int to unsigned", and ``int()``
would silently turn ``seed=1.5`` into 1."""

from __future__ import annotations

import math
import numbers
from typing import Any

__all__ = ["count", "integer", "real_dtype"]


def integer(value: Any, name: str) -> int:
    """``value`` as a Python int. Integral floats (``steps=1e6``) are accepted; bools,
    fractions, NaN, infinities and non-numbers are not."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, numbers.Integral):
        return int(value)
    as_float = float(value)
    if not math.isfinite(as_float) or not as_float.is_integer():
        raise TypeError(f"{name} must be an integer, got {value!r}")
    return int(as_float)


def count(value: Any, name: str, *, minimum: int = 0) -> int:
    """``value`` as a Python int >= ``minimum`` (see :func:`integer`)."""
    result = integer(value, name)
    if result < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {result}")
    return result


def real_dtype(dtype: Any) -> bool:
    """Whether an array of ``dtype`` holds real numbers (bool, integer or float): complex values
    would lose their imaginary part in the float64 conversion, silently."""
    return dtype.kind in "biuf"
