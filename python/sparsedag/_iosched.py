"""I/O-aware scheduling of sparse feed-forward inference (after Gleinig, Ben-Nun and Hoefler,
"A Theory of I/O-Efficient Sparse Neural Network Inference", 2023).

The model (stated in full, with the proofs of the bounds, in ``docs/io_model.md``):

- A machine has a fast memory of ``M`` values (``fast_memory``) and an unbounded slow memory.
  A value is one neuron activation, one input, or one neuron's partial sum, each over a batch
  tile; values can be used only in fast memory; moving one value between the two memories is
  one I/O (a *load* into fast memory or a *store* back).
- The network is a DAG with designated inputs (sources; by default every source) and outputs
  (by default every sink). Inputs start in slow memory; outputs must end there.
- A schedule is an order of the neurons (a topological order of all nodes; where the inputs
  sit in it does not matter). A neuron's in-edges are processed together, in predecessor-id
  order, while its accumulator stays in fast memory: processing the edge ``(u, v)`` needs
  ``u``'s value and ``v``'s accumulator in fast memory, so ``M >= 2``. Creating an
  accumulator costs no I/O but takes a slot.
- Or a schedule is a general order of the edges (an ``(m, 2)`` array of ``(source, target)``
  pairs, or edge ids with ``kind="edges"``): ``v``'s accumulator is created at its first
  in-edge and is ``v``'s value after its last; every in-edge of ``u`` comes before any
  out-edge of ``u``. An incomplete accumulator may leave fast memory only by being stored
  (one I/O) and is loaded again at its next in-edge (one I/O).
- Weight reads are optional (``count_weights=False`` by default): each weight is read exactly
  once in any schedule, so they add the number of connections to every count alike.
- The simulator evicts the value whose next use is furthest in the future (values with no
  further use first, for free). A computed value is stored when it is evicted while still
  needed, at most once (slow memory then holds it for good); an output is stored once.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

import numpy as np

from . import _core
from ._args import count, integer, real_dtype
from ._dag import Dag, as_dag
from ._progress import progress_delay

__all__ = [
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
]

#: Methods of :func:`io_schedule`.
IO_SCHEDULE_METHODS: tuple[str, ...] = ("layer", "greedy", "two_approx", "anneal", "tiled")
#: The methods of :func:`io_schedule` that return a neuron order (``tiled`` returns an edge
#: order).
IO_NEURON_ORDER_METHODS: tuple[str, ...] = ("layer", "greedy", "two_approx", "anneal")


class IoSchedule(NamedTuple):
    #: topological order of all nodes (inputs first); for ``kind == "edges"`` an ``(m, 2)``
    #: array of (source, target) pairs, the order of the edges
    order: np.ndarray
    #: loads + stores (+ weight reads if counted) of the order, by the exact simulator
    io: int
    #: lower bound on the I/O of any schedule (see io_bounds)
    lower: int
    #: upper bound on the I/O of every order under the simulator
    upper: int
    #: the constructive method the order came from (for anneal: where annealing started)
    start: str
    #: annealing checkpoints: moves made so far, and the exact I/O of the order at that point
    trace_moves: np.ndarray
    trace_io: np.ndarray
    #: "neurons" (``order`` is a neuron order) or "edges" (an edge order; ``lower`` and
    #: ``upper`` are then the bounds for edge orders, ``lower_edges``/``upper_edges``)
    kind: str = "neurons"
    #: the block size of a tiled schedule (target accumulators kept resident), else 0
    block: int = 0


def _network(net_or_dag: Any, inputs: Any, outputs: Any) -> tuple[Dag, Any, Any]:
    """A Dag, or any network object with a ``dag`` attribute (and optionally ``inputs`` and
    ``outputs``), with explicit ``inputs``/``outputs`` taking precedence."""
    if isinstance(net_or_dag, Dag) or not hasattr(net_or_dag, "dag"):
        dag = as_dag(net_or_dag)
    else:
        dag = as_dag(net_or_dag.dag)
        if inputs is None:
            inputs = getattr(net_or_dag, "inputs", None)
        if outputs is None:
            outputs = getattr(net_or_dag, "outputs", None)

    def ids(values: Any) -> Optional[np.ndarray]:
        if values is None:
            return None
        array = np.asarray(values)
        if array.size == 0:
            return np.zeros(0, dtype=np.int64)
        return np.ascontiguousarray(array)

    return dag, ids(inputs), ids(outputs)


def _fast_memory(fast_memory: Any) -> int:
    fast_memory = integer(fast_memory, "fast_memory")
    if fast_memory >= 2**64:
        # Every memory of at least the node count behaves alike; the core takes a u64.
        return 2**64 - 1
    if fast_memory < 2:
        raise ValueError(
            f"fast_memory = {fast_memory} is too small: processing an edge needs the "
            "accumulator and the operand in fast memory at once, so fast_memory must be >= 2"
        )
    return int(fast_memory)


def io_cost(
    net_or_dag: Any,
    order: Any,
    fast_memory: int,
    *,
    inputs: Any = None,
    outputs: Any = None,
    count_weights: bool = False,
    trace: bool = False,
    kind: str = "auto",
) -> dict[str, Any]:
    """Exact I/O of computing the network in ``order`` with a fast memory of ``fast_memory``
    values and furthest-next-use eviction (the model is in the module docstring).

    ``order`` is a neuron order (a 1-D array of all node ids) or an edge order: an ``(m, 2)``
    array of (source, target) pairs, or with ``kind="edges"`` a 1-D array of edge ids
    (indices into ``dag.edges()``). ``kind="auto"`` reads a 2-D array as pairs and a 1-D one
    as a neuron order. An invalid edge order (an edge missing or repeated, or an out-edge of
    ``u`` before all of ``u``'s in-edges) raises ``ValueError`` naming the edge. With an edge
    order, ``trace_step`` is the position in the edge order.

    Returns a dict with ``loads``, ``stores``, ``weight_reads`` and ``total``; with
    ``trace=True`` also ``trace_step`` (position in ``order`` of the neuron being computed),
    ``trace_node`` (the value moved) and ``trace_load`` (True for a load, False for a store).
    For a fixed order, furthest-next-use eviction does the fewest loads, and the total is at
    most twice the least I/O any eviction and write-back policy can achieve on that order.
    """
    if kind not in ("auto", "neurons", "edges"):
        raise ValueError(f"kind must be 'auto', 'neurons' or 'edges', got {kind!r}")
    dag, ins, outs = _network(net_or_dag, inputs, outputs)
    order_array = np.ascontiguousarray(order)
    if order_array.size == 0:
        order_array = order_array.astype(np.int64)
    memory = _fast_memory(fast_memory)
    if kind == "neurons" or (kind == "auto" and order_array.ndim != 2):
        return _core.io_cost(dag._core, order_array, memory, ins, outs, count_weights, trace)
    edge_ids = _edge_ids(dag, order_array)
    return _core.io_cost_edges(dag._core, edge_ids, memory, ins, outs, count_weights, trace)


def _edge_ids(dag: Dag, order: np.ndarray) -> np.ndarray:
    """Edge ids (indices into ``dag.edges()``) of an edge order given as ids or pairs."""
    if order.dtype.kind not in "iu":
        raise TypeError(f"an edge order must have an integer dtype, got {order.dtype}")
    if order.ndim == 1:
        return order
    if order.ndim != 2 or order.shape[1] != 2:
        raise ValueError(
            "an edge order is a 1-D array of edge ids or an (m, 2) array of (source, target) "
            f"pairs, got shape {order.shape}"
        )
    return _core.edge_ids(
        dag._core, np.ascontiguousarray(order[:, 0]), np.ascontiguousarray(order[:, 1])
    )


def io_bounds(
    net_or_dag: Any,
    fast_memory: int,
    *,
    inputs: Any = None,
    outputs: Any = None,
    count_weights: bool = False,
) -> dict[str, int]:
    """Bounds on the I/O of computing the network (proofs in ``docs/io_model.md``).

    With ``I`` the inputs that have a consumer, ``O`` the outputs that are not inputs, ``N``
    the neurons (non-inputs), ``W`` the connections, ``d(v)`` the in-degree and ``M`` the fast
    memory:

    - ``lower = |O| + max(|I|, sum_v max(0, d(v) - (M - 1)))``: no schedule does fewer;
    - ``lower_from_counts = |O| + max(|I|, W - N (M - 1))`` <= ``lower``, from counts alone;
    - ``upper = W + S`` (``S`` = neurons with a consumer or that are outputs), or
      ``|I| + |O|`` when all nodes fit in fast memory: every order does at most this under
      the simulator.

    ``lower`` assumes a neuron order (neurons computed one at a time). For edge orders
    (``method="tiled"``), partial sums can wait in fast memory, and only
    ``lower_edges = |O| + |I|`` holds; ``upper_edges = W + 2 (W - A) + S`` (``A`` = neurons
    with an in-edge; each partial sum is stored and reloaded at most ``d(v) - 1`` times) or
    ``|I| + |O|`` when all nodes fit.

    ``count_weights=True`` adds ``W`` to each. Also returns the counts.
    """
    dag, ins, outs = _network(net_or_dag, inputs, outputs)
    return _core.io_bounds(dag._core, _fast_memory(fast_memory), ins, outs, count_weights)


def io_schedule(
    net_or_dag: Any,
    fast_memory: int,
    method: str = "anneal",
    steps: Optional[int] = None,
    seed: int = 0,
    *,
    inputs: Any = None,
    outputs: Any = None,
    count_weights: bool = False,
    checkpoints: int = 16,
    progress: Optional[bool] = None,
) -> IoSchedule:
    """An order of computation for sparse inference with few I/Os.

    ``layer``: layer by layer (ASAP layers), the standard baseline. ``greedy``: repeatedly the
    ready neuron with the most inputs among the last ``M`` values touched. ``two_approx``:
    depth-first, consumer first (each output's cone in post-order). ``anneal``: simulated
    annealing over the order (``steps`` moves, default ``min(20 N, 2,000,000)``; seeded by
    ``seed``) from the best of the three, with incremental updates of a local proxy (the
    capped reuse distance, see ``docs/io_model.md``) and exact evaluations at
    ``checkpoints`` points; it returns the best checkpoint, so it is never worse than its
    start. ``tiled``: an *edge* order (``kind == "edges"``, ``order`` is ``(m, 2)`` pairs):
    blocks of ``B`` neurons of a base order (layer or two_approx) keep their accumulators in
    fast memory while each source that feeds the block streams through once; the base and
    ``B`` (``M - 1``, ``7/8``, ``3/4`` or ``1/2`` of it, or ``1``: the base order itself) are
    chosen by the exact simulator, so it is never worse than the layer order. ``start`` names
    the base.

    ``progress`` draws a line on ``sys.stderr`` with the stage (``greedy``, ``simulate``,
    ``anneal``, ``tiled``) and how far it is: ``True`` always, ``False`` never, ``None`` (the
    default) on a terminal once the call has run for a second. Ctrl-C stops the call with
    ``KeyboardInterrupt``.

    Returns an :class:`IoSchedule` (order, I/O count, the bounds of its class, start method,
    trace, kind, block size).
    """
    if method not in IO_SCHEDULE_METHODS:
        raise ValueError(
            f"unknown schedule method {method!r}; choose one of {', '.join(IO_SCHEDULE_METHODS)}"
        )
    seed = count(seed, "seed")
    checkpoints = count(checkpoints, "checkpoints", minimum=1)
    dag, ins, outs = _network(net_or_dag, inputs, outputs)
    steps = min(20 * dag.num_nodes, 2_000_000) if steps is None else count(steps, "steps")
    delay = progress_delay(progress)
    r = _core.io_schedule(
        dag._core,
        _fast_memory(fast_memory),
        method,
        steps,
        seed,
        ins,
        outs,
        count_weights,
        checkpoints,
        delay,
    )
    order = r["order"]
    if r["edges"]:
        src, dst = dag.edges()
        order = np.stack([src[order], dst[order]], axis=1)
    return IoSchedule(
        order,
        r["io"],
        r["lower"],
        r["upper"],
        r["start"],
        r["trace_moves"],
        r["trace_io"],
        "edges" if r["edges"] else "neurons",
        r["block"],
    )


def io_efficient_network(
    inputs: int, neurons: int, degree: int, fast_memory: int, seed: int = 0
) -> tuple[Dag, np.ndarray]:
    """A network of maximal I/O efficiency for its size and ``fast_memory`` = M: ``inputs``
    inputs (ids ``0..inputs``) then ``neurons`` neurons. Input k enters fast memory just
    before neuron k, which reads it; every neuron reads ``degree`` (<= M - 1) values among the
    last M - 1 that entered fast memory. In the returned generation order the working set
    always fits, so inference costs exactly the lower bound of :func:`io_bounds`: each input
    loaded once, each output written once, nothing else (all inputs are used when
    ``neurons >= inputs``).
    """
    core, order = _core.io_efficient_network(
        count(inputs, "inputs"),
        count(neurons, "neurons"),
        count(degree, "degree"),
        count(fast_memory, "fast_memory"),
        count(seed, "seed"),
    )
    return Dag(core), order


class IoPlan:
    """Sparse inference planned once for a given schedule: a neuron order (any topological
    order, e.g. ``io_schedule(...).order``) or an edge order (an :class:`IoSchedule` with
    ``kind == "edges"``, an ``(m, 2)`` array of (source, target) pairs, or with
    ``kind="edges"`` a 1-D array of edge ids; e.g. ``io_schedule(..., method="tiled")``).
    Each activation gets a memory row that is freed after its last use and reused, and every
    operand's row is fixed in advance. :meth:`run` then only streams through the plan, so it
    can be timed and reused across batches.

    An edge order is checked once, here (an edge missing or repeated, or an out-edge of ``u``
    before all of ``u``'s in-edges, raises ``ValueError`` naming the edge), and compiled into
    runs of consecutive edges sharing a source: a run reads its source once and adds into the
    accumulators of its targets, which live in a compact scratch reused block after block
    (``accumulators`` slots; ``runs`` counts the runs). A neuron's in-edges are summed in the
    order the edge order lists them, so results equal the neuron-order ones to float
    rounding (bit for bit when every neuron's in-edges come in source-id order).

    ``rows`` is the activation memory the plan needs (inputs plus the most values alive at
    once, plus the accumulators of an edge order), in rows of ``batch`` floats. :meth:`bind`
    fixes the weights once (laid out in execution order) for repeated runs.
    """

    def __init__(
        self,
        net_or_dag: Any,
        order: Any,
        *,
        inputs: Any = None,
        outputs: Any = None,
        kind: str = "auto",
    ):
        if kind not in ("auto", "neurons", "edges"):
            raise ValueError(f"kind must be 'auto', 'neurons' or 'edges', got {kind!r}")
        dag, ins, outs = _network(net_or_dag, inputs, outputs)
        if isinstance(order, IoSchedule):
            if kind == "auto":
                kind = order.kind
            order = order.order
        order_array = np.ascontiguousarray(order)
        if order_array.size == 0:
            order_array = order_array.astype(np.int64)
        if kind == "auto":
            kind = "edges" if order_array.ndim == 2 else "neurons"
        #: "neurons" or "edges": the kind of schedule planned
        self.kind = kind
        if kind == "edges":
            edge_ids = _edge_ids(dag, order_array)
            self._plan = _core.IoEdgePlan(dag._core, edge_ids, ins, outs)
        else:
            if order_array.ndim != 1:
                raise ValueError(
                    f"a neuron order is a 1-D array of node ids, got shape {order_array.shape}"
                )
            self._plan = _core.IoPlan(dag._core, order_array, ins, outs)

    @property
    def rows(self) -> int:
        return self._plan.rows

    @property
    def accumulators(self) -> int:
        """Accumulator slots of an edge order (the most partial sums at once); 1 for a neuron
        order, whose accumulator stays in registers."""
        return self._plan.accumulators if self.kind == "edges" else 1

    @property
    def runs(self) -> int:
        """Runs of consecutive edges sharing a source (edge orders); for a neuron order, the
        number of computed steps is not counted here and this is 0."""
        return self._plan.runs if self.kind == "edges" else 0

    def run(self, weights: Any, X: Any) -> np.ndarray:
        """``weights``: one float per edge in in-edge CSR order (edges sorted by target, then
        source). ``X``: ``(batch, number of inputs)``, inputs in ascending id order. Hidden
        neurons apply ReLU, outputs are linear. Returns ``(batch, number of outputs)``,
        outputs in ascending id order. Every neuron order gives bit-identical results (each
        neuron sums its inputs in source-id order); an edge order sums them in its own order
        (equal to float rounding); only the memory traffic differs."""
        x = _samples(X)
        w = _weights(weights)
        return np.ascontiguousarray(self._plan.run(w, np.ascontiguousarray(x.T)).T)

    def bind(self, weights: Any) -> BoundIoPlan:
        """The plan with ``weights`` (as in :meth:`run`) laid out next to their operand rows in
        execution order, for repeated :meth:`BoundIoPlan.run` calls: ``run(weights, X)`` does
        this on every call."""
        w = _weights(weights)
        return BoundIoPlan(self._plan.bind(w))


class BoundIoPlan:
    """An :class:`IoPlan` with its weights bound (from :meth:`IoPlan.bind`): inference streams
    through one array of (operand row or accumulator slot, weight) records in execution order,
    the same code for every neuron order (and one code for every edge order)."""

    def __init__(self, core: Any):
        self._plan = core

    def run(self, X: Any) -> np.ndarray:
        """As :meth:`IoPlan.run` with the bound weights: ``X`` is ``(batch, number of
        inputs)``; returns ``(batch, number of outputs)``, bit-identical to ``IoPlan.run``."""
        x = _samples(X)
        return np.ascontiguousarray(self._plan.run(np.ascontiguousarray(x.T)).T)


def _weights(weights: Any) -> np.ndarray:
    w = np.asarray(weights)
    if not real_dtype(w.dtype):
        raise TypeError(f"weights must hold real numbers, got dtype {w.dtype}")
    w = np.ascontiguousarray(w, dtype=np.float32)
    if w.ndim != 1:
        raise ValueError(f"weights must be one-dimensional, got shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite (no NaN or Inf)")
    return w


def _samples(X: Any) -> np.ndarray:
    x = np.asarray(X)
    if not real_dtype(x.dtype):
        raise TypeError(f"X must hold real numbers, got dtype {x.dtype}")
    x = x.astype(np.float32, copy=False)
    if x.ndim != 2:
        raise ValueError(f"X must be two-dimensional (batch, inputs), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("X must be finite (no NaN or Inf)")
    return x


def io_execute(
    net_or_dag: Any,
    order: Any,
    weights: Any,
    X: Any,
    *,
    inputs: Any = None,
    outputs: Any = None,
    kind: str = "auto",
) -> np.ndarray:
    """Plans and runs sparse inference in ``order`` (a neuron or an edge order) in one call:
    ``IoPlan(...).run(weights, X)`` (see :class:`IoPlan`)."""
    return IoPlan(net_or_dag, order, inputs=inputs, outputs=outputs, kind=kind).run(weights, X)
