"""Peak memory of topological orders, and orders that minimise it.

The model (DESIGN §4): node ``v`` produces one value of size ``sizes[v]``. The value is
allocated at the step that computes ``v`` and stays live until the step of its last consumer;
the values of sinks (the graph outputs) stay live to the end. The memory of a step is the total
size of the values live during it, and the peak of an order is the largest step memory.

``model="coexist"`` (default): during a step, the node's inputs and its new output are live
together. ``model="free_inputs_first"``: the inputs whose last use is this step are freed
before the output is allocated (in-place style accounting).
"""

from __future__ import annotations

import numbers
from typing import Any, Optional, Union

import numpy as np

from . import _core
from ._args import count, real_dtype
from ._dag import as_dag
from ._progress import progress_delay

__all__ = [
    "MEMORY_MODELS",
    "MEMORY_ORDER_METHODS",
    "memory_order",
    "peak_memory",
    "peak_memory_lower_bound",
]

#: Accountings of a step accepted by :func:`peak_memory` and the memory-aware orders.
MEMORY_MODELS: tuple[str, ...] = ("coexist", "free_inputs_first")

#: Memory-aware methods of :func:`sparsedag.topological_order`.
MEMORY_ORDER_METHODS: tuple[str, ...] = tuple(_core.memory_order_methods())


def _sizes(sizes: Any, num_nodes: int) -> np.ndarray:
    if sizes is None:
        return np.ones(num_nodes, dtype=np.float64)
    array = np.asarray(sizes)
    if not real_dtype(array.dtype):
        raise TypeError(f"sizes must be numeric (real), got dtype {array.dtype}")
    return np.ascontiguousarray(array, dtype=np.float64)


def peak_memory(
    graph: Any, order: Any, sizes: Any, model: str = "coexist", profile: bool = False
) -> Union[float, tuple[float, np.ndarray]]:
    """The peak memory of the topological ``order`` in O(n + m) (see the module docstring for
    the model). With ``profile=True`` returns ``(peak, memory_per_step)``.

    ``sizes`` holds one finite, non-negative number per node. An order that is not a
    topological order of the graph raises ``ValueError``. The peak of an empty graph is 0.
    """
    dag = as_dag(graph)
    order_array = np.ascontiguousarray(order)
    if order_array.size == 0:
        order_array = order_array.astype(np.int64)
    peak, steps = _core.peak_memory(
        dag._core, order_array, _sizes(sizes, dag.num_nodes), model, profile
    )
    if profile:
        assert steps is not None
        return peak, steps
    return peak


def peak_memory_lower_bound(
    graph: Any, sizes: Any = None, model: str = "coexist", *, progress: Optional[bool] = None
) -> float:
    """A lower bound on the peak memory of *every* topological order of ``graph``.

    When a node ``v`` runs, the scheduled nodes form a downward-closed set holding all of
    ``v``'s ancestors and none of its descendants; the least live memory over such sets is a
    minimum cut, and the bound is the largest such step memory over all ``v``. It measures how
    far an order can still be from the optimum. Up to one max-flow per node (nodes that cannot
    raise the bound are skipped) plus O(n^2) to rank them: meant for graphs of up to thousands
    of nodes. ``sizes=None`` gives every value size 1.

    ``progress`` draws the stage (``ancestor sets``, ``minimum cuts``) and how far it is on
    ``sys.stderr``: ``True`` always, ``False`` never, ``None`` (default) on a terminal once
    the call has run for a second.
    """
    delay = progress_delay(progress)
    dag = as_dag(graph)
    return _core.peak_memory_lower_bound(dag._core, _sizes(sizes, dag.num_nodes), model, delay)


def memory_order(
    graph: Any,
    method: str = "min_memory",
    sizes: Any = None,
    model: str = "coexist",
    effort: float = 1.0,
    seed: int = 0,
    max_states: Optional[int] = None,
    *,
    progress: Optional[bool] = None,
) -> np.ndarray:
    """A topological order chosen to keep the peak memory low (int64 array).

    ``min_memory``: the best of the greedy portfolio (``least_peak``, ``largest_release``,
    ``memory_dfs``, ``earliest_inputs``, Kahn, DFS), a beam search over scheduled sets (two
    histories that reach the same set are merged, keeping the lower peak), simulated annealing
    from the best order so far (slides that keep the order topological, seeded by ``seed``) and
    window re-optimisation (stretches of 40 steps around the peak re-ordered by a beam over
    their subsets, the prefix and suffix kept), each scored exactly: never worse than any
    greedy rule. On graphs of at most 128 nodes the exact search is tried first.

    ``effort`` (a finite number >= 0, default 1) scales every stage linearly; at ``effort=e``
    on ``n`` nodes: beam width ``ceil(8 e)`` (at most ``max(8, 2**24 / n)``, which keeps the
    beam's memory to a few hundred MB); ``e * max(150 n, min(300 n, 300000))``
    annealing moves; window beams of width ``ceil(128 e)``, stopping after ``ceil(5 e)``
    windows in a row fail to lower the peak; an exact search of at most ``100000 e`` scheduled
    sets. ``effort=0`` keeps only the greedy portfolio. Time grows about linearly with
    ``effort`` (about 0.3 s of CPU for 2,000 nodes at ``effort=1``); the result for a given
    ``(graph, sizes, model, effort, seed)`` is the same on every run and thread count.

    ``exact``: minimum peak by dynamic programming over scheduled sets, for graphs of at most
    128 nodes; raises ``ValueError`` once more than ``max_states`` (default 2,000,000) sets
    are explored.

    ``sizes=None`` gives every value size 1.

    ``progress`` draws the stage (``exact``, ``greedy``, ``beam``, ``anneal``, ``windows``)
    and how far it is on ``sys.stderr``: ``True`` always, ``False`` never, ``None`` (default)
    on a terminal once the call has run for a second.
    """
    if method not in MEMORY_ORDER_METHODS:
        raise ValueError(
            f"unknown memory order method {method!r}; choose one of "
            + ", ".join(MEMORY_ORDER_METHODS)
        )
    states = 2_000_000 if max_states is None else count(max_states, "max_states", minimum=1)
    seed = count(seed, "seed")
    if isinstance(effort, bool) or not isinstance(effort, numbers.Real):
        raise TypeError(f"effort must be a real number, got {effort!r}")
    delay = progress_delay(progress)
    dag = as_dag(graph)
    return _core.memory_order(
        dag._core, method, _sizes(sizes, dag.num_nodes), model, float(effort), seed, states, delay
    )
