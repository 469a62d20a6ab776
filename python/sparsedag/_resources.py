"""What this machine can hold: checks that refuse a model larger than its memory up front,
instead of an aborted allocation or the system running out of memory mid-build."""

from __future__ import annotations

import os
from typing import Optional


def physical_memory() -> Optional[int]:
    """Bytes of RAM of this machine, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows)
        return None


def check_fits(need: float, what: str, advice: str) -> None:
    """``MemoryError`` when ``need`` bytes exceed the machine's RAM."""
    total = physical_memory()
    if total is not None and need > total:
        raise MemoryError(
            f"{what} needs about {need / 2**30:.1f} GiB, more than the {total / 2**30:.1f} GiB "
            f"of memory of this machine: {advice}"
        )
