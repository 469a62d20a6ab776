"""Layering: assign every node a layer so that every edge points to a higher layer."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _core
from ._dag import as_dag

__all__ = ["LAYERING_METHODS", "layering", "layering_metrics"]

#: Names accepted by :func:`layering`.
LAYERING_METHODS: tuple[str, ...] = tuple(_core.layering_methods())


def layering(graph: Any, method: str = "longest_path", width: Optional[int] = None) -> np.ndarray:
    """The layer of every node (int64 array; layer 0 at the top, edges point down).

    Methods: ``longest_path`` (ASAP, minimum height), ``alap``, ``4ward`` (ALAP with sources
    in layer 0, as 4Ward does). ``graph`` is a :class:`Dag`, a networkx DiGraph or a
    scipy.sparse adjacency matrix. Long runs release the GIL and stop on Ctrl-C.
    """
    return _core.layering(as_dag(graph)._core, method, width)


def layering_metrics(graph: Any, layers: Any) -> dict[str, int]:
    """``height``, ``width`` (real nodes), ``width_with_dummies``, ``dummies`` (sum of span - 1)
    and ``total_span`` of a layering; raises ``ValueError`` if it is not one."""
    layers = np.asarray(layers)
    if layers.dtype.kind not in "iu":
        raise TypeError(f"layers must be integers, got dtype {layers.dtype}")
    return _core.layering_metrics(as_dag(graph)._core, np.ascontiguousarray(layers))
