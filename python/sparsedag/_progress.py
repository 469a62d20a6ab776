"""When long Rust calls draw a progress line on ``sys.stderr``."""

from __future__ import annotations

import sys
from typing import Optional

import numpy as np

# Calls quicker than this never draw a line when nobody asked for one.
AUTO_DELAY_SECONDS = 1.0


def progress_delay(progress: Optional[bool]) -> Optional[float]:
    """``True``: draw from the start and always end with a final line. ``False``: never.
    ``None`` (the default of the calls that take it): only on a terminal, and only once the
    call has run for a second, so that scripts, logs and quick calls stay quiet."""
    if progress is None:
        isatty = getattr(sys.stderr, "isatty", None)
        return AUTO_DELAY_SECONDS if isatty is not None and isatty() else None
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True, False or None, got {progress!r}")
    return 0.0 if progress else None
