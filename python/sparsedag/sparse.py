"""Building blocks of truly sparse training (SET) on numpy arrays.

A sparse layer is a CSR matrix by output neuron, exactly scipy's layout with shape
``(n_out, n_in)``: ``offsets`` (int64, ``n_out + 1``), ``indices`` (int32, sorted within each
row, no duplicates), ``weights`` and ``momentum`` (float32, one per connection). Everything runs
in the Rust core, releases the GIL and honours Ctrl-C.

- :func:`erdos_renyi_layer`: the Erdős–Rényi initial topology of SET in O(nnz).
- :func:`evolve_layer`: one SET step (prune the weights closest to zero, regrow at random), in
  place.
- :func:`importance_prune`: remove the least important hidden neurons of a chain of layers, with
  their incoming and outgoing connections.
- :func:`prune_to_count`: magnitude pruning down to a connection count.
- :func:`all_relu`, :func:`all_relu_derivative`, :func:`all_relu_slope`: All-ReLU.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Optional

import numpy as np

from . import _core
from ._args import count as _args_count
from ._resources import check_fits

__all__ = [
    "INITS",
    "PruneResult",
    "SparseLayer",
    "all_relu",
    "all_relu_derivative",
    "all_relu_slope",
    "erdos_renyi_layer",
    "erdos_renyi_probability",
    "evolve_layer",
    "importance_prune",
    "percentile",
    "prune_to_count",
]

#: Weight initialisers: ``he_uniform`` (limit sqrt(6 / n_in), the published SET setting),
#: ``he_uniform_neuron`` (limit sqrt(6 / k) with k the neuron's real fan-in) and
#: ``xavier_uniform`` (limit sqrt(6 / (n_in + n_out))).
INITS: tuple[str, ...] = tuple(_core.sparse_inits())


class SparseLayer(NamedTuple):
    """A sparse layer of ``n_out`` neurons reading ``n_in`` inputs (CSR by output neuron)."""

    n_in: int
    n_out: int
    offsets: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    momentum: np.ndarray

    @property
    def nnz(self) -> int:
        """The number of connections."""
        return int(self.indices.shape[0])

    @property
    def fan_in(self) -> np.ndarray:
        """The number of inputs of every output neuron."""
        return np.diff(self.offsets)

    def to_scipy(self) -> Any:
        """The weights as a ``scipy.sparse.csr_array`` of shape ``(n_out, n_in)`` (no copy)."""
        import scipy.sparse

        return scipy.sparse.csr_array(
            (self.weights, self.indices, self.offsets), shape=(self.n_out, self.n_in)
        )

    def to_dense(self) -> np.ndarray:
        """The weights as a dense ``(n_out, n_in)`` float32 array (small layers only)."""
        dense = np.zeros((self.n_out, self.n_in), dtype=np.float32)
        rows = np.repeat(np.arange(self.n_out), self.fan_in)
        dense[rows, self.indices] = self.weights
        return dense


class PruneResult(NamedTuple):
    """What :func:`importance_prune` did."""

    layers: list[SparseLayer]
    """The pruned layers (new arrays)."""
    removed: list[np.ndarray]
    """Per hidden layer, the removed neurons (ascending int64 ids)."""
    scores: list[np.ndarray]
    """Per hidden layer, every neuron's score: the sum of its incoming |weights| (float64)."""
    thresholds: list[Optional[float]]
    """Per hidden layer, the percentile of the scores (None if no neuron was connected)."""
    removed_connections: int


def _seed(value: Any) -> int:
    seed = _args_count(value, "seed")
    if seed >= 2**64:
        raise ValueError(f"seed must be below 2**64, got {seed}")
    return seed


def erdos_renyi_probability(n_in: int, n_out: int, epsilon: float = 20.0) -> float:
    """p = epsilon (n_in + n_out) / (n_in n_out), capped at 1: the chance that a connection
    exists in an Erdős–Rényi layer."""
    return _core.erdos_renyi_probability(
        _args_count(n_in, "n_in"), _args_count(n_out, "n_out"), float(epsilon)
    )


def erdos_renyi_layer(
    n_in: int, n_out: int, epsilon: float = 20.0, *, init: str = "he_uniform", seed: int = 0
) -> SparseLayer:
    """A new sparse layer in which each of the ``n_in * n_out`` connections exists
    independently with probability :func:`erdos_renyi_probability` (dense if that reaches 1).

    Sampled by geometric skipping in O(nnz + n_out); row ``j`` uses its own random stream
    derived from ``(seed, j)``, so the layer is the same for any thread count. Weights come from
    ``init`` (see :data:`INITS`), momentum starts at 0.
    """
    n_in, n_out = _args_count(n_in, "n_in"), _args_count(n_out, "n_out")
    expected = _core.erdos_renyi_probability(n_in, n_out, float(epsilon)) * n_in * n_out
    # Sampled rows, then the final arrays: about 20 bytes per connection at the peak (an n_in
    # past int32 gets the core's own error).
    if n_in < 2**31:
        check_fits(
            20.0 * expected,
            f"an Erdős–Rényi layer of {expected:.3g} connections",
            "use a smaller layer or epsilon",
        )
    offsets, indices, weights, momentum = _core.erdos_renyi_layer(
        n_in, n_out, float(epsilon), init, _seed(seed)
    )
    return SparseLayer(n_in, n_out, offsets, indices, weights, momentum)


def _alive(mask: Any, name: str) -> Optional[np.ndarray]:
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"{name} must be a boolean array, got dtype {mask.dtype}")
    return np.ascontiguousarray(mask)


def evolve_layer(
    layer: SparseLayer,
    zeta: float = 0.3,
    *,
    seed: int = 0,
    init: str = "he_uniform",
    input_alive: Any = None,
    output_alive: Any = None,
) -> dict[str, int]:
    """One SET evolution step, **in place** on the layer's arrays (the connection count stays
    the same, so the arrays keep their length).

    1. With ``n+`` positive and ``n-`` negative weights, remove the ``floor(zeta * n+)``
       smallest positive weights and the ``floor(zeta * n-)`` negative weights closest to zero
       (floor of the float64 product). Ties go by position: among equal weights, those first in
       CSR order (row, then input) are removed. Weights exactly 0 are always removed.
    2. Regrow as many connections at positions drawn uniformly among all positions empty after
       step 1 (so a connection removed in this step may come back), never duplicating one; only
       in rows and columns marked alive when ``output_alive`` / ``input_alive`` (bool arrays)
       are given. New connections get a weight from ``init`` and zero momentum.

    Returns the counts ``removed_positive``, ``removed_negative``, ``removed_zero`` and
    ``added``. O(nnz); a Ctrl-C before the final rebuild leaves the layer untouched.
    """
    n_in, n_out, offsets, indices, weights, momentum = layer
    stats = _core.evolve_layer(
        _args_count(n_in, "n_in"),
        _args_count(n_out, "n_out"),
        offsets,
        indices,
        weights,
        momentum,
        float(zeta),
        _seed(seed),
        init,
        _alive(input_alive, "input_alive"),
        _alive(output_alive, "output_alive"),
    )
    return dict(stats)


def importance_prune(layers: Sequence[SparseLayer], percentile: float) -> PruneResult:
    """Importance pruning of the hidden neurons of a chain of layers (layer ``l`` maps the
    outputs of layer ``l - 1`` to its own; the hidden neurons are the outputs of every layer but
    the last).

    The score of a hidden neuron is the sum of the magnitudes of its incoming weights. In each
    hidden layer, among the neurons that still have a connection, those whose score is at or
    below ``numpy.percentile(scores, percentile)`` (default linear interpolation) are removed
    with all their incoming connections and all their outgoing connections in the next layer,
    so the network really shrinks. Scores are taken on the network as given. Returns new
    layers; the inputs are not modified.
    """
    items = [tuple(layer) for layer in layers]
    arrays, removed, scores, thresholds, dropped = _core.importance_prune(items, float(percentile))
    new_layers = [
        SparseLayer(int(layer[0]), int(layer[1]), *parts) for layer, parts in zip(items, arrays)
    ]
    return PruneResult(new_layers, removed, scores, thresholds, dropped)


def prune_to_count(layer: SparseLayer, count: int) -> SparseLayer:
    """Magnitude pruning down to ``count`` connections: keeps the ``count`` connections of
    largest ``|w|`` (ties: among equal magnitudes, the first in CSR order are dropped first).
    WASAP-SGD ends with this after averaging the workers' models. Returns a new layer (the
    same connections if ``count >= layer.nnz``); O(nnz)."""
    arrays, _ = _core.prune_to_count(tuple(layer), _args_count(count, "count"))
    return SparseLayer(int(layer[0]), int(layer[1]), *arrays)


def percentile(values: Any, q: float) -> float:
    """NumPy's default percentile (linear interpolation), as importance pruning applies it."""
    values = np.asarray(values)
    if values.dtype != np.float64:
        raise TypeError(f"values must have dtype float64, got {values.dtype}")
    return _core.percentile_linear(np.ascontiguousarray(values).reshape(-1), float(q))


def all_relu_slope(layer: int, alpha: float = 0.6) -> float:
    """The negative-side slope of hidden layer ``layer`` (0-based): -alpha, +alpha, -alpha..."""
    return _core.all_relu_slope(_args_count(layer, "layer"), float(alpha))


def all_relu(z: np.ndarray, layer: int, alpha: float = 0.6) -> np.ndarray:
    """All-ReLU of hidden layer ``layer``: ``z`` where ``z >= 0``, else ``slope * z`` with the
    slope of :func:`all_relu_slope`. ``z`` is a contiguous float32 array of any shape."""
    return _core.all_relu(z, _args_count(layer, "layer"), float(alpha))


def all_relu_derivative(z: np.ndarray, layer: int, alpha: float = 0.6) -> np.ndarray:
    """The derivative of :func:`all_relu`: 1 where ``z >= 0``, the layer's slope elsewhere."""
    return _core.all_relu_derivative(z, _args_count(layer, "layer"), float(alpha))
