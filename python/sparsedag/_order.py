"""Topological orders."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _core
from ._args import real_dtype
from ._dag import as_dag
from ._memory import MEMORY_ORDER_METHODS, memory_order

__all__ = ["ORDER_METHODS", "is_topological_order", "topological_generations", "topological_order"]

#: Names accepted by :func:`topological_order`.
ORDER_METHODS: tuple[str, ...] = tuple(_core.order_methods())


def topological_order(
    graph: Any,
    method: str = "kahn",
    key: Any = None,
    *,
    sizes: Any = None,
    model: str = "coexist",
    effort: float = 1.0,
    seed: int = 0,
    max_states: Optional[int] = None,
    progress: Optional[bool] = None,
) -> np.ndarray:
    """A topological order of the nodes (int64 array).

    ``kahn``: FIFO Kahn, sources and successors in id order (deterministic).
    ``dfs``: reverse post-order of a depth-first search from the sources in id order.
    ``lexicographic``: always the ready node with the smallest ``key`` (one float per node;
    ties and ``key=None`` by id).

    Memory-aware methods (``MEMORY_ORDER_METHODS``) read ``sizes`` (one value size per node),
    ``model``, ``effort``, ``seed`` and ``max_states``: ``min_memory`` (greedy portfolio, beam
    search, simulated annealing and window re-optimisation around the peak; never worse than
    any greedy rule; ``effort`` scales the search, see :func:`sparsedag.memory_order`),
    ``exact`` (dynamic programming, small graphs) and the greedy rules ``least_peak``,
    ``largest_release``, ``memory_dfs``, ``earliest_inputs``. See :func:`sparsedag.memory_order`.
    ``progress`` applies to the memory-aware methods (see there).
    """
    if method in MEMORY_ORDER_METHODS:
        if key is not None:
            raise ValueError(f"a key only applies to the lexicographic order, not to {method!r}")
        return memory_order(
            graph, method, sizes, model, effort, seed, max_states, progress=progress
        )
    if sizes is not None:
        raise ValueError(
            f"sizes only apply to the memory-aware methods {MEMORY_ORDER_METHODS}, "
            f"not to {method!r}"
        )
    key_array: Optional[np.ndarray] = None
    if key is not None:
        key_array = np.asarray(key)
        if not real_dtype(key_array.dtype):
            raise TypeError(f"key must hold real numbers, got dtype {key_array.dtype}")
        key_array = key_array.astype(np.float64, copy=False)
    return _core.topological_order(as_dag(graph)._core, method, key_array)


def topological_generations(graph: Any) -> list[np.ndarray]:
    """The nodes grouped by generation (longest incoming path length), each sorted by id:
    the same groups as ``networkx.topological_generations``."""
    offsets, nodes = _core.topological_generations(as_dag(graph)._core)
    return [nodes[offsets[g] : offsets[g + 1]] for g in range(len(offsets) - 1)]


def is_topological_order(graph: Any, order: Any) -> bool:
    """Whether ``order`` lists every node once with each edge's source first."""
    try:
        _core.check_order(as_dag(graph)._core, np.ascontiguousarray(order))
    except ValueError:
        return False
    return True
