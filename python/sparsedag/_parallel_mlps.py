"""`ParallelMLPs` (Farias et al. 2022): many independent one-hidden-layer MLPs trained in one
pass on the DAG engine. The models share the input neurons (which hold no parameters); their
hidden and output neurons form disconnected components, each model has its own loss, and
gradients never mix across models."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from ._args import count
from ._dag import Dag
from ._net import DagNet
from ._resources import check_fits

__all__ = ["ParallelMLPs"]


def _mlp_edges(n_inputs: int, width: int, n_outputs: int, offset: int, input_offset: int = 0):
    """Edges of one dense MLP: inputs -> hidden block at `offset` -> outputs after it."""
    hidden = np.arange(offset, offset + width)
    outputs = np.arange(offset + width, offset + width + n_outputs)
    inputs = np.arange(input_offset, input_offset + n_inputs)
    src = np.concatenate([np.repeat(inputs, width), np.repeat(hidden, n_outputs)])
    dst = np.concatenate([np.tile(hidden, n_inputs), np.tile(outputs, width)])
    return src, dst, hidden, outputs


class ParallelMLPs:
    """Every combination of ``widths`` x ``activations``, repeated ``repetitions`` times, as
    one network. Model ``k`` is initialised exactly like
    ``DagNet(<its own MLP graph>, activation=..., init=init, seed=seed + k)``, so training it
    here gives the same weights as training that DagNet alone (same data, batches and seed).
    """

    def __init__(
        self,
        n_inputs: int,
        n_outputs: int,
        widths: Sequence[int] = (32,),
        activations: Sequence[str] = ("relu",),
        repetitions: int = 1,
        *,
        init: str = "kaiming_uniform",
        bias: bool = True,
        seed: int = 0,
    ) -> None:
        n_inputs = count(n_inputs, "n_inputs", minimum=1)
        n_outputs = count(n_outputs, "n_outputs", minimum=1)
        repetitions = count(repetitions, "repetitions", minimum=1)
        widths = [count(w, "every width", minimum=1) for w in widths]
        if not widths:
            raise ValueError("widths is empty: give at least one hidden width")
        if isinstance(activations, str):
            activations = [activations]
        activations = list(activations)
        if not activations:
            raise ValueError("activations is empty: give at least one activation name")
        models = len(widths) * len(activations) * repetitions
        edges = sum(w * (n_inputs + n_outputs) for w in widths) * len(activations) * repetitions
        # The edge lists are built in int64 and copied a few times on their way to the core.
        check_fits(
            edges * 48.0,
            f"{models} models with {edges} connections",
            "use fewer or narrower models",
        )
        self.n_inputs, self.n_outputs = n_inputs, n_outputs
        self.specs: list[dict[str, Any]] = [
            {"width": int(w), "activation": a, "seed": int(seed) + k}
            for k, (w, a) in enumerate(
                (w, a) for w, a, _ in itertools.product(widths, activations, range(repetitions))
            )
        ]
        self.init, self.bias = init, bool(bias)
        srcs, dsts, outputs = [], [], []
        offset = self.n_inputs
        node_acts = ["identity"] * self.n_inputs
        for spec in self.specs:
            s, d, _, outs = _mlp_edges(self.n_inputs, spec["width"], self.n_outputs, offset)
            srcs.append(s)
            dsts.append(d)
            outputs.append(outs)
            node_acts += [spec["activation"]] * spec["width"] + ["identity"] * self.n_outputs
            offset += spec["width"] + self.n_outputs
        src, dst = np.concatenate(srcs), np.concatenate(dsts)
        graph = Dag.from_edges(src, dst, offset)
        self._net = DagNet(
            graph,
            inputs=np.arange(self.n_inputs),
            outputs=np.concatenate(outputs),
            activation=node_acts,
            output_activation=None,
            bias=bias,
            seed=seed,
        )
        # Each model's initial weights as its own DagNet would draw them.
        all_src, all_dst = graph.edges()
        edge_keys = all_src * graph.num_nodes + all_dst  # ascending: edges() is sorted
        weights = np.zeros(graph.num_edges, dtype=np.float32)
        biases = np.zeros(graph.num_nodes, dtype=np.float32)
        offset = self.n_inputs
        for spec in self.specs:
            single = self._single(spec)
            s, d = single.edges()
            w = single.weights
            mapped_s = np.where(s < self.n_inputs, s, s - self.n_inputs + offset)
            mapped_d = d - self.n_inputs + offset
            positions = np.searchsorted(edge_keys, mapped_s * graph.num_nodes + mapped_d)
            weights[positions] = w
            b = single.biases
            size = spec["width"] + self.n_outputs
            biases[offset : offset + size] = b[self.n_inputs :]
            offset += size
        self._net.weights = weights
        self._net.biases = biases

    def _single_graph(self, width: int) -> Dag:
        s, d, _, _ = _mlp_edges(self.n_inputs, width, self.n_outputs, self.n_inputs)
        return Dag.from_edges(s, d, self.n_inputs + width + self.n_outputs)

    def _single(self, spec: dict[str, Any]) -> DagNet:
        return DagNet(
            self._single_graph(spec["width"]),
            activation=spec["activation"],
            init=self.init,
            bias=self.bias,
            seed=spec["seed"],
        )

    @property
    def num_models(self) -> int:
        return len(self.specs)

    @property
    def network(self) -> DagNet:
        """The combined network (all models in one DAG)."""
        return self._net

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
        """Trains all models at once; the history holds, per epoch, one value per model. A
        model that diverges does not stop the others: its losses in the history turn infinite
        or NaN (unlike :meth:`DagNet.fit`, which raises ``FloatingPointError``)."""
        net = self._net
        net._core.reset_optimizer()
        net._epochs_done = 0
        net._history = {}
        net.classes_ = None
        return net._train(
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
            groups=self.num_models,
        )

    def _outputs(self, X: Any) -> np.ndarray:
        """Outputs as ``(models, rows, n_outputs)``."""
        out = self._net.forward(X)
        return out.reshape(out.shape[0], self.num_models, self.n_outputs).transpose(1, 0, 2)

    def predict(self, X: Any) -> np.ndarray:
        """Per model: class labels (cross-entropy) or outputs.

        Shape ``(models, rows)`` or ``(models, rows, outputs)``."""
        out = self._outputs(X)
        if self._net.loss_ == "cross_entropy":
            classes = self._net.classes_
            if classes is None:
                return out.argmax(axis=2)
            return classes[out[:, :, : len(classes)].argmax(axis=2)]
        return out

    def evaluate(self, X: Any, y: Any, loss: Optional[str] = None) -> np.ndarray:
        """Mean loss of every model."""
        loss = loss or self._net.loss_ or "mse"
        x = self._net._check_x(X)
        targets = self._net._targets(y, loss, x.shape[0], self.n_outputs, fitting=False)
        sums, _, count = self._net._core.evaluate(x, targets, loss, self.num_models)
        return np.asarray(sums) / count

    def score(self, X: Any, y: Any) -> np.ndarray:
        """Per model: accuracy (cross-entropy) or R² (0 for constant targets, as
        :meth:`DagNet.score`)."""
        net = self._net
        x = net._check_x(X)
        loss = "cross_entropy" if net.loss_ == "cross_entropy" else "mse"
        # Shape, dtype and finiteness as in fit (a NaN in y gave NaN scores).
        net._targets(y, loss, x.shape[0], self.n_outputs, fitting=False)
        if loss == "cross_entropy":
            return (self.predict(x) == np.asarray(y)[None, :]).mean(axis=1)
        out = self._outputs(x).astype(np.float64)
        truth = np.asarray(y, dtype=np.float64).reshape(out.shape[1:])
        total = ((truth - truth.mean(axis=0)) ** 2).sum()
        if total == 0:
            return np.zeros(self.num_models)
        return 1.0 - ((out - truth[None]) ** 2).sum(axis=(1, 2)) / total

    def extract(self, model: int) -> DagNet:
        """Model ``model`` as its own :class:`DagNet` with the trained weights."""
        if not 0 <= model < self.num_models:
            raise IndexError(f"model {model} out of range 0..{self.num_models}")
        spec = self.specs[model]
        offset = self.n_inputs + sum(s["width"] + self.n_outputs for s in self.specs[:model])
        single = self._single(spec)
        s, d = single.edges()
        mapped_s = np.where(s < self.n_inputs, s, s - self.n_inputs + offset)
        mapped_d = d - self.n_inputs + offset
        all_src, all_dst = self._net.edges()
        n = self._net.graph.num_nodes
        positions = np.searchsorted(all_src * n + all_dst, mapped_s * n + mapped_d)
        single.weights = self._net.weights[positions]
        b = np.zeros(single.graph.num_nodes, dtype=np.float32)
        size = spec["width"] + self.n_outputs
        b[self.n_inputs :] = self._net.biases[offset : offset + size]
        single.biases = b
        single.loss_ = self._net.loss_
        single.classes_ = self._net.classes_
        return single

    def __repr__(self) -> str:
        return (
            f"ParallelMLPs(models={self.num_models}, inputs={self.n_inputs}, "
            f"outputs={self.n_outputs})"
        )
