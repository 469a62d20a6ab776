"""Inference of a :class:`~sparsedag.DagNet` in a chosen order of its neurons instead of layer by
layer: ``predict(X, memory="low")`` (a memory-minimising topological order) and
``predict(X, schedule=s)`` (an I/O schedule from :func:`sparsedag.io_schedule`, or any
topological order). Each activation is kept in a memory row from its own step to the step of its
last reader, after which the row is reused; the outputs equal those of the layer-by-layer pass
(same kernel, same summation order per neuron).

A schedule may also be an order of the edges (``io_schedule(net, M, method="tiled")``, an
``(m, 2)`` array of (source, target) pairs): it is checked once and compiled into runs of edges
sharing a source, whose targets accumulate in a compact scratch; a neuron's value is
``activation(sum + bias)`` with its in-edges summed in the edge order's order, so the outputs
equal the layer-by-layer ones to float rounding (not bit for bit).

Each planned order copies the net's weights, biases and activations into its own execution
order at its first prediction (about 4 bytes per edge plus 12 per neuron), so that any order
streams its parameters; the copy is remade when the parameters change (training, setting
``weights``/``biases``). Only the order used last keeps its copy: switching to another order
frees the previous one's. :meth:`DagNet.schedule_cache_bytes` reports what is held and
:meth:`DagNet.clear_schedule_cache` frees it."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from . import _core
from ._iosched import _edge_ids
from ._memory import memory_order

if TYPE_CHECKING:
    from ._net import DagNet

#: Values of ``memory`` accepted by :meth:`DagNet.predict`.
MEMORY_MODES = ("full", "low")
#: Networks up to this many nodes get the full-effort memory-minimising search.
FULL_EFFORT_NODES = 10_000


def _check_memory(memory: Any) -> str:
    if not isinstance(memory, str) or memory not in MEMORY_MODES:
        raise ValueError(
            f"unknown memory mode {memory!r}; choose 'full' (layer by layer, one activation row "
            "per neuron) or 'low' (a memory-minimising order, rows freed after their last use)"
        )
    return memory


def _schedule_order(schedule: Any, num_nodes: int) -> tuple[str, np.ndarray]:
    """The kind (``"neurons"`` or ``"edges"``) and order of an :class:`~sparsedag.IoSchedule`
    (anything with an ``order``), an integer array of node ids, or an ``(m, 2)`` integer array
    of (source, target) pairs."""
    order = getattr(schedule, "order", schedule)
    array = np.asarray(order)
    if array.dtype.kind == "u" and array.size and array.max() >= 2**63:
        # int64 would wrap these to negative ids in the error message
        raise ValueError(f"schedule holds {array.max()}, which is not a node id of the network")
    if array.dtype.kind not in "iu":
        raise TypeError(
            f"schedule must be an io_schedule(...) result, an integer array of node ids or an "
            f"(m, 2) integer array of edges, got dtype {array.dtype}"
        )
    if getattr(schedule, "kind", "neurons") == "edges" or array.ndim == 2:
        if array.ndim != 2 or array.shape[1] != 2:
            raise ValueError(
                f"schedule must list every node of the network once (a 1-D array of node ids) "
                f"or every edge (an (m, 2) array of (source, target) pairs), got shape "
                f"{array.shape}"
            )
        return "edges", np.ascontiguousarray(array, dtype=np.int64)
    if array.ndim != 1 or array.shape[0] != num_nodes:
        raise ValueError(
            f"schedule must list every node of the network once ({num_nodes} nodes), got shape "
            f"{array.shape}"
        )
    return "neurons", np.ascontiguousarray(array, dtype=np.int64)


def low_memory_order(net: DagNet) -> np.ndarray:
    """A topological order of the network's nodes with few activation rows alive at once.

    Sizes follow the executor: a computed neuron that something reads holds one row (one
    batch of floats); inputs (always resident) and neurons nobody reads (written straight to
    the output) hold none."""
    dag = net.graph
    sizes = (net.graph.out_degree() > 0).astype(np.float64)
    sizes[net.inputs] = 0.0
    # Beam search and annealing cost about 0.35 ms per node; beyond FULL_EFFORT_NODES only the
    # greedy portfolio runs (3.5 s at 100,000 nodes, where beam and annealing add 9 s even at
    # the smallest effort).
    effort = 1.0 if dag.num_nodes <= FULL_EFFORT_NODES else 0.0
    return memory_order(dag, "min_memory", sizes, effort=effort)


class _Plans:
    """Planned orders of one network, by the order's bytes (plans are O(n + m) to build, as
    much as one batch-1 inference, so they are kept)."""

    def __init__(self) -> None:
        self.low: Optional[Any] = None
        self.low_order: Optional[np.ndarray] = None
        self.by_order: dict[bytes, Any] = {}
        #: The plan that ran last, the only one that keeps its parameters copied.
        self.last: Optional[Any] = None
        #: The schedule of the last ``schedule=`` call (a private copy) and its plan.
        self.recent: Optional[tuple[np.ndarray, Any]] = None

    def all(self) -> list[Any]:
        plans = [*self.by_order.values(), self.low, self.last]
        unique = {id(p): p for p in plans if p is not None}
        return list(unique.values())


def _plans(net: DagNet) -> _Plans:
    plans = net.__dict__.get("_ordered_plans")
    if plans is None:
        plans = _Plans()
        net.__dict__["_ordered_plans"] = plans
    return plans


def ordered_plan(net: DagNet, memory: str = "low", schedule: Any = None) -> Any:
    """The planned forward pass (an ``_core.OrderedForward``) for ``memory``/``schedule``."""
    plans = _plans(net)
    if schedule is None:
        if plans.low is None:
            plans.low_order = low_memory_order(net)
            plans.low = _core.OrderedForward(net._core, plans.low_order)
        return plans.low
    kind, order = _schedule_order(schedule, net.graph.num_nodes)
    # Hashing a million-node order takes several ms, about a whole batch-1 pass over the
    # network once its parameters stream; comparing with the last call's order is a memcmp.
    if plans.recent is not None and np.array_equal(plans.recent[0], order):
        return plans.recent[1]
    key = kind.encode() + hashlib.blake2b(order, digest_size=16).digest()
    plan = plans.by_order.get(key)
    if plan is None:
        if kind == "edges":
            ids = _edge_ids(net.graph, order)
            plan = _core.OrderedForward.from_edges(net._core, ids)
        else:
            plan = _core.OrderedForward(net._core, order)
        if len(plans.by_order) >= 8:
            plans.by_order.pop(next(iter(plans.by_order)))
        plans.by_order[key] = plan
    plans.recent = (order.copy(), plan)
    return plan


def forward(net: DagNet, x: np.ndarray, memory: Any, schedule: Any) -> np.ndarray:
    """Outputs for the checked float32 matrix ``x`` in the order ``memory``/``schedule`` ask for;
    ``None`` means layer by layer."""
    mode = _check_memory(memory)
    if schedule is not None and mode == "low":
        raise ValueError(
            "pass either memory='low' or a schedule, not both (a schedule already frees each "
            "activation after its last use)"
        )
    if schedule is None and mode == "full":
        return net._core.predict(x)
    plan = ordered_plan(net, mode, schedule)
    plans = _plans(net)
    if plans.last is not None and plans.last is not plan:
        plans.last.release_parameters()
    plans.last = plan
    return plan.predict(net._core, x)


def cache_bytes(net: DagNet) -> int:
    """Bytes of parameters the net's planned orders hold in their own execution order."""
    plans = net.__dict__.get("_ordered_plans")
    return 0 if plans is None else sum(int(p.parameter_bytes) for p in plans.all())


def clear_cache(net: DagNet) -> None:
    """Drops every planned order of the net with its parameter copy."""
    net.__dict__.pop("_ordered_plans", None)


def activation_rows(net: DagNet, memory: str = "low", schedule: Any = None) -> int:
    """Activation rows (each one batch of float32) the ordered pass keeps: the inputs plus the
    most activations alive at once; the layer-by-layer pass keeps one per node."""
    if schedule is None and _check_memory(memory) == "full":
        return net.graph.num_nodes
    return int(ordered_plan(net, memory, schedule).rows)
