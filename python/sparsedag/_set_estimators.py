"""Sparse MLPs trained with SET (sparse evolutionary training) as scikit-learn estimators.

A sparse MLP is a layered DAG, so it runs on the neural engine (same kernels, optimiser and
losses as :class:`sparsedag.DagNet`); the SET rules (Erdős–Rényi layers, evolution, importance
pruning) run in Rust (``sparsedag.sparse``). Parameters are plain ``__init__`` attributes, so
``get_params``/``set_params``/``clone`` work; scikit-learn itself is optional.

Defaults that learn
-------------------
The published SET settings (lr 0.01, dropout 0.3, He-uniform weights scaled by the full layer
width) stay near chance on standardized data with deep sparse nets: with a sparse row of
k << n_in inputs, weights drawn with limit sqrt(6 / n_in) shrink every layer's output by about
sqrt(k / n_in), and at lr 0.01 with dropout 0.3 the signal never recovers within 10 epochs.
Our defaults use lr 0.05 and no dropout (``benches/set_defaults.py`` measures both on the case
of the issue). We keep the width-scaled init: scaling by each neuron's real fan-in
(``init="he_uniform_neuron"``) learns with a static topology but, with evolution, every step
replaces the weights closest to zero by fresh draws of full initial scale, so the weight
variance ratchets up epoch after epoch and the loss diverges (measured in the same script).
``published()`` (or the parameters in :data:`PUBLISHED`) reproduces the papers' settings.
"""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from typing import Any, Optional

import numpy as np

from . import _core
from ._core import SetMlpCore
from ._resources import check_fits

try:  # scikit-learn is optional: with it the estimators get its mixins, tags and checks.
    from sklearn.base import BaseEstimator as _Base
    from sklearn.base import ClassifierMixin as _ClassifierMixin
    from sklearn.base import RegressorMixin as _RegressorMixin

    _HAVE_SKLEARN = True
except ImportError:  # pragma: no cover - exercised only without scikit-learn
    _HAVE_SKLEARN = False

    class _Base:  # type: ignore[no-redef]
        """get_params/set_params from the ``__init__`` signature, as scikit-learn does."""

        @classmethod
        def _get_param_names(cls) -> list[str]:
            import inspect

            sig = inspect.signature(cls.__init__)
            return sorted(p for p in sig.parameters if p != "self")

        def get_params(self, deep: bool = True) -> dict[str, Any]:
            return {name: getattr(self, name) for name in self._get_param_names()}

        def set_params(self, **params: Any) -> Any:
            valid = self._get_param_names()
            for key, value in params.items():
                if key not in valid:
                    raise ValueError(f"invalid parameter {key!r} for {type(self).__name__}")
                setattr(self, key, value)
            return self

        def __repr__(self) -> str:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
            return f"{type(self).__name__}({args})"

    class _ClassifierMixin:  # type: ignore[no-redef]
        _estimator_type = "classifier"

        def score(self, X: Any, y: Any) -> float:
            return float(np.mean(self.predict(X) == np.asarray(y)))  # type: ignore[attr-defined]

    class _RegressorMixin:  # type: ignore[no-redef]
        _estimator_type = "regressor"

        def score(self, X: Any, y: Any) -> float:
            y = np.asarray(y, dtype=np.float64)
            pred = np.asarray(self.predict(X), dtype=np.float64).reshape(y.shape)  # type: ignore[attr-defined]
            ss_res = ((y - pred) ** 2).sum()
            ss_tot = ((y - y.mean(axis=0)) ** 2).sum()
            return float(1.0 - ss_res / ss_tot) if ss_tot > 0 else 0.0


#: The settings of the SET papers (Mocanu et al. 2018; Curci et al. 2021).
PUBLISHED: dict[str, Any] = {"lr": 0.01, "dropout": 0.3, "init": "he_uniform"}

INITS = ("he_uniform_neuron", "he_uniform", "xavier_uniform")
PARALLEL_MODES = ("threads", "data")
#: The most threads ``sparsedag.set_num_threads`` starts.
MAX_THREADS = 1024


class _Progress:
    """One text line per epoch on stderr, redrawn as batches complete."""

    def __init__(self, enabled: bool, epochs: int, name: str) -> None:
        self.enabled = enabled
        self.epochs = epochs
        self.name = name
        self.last = 0.0

    def update(self, epoch: int, done: int, total: int, loss: float) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        width = 24
        filled = int(width * done / max(total, 1))
        sys.stderr.write(
            f"\r{self.name} epoch {epoch + 1}/{self.epochs} "
            f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}  loss {loss:.4f}"
        )
        sys.stderr.flush()

    def end_epoch(self, text: str) -> None:
        if self.enabled:
            sys.stderr.write(f"  {text}\n")
            sys.stderr.flush()

    def abort(self) -> None:
        if self.enabled:
            sys.stderr.write("  (interrupted: the model keeps the batches trained so far)\n")
            sys.stderr.flush()


def _check_matrix(X: Any, name: str = "X") -> np.ndarray:
    if _HAVE_SKLEARN:  # its messages are the ones scikit-learn users (and its checks) expect
        from sklearn.utils import check_array

        X = check_array(X, accept_sparse=False, dtype=(np.float32, np.float64), input_name=name)
    if hasattr(X, "toarray") and not isinstance(X, np.ndarray):
        raise TypeError(f"{name} is a sparse matrix; sparse MLPs need dense features (X.toarray())")
    try:
        array = np.asarray(X)
    except Exception as error:
        raise ValueError(f"{name} cannot be converted to a numeric array: {error}") from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must hold numbers, got dtype {array.dtype}") from None
    if np.iscomplexobj(array):
        raise ValueError(f"{name} must be real; complex data are not supported")
    if array.ndim != 2:
        raise ValueError(
            f"Expected 2D array, got {array.ndim}D array instead: {name} must have shape "
            "(n_samples, n_features); reshape a single feature with X.reshape(-1, 1)"
        )
    if array.shape[0] == 0:
        raise ValueError(f"{name} has 0 samples (shape {array.shape}); at least 1 is required")
    if array.shape[1] == 0:
        raise ValueError(f"{name} has 0 features (shape {array.shape}); at least 1 is required")
    out = np.ascontiguousarray(array, dtype=np.float32)
    if not np.isfinite(out).all():
        bad = np.argwhere(~np.isfinite(out))[0]
        raise ValueError(
            f"{name} contains NaN or infinity (first at row {bad[0]}, column {bad[1]}), or a "
            "value too large for float32"
        )
    return out


def _check_int(value: Any, name: str, minimum: int, maximum: Optional[int] = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value!r}")
    return int(value)


def _check_float(value: Any, name: str, low: float, high: float, closed_high: bool) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    v = float(value) if ok else math.nan
    inside = low <= v <= high if closed_high else low <= v < high
    if not (ok and math.isfinite(v) and inside):
        bracket = "]" if closed_high else ")"
        raise ValueError(f"{name} must be a number in [{low}, {high}{bracket}, got {value!r}")
    return v


class _SparseMLP(_Base):
    """Shared machinery of :class:`SparseMLPClassifier` and :class:`SparseMLPRegressor`."""

    _loss = "mse"
    _default_lr = 0.01

    def __init__(
        self,
        hidden: tuple[int, ...] = (1000, 1000, 1000),
        *,
        epsilon: float = 20.0,
        zeta: float = 0.3,
        evolve_output_layer: bool = False,
        activation: str = "all_relu",
        alpha: float = 0.6,
        importance_pruning: Optional[tuple[int, int, float]] = None,
        dropout: float = 0.0,
        lr: Optional[float] = None,
        momentum: float = 0.9,
        weight_decay: float = 2e-4,
        batch_size: int = 128,
        epochs: int = 10,
        init: str = "he_uniform",
        seed: int = 0,
        n_jobs: Optional[int] = None,
        parallel: str = "threads",
        workers: int = 2,
        local_fraction: float = 0.3,
        standardize: bool = True,
        progress: bool = False,
    ) -> None:
        self.hidden = hidden
        self.epsilon = epsilon
        self.zeta = zeta
        self.evolve_output_layer = evolve_output_layer
        self.activation = activation
        self.alpha = alpha
        self.importance_pruning = importance_pruning
        self.dropout = dropout
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.epochs = epochs
        self.init = init
        self.seed = seed
        self.n_jobs = n_jobs
        self.parallel = parallel
        self.workers = workers
        self.local_fraction = local_fraction
        self.standardize = standardize
        self.progress = progress

    @classmethod
    def published(cls, **params: Any) -> Any:
        """An estimator with the SET papers' settings (:data:`PUBLISHED`: lr 0.01, dropout
        0.3, He-uniform scaled by the full layer width); ``params`` override them. Our defaults
        differ in lr (0.05) and dropout (0.0); see the module documentation for why."""
        return cls(**{**PUBLISHED, **params})

    # -- validation ---------------------------------------------------------------------------
    def _validated(self) -> dict[str, Any]:
        hidden = self.hidden
        if isinstance(hidden, (int, np.integer)) and not isinstance(hidden, bool):
            hidden = (hidden,)
        try:
            hidden = tuple(hidden)
        except TypeError:
            raise ValueError(f"hidden must be a sequence of layer widths, got {hidden!r}") from None
        if len(hidden) == 0:
            raise ValueError("hidden is empty: a sparse MLP needs at least one hidden layer")
        for h in hidden:
            _check_int(h, "every hidden layer width", 1)
        eps = self.epsilon
        if (
            isinstance(eps, bool)
            or not isinstance(eps, (int, float, np.integer, np.floating))
            or not math.isfinite(float(eps))
            or eps <= 0
        ):
            raise ValueError(f"epsilon must be a positive number, got {eps!r}")
        zeta = _check_float(self.zeta, "zeta", 0.0, 1.0, closed_high=False)
        names = list(_core.activation_names())
        if self.activation not in names:
            raise ValueError(
                f"unknown activation {self.activation!r}; choose one of {', '.join(names)}"
            )
        if self.init not in INITS:
            raise ValueError(f"unknown init {self.init!r}; choose one of {', '.join(INITS)}")
        if self.parallel not in PARALLEL_MODES:
            raise ValueError(f"unknown parallel mode {self.parallel!r}; choose 'threads' or 'data'")
        alpha = _check_float(self.alpha, "alpha", 0.0, math.inf, closed_high=True)
        pruning = self.importance_pruning
        if pruning is not None:
            try:
                start, every, q = pruning
            except (TypeError, ValueError):
                raise ValueError(
                    "importance_pruning must be None or (start_epoch, every, percentile), "
                    f"got {pruning!r}"
                ) from None
            pruning = (
                _check_int(start, "importance_pruning start_epoch", 0),
                _check_int(every, "importance_pruning every", 1),
                _check_float(q, "importance_pruning percentile", 0.0, 100.0, closed_high=True),
            )
        n_jobs = self.n_jobs
        if n_jobs is not None:
            if n_jobs == -1:
                n_jobs = min(os.cpu_count() or 1, MAX_THREADS)
            # Checked here, before a fit replaces the model: set_num_threads takes 1 to 1024.
            n_jobs = _check_int(n_jobs, "n_jobs", 1, MAX_THREADS)
        return {
            "hidden": hidden,
            "epsilon": float(eps),
            "zeta": zeta,
            "alpha": alpha,
            "pruning": pruning,
            "dropout": _check_float(self.dropout, "dropout", 0.0, 1.0, closed_high=False),
            "lr": _check_float(
                self._default_lr if self.lr is None else self.lr,
                "lr",
                0.0,
                math.inf,
                closed_high=True,
            ),
            "momentum": _check_float(self.momentum, "momentum", 0.0, 1.0, closed_high=False),
            "weight_decay": _check_float(
                self.weight_decay, "weight_decay", 0.0, math.inf, closed_high=True
            ),
            "batch_size": _check_int(self.batch_size, "batch_size", 1),
            "epochs": _check_int(self.epochs, "epochs", 1),
            "seed": _check_int(self.seed, "seed", 0, 2**64 - 1),
            "n_jobs": n_jobs,
            "workers": _check_int(self.workers, "workers", 1),
            "local_fraction": _check_float(
                self.local_fraction, "local_fraction", 0.0, 1.0, closed_high=True
            ),
        }

    def _check_is_fitted(self) -> None:
        if getattr(self, "_core", None) is None:
            message = (
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )
            if _HAVE_SKLEARN:
                from sklearn.exceptions import NotFittedError

                raise NotFittedError(message)
            raise RuntimeError(message)

    def _check_predict_x(self, X: Any) -> np.ndarray:
        self._check_is_fitted()
        x = _check_matrix(X)
        if x.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {x.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input"
            )
        return x

    # -- training -----------------------------------------------------------------------------
    def _encode_targets(self, y: Any, fitting: bool) -> tuple[np.ndarray, int]:
        raise NotImplementedError

    def fit(self, X: Any, y: Any) -> Any:
        """Trains a new network for ``epochs`` epochs with SET evolution between epochs.

        Progress goes to stderr when ``progress`` is true. Ctrl-C stops after the current
        batch: the model stays usable (``interrupted_`` is set) and ``KeyboardInterrupt`` is
        raised again.
        """
        self._core = None
        return self._train(X, y, fitting=True)

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> Any:
        """One more epoch (with an evolution step first, except before the very first epoch).
        Always intra-op threads."""
        if getattr(self, "_core", None) is None:
            return self._train(X, y, fitting=True, classes=classes, epochs=1)
        return self._train(X, y, fitting=False, epochs=1)

    def _train(
        self,
        X: Any,
        y: Any,
        fitting: bool,
        classes: Any = None,
        epochs: Optional[int] = None,
    ) -> Any:
        p = self._validated()
        x = _check_matrix(X)
        if y is None:
            raise ValueError("requires y to be passed, but the target y is None")
        if fitting:
            self._prepare_targets(y, classes)
            self.n_features_in_ = x.shape[1]
            if self.standardize:
                mean = x.mean(axis=0, dtype=np.float64)
                std = x.std(axis=0, dtype=np.float64)
                self.feature_mean_ = mean.astype(np.float32)
                self.feature_scale_ = np.where(std > 0, std, 1.0).astype(np.float32)
            else:
                self.feature_mean_ = self.feature_scale_ = None
        elif x.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {x.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input"
            )
        x = self._scaled(x)
        targets, outputs = self._encode_targets(y, fitting=False)
        if targets.shape[0] != x.shape[0]:
            raise ValueError(
                f"X has {x.shape[0]} samples but y has {targets.shape[0]}; they must match"
            )
        if fitting:
            _check_fits_in_memory(
                [x.shape[1], *p["hidden"], outputs],
                p["epsilon"],
                min(p["batch_size"], x.shape[0]),
                p["workers"] if epochs is None and self.parallel == "data" else 0,
            )
            self._core = SetMlpCore(
                [x.shape[1], *p["hidden"], outputs],
                epsilon=p["epsilon"],
                init=self.init,
                activation=self.activation,
                alpha=p["alpha"],
                seed=p["seed"],
            )
            self._epochs_done = 0
            self.history_: dict[str, list[float]] = {
                key: []
                for key in (
                    "loss",
                    "accuracy",
                    "connections",
                    "neurons",
                    "time_train",
                    "time_evolve",
                    "connections_replaced",
                    "neurons_pruned",
                )
            }
            self.interrupted_ = False
        n_epochs = p["epochs"] if epochs is None else epochs
        data_parallel = fitting and epochs is None and self.parallel == "data"
        previous_threads = _core.get_num_threads()
        if p["n_jobs"] is not None:
            _core.set_num_threads(p["n_jobs"])
        try:
            self._run_epochs(x, targets, p, n_epochs, data_parallel)
        finally:
            # The batch buffers (3 x 4 bytes x batch per neuron) outweigh the network itself;
            # keep only the persistent state between calls.
            self._core.release_workspace()
            if p["n_jobs"] is not None:
                _core.set_num_threads(previous_threads)
        return self

    def _between_epochs(self, p: dict[str, Any], epoch: int) -> tuple[float, int, int]:
        """Evolution, then importance pruning when scheduled, before global epoch ``epoch``."""
        started = time.perf_counter()
        replaced = pruned = 0
        if epoch > 0 and p["zeta"] > 0:
            try:
                replaced = self._core.evolve(
                    p["zeta"],
                    bool(self.evolve_output_layer),
                    (p["seed"] * 1_000_003 + epoch) % 2**64,  # a u64 for any seed below 2**64
                )
            except ValueError as error:
                if "not finite" not in str(error):
                    raise
                raise FloatingPointError(
                    f"training diverged before epoch {epoch + 1}: some weights are not finite. "
                    f"Lower lr (now {p['lr']}) or standardize X."
                ) from None
        if p["pruning"] is not None and epoch > 0:
            start, every, q = p["pruning"]
            if epoch >= start and (epoch - start) % every == 0:
                pruned = self._core.importance_prune(q)
        return time.perf_counter() - started, replaced, pruned

    def _run_epochs(
        self,
        x: np.ndarray,
        targets: np.ndarray,
        p: dict[str, Any],
        n_epochs: int,
        data_parallel: bool,
    ) -> None:
        core = self._core
        rows = x.shape[0]
        batch = min(p["batch_size"], rows)  # the same batches; sizes past 2**64 work too
        train_args = (self._loss, p["lr"], p["momentum"], p["weight_decay"], p["dropout"])
        bar = _Progress(bool(self.progress), n_epochs, type(self).__name__)
        shared_epochs = n_epochs
        if data_parallel:
            workers = min(p["workers"], rows)
            core.start_data_parallel(rows, workers, p["seed"])
            local = round(p["local_fraction"] * n_epochs)
            shared_epochs = n_epochs - min(local, n_epochs - 1) if n_epochs > 1 else 1
        try:
            for i in range(n_epochs):
                epoch = self._epochs_done
                local_phase = data_parallel and i >= shared_epochs
                t_evolve, replaced, pruned = (0.0, 0, 0)
                if not local_phase or i == shared_epochs:
                    t_evolve, replaced, pruned = self._between_epochs(p, epoch)
                started = time.perf_counter()
                loss_sum, correct, seen = 0.0, 0, 0
                if local_phase:
                    last = i == n_epochs - 1
                    try:
                        sums, hits, seen = core.train_local(
                            x,
                            targets,
                            epoch,
                            batch,
                            *train_args,
                            p["seed"],
                            not last and p["zeta"] > 0,
                            p["zeta"],
                            bool(self.evolve_output_layer),
                        )
                    except ValueError as error:  # a worker's evolution met non-finite weights
                        if "not finite" not in str(error):
                            raise
                        _check_diverged(math.nan, epoch, p["lr"])
                    loss_sum, correct = float(sums[0]), int(hits[0])
                    _check_diverged(loss_sum, epoch, p["lr"])
                    bar.update(i, 1, 1, loss_sum / max(seen, 1))
                else:
                    if data_parallel:
                        total = core.shared_rounds(batch)
                    else:
                        total = -(-rows // batch)
                        order = _core.shuffle_order(rows, p["seed"], epoch)
                    chunk = max(1, total // 25) if self.progress else total
                    for first in range(0, total, chunk):
                        if data_parallel:
                            sums, hits, count = core.train_shared(
                                x, targets, epoch, first, chunk, batch, *train_args, p["seed"]
                            )
                        else:
                            sums, hits, count = core.train(
                                x, targets, order, first, chunk, batch, *train_args, p["seed"]
                            )
                        loss_sum += float(sums[0])
                        correct += int(hits[0])
                        seen += int(count)
                        _check_diverged(loss_sum, epoch, p["lr"])
                        bar.update(i, min(first + chunk, total), total, loss_sum / max(seen, 1))
                t_train = time.perf_counter() - started
                if data_parallel and i == n_epochs - 1:
                    merge_started = time.perf_counter()
                    core.finish_data_parallel()
                    t_evolve += time.perf_counter() - merge_started
                if not local_phase or i == n_epochs - 1:
                    # The loss is taken before each update: the last one may have overflowed.
                    _check_parameters(core, x, epoch, p["lr"])
                self._epochs_done += 1
                self._record(
                    loss_sum / max(seen, 1),
                    correct / max(seen, 1),
                    t_train,
                    t_evolve,
                    replaced,
                    pruned,
                )
                bar.end_epoch(self._epoch_summary())
        except KeyboardInterrupt:
            bar.abort()
            self.interrupted_ = True
            if data_parallel:
                core.finish_data_parallel()
            raise
        except Exception:
            # A failed fit (for example a diverged one) keeps neither the shards nor the
            # workers' copies of the network; their weights are not merged into the model.
            if data_parallel:
                core.abandon_data_parallel()
            raise

    def _record(
        self,
        loss: float,
        accuracy: float,
        t_train: float,
        t_evolve: float,
        replaced: int,
        pruned: int,
    ) -> None:
        h = self.history_
        h["loss"].append(float(loss))
        h["accuracy"].append(float(accuracy) if self._loss == "cross_entropy" else math.nan)
        h["connections"].append(int(self._core.num_connections))
        h["neurons"].append(int(self._core.num_hidden_neurons))
        h["time_train"].append(float(t_train))
        h["time_evolve"].append(float(t_evolve))
        h["connections_replaced"].append(int(replaced))
        h["neurons_pruned"].append(int(pruned))

    def _epoch_summary(self) -> str:
        h = self.history_
        acc = f"acc {h['accuracy'][-1]:.4f}  " if self._loss == "cross_entropy" else ""
        return (
            f"{acc}connections {h['connections'][-1]}  neurons {h['neurons'][-1]}  "
            f"train {h['time_train'][-1]:.2f}s  evolve {h['time_evolve'][-1]:.3f}s"
        )

    # -- inspection and persistence -----------------------------------------------------------
    @property
    def n_connections_(self) -> int:
        """Connections of the trained network."""
        self._check_is_fitted()
        return int(self._core.num_connections)

    @property
    def layer_sizes_(self) -> list[int]:
        """Widths of the trained network: inputs, hidden layers (after pruning), outputs."""
        self._check_is_fitted()
        return [int(s) for s in self._core.sizes()]

    @property
    def memory_(self) -> dict[str, float]:
        """Heap bytes the fitted network holds (the model's own accounting):
        ``connection_bytes`` (source index, weight and momentum: 12 per connection),
        ``neuron_bytes`` (CSR offset, ids, activation, bias and its momentum),
        ``workspace_bytes`` (batch buffers: 0 between calls, as ``fit``, ``partial_fit``,
        ``predict`` and ``score`` free them when they return) and ``bytes_per_connection``
        (everything divided by the connection count)."""
        self._check_is_fitted()
        connection, neuron, workspace = self._core.memory()
        total = connection + neuron + workspace
        return {
            "connection_bytes": int(connection),
            "neuron_bytes": int(neuron),
            "workspace_bytes": int(workspace),
            "bytes_per_connection": total / max(int(self._core.num_connections), 1),
        }

    def layer(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Layer ``index`` as CSR by output neuron: ``(offsets, indices, weights, momentum)``."""
        self._check_is_fitted()
        count = len(self._core.sizes()) - 1
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index must be an integer, got {type(index).__name__}")
        if not 0 <= index < count:  # -1 and 2**70 raised OverflowError
            raise ValueError(f"layer {index} does not exist: the network has {count} layers")
        return self._core.layer(int(index))

    def _scaled(self, x: np.ndarray) -> np.ndarray:
        if getattr(self, "feature_mean_", None) is None:
            return x
        out = (x - self.feature_mean_) / self.feature_scale_
        if not np.isfinite(out).all():
            raise ValueError("X holds values too large to standardize in float32")
        return np.ascontiguousarray(out, dtype=np.float32)

    def _forward(self, X: Any) -> np.ndarray:
        x = self._scaled(self._check_predict_x(X))
        return self._core.predict(x)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        core = state.pop("_core", None)
        if core is not None:
            sizes = [int(s) for s in core.sizes()]
            layers = []
            for k in range(len(sizes) - 1):
                offsets, indices, weights, _ = core.layer(k)
                layers.append((sizes[k], sizes[k + 1], offsets, indices, weights))
            state["_saved_core"] = (layers, core.biases())
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        saved = state.pop("_saved_core", None)
        self.__dict__.update(state)
        self._core = None
        if saved is not None:
            layers, biases = saved
            self._core = SetMlpCore.from_layers(
                layers, biases, init=self.init, activation=self.activation, alpha=self.alpha
            )

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.input_tags.allow_nan = False
        tags.non_deterministic = False
        return tags


class SparseMLPClassifier(_ClassifierMixin, _SparseMLP):
    """A sparse multilayer perceptron classifier trained with SET.

    Parameters
    ----------
    hidden : widths of the hidden layers.
    epsilon : Erdős–Rényi density: each layer of ``n_in x n_out`` starts with connection
        probability ``epsilon (n_in + n_out) / (n_in n_out)`` (dense when that reaches 1).
    zeta : fraction of the positive and, separately, of the negative weights closest to zero
        removed (and regrown at random empty positions) between epochs; 0 keeps the topology
        static.
    evolve_output_layer : also evolve the output layer (the reference code never does).
    activation : hidden activation, ``"all_relu"`` (slopes -alpha, +alpha, ... by hidden
        layer) or another engine activation (``relu``, ``leaky_relu``, ``tanh``, ...).
    alpha : All-ReLU slope magnitude.
    importance_pruning : ``None`` or ``(start_epoch, every, percentile)``: before epoch
        ``e >= start_epoch`` with ``(e - start_epoch) % every == 0``, hidden neurons whose
        summed |incoming weight| is at or below the layer's percentile are removed with all
        their connections.
    dropout, lr, momentum, weight_decay, batch_size, epochs : SGD with momentum and L2 weight
        decay on mini-batches; dropout on hidden neurons. ``lr=None`` means 0.05 for the
        classifier and 0.01 for the regressor (mean squared error has unbounded gradients).
    init : weight initialisation (new connections of evolution use it too): ``"he_uniform"``
        (limit sqrt(6 / n_in), the layer width: published and default), ``"he_uniform_neuron"``
        (sqrt(6 / k) with each neuron's real fan-in k) or ``"xavier_uniform"``.
    seed : every random choice (topology, weights, order, dropout, evolution) derives from it.
    n_jobs : threads for this fit (``None``: the library setting, see
        ``sparsedag.set_num_threads``; -1: all CPUs).
    parallel : ``"threads"`` (intra-op parallelism) or ``"data"`` (WASAP-style data-parallel
        training with ``workers`` workers; the last ``local_fraction`` of the epochs train
        locally, then the workers are averaged and pruned back to the target connection count).
    standardize : scale every feature to zero mean and unit variance with the statistics of
        the first fit (kept in ``feature_mean_`` / ``feature_scale_``; constant features are
        only centred). On by default: SGD at lr 0.05 diverges on raw features of large scale.
    progress : print a progress bar and one line per epoch on stderr.

    Pickling keeps the topology, weights, biases and feature scaling; the optimiser state
    (momentum) restarts at zero after unpickling.

    Attributes
    ----------
    classes_, n_features_in_, history_ (per epoch: loss, accuracy, connections, neurons,
    time_train, time_evolve, connections_replaced, neurons_pruned), n_connections_,
    layer_sizes_, memory_ (heap bytes per connection, per neuron and of the batch
    workspace, which is freed whenever a call returns), interrupted_.
    """

    _loss = "cross_entropy"
    _default_lr = 0.05

    def _prepare_targets(self, y: Any, classes: Any) -> None:
        y_arr = self._check_y(y)
        if _HAVE_SKLEARN:
            from sklearn.utils.multiclass import check_classification_targets

            check_classification_targets(y_arr)
        found = np.unique(y_arr)
        self.classes_ = np.unique(np.asarray(classes)) if classes is not None else found
        if self.classes_.shape[0] < 2:
            raise ValueError(
                "the classifier needs samples of at least 2 classes in the data, got 1 class: "
                f"{self.classes_.tolist()}"
            )

    @staticmethod
    def _check_y(y: Any) -> np.ndarray:
        y_arr = np.asarray(y)
        if y_arr.ndim == 2 and y_arr.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; it is flattened",
                _data_conversion_warning(),
                stacklevel=4,
            )
            y_arr = y_arr.ravel()
        if y_arr.ndim != 1:
            raise ValueError(f"y must be one label per sample (1-D), got shape {y_arr.shape}")
        if y_arr.dtype.kind == "f" and not np.isfinite(y_arr).all():
            raise ValueError("y contains NaN or infinity")
        return y_arr

    def _encode_targets(self, y: Any, fitting: bool) -> tuple[np.ndarray, int]:
        y_arr = self._check_y(y)
        codes = np.searchsorted(self.classes_, y_arr)
        codes = np.clip(codes, 0, len(self.classes_) - 1)
        if not np.array_equal(self.classes_[codes], y_arr):
            unknown = y_arr[self.classes_[codes] != y_arr][0]
            raise ValueError(
                f"y contains the label {unknown!r}, which is not among the classes seen at the "
                f"first fit ({self.classes_.tolist()})"
            )
        return np.ascontiguousarray(codes, dtype=np.int64), len(self.classes_)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Softmax class probabilities, shape ``(n_samples, n_classes)``, in ``classes_`` order."""
        logits = self._forward(X).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        logits = self._forward(X).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of every sample."""
        scores = self._forward(X)
        return self.classes_[np.argmax(scores, axis=1)]


class SparseMLPRegressor(_RegressorMixin, _SparseMLP):
    """A sparse multilayer perceptron regressor trained with SET (mean squared error).

    The targets are standardised internally (mean 0, variance 1 per output) and the
    predictions mapped back, so the learning rate does not depend on the scale of ``y``.
    The parameters are those of :class:`SparseMLPClassifier`; ``history_["accuracy"]`` is NaN.
    """

    _loss = "mse"

    def _prepare_targets(self, y: Any, classes: Any) -> None:
        y_arr = self._as_2d(y)
        with np.errstate(over="ignore"):
            self._y_mean = y_arr.mean(axis=0)
            std = y_arr.std(axis=0)
        if not (np.isfinite(std).all() and np.isfinite(self._y_mean).all()):
            # Sums of squares past ~1e154 overflow float64: take the moments of y / max|y|.
            peak = np.abs(y_arr).max(axis=0)
            self._y_mean = (y_arr / peak).mean(axis=0) * peak
            std = (y_arr / peak).std(axis=0) * peak
        self._y_scale = np.where(std > 0, std, 1.0)
        self._y_1d = np.asarray(y).ndim == 1

    @staticmethod
    def _as_2d(y: Any) -> np.ndarray:
        try:
            y_arr = np.asarray(y)
            # float64 conversion would drop an imaginary part
            y_arr = None if y_arr.dtype.kind == "c" else y_arr.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError("y must hold numbers") from None
        if y_arr is None:
            raise ValueError("y must be real; complex targets are not supported")
        if y_arr.ndim == 1:
            y_arr = y_arr[:, None]
        if y_arr.ndim != 2 or y_arr.shape[1] == 0:
            raise ValueError(f"y must be 1-D or 2-D with at least one column, got {y_arr.shape}")
        if not np.isfinite(y_arr).all():
            raise ValueError("y contains NaN or infinity")
        return y_arr

    def _encode_targets(self, y: Any, fitting: bool) -> tuple[np.ndarray, int]:
        y_arr = self._as_2d(y)
        if y_arr.shape[1] != self._y_mean.shape[0]:
            raise ValueError(
                f"y has {y_arr.shape[1]} outputs but the model was fitted with "
                f"{self._y_mean.shape[0]}"
            )
        with np.errstate(over="ignore"):
            scaled = np.ascontiguousarray((y_arr - self._y_mean) / self._y_scale, dtype=np.float32)
        if not np.isfinite(scaled).all():
            raise ValueError(
                "y holds values too large to standardize with the statistics of the first fit"
            )
        return scaled, y_arr.shape[1]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def predict(self, X: Any) -> np.ndarray:
        """Predictions, shape ``(n_samples,)`` for 1-D targets, else ``(n_samples, n_outputs)``."""
        out = self._forward(X).astype(np.float64) * self._y_scale + self._y_mean
        return out[:, 0] if self._y_1d else out


def _check_fits_in_memory(sizes: list[int], epsilon: float, batch: int, workers: int) -> None:
    """A ``MemoryError`` before building a network that cannot fit in this machine's RAM."""
    connections = sum(
        _core.erdos_renyi_probability(a, b, epsilon) * a * b for a, b in zip(sizes, sizes[1:])
    )
    neurons = sum(sizes)
    # Building holds the sampled rows and the final CSR (about 20 bytes per connection);
    # training adds three rows of `batch` floats per neuron, data-parallel a copy per worker.
    check_fits(
        connections * (20 + 12 * workers) + neurons * batch * 12,
        f"this network ({connections:.3g} connections, {neurons} neurons at batch {batch})",
        "use narrower hidden layers, a smaller epsilon or batch_size",
    )


def _check_parameters(core: Any, x: np.ndarray, epoch: int, lr: float) -> None:
    """After an epoch: finite weights and biases, and finite outputs on a few training rows
    (finite weights of ~1e30 still overflow the outputs)."""
    layers = range(len(core.sizes()) - 1)
    finite = all(np.isfinite(core.layer(k)[2]).all() for k in layers)
    finite = finite and np.isfinite(core.biases()).all()
    if not (finite and np.isfinite(core.predict(x[:64])).all()):
        raise FloatingPointError(
            f"training diverged in epoch {epoch + 1}: some weights or outputs are not finite. "
            f"Lower lr (now {lr}) or standardize X (zero mean, unit variance per feature)."
        )


def _check_diverged(loss_sum: float, epoch: int, lr: float) -> None:
    if not math.isfinite(loss_sum):
        raise FloatingPointError(
            f"training diverged in epoch {epoch + 1}: the loss is not finite. Lower lr "
            f"(now {lr}) or standardize X (zero mean, unit variance per feature)."
        )


def _data_conversion_warning() -> type[Warning]:
    if _HAVE_SKLEARN:
        from sklearn.exceptions import DataConversionWarning

        return DataConversionWarning
    return UserWarning
