"""Seeded random DAG generators (the work happens in Rust)."""

from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np

from . import _core
from ._args import count
from ._dag import Dag

__all__ = ["LayeredGraph", "layered_graph", "planted_layered_dag", "random_dag"]


def random_dag(n: int, p: Optional[float] = None, m: Optional[int] = None, seed: int = 0) -> Dag:
    """Erdős–Rényi DAG on ``n`` nodes: each pair joined with probability ``p`` (G(n, p)), or
    exactly ``m`` distinct pairs (G(n, m)), oriented along a random node permutation.
    O(n + m) for sparse ``p``. Give exactly one of ``p`` and ``m``."""
    m = None if m is None else count(m, "m")
    return Dag(_core.random_dag(count(n, "n"), p, m, count(seed, "seed")))


class LayeredGraph(NamedTuple):
    dag: Dag
    #: the layer each node was generated in
    layers: np.ndarray
    #: per-node output size (memory), from a Gaussian mixture; empty if not defined
    sizes: np.ndarray


def layered_graph(n: int, seed: int = 0) -> LayeredGraph:
    """Topoformer-style layered graph (Gagrani et al., NeurIPS 2022) with node sizes: about
    sqrt(n (1/W - 1)) layers for W ~ U(0.25, 0.5), layer sizes within ±75 % of the mean,
    consecutive-layer edge density 0.2 and 14 % extra skip edges."""
    core, layers, sizes = _core.layered_graph(count(n, "n"), count(seed, "seed"))
    return LayeredGraph(Dag(core), layers, sizes)


def planted_layered_dag(
    n: int, layers: int, density: float = 0.1, seed: int = 0
) -> tuple[Dag, np.ndarray]:
    """A DAG with a known optimal layering, returned beside it: edges join consecutive
    layers only and every node has a predecessor in the layer above, so the planted layering
    has minimum height and every edge spans one layer (zero dummies). Ids are shuffled."""
    core, planted = _core.planted_layered_dag(
        count(n, "n"), count(layers, "layers"), density, count(seed, "seed")
    )
    return Dag(core), planted
