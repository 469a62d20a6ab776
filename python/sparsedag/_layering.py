"""Layering: assign every node a layer so that every edge points to a higher layer."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _core
from ._args import count
from ._dag import as_dag
from ._progress import progress_delay

__all__ = ["LAYERING_METHODS", "layering", "layering_metrics", "promote_layering"]

#: Names accepted by :func:`layering`.
LAYERING_METHODS: tuple[str, ...] = tuple(_core.layering_methods())


def layering(
    graph: Any,
    method: str = "longest_path",
    width: Optional[int] = None,
    *,
    promote: bool = False,
    progress: Optional[bool] = None,
) -> np.ndarray:
    """The layer of every node (int64 array; layer 0 at the top, every edge points to a
    higher layer).

    Methods:

    - ``longest_path`` (alias ``asap``): minimum height, sources in layer 0. O(n + m).
    - ``alap``: minimum height, every node as late as possible. O(n + m).
    - ``4ward``: ALAP, then every source moved to layer 0, as the 4Ward library does.
    - ``coffman_graham``: at most ``width`` real nodes per layer (default ceil(sqrt(n))); the
      height is within (2 - 2/W) of the best width-W height.
    - ``min_width``: the MinWidth heuristic of Tarassov, Nikolov and Branke; ``width`` is its
      UBW bound (default: try 1..4 and keep the narrowest counting dummies).

    ``promote=True`` runs node promotion (Nikolov and Tarassov) on the result, which never
    adds dummy nodes. ``graph`` is a :class:`Dag`, a networkx DiGraph or a scipy.sparse
    adjacency matrix. Long runs release the GIL and stop on Ctrl-C.

    ``progress`` draws the stage and how far it is on ``sys.stderr`` (network simplex:
    ``feasible tree``, then the count of ``pivots``): ``True`` always, ``False`` never,
    ``None`` (default) on a terminal once the call has run for a second.
    """
    bound = None if width is None else count(width, "width")
    delay = progress_delay(progress)
    return _core.layering(as_dag(graph)._core, method, bound, promote, delay)


def promote_layering(graph: Any, layers: Any) -> np.ndarray:
    """Node promotion: moves nodes toward the sources while that lowers the dummy count.
    Returns a layering with no more dummies than ``layers`` (shifted to start at 0)."""
    return _core.promote_layering(as_dag(graph)._core, _layer_array(layers))


def layering_metrics(graph: Any, layers: Any) -> dict[str, int]:
    """``height``, ``width`` (real nodes), ``width_with_dummies``, ``dummies`` (sum of span - 1)
    and ``total_span`` of a layering; raises ``ValueError`` if it is not one."""
    return _core.layering_metrics(as_dag(graph)._core, _layer_array(layers))


def _layer_array(layers: Any) -> np.ndarray:
    layers = np.asarray(layers)
    if layers.size == 0:
        # [] arrives as float64; an empty layering of an empty graph is still a layering.
        return np.zeros(layers.shape, dtype=np.int64)
    if layers.dtype.kind not in "iu":
        raise TypeError(f"layers must be integers, got dtype {layers.dtype}")
    return np.ascontiguousarray(layers)
