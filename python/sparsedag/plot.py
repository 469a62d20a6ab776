"""Plots of what sparsedag computes (needs matplotlib: ``pip install matplotlib``, or
``pip install sparsedag[plot]``).

``import sparsedag`` never imports this module or matplotlib; ``sparsedag.plot`` is loaded on
first use, and matplotlib only when a function is called. Every function draws into ``ax``
(a new figure when ``ax`` is None), returns the Axes and never calls ``plt.show()``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any, Union

import numpy as np

from ._dag import as_dag
from ._layering import layering_metrics
from ._memory import peak_memory, peak_memory_lower_bound

__all__ = ["plot_anneal_trace", "plot_history", "plot_layering", "plot_memory_profile"]

#: History entries that count things (connections, neurons); drawn on a secondary y axis
#: because their scale has nothing to do with a loss or an accuracy.
COUNT_METRICS: tuple[str, ...] = (
    "connections",
    "neurons",
    "connections_replaced",
    "neurons_pruned",
)

# Recorded only for some losses (cross-entropy) or only with validation data: asking for them
# by default must not fail on a regression history.
_OPTIONAL_METRICS = ("accuracy", "val_accuracy")


def _pyplot() -> Any:
    try:
        import matplotlib  # noqa: F401  (first, so a blocked matplotlib fails here)
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise ImportError(
            "sparsedag.plot needs matplotlib: pip install matplotlib "
            "(or pip install sparsedag[plot])"
        ) from err
    return plt


def _axes(ax: Any) -> Any:
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots()
        return ax
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


# -- training history -------------------------------------------------------------------------


def _history_dict(model_or_history: Any) -> Mapping[str, Any]:
    if isinstance(model_or_history, Mapping):
        history = model_or_history
    elif hasattr(model_or_history, "history_") or hasattr(model_or_history, "fit"):
        history = getattr(model_or_history, "history_", None)
        if history is None:
            raise ValueError(
                f"this {type(model_or_history).__name__} has no history_: call fit first, or "
                "pass the history dict that fit returned"
            )
    else:
        raise TypeError(
            "plot_history takes a fitted model with a history_ attribute (SparseMLPClassifier, "
            "SparseMLPRegressor, DagNet) or a history dict (the return value of fit), got "
            f"{type(model_or_history).__name__}"
        )
    if not history or all(len(v) == 0 for v in history.values()):
        raise ValueError("the history is empty: train for at least one epoch first")
    return history


def _metric_values(history: Mapping[str, Any], name: str) -> np.ndarray:
    try:
        values = np.asarray(history[name], dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"history[{name!r}] is not numeric: {err}") from None
    if values.ndim not in (1, 2):
        raise ValueError(
            f"history[{name!r}] must hold one number per epoch (or one per model and epoch), "
            f"got shape {values.shape}"
        )
    return values


def plot_history(
    model_or_history: Any,
    ax: Any = None,
    metrics: Union[str, tuple[str, ...], list[str]] = ("loss", "accuracy"),
) -> Any:
    """Per-epoch curves of a training history.

    ``model_or_history`` is a fitted :class:`~sparsedag.SparseMLPClassifier`,
    :class:`~sparsedag.SparseMLPRegressor` or :class:`~sparsedag.DagNet` (its ``history_``),
    or a history dict as ``fit`` returns it (a :class:`~sparsedag.ParallelMLPs` history, one
    value per model and epoch, draws one curve per model). Epochs are numbered from 1.

    ``metrics`` names history keys. ``loss`` and ``accuracy`` go on ``ax``; the counts
    (``connections``, ``neurons``, ``connections_replaced``, ``neurons_pruned``) on a secondary
    y axis (``ax.twinx()``). When the history holds ``val_<metric>``, it is drawn dashed next
    to its metric. ``accuracy`` is skipped when the history has none (a regressor, or a
    non-cross-entropy loss: absent or NaN every epoch); any other missing name raises
    ``ValueError`` listing the keys there are. Returns ``ax`` (the primary axis).
    """
    _pyplot()
    from matplotlib.ticker import MaxNLocator

    if isinstance(metrics, str):
        metrics = (metrics,)
    metrics = tuple(metrics)
    if not metrics:
        raise ValueError("metrics must name at least one history entry, e.g. 'loss'")
    for name in metrics:
        if not isinstance(name, str):
            raise TypeError(f"metrics must be strings, got {name!r}")
    history = _history_dict(model_or_history)

    curves: list[tuple[str, np.ndarray, bool]] = []  # (label, values, on the count axis)
    for name in metrics:
        if name not in history:
            if name in _OPTIONAL_METRICS:
                continue
            raise ValueError(f"the history has no {name!r}; it holds: {', '.join(sorted(history))}")
        values = _metric_values(history, name)
        if name in _OPTIONAL_METRICS and values.size and np.all(np.isnan(values)):
            continue
        counts = name in COUNT_METRICS
        curves.append((name, values, counts))
        val_name = f"val_{name}"
        if val_name in history and val_name not in metrics:
            curves.append((val_name, _metric_values(history, val_name), counts))
    if not curves:
        raise ValueError(
            f"none of {', '.join(metrics)} is recorded in this history; it holds: "
            f"{', '.join(sorted(history))}"
        )

    ax = _axes(ax)
    twin = ax.twinx() if any(counts for _, _, counts in curves) else None
    colors = (f"C{i}" for i in itertools.count())
    handles = []
    for label, values, counts in curves:
        target = twin if counts else ax
        epochs = np.arange(1, values.shape[0] + 1)
        style = "--" if label.startswith("val_") else "-"
        color = next(colors)
        if values.ndim == 1:
            handles += target.plot(epochs, values, style, color=color, label=label)
        else:
            # one value per model (ParallelMLPs): one curve per model, same colour per metric
            for model in range(values.shape[1]):
                lines = target.plot(
                    epochs,
                    values[:, model],
                    style,
                    color=color,
                    alpha=0.4 + 0.6 / values.shape[1],
                    label=f"{label} (model {model})",
                )
                handles += lines
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    primary = [label for label, _, counts in curves if not counts]
    counted = [label for label, _, counts in curves if counts]
    ax.set_ylabel(", ".join(primary))
    if twin is not None:
        twin.set_ylabel(", ".join(counted))
    ax.legend(handles=handles, loc="best")
    return ax


# -- I/O annealing ----------------------------------------------------------------------------


def plot_anneal_trace(schedule: Any, ax: Any = None) -> Any:
    """The annealing trace of ``sd.io_schedule(..., method="anneal")``: the exact I/O of the
    order at each checkpoint (``trace_io``) against the moves made so far (``trace_moves``),
    with the schedule's ``lower`` and ``upper`` bounds as horizontal lines and the returned
    (best) I/O ``io`` as a dotted one. Returns ``ax``.

    Raises ``ValueError`` for a schedule without a trace (every method but ``anneal``).
    """
    _pyplot()
    fields = ("trace_moves", "trace_io", "lower", "upper", "io")
    if not all(hasattr(schedule, f) for f in fields):
        raise TypeError(
            "plot_anneal_trace takes the IoSchedule returned by sd.io_schedule(..., "
            f"method='anneal'), got {type(schedule).__name__}"
        )
    moves = np.asarray(schedule.trace_moves, dtype=np.float64)
    io = np.asarray(schedule.trace_io, dtype=np.float64)
    if moves.ndim != 1 or moves.shape != io.shape:
        raise ValueError(
            "trace_moves and trace_io must be 1-D and of the same length, got shapes "
            f"{moves.shape} and {io.shape}"
        )
    if moves.size == 0:
        start = getattr(schedule, "start", "")
        raise ValueError(
            "this schedule has no annealing trace (it holds one only for "
            f"method='anneal'{'' if not start else f'; this one came from {start!r}'})"
        )
    ax = _axes(ax)
    ax.plot(moves, io, "o-", color="C0", label="I/O of the order")
    ax.axhline(schedule.lower, color="C2", linestyle="-", label=f"lower bound ({schedule.lower})")
    ax.axhline(schedule.upper, color="C3", linestyle="-", label=f"upper bound ({schedule.upper})")
    ax.axhline(schedule.io, color="C1", linestyle=":", label=f"returned ({schedule.io})")
    ax.set_xlabel("annealing moves")
    ax.set_ylabel("I/O (loads + stores)")
    ax.legend(loc="best")
    return ax


# -- peak memory ------------------------------------------------------------------------------


def plot_memory_profile(
    g: Any,
    order: Any,
    sizes: Any,
    ax: Any = None,
    model: str = "coexist",
    lower_bound: bool = False,
) -> Any:
    """The live memory at every step of the topological ``order`` (as
    ``sd.peak_memory(g, order, sizes, model=model, profile=True)`` computes it; step ``i``
    computes ``order[i - 1]``), with the peak marked at its first step. ``lower_bound=True``
    adds ``sd.peak_memory_lower_bound(g, sizes, model)`` as a horizontal line (up to one
    max-flow per node: meant for graphs of up to thousands of nodes). ``sizes=None`` gives
    every value size 1. Returns ``ax``.
    """
    _pyplot()
    peak, steps = peak_memory(g, order, sizes, model=model, profile=True)
    steps = np.asarray(steps)
    if steps.size == 0:
        raise ValueError("the graph has no nodes: there is no memory profile to draw")
    bound = peak_memory_lower_bound(g, sizes, model=model) if lower_bound else None
    ax = _axes(ax)
    x = np.arange(1, steps.size + 1)
    ax.plot(x, steps, drawstyle="steps-mid", color="C0", label="live memory")
    first = int(np.argmax(steps >= peak))
    ax.plot([x[first]], [peak], "o", color="C3", label=f"peak {peak:g} (step {x[first]})")
    if bound is not None:
        ax.axhline(bound, color="C2", linestyle="--", label=f"lower bound {bound:g}")
    ax.set_xlabel("step")
    ax.set_ylabel("live memory")
    ax.set_xlim(0.5, steps.size + 0.5)
    ax.legend(loc="best")
    return ax


# -- layered drawing --------------------------------------------------------------------------


def _barycenter_positions(
    layers: np.ndarray, src: np.ndarray, dst: np.ndarray, sweeps: int
) -> np.ndarray:
    """x of every node: its rank in its layer, centred on 0. Starts from node-id order, then
    alternates down sweeps (sort each layer by the mean x of its predecessors) and up sweeps
    (of its successors), the classic barycenter heuristic; nodes with no neighbour on the
    reference side keep their x. Ties keep the current order, so the result is deterministic."""
    n = layers.size
    height = int(layers.max()) + 1 if n else 0
    members = [np.flatnonzero(layers == layer) for layer in range(height)]
    x = np.empty(n, dtype=np.float64)
    for nodes in members:
        x[nodes] = np.arange(nodes.size) - (nodes.size - 1) / 2

    def place(nodes: np.ndarray, here: np.ndarray, there: np.ndarray) -> None:
        # here/there: edge endpoints on this layer's side and on the reference side
        if nodes.size < 2:
            return
        total = np.bincount(here, weights=x[there], minlength=n)[nodes]
        count = np.bincount(here, minlength=n)[nodes]
        key = np.where(count > 0, total / np.maximum(count, 1), x[nodes])
        ranked = nodes[np.lexsort((x[nodes], key))]
        x[ranked] = np.arange(nodes.size) - (nodes.size - 1) / 2

    # edges grouped by the layer of their target (down sweeps) and of their source (up sweeps)
    by_dst = [np.flatnonzero(layers[dst] == layer) for layer in range(height)]
    by_src = [np.flatnonzero(layers[src] == layer) for layer in range(height)]
    for sweep in range(sweeps):
        if sweep % 2 == 0:
            for layer in range(1, height):
                e = by_dst[layer]
                place(members[layer], dst[e], src[e])
        else:
            for layer in range(height - 2, -1, -1):
                e = by_src[layer]
                place(members[layer], src[e], dst[e])
    return x


def plot_layering(
    g: Any,
    layers: Any,
    ax: Any = None,
    max_nodes: int = 2000,
    sweeps: int = 4,
) -> Any:
    """A layered drawing of ``g``: node ``v`` at height ``layers[v]`` (layer 0 at the top),
    across by its position within its layer, ordered by ``sweeps`` barycenter sweeps (down,
    up, ...) that reduce edge crossings; edges as one ``LineCollection``, nodes as one
    scatter. ``layers`` must be a layering of ``g`` (as ``sd.layering`` returns; checked with
    ``sd.layering_metrics``). Graphs of more than ``max_nodes`` nodes raise ``ValueError``
    (a drawing of that many nodes is unreadable and slow; coarsen first, or raise
    ``max_nodes``). Returns ``ax``.
    """
    _pyplot()
    from matplotlib.collections import LineCollection
    from matplotlib.ticker import MaxNLocator

    if isinstance(max_nodes, bool) or int(max_nodes) != max_nodes or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive integer, got {max_nodes!r}")
    if isinstance(sweeps, bool) or int(sweeps) != sweeps or sweeps < 0:
        raise ValueError(f"sweeps must be a non-negative integer, got {sweeps!r}")
    dag = as_dag(g)
    if dag.num_nodes > max_nodes:
        raise ValueError(
            f"the graph has {dag.num_nodes} nodes, more than max_nodes={max_nodes}: a drawing "
            "that large is unreadable and slow; coarsen it first (sd.coarsen) or pass a "
            "larger max_nodes"
        )
    layer_array = np.asarray(layers)
    if layer_array.shape != (dag.num_nodes,):
        raise ValueError(
            f"layers must hold one layer per node ({dag.num_nodes}), got shape {layer_array.shape}"
        )
    metrics = layering_metrics(dag, layer_array)  # raises unless every edge points down
    layer_array = layer_array.astype(np.int64)
    if dag.num_nodes:
        layer_array = layer_array - layer_array.min()
    src, dst = (np.asarray(a, dtype=np.int64) for a in dag.edges())
    x = _barycenter_positions(layer_array, src, dst, int(sweeps))
    y = layer_array.astype(np.float64)

    ax = _axes(ax)
    segments = np.stack([np.stack([x[src], y[src]], 1), np.stack([x[dst], y[dst]], 1)], 1)
    ax.add_collection(LineCollection(segments, colors="0.6", linewidths=0.6, zorder=1))
    size = 30.0 if dag.num_nodes <= 200 else max(2.0, 30.0 * math.sqrt(200 / dag.num_nodes))
    ax.scatter(x, y, s=size, color="C0", zorder=2)
    ax.set_ylabel("layer")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("position in layer")
    ax.set_title(
        f"{dag.num_nodes} nodes, {dag.num_edges} edges, height {metrics['height']}, "
        f"width {metrics['width']}"
    )
    if dag.num_nodes:
        ax.set_xlim(x.min() - 1, x.max() + 1)
        ax.set_ylim(y.max() + 0.5, y.min() - 0.5)  # layer 0 at the top
    return ax
