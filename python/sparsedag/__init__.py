"""sparsedag: sparse DAG neural networks and the graph algorithms that make them fast.

Everything heavy runs in the Rust core (``sparsedag._core``); this package adds numpy,
scipy.sparse and networkx interop and friendly errors.
"""

from __future__ import annotations

import typing as _typing

from . import datasets, sparse
from ._coarsen import (
    COARSEN_REDUCTIONS,
    KMIS,
    KMIS_HEURISTICS,
    POOL_REDUCTIONS,
    Coarsening,
    CoarseningHierarchy,
    coarsen,
    coarsen_hierarchy,
    kmis,
    pool,
    take,
)
from ._core import (
    CycleError,
    DuplicateEdgeError,
    GraphError,
    NodeIdError,
    SelfLoopError,
    __version__,
    get_num_threads,
    set_num_threads,
)
from ._dag import Dag, as_dag
from ._generators import LayeredGraph, layered_graph, planted_layered_dag, random_dag
from ._iosched import (
    IO_NEURON_ORDER_METHODS,
    IO_SCHEDULE_METHODS,
    BoundIoPlan,
    IoPlan,
    IoSchedule,
    io_bounds,
    io_cost,
    io_efficient_network,
    io_execute,
    io_schedule,
)
from ._layering import LAYERING_METHODS, layering, layering_metrics, promote_layering
from ._memory import (
    MEMORY_MODELS,
    MEMORY_ORDER_METHODS,
    memory_order,
    peak_memory,
    peak_memory_lower_bound,
)
from ._net import ACTIVATIONS, INITS, DagNet, load
from ._order import (
    ORDER_METHODS,
    is_topological_order,
    topological_generations,
    topological_order,
)
from ._parallel_mlps import ParallelMLPs
from ._set_estimators import SparseMLPClassifier, SparseMLPRegressor

__all__ = [
    "LAYERING_METHODS",
    "ORDER_METHODS",
    "CycleError",
    "Dag",
    "DuplicateEdgeError",
    "GraphError",
    "LayeredGraph",
    "NodeIdError",
    "SelfLoopError",
    "__version__",
    "as_dag",
    "get_num_threads",
    "is_topological_order",
    "layered_graph",
    "layering",
    "layering_metrics",
    "planted_layered_dag",
    "promote_layering",
    "random_dag",
    "set_num_threads",
    "topological_generations",
    "topological_order",
    "COARSEN_REDUCTIONS",
    "KMIS",
    "KMIS_HEURISTICS",
    "POOL_REDUCTIONS",
    "Coarsening",
    "CoarseningHierarchy",
    "coarsen",
    "coarsen_hierarchy",
    "kmis",
    "pool",
    "take",
    "MEMORY_MODELS",
    "MEMORY_ORDER_METHODS",
    "memory_order",
    "peak_memory",
    "peak_memory_lower_bound",
    "IO_NEURON_ORDER_METHODS",
    "IO_SCHEDULE_METHODS",
    "BoundIoPlan",
    "IoPlan",
    "IoSchedule",
    "io_bounds",
    "io_cost",
    "io_efficient_network",
    "io_execute",
    "io_schedule",
    "datasets",
    "sparse",
    "ACTIVATIONS",
    "INITS",
    "DagNet",
    "ParallelMLPs",
    "load",
    "SparseMLPClassifier",
    "SparseMLPRegressor",
    "plot",
]


if _typing.TYPE_CHECKING:
    from . import plot


def __getattr__(name: str) -> object:
    # sparsedag.plot needs matplotlib, an optional dependency: load it on first use only, so
    # that `import sparsedag` stays fast and works without matplotlib.
    if name == "plot":
        import importlib

        return importlib.import_module(".plot", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
