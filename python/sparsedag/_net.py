"""`DagNet`: a neural network whose neurons are the nodes of a DAG and whose connections are its
edges (one float32 weight each). Training and inference run in the Rust core with the GIL
released; Ctrl-C stops training after the current batch and leaves the model usable."""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Hashable, Sequence
from typing import Any, Optional, Union

import numpy as np

from . import _core, _ordered
from ._dag import Dag, as_dag
from ._resources import check_fits

__all__ = ["ACTIVATIONS", "INITS", "DagNet", "load"]

#: Activation names accepted by :class:`DagNet` (one for all nodes, or one per node).
ACTIVATIONS: tuple[str, ...] = tuple(_core.activation_names())
#: Named weight initialisations.
INITS = ("kaiming_uniform", "he_uniform", "xavier_uniform", "normal")

FORMAT_TAG = "sparsedag.DagNet"
FORMAT_VERSION = 1


def _as_matrix(values: Any, name: str) -> np.ndarray:
    """A C-contiguous float32 matrix with finite entries, or a clear error."""
    array = np.asarray(values)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{name} must hold numbers, got dtype {array.dtype}")
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be two-dimensional (samples x features), got shape {array.shape}; "
            f"use {name}.reshape(-1, 1) for a single feature"
        )
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty: it needs at least one row")
    with np.errstate(over="ignore"):
        converted = np.ascontiguousarray(array, dtype=np.float32)
    if not np.isfinite(converted).all():
        bad = np.argwhere(~np.isfinite(converted))[0]
        raise ValueError(
            f"{name} contains NaN or infinity (first at row {bad[0]}, column {bad[1]}, value "
            f"{array[bad[0], bad[1]]!r}; float32 holds at most ~3.4e38)"
        )
    return converted


_ACTIVATION_CODES = {name: i for i, name in enumerate(ACTIVATIONS)}


def _activation_code(name: str) -> int:
    code = _ACTIVATION_CODES.get(name)
    if code is None:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return code


def _whole(value: Any, name: str) -> int:
    """An integer argument; 2.5 epochs silently ran 2."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    return int(value)


def _seed(value: Any) -> int:
    seed = _whole(value, "seed")  # a seed of 1.5 silently was 1
    if not 0 <= seed < 2**64:
        raise ValueError(f"seed must be an integer in [0, 2**64), got {value!r}")
    return seed


def _activation_codes(activation: Any, n: int) -> np.ndarray:
    names = ACTIVATIONS
    if isinstance(activation, str):
        return np.full(n, _activation_code(activation), dtype=np.int64)
    per_node = list(activation)
    if len(per_node) != n:
        raise ValueError(f"{len(per_node)} activations given for {n} nodes")
    lookup = {name: i for i, name in enumerate(names)}
    try:
        return np.fromiter((lookup[a] for a in per_node), dtype=np.int64, count=n)
    except (KeyError, TypeError):
        unknown = next(a for a in per_node if a not in lookup)
        raise ValueError(
            f"unknown activation {unknown!r}; choose one of {', '.join(names)}"
        ) from None


def _diverged(epoch: int, lr: float, what: str) -> FloatingPointError:
    return FloatingPointError(
        f"training diverged in epoch {epoch + 1}: {what}. Lower lr (now {lr}) or scale X and y "
        "(zero mean, unit variance); the weights are no longer usable: set new ones or build a "
        "new network"
    )


class _Progress:
    """A one-line text progress bar on stderr (no dependency)."""

    def __init__(self, enabled: bool, epochs: int) -> None:
        self.enabled = enabled
        self.epochs = epochs
        self.start = time.perf_counter()
        self.last = 0.0

    def update(self, epoch: int, done: int, total: int, loss: float) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if done < total and now - self.last < 0.1:
            return  # at most ten redraws a second
        self.last = now
        width = 24
        filled = int(width * done / max(total, 1))
        bar = "#" * filled + "." * (width - filled)
        elapsed = time.perf_counter() - self.start
        sys.stderr.write(
            f"\repoch {epoch + 1}/{self.epochs} [{bar}] {done}/{total} batches  "
            f"loss {loss:.4f}  {elapsed:.1f}s"
        )
        sys.stderr.flush()

    def end_epoch(self, text: str) -> None:
        if self.enabled:
            sys.stderr.write(f"  {text}\n")
            sys.stderr.flush()

    def abort(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


class DagNet:
    """A network wired as a DAG: nodes are neurons, edges are connections.

    Parameters
    ----------
    g : Dag, networkx.DiGraph or scipy.sparse matrix
        The wiring. Node labels from ``from_networkx`` are honoured in ``inputs``/``outputs``.
    inputs, outputs : sequences of nodes, optional
        Default: the sources and the sinks, ascending (4Ward's convention); isolated nodes are
        neither. Column ``i`` of ``X`` feeds ``inputs[i]``; inputs must have no incoming edges.
    activation : str or sequence of str
        One of :data:`ACTIVATIONS` for every node, or one name per node.
    init : str or array
        ``"kaiming_uniform"`` (PyTorch/4Ward's ``nn.Linear`` default with each node's own
        fan-in: weights and biases U(±1/sqrt(fan_in))), ``"he_uniform"``, ``"xavier_uniform"``,
        ``"normal"`` (N(0, 2/fan_in)), or an array of weights aligned with ``g.edges()``
        (biases then start at zero).
    bias : bool
        Train a bias per neuron (``False``: biases stay zero).
    dropout : float
        Dropout rate on hidden neurons during training.
    seed : int
        Seeds the initialisation, shuffling and dropout.
    output_activation : str or None
        Activation of the output neurons (linear by default, for regression and logits);
        ``None`` keeps what ``activation`` says.
    layering : str or array
        The layering that groups neurons into parallel steps: a method of
        :func:`sparsedag.layering` or a layer per node.
    all_relu_alpha : float
        Slope magnitude of ``all_relu`` (-alpha in odd hidden layers, +alpha in even ones).
    """

    def __init__(
        self,
        g: Any,
        inputs: Optional[Sequence[Hashable]] = None,
        outputs: Optional[Sequence[Hashable]] = None,
        activation: Union[str, Sequence[str]] = "relu",
        init: Union[str, np.ndarray] = "kaiming_uniform",
        bias: bool = True,
        dropout: float = 0.0,
        seed: int = 0,
        *,
        output_activation: Optional[str] = "identity",
        layering: Union[str, np.ndarray] = "longest_path",
        all_relu_alpha: float = 0.6,
    ) -> None:
        dag = as_dag(g)
        n = dag.num_nodes
        if n == 0:
            raise ValueError("the graph has no nodes")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
        # Defaults (inputs, outputs), the layering and the output activation are resolved in
        # the one core call, so that building a network costs little more than its plan.
        input_ids = None if inputs is None else self._ids(dag, inputs, "inputs")
        output_ids = None if outputs is None else self._ids(dag, outputs, "outputs")
        codes: Union[int, np.ndarray] = (
            _activation_code(activation)
            if isinstance(activation, str)
            else _activation_codes(activation, n)
        )
        output_code = None if output_activation is None else _activation_code(output_activation)
        if isinstance(layering, str):
            self._layering_name = layering
            layers: Union[str, np.ndarray] = layering
        else:
            given = np.asarray(layering)
            if given.dtype.kind not in "iu":
                raise TypeError(f"layering must hold integer layers, got dtype {given.dtype}")
            layers = np.ascontiguousarray(given, dtype=np.int64)
            if layers.shape != (n,):
                raise ValueError(f"layering must have one layer per node ({n}), got {layers.shape}")
            self._layering_name = "given"
        if not isinstance(bias, (bool, np.bool_)):
            # bool("no") is True: only a real flag says what the caller meant.
            raise TypeError(f"bias must be True or False, got {bias!r}")
        named_init = init if isinstance(init, str) else "kaiming_uniform"
        self._core = _core.DagNetCore(
            dag._core,
            input_ids,
            output_ids,
            layers,
            codes,
            float(all_relu_alpha),
            named_init,
            _seed(seed),
            bool(bias),
            output_code,
        )
        if not isinstance(init, str):
            weights = np.ascontiguousarray(init, dtype=np.float32)
            if weights.shape != (dag.num_edges,):
                raise ValueError(
                    f"init weights must have one entry per edge ({dag.num_edges}), "
                    f"got shape {weights.shape}"
                )
            self._core.set_weights(weights)
            self._core.set_biases(np.zeros(n, dtype=np.float32))
        self.graph = dag
        self.all_relu_alpha = float(all_relu_alpha)
        self.bias = bool(bias)
        self.dropout = float(dropout)
        self.seed = int(seed)
        self.loss_: Optional[str] = None
        self.classes_: Optional[np.ndarray] = None
        self._history: dict[str, list[Any]] = {}
        self._epochs_done = 0
        self._optimizer_key: Optional[tuple[Any, ...]] = None

    # The node sets, layering and activation codes live in the core; read on demand.
    @property
    def _inputs(self) -> np.ndarray:
        return self._core.input_nodes()

    @property
    def _outputs(self) -> np.ndarray:
        return self._core.output_nodes()

    @property
    def _layers(self) -> np.ndarray:
        return self._core.node_layers()

    @property
    def _codes(self) -> np.ndarray:
        return self._core.activation_codes()

    @staticmethod
    def _ids(dag: Dag, nodes: Sequence[Hashable], what: str) -> np.ndarray:
        if dag.labels is not None:
            index = {label: i for i, label in enumerate(dag.labels)}
            try:
                return np.array([index[v] for v in nodes], dtype=np.int64)
            except KeyError as e:
                raise ValueError(f"{what}: {e.args[0]!r} is not a node of the graph") from None
        ids = np.asarray(nodes)
        if ids.size and ids.dtype.kind not in "iu":
            raise TypeError(f"{what} must be node ids (integers), got dtype {ids.dtype}")
        ids = ids.ravel()
        if ids.dtype.kind == "u" and ids.size and ids.max() >= 2**63:
            # int64 would wrap these to negative ids in the core's message
            i = int(np.argmax(ids >= 2**63))
            raise ValueError(f"{what}[{i}] = {ids[i]} is not a node of the graph")
        return ids.astype(np.int64)

    # -- structure ----------------------------------------------------------------------
    @property
    def num_inputs(self) -> int:
        return self._core.num_inputs

    @property
    def num_outputs(self) -> int:
        return self._core.num_outputs

    @property
    def num_layers(self) -> int:
        """Computed layers (parallel steps), inputs not counted."""
        return self._core.num_layers

    @property
    def inputs(self) -> np.ndarray:
        return self._inputs.copy()

    @property
    def outputs(self) -> np.ndarray:
        return self._outputs.copy()

    @property
    def layers(self) -> np.ndarray:
        """The layer of each node used to run the network."""
        return self._layers.copy()

    def layer_sizes(self) -> np.ndarray:
        return self._core.layer_sizes()

    def edges(self) -> tuple[np.ndarray, np.ndarray]:
        """``(src, dst)``: the order of :attr:`weights`."""
        return self.graph.edges()

    @property
    def weights(self) -> np.ndarray:
        """One float32 weight per edge, aligned with :meth:`edges` (a copy)."""
        return self._core.weights()

    @weights.setter
    def weights(self, values: Any) -> None:
        self._core.set_weights(np.ascontiguousarray(values, dtype=np.float32))

    @property
    def biases(self) -> np.ndarray:
        """One float32 bias per node (zero for inputs), a copy."""
        return self._core.biases()

    @biases.setter
    def biases(self, values: Any) -> None:
        self._core.set_biases(np.ascontiguousarray(values, dtype=np.float32))

    @property
    def activations(self) -> list[str]:
        """The activation name of every node."""
        return [ACTIVATIONS[c] for c in self._codes]

    @property
    def simd_level(self) -> str:
        """The instruction set the kernels use (``avx512``, ``avx2+fma``, ``sse2``...)."""
        return self._core.simd_level

    def bytes_per_connection(self, optimizer: str = "sgd") -> int:
        """Bytes kept per connection while training: source index + weight + optimiser state."""
        return _core.DagNetCore.bytes_per_connection(optimizer)

    # -- data -----------------------------------------------------------------------------
    def _check_x(self, X: Any) -> np.ndarray:
        x = _as_matrix(X, "X")
        if x.shape[1] != self.num_inputs:
            raise ValueError(
                f"X has {x.shape[1]} columns but the network has {self.num_inputs} inputs"
            )
        return x

    def _targets(self, y: Any, loss: str, rows: int, width: int, fitting: bool) -> np.ndarray:
        array = np.asarray(y)
        if array.shape[:1] != (rows,):
            raise ValueError(f"X has {rows} rows but y has shape {array.shape}")
        if loss == "cross_entropy":
            if array.ndim != 1:
                raise ValueError("cross_entropy needs y as one class label per sample (1-D)")
            if array.dtype.kind == "c":
                raise TypeError(f"class labels must not be complex, got dtype {array.dtype}")
            if array.dtype.kind in "uf":
                if array.dtype.kind == "f" and not np.isfinite(array).all():
                    raise ValueError("y contains NaN or infinity")
                if array.dtype.kind == "f" and not np.array_equal(array, np.round(array)):
                    raise ValueError("cross_entropy labels must be whole numbers")
                # Checked before the int64 cast, which would wrap or saturate these.
                too_large = np.flatnonzero(array >= 2**32)
                if too_large.size:
                    i = too_large[0]
                    raise ValueError(
                        f"y[{i}] = {array[i]} is not a valid class label (labels are 0, 1, 2, ...)"
                    )
            if array.dtype.kind in "iuf":
                return np.ascontiguousarray(array, dtype=np.int64)
            if array.dtype.kind == "b":
                return array.astype(np.int64)
            if fitting and self.classes_ is None:
                try:
                    classes = np.unique(array)
                except TypeError:  # for example None, or strings mixed with numbers
                    raise TypeError(
                        "y must hold class labels of one kind that sort (numbers or strings)"
                    ) from None
                if len(classes) > width:
                    raise ValueError(
                        f"y holds {len(classes)} classes but the network has {width} outputs "
                        "(one per class)"
                    )
                self.classes_ = classes
            if self.classes_ is None:
                raise TypeError(f"y must hold class labels, got dtype {array.dtype}")
            codes = np.searchsorted(self.classes_, array)
            codes = np.minimum(codes, len(self.classes_) - 1)
            unknown = self.classes_[codes] != array
            if unknown.any():
                raise ValueError(f"y holds a label not seen in training: {array[unknown][0]!r}")
            return codes.astype(np.int64)
        if loss != "mse":
            raise ValueError(f"unknown loss {loss!r}; choose 'mse' or 'cross_entropy'")
        if array.dtype.kind not in "fiub":
            raise TypeError(f"y must hold numbers for the mse loss, got dtype {array.dtype}")
        if array.ndim == 1:
            array = array.reshape(-1, 1)
        if array.ndim != 2:
            raise ValueError(f"y must be 1-D or 2-D, got shape {array.shape}")
        if array.shape[1] != width:
            raise ValueError(f"y has {array.shape[1]} columns but the network has {width} outputs")
        with np.errstate(over="ignore"):
            values = np.ascontiguousarray(array, dtype=np.float32)
        if not np.isfinite(values).all():
            raise ValueError("y contains NaN or infinity")
        return values

    def _check_workspace(self, batch: int) -> None:
        """Training keeps three float32 rows of ``batch`` values per neuron."""
        check_fits(
            12.0 * self.graph.num_nodes * batch,
            f"a batch of {batch} rows through {self.graph.num_nodes} neurons",
            "use a smaller batch_size (or fewer rows for gradients)",
        )

    # -- training -------------------------------------------------------------------------
    def fit(
        self,
        X: Any,
        y: Any,
        epochs: int = 10,
        batch_size: int = 128,
        lr: float = 0.01,
        optimizer: str = "sgd",
        loss: str = "mse",
        weight_decay: float = 0.0,
        shuffle: bool = True,
        seed: Optional[int] = None,
        validation_data: Optional[tuple[Any, Any]] = None,
        progress: bool = True,
        momentum: float = 0.9,
    ) -> dict[str, list[Any]]:
        """Trains from the current weights with a fresh optimiser state.

        Returns the history: per-epoch ``loss`` (mean training loss over the epoch's
        batches), ``accuracy`` for cross-entropy, ``val_loss``/``val_accuracy`` with
        ``validation_data``, and ``time`` (seconds per epoch). Ctrl-C stops after the current
        batch (``KeyboardInterrupt``); the history so far is kept in :attr:`history_`. A loss,
        weight or bias that stops being finite raises ``FloatingPointError`` naming the epoch.
        """
        self._core.reset_optimizer()
        self._epochs_done = 0
        self._history = {}
        # The labels of an earlier fit must not rename this fit's classes.
        self.classes_ = None
        self._train(
            X,
            y,
            epochs,
            batch_size,
            lr,
            optimizer,
            loss,
            weight_decay,
            shuffle,
            seed,
            validation_data,
            progress,
            momentum,
            groups=1,
        )
        return self.history_

    @property
    def history_(self) -> dict[str, list[float]]:
        """Per-epoch history of the last :meth:`fit` (and later :meth:`partial_fit` calls)."""
        return {
            k: [v[0] if isinstance(v, list) else v for v in vs] for k, vs in self._history.items()
        }

    def partial_fit(
        self,
        X: Any,
        y: Any,
        batch_size: int = 128,
        lr: float = 0.01,
        optimizer: str = "sgd",
        loss: str = "mse",
        weight_decay: float = 0.0,
        shuffle: bool = True,
        seed: Optional[int] = None,
        momentum: float = 0.9,
    ) -> DagNet:
        """One epoch over ``X, y``, keeping the optimiser state between calls."""
        self._train(
            X,
            y,
            1,
            batch_size,
            lr,
            optimizer,
            loss,
            weight_decay,
            shuffle,
            seed,
            None,
            False,
            momentum,
            groups=1,
        )
        return self

    def _train(
        self,
        X: Any,
        y: Any,
        epochs: int,
        batch_size: int,
        lr: float,
        optimizer: str,
        loss: str,
        weight_decay: float,
        shuffle: bool,
        seed: Optional[int],
        validation_data: Optional[tuple[Any, Any]],
        progress: bool,
        momentum: float,
        groups: int,
    ) -> dict[str, list[Any]]:
        epochs, batch_size = _whole(epochs, "epochs"), _whole(batch_size, "batch_size")
        if epochs < 0:
            raise ValueError(f"epochs must be non-negative, got {epochs}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if self.loss_ is not None and loss != self.loss_ and self._epochs_done:
            self._core.reset_optimizer()
        x = self._check_x(X)
        width = self.num_outputs // groups
        targets = self._targets(y, loss, x.shape[0], width, fitting=True)
        val = None
        if validation_data is not None:
            vx, vy = validation_data
            vxx = self._check_x(vx)
            val = (vxx, self._targets(vy, loss, vxx.shape[0], width, fitting=False))
        key = (optimizer, float(momentum))
        if key != self._optimizer_key:
            self._core.reset_optimizer()
            self._optimizer_key = key
        self.loss_ = loss
        rows = x.shape[0]
        # A batch beyond the rows is one batch of all rows (so sizes past 2**64 work too).
        batch_size = min(batch_size, rows)
        self._check_workspace(batch_size)
        seed = self.seed if seed is None else _seed(seed)
        num_batches = -(-rows // batch_size)
        chunk = max(1, num_batches // 25) if progress else num_batches
        bar = _Progress(progress, epochs)
        history = self._history
        for _ in range(epochs):
            epoch = self._epochs_done
            started = time.perf_counter()
            if shuffle:
                order = _core.shuffle_order(rows, seed, epoch)
            else:
                order = np.arange(rows, dtype=np.int64)
            loss_sum = np.zeros(groups)
            correct = np.zeros(groups)
            seen = 0
            try:
                for first in range(0, num_batches, chunk):
                    sums, hits, count = self._core.train(
                        x,
                        targets,
                        order,
                        first,
                        chunk,
                        batch_size,
                        loss,
                        optimizer,
                        float(lr),
                        float(momentum),
                        float(weight_decay),
                        self.dropout,
                        seed,
                        groups,
                    )
                    loss_sum += sums
                    correct += hits
                    seen += count
                    if groups == 1 and not np.isfinite(loss_sum).all():
                        raise _diverged(epoch, lr, "the loss is not finite")
                    bar.update(
                        epoch % max(epochs, 1),
                        min(first + chunk, num_batches),
                        num_batches,
                        float(loss_sum.mean() / max(seen, 1)),
                    )
            except (KeyboardInterrupt, FloatingPointError):
                bar.abort()
                raise
            # The loss is taken before each update: the last one may still have overflowed, or
            # left finite weights (~1e30) whose outputs overflow.
            if groups == 1 and not (
                np.isfinite(self._core.weights()).all()
                and np.isfinite(self._core.biases()).all()
                and np.isfinite(self._core.predict(x[:64])).all()
            ):
                bar.abort()
                raise _diverged(epoch, lr, "some weights or outputs are not finite")
            self._epochs_done += 1
            record: dict[str, Any] = {"loss": (loss_sum / seen).tolist()}
            if loss == "cross_entropy":
                record["accuracy"] = (correct / seen).tolist()
            if val is not None:
                sums, hits, count = self._core.evaluate(val[0], val[1], loss, groups)
                record["val_loss"] = (np.asarray(sums) / count).tolist()
                if loss == "cross_entropy":
                    record["val_accuracy"] = (np.asarray(hits) / count).tolist()
            record["time"] = time.perf_counter() - started
            # Every list keeps one entry per epoch, NaN where this epoch or an earlier one had
            # no such value (partial_fit calls with another loss or without validation data).
            recorded = len(history.get("time", []))
            missing = [math.nan] * groups
            for k in history.keys() - record.keys():
                history[k].append(missing)
            for k, v in record.items():
                history.setdefault(k, [missing] * recorded).append(v)
            summary = "  ".join(
                f"{k} {np.mean(v):.4f}" for k, v in record.items() if k not in ("time", "loss")
            )
            bar.end_epoch(summary)
        return history

    # -- inference ------------------------------------------------------------------------
    def forward(self, X: Any, *, memory: str = "full", schedule: Any = None) -> np.ndarray:
        """Raw output activations, shape ``(rows, num_outputs)``, float32.

        ``memory="full"`` runs layer by layer with one activation row per neuron.
        ``memory="low"`` runs in a memory-minimising topological order
        (:func:`sparsedag.topological_order` with ``method="min_memory"``, computed once) and
        frees each activation after its last use. ``schedule`` (an :func:`sparsedag.io_schedule`
        result or a topological order of node ids) runs in that order, also freeing rows.
        Every mode gives the same outputs (same kernel and summation order per neuron).
        ``schedule`` may also be an edge order (``io_schedule(net, M, method="tiled")`` or an
        ``(m, 2)`` array of (source, target) pairs, checked once: ``ValueError`` naming the
        first offending edge): each neuron then sums its in-edges in that order and adds its
        bias last, so the outputs equal the others to float rounding.
        """
        x = self._check_x(X)
        if memory == "full" and schedule is None:
            return self._core.predict(x)
        return _ordered.forward(self, x, memory, schedule)

    def activation_rows(self, memory: str = "low", schedule: Any = None) -> int:
        """Activation rows (one batch of float32 each) that :meth:`forward` keeps in the given
        mode: one per node for ``"full"``, else the inputs plus the most alive at once."""
        return _ordered.activation_rows(self, memory, schedule)

    def schedule_cache_bytes(self) -> int:
        """Bytes of parameters held for the ordered passes (``memory="low"``,
        ``schedule=``): the order that ran last keeps the weights, biases and activations copied
        in its execution order (about 4 bytes per edge plus 12 per neuron; 8 and 20 for an edge
        order), remade when the parameters change; 0 when no ordered pass has run or after
        :meth:`clear_schedule_cache`."""
        return _ordered.cache_bytes(self)

    def clear_schedule_cache(self) -> None:
        """Frees the planned orders and their parameter copies (the next ordered pass plans
        and copies again)."""
        _ordered.clear_cache(self)

    @property
    def dag(self) -> Dag:
        """The wiring (as ``graph``), so ``sd.io_schedule(net, ...)`` takes the network."""
        return self.graph

    def predict(self, X: Any, *, memory: str = "full", schedule: Any = None) -> np.ndarray:
        """Class labels after cross-entropy training, else the outputs (rows x outputs).
        ``memory``/``schedule`` choose the evaluation order, as in :meth:`forward`."""
        out = self.forward(X, memory=memory, schedule=schedule)
        if self.loss_ == "cross_entropy":
            if self.classes_ is None:
                return out.argmax(axis=1)
            # Outputs beyond the classes seen in training name no class.
            return self.classes_[out[:, : len(self.classes_)].argmax(axis=1)]
        return out

    def predict_proba(self, X: Any) -> np.ndarray:
        """Softmax of the outputs (for networks trained with cross-entropy); with labels other
        than 0, 1, ... (``classes_``), one column per class in ``classes_`` order."""
        out = self.forward(X).astype(np.float64)
        if self.classes_ is not None:
            out = out[:, : len(self.classes_)]
        out -= out.max(axis=1, keepdims=True)
        np.exp(out, out=out)
        out /= out.sum(axis=1, keepdims=True)
        return out

    def score(self, X: Any, y: Any) -> float:
        """Accuracy after cross-entropy training, else the coefficient of determination R²."""
        x = self._check_x(X)
        if self.loss_ == "cross_entropy":
            truth = np.asarray(y)
            self._targets(truth, "cross_entropy", x.shape[0], self.num_outputs, fitting=False)
            return float(np.mean(self.predict(x) == truth))
        # Shape, dtype and finiteness as in fit (a NaN in y made the score 0.0).
        self._targets(y, "mse", x.shape[0], self.num_outputs, fitting=False)
        pred = self.forward(x).astype(np.float64)
        truth = np.asarray(y, dtype=np.float64).reshape(pred.shape)
        residual = ((truth - pred) ** 2).sum()
        total = ((truth - truth.mean(axis=0)) ** 2).sum()
        return float(1.0 - residual / total) if total > 0 else 0.0

    def evaluate(self, X: Any, y: Any, loss: Optional[str] = None) -> float:
        """Mean loss on a data set (no dropout)."""
        loss = loss or self.loss_ or "mse"
        x = self._check_x(X)
        targets = self._targets(y, loss, x.shape[0], self.num_outputs, fitting=False)
        sums, _, count = self._core.evaluate(x, targets, loss, 1)
        return float(sums[0] / count)

    def gradients(self, X: Any, y: Any, loss: str = "mse") -> tuple[np.ndarray, np.ndarray]:
        """Gradients of the mean loss over all rows: per edge (order of :meth:`edges`) and per
        node (bias). The model is not changed."""
        x = self._check_x(X)
        targets = self._targets(y, loss, x.shape[0], self.num_outputs, fitting=False)
        self._check_workspace(x.shape[0])  # all rows form one batch
        return self._core.gradients(x, targets, loss, 1)

    # -- persistence ----------------------------------------------------------------------
    def _arrays(self) -> dict[str, Any]:
        """Structure, settings and parameters as named arrays (the ``.npz`` entries)."""
        src, dst = self.edges()
        return {
            "format": np.array(FORMAT_TAG),
            "version": np.array(FORMAT_VERSION),
            "num_nodes": np.array(self.graph.num_nodes),
            "src": src,
            "dst": dst,
            "inputs": self._inputs,
            "outputs": self._outputs,
            "layers": self._layers,
            "activations": np.array(self.activations),
            "all_relu_alpha": np.array(self.all_relu_alpha),
            "bias": np.array(self.bias),
            "dropout": np.array(self.dropout),
            "seed": np.array(self.seed),
            "weights": self.weights,
            "biases": self.biases,
            "loss": np.array(self.loss_ or ""),
        }

    def save(self, path: Union[str, os.PathLike[str]]) -> None:
        """Writes the network to an ``.npz`` file (no pickle): structure, weights, biases."""
        arrays = self._arrays()
        labels = self.graph.labels
        if labels is not None and (
            all(isinstance(v, str) for v in labels)
            or all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in labels)
        ):
            arrays["labels"] = np.array(labels)
        if self.classes_ is not None and self.classes_.dtype.kind in "iufUb":
            arrays["classes"] = self.classes_
        with open(path, "wb") as f:
            np.savez(f, **arrays)

    def __getstate__(self) -> dict[str, Any]:
        """Pickling and ``copy.deepcopy`` keep what :meth:`save` writes plus any node labels,
        ``classes_`` and the history; the optimiser state (momentum, Adam) restarts."""
        return {
            "arrays": self._arrays(),
            "labels": self.graph.labels,
            "classes": self.classes_,
            "history": self._history,
            "epochs_done": self._epochs_done,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        net = _from_arrays(state["arrays"], "pickled DagNet", state["labels"])
        self.__dict__.update(net.__dict__)
        self.classes_ = state["classes"]
        self._history = state["history"]
        self._epochs_done = state["epochs_done"]

    def __repr__(self) -> str:
        return (
            f"DagNet(nodes={self.graph.num_nodes}, edges={self.graph.num_edges}, "
            f"inputs={self.num_inputs}, outputs={self.num_outputs}, layers={self.num_layers})"
        )


def load(path: Union[str, os.PathLike[str]]) -> DagNet:
    """Reads a network written by :meth:`DagNet.save`. Raises ``ValueError`` for a file that is
    corrupt or not a sparsedag network."""
    try:
        with np.load(path, allow_pickle=False) as data:
            files = {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise
    except Exception as e:  # zipfile.BadZipFile, OSError, ValueError from numpy
        raise ValueError(f"{path}: not a readable sparsedag file ({e})") from None
    labels = files["labels"].tolist() if "labels" in files else None
    net = _from_arrays(files, str(path), labels)
    if "classes" in files:
        net.classes_ = files["classes"]
    return net


def _from_arrays(files: dict[str, Any], source: str, labels: Optional[list[Any]]) -> DagNet:
    """The network of :meth:`DagNet._arrays` entries, or ``ValueError`` naming ``source``."""
    if "format" not in files or str(files["format"]) != FORMAT_TAG:
        raise ValueError(f"{source}: not a sparsedag DagNet file (no {FORMAT_TAG!r} tag)")
    version = int(files.get("version", -1))
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{source}: DagNet file format version {version}; this sparsedag reads version "
            f"{FORMAT_VERSION}"
        )
    required = ("num_nodes", "src", "dst", "inputs", "outputs", "layers", "activations")
    missing = [k for k in (*required, "weights", "biases") if k not in files]
    if missing:
        raise ValueError(f"{source}: corrupt DagNet file, missing {', '.join(missing)}")
    try:
        n = int(files["num_nodes"])
        dag = Dag.from_edges(files["src"], files["dst"], n)
        if labels is not None:
            dag = Dag(dag._core, labels)
        net = DagNet(
            dag,
            inputs=dag.label(files["inputs"]),
            outputs=dag.label(files["outputs"]),
            activation=[str(a) for a in files["activations"]],
            init=files["weights"],
            bias=bool(files["bias"]),
            dropout=float(files["dropout"]),
            seed=int(files["seed"]),
            output_activation=None,
            layering=files["layers"],
            all_relu_alpha=float(files["all_relu_alpha"]),
        )
        net.biases = files["biases"]
    except (ValueError, TypeError, KeyError, IndexError) as e:
        raise ValueError(f"{source}: corrupt DagNet file ({e})") from None
    loss = str(files.get("loss", ""))
    net.loss_ = loss or None
    return net
