"""Graph coarsening and pooling with maximal k-independent sets (Bacciu, Conte and Landolfi,
AAAI 2023). The graph is undirected; every heavy step runs in the Rust core."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple, Optional

import numpy as np

from . import _core
from ._args import count
from ._dag import Dag, _id_array

__all__ = [
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
]

#: Rank heuristics accepted by :func:`kmis` (``None`` means: rank, scores, seed or node id).
KMIS_HEURISTICS: tuple[str, ...] = ("greedy", "w-greedy", "random", "id")
#: Edge weight reductions accepted by :func:`coarsen`.
COARSEN_REDUCTIONS: tuple[str, ...] = ("sum", "mean", "max", "min")
#: Feature reductions accepted by :func:`pool`.
POOL_REDUCTIONS: tuple[str, ...] = ("sum", "mean", "max")


class KMIS(NamedTuple):
    """A maximal k-independent set: ``selected`` node ids (ascending) and the ``cluster`` of
    every node (the index in ``selected`` of its minimum-rank selected node within k hops)."""

    selected: np.ndarray
    cluster: np.ndarray


class _Edges(NamedTuple):
    src: np.ndarray
    dst: np.ndarray
    num_nodes: Optional[int]
    weight: Optional[np.ndarray]


def _float_array(values: Any, name: str) -> np.ndarray:
    """numpy float64 arrays pass through so the core can reject bad strides; lists and
    integer arrays become float64."""
    if isinstance(values, np.ndarray) and values.dtype == np.float64:
        return values
    array = np.asarray(values)
    if array.dtype.kind not in "fiu":
        raise TypeError(f"{name} must hold numbers, got dtype {array.dtype}")
    if isinstance(values, np.ndarray) and not values.flags.c_contiguous:
        raise ValueError(f"{name} is not contiguous in memory; pass np.ascontiguousarray({name})")
    return array.astype(np.float64)


def _check_num_nodes(num_nodes: Any, name: str = "num_nodes") -> Optional[int]:
    if num_nodes is None:
        return None
    if isinstance(num_nodes, bool) or not isinstance(num_nodes, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(num_nodes).__name__}")
    if num_nodes < 0:
        raise ValueError(f"{name} must be non-negative, got {num_nodes}")
    return int(num_nodes)


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an integer, got {type(k).__name__}")
    if k < 0:
        raise ValueError(f"k must be a non-negative integer, got {k}")
    return int(k)


def _edges(graph: Any, dst: Any, num_nodes: Any, weight: Any) -> _Edges:
    """Normalises every accepted graph form to edge arrays (+ optional float64 weights)."""
    num_nodes = _check_num_nodes(num_nodes)
    weights = None if weight is None else _float_array(weight, "weight")
    if dst is not None:
        src = _id_array(graph, "src")
        dst = _id_array(dst, "dst")
        if src.dtype != dst.dtype:
            common = np.promote_types(src.dtype, dst.dtype)
            if common.kind in "iu":
                src, dst = src.astype(common), dst.astype(common)
        return _Edges(src, dst, num_nodes, weights)
    if isinstance(graph, (Dag, _core.Dag)):
        core = graph._core if isinstance(graph, Dag) else graph
        src, dst = core.edges()
        return _Edges(src, dst, core.num_nodes if num_nodes is None else num_nodes, weights)
    if hasattr(graph, "tocoo") and hasattr(graph, "shape"):
        return _scipy_edges(graph, num_nodes, weights)
    if hasattr(graph, "nodes") and hasattr(graph, "edges") and hasattr(graph, "is_directed"):
        return _networkx_edges(graph, num_nodes, weights)
    if isinstance(graph, (np.ndarray, list, tuple)):
        raise TypeError("edge arrays need both src and dst (dst is missing)")
    raise TypeError(
        "expected edge arrays (src, dst), a sparsedag.Dag, a scipy.sparse matrix or a "
        f"networkx graph, got {type(graph).__name__}"
    )


def _scipy_edges(matrix: Any, num_nodes: Optional[int], weights: Any) -> _Edges:
    """Reads a square matrix as an undirected weighted graph: the pair {i, j} is an edge when
    A[i, j] or A[j, i] is stored, weighted by the larger of the two; the diagonal is dropped."""
    import scipy.sparse as sp

    rows, cols = matrix.shape
    if rows != cols:
        raise ValueError(f"an adjacency matrix must be square, got shape {matrix.shape}")
    if num_nodes is not None and num_nodes != rows:
        raise ValueError(f"num_nodes={num_nodes} but the matrix has {rows} rows")
    if weights is not None:
        raise ValueError("a scipy.sparse matrix carries its own weights; do not pass weight")
    coo = sp.coo_array(matrix)
    coo.sum_duplicates()
    rows_, cols_ = coo.row.astype(np.int64), coo.col.astype(np.int64)
    off_diagonal = rows_ != cols_
    lo = np.minimum(rows_, cols_)[off_diagonal]
    hi = np.maximum(rows_, cols_)[off_diagonal]
    w = coo.data.astype(np.float64)[off_diagonal]
    order = np.lexsort((hi, lo))
    lo, hi, w = lo[order], hi[order], w[order]
    if lo.size:
        starts = np.flatnonzero(np.r_[True, (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])])
        lo, hi, w = lo[starts], hi[starts], np.maximum.reduceat(w, starts)
    return _Edges(np.ascontiguousarray(lo), np.ascontiguousarray(hi), rows, np.ascontiguousarray(w))


def _networkx_edges(graph: Any, num_nodes: Optional[int], weights: Any) -> _Edges:
    """Node i is the i-th node of ``graph.nodes``; edge weights come from the ``weight``
    attribute (1 when absent). Directed graphs are read as undirected."""
    labels = list(graph.nodes)
    if num_nodes is not None and num_nodes != len(labels):
        raise ValueError(f"num_nodes={num_nodes} but the graph has {len(labels)} nodes")
    index = {label: i for i, label in enumerate(labels)}
    edges = list(graph.edges(data="weight", default=1.0))
    src = np.fromiter((index[u] for u, _, _ in edges), dtype=np.int64, count=len(edges))
    dst = np.fromiter((index[v] for _, v, _ in edges), dtype=np.int64, count=len(edges))
    if weights is None:
        weights = np.fromiter((w for _, _, w in edges), dtype=np.float64, count=len(edges))
    return _Edges(src, dst, len(labels), weights)


def _score_array(scores: Any) -> Optional[np.ndarray]:
    return None if scores is None else _float_array(scores, "scores")


def _rank_array(rank: Any) -> Optional[np.ndarray]:
    return None if rank is None else _id_array(rank, "rank")


def _check_heuristic(heuristic: Optional[str]) -> None:
    if heuristic is not None and heuristic not in KMIS_HEURISTICS:
        raise ValueError(f"heuristic must be one of {KMIS_HEURISTICS} or None, not {heuristic!r}")


def _run_kmis(
    e: _Edges,
    k: int,
    rank: Any,
    scores: Any,
    heuristic: Optional[str],
    seed: Optional[int],
    strategy: str,
) -> tuple[np.ndarray, np.ndarray, int, int]:
    _check_heuristic(heuristic)
    return _core.kmis(
        e.src,
        e.dst,
        e.num_nodes,
        k,
        _rank_array(rank),
        _score_array(scores),
        heuristic,
        None if seed is None else count(seed, "seed"),
        strategy,
    )


def kmis(
    src: Any,
    dst: Any = None,
    num_nodes: Optional[int] = None,
    k: int = 1,
    rank: Any = None,
    scores: Any = None,
    heuristic: Optional[str] = None,
    seed: Optional[int] = None,
    *,
    strategy: str = "auto",
) -> KMIS:
    """A maximal k-independent set (nodes pairwise more than ``k`` hops apart) and the cluster
    of every node. Returns ``KMIS(selected, cluster)``, which unpacks as a pair.

    The graph is undirected: ``src, dst`` integer arrays (``num_nodes`` defaults to the
    largest id + 1), or a :class:`Dag` (edges used undirected), a scipy.sparse matrix or a
    networkx graph (node ``i`` is the ``i``-th node of ``graph.nodes``) as ``src``. Self-loops
    and repeated edges are ignored.

    The set is the greedy one by rank (lower rank first), found by parallel rounds:

    - ``rank``: an explicit permutation of ``0..n``; ``rank[v]`` is v's priority position;
    - ``scores``: higher score first (ties by node id);
    - ``heuristic="greedy"``: scores (default ones) divided by the k-hop walk count
      ``(A+I)^k 1``; ``"w-greedy"``: divided by the k-hop score mass ``(A+I)^k s``;
    - ``heuristic="random"`` or just ``seed``: a seeded random permutation;
    - otherwise node id order.

    ``k=0`` selects every node. ``strategy`` is ``"rounds"`` (the parallel rounds until every
    node is covered), ``"sequential"`` (the greedy in rank order with a pruned k-hop BFS,
    O(k (n + m)) at most) or ``"auto"``: rounds while the last one covered enough of the rest
    to beat a sequential sweep on the available threads, then the sequential finish (on one or
    two threads that is the sequential greedy from the start). All three return the same set.
    Long runs release the GIL and stop on Ctrl-C.
    """
    k = _check_k(k)
    e = _edges(src, dst, num_nodes, None)
    selected, cluster, _, _ = _run_kmis(e, k, rank, scores, heuristic, seed, strategy)
    return KMIS(selected, cluster)


@dataclass(frozen=True)
class Coarsening:
    """One coarsening step. Coarse node ``c`` is the cluster of ``selected[c]``; coarse edges
    ``src[i] -- dst[i]`` (``src < dst``, sorted) carry the reduced weights of the original
    edges between the two clusters (edge counts when the graph had no weights)."""

    selected: np.ndarray
    cluster: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    num_nodes: int
    k: int
    rounds: int = field(default=0, compare=False)
    sequential_picks: int = field(default=0, compare=False)

    @property
    def num_fine_nodes(self) -> int:
        return int(self.cluster.shape[0])

    @property
    def edge_index(self) -> np.ndarray:
        """The coarse edges as a (2, m) int64 array."""
        return np.stack([self.src, self.dst])

    def pool(self, features: Any, reduce: str = "sum") -> np.ndarray:
        """Pools per-node features (n, d) into per-cluster features (num_nodes, d)."""
        return pool(features, self.cluster, reduce, num_clusters=self.num_nodes)

    def take(self, features: Any) -> np.ndarray:
        """The features of the selected nodes: one row per coarse node."""
        return take(features, self.selected)

    def lift(self, values: Any) -> np.ndarray:
        """Per-coarse-node values (labels, predictions, features) copied back to every node
        of the cluster."""
        values = np.asarray(values)
        if values.shape[:1] != (self.num_nodes,):
            raise ValueError(f"expected {self.num_nodes} coarse values, got shape {values.shape}")
        return values[self.cluster]


def coarsen(
    src: Any,
    dst: Any = None,
    num_nodes: Optional[int] = None,
    k: int = 1,
    rank: Any = None,
    scores: Any = None,
    heuristic: Optional[str] = None,
    seed: Optional[int] = None,
    *,
    weight: Any = None,
    reduce: str = "sum",
    strategy: str = "auto",
) -> Coarsening:
    """Coarsens an undirected graph with a maximal k-independent set (see :func:`kmis` for
    the graph forms and the rank options). Each edge ``u -- v`` becomes ``c(u) -- c(v)``;
    edges inside a cluster vanish and edges between the same two clusters merge with
    ``reduce`` (``"sum"``, ``"mean"``, ``"max"``, ``"min"``) over ``weight`` (one float per
    edge, default 1): A' = S^T A S without its diagonal. Give each undirected edge once; an
    edge listed in both directions counts twice (use :mod:`sparsedag.pyg` for PyG-style
    lists)."""
    k = _check_k(k)
    if reduce not in COARSEN_REDUCTIONS:
        raise ValueError(f"reduce must be one of {COARSEN_REDUCTIONS}, not {reduce!r}")
    e = _edges(src, dst, num_nodes, weight)
    selected, cluster, rounds, picks = _run_kmis(e, k, rank, scores, heuristic, seed, strategy)
    coarse_n = int(selected.shape[0])
    csrc, cdst, cw = _core.contract_edges(e.src, e.dst, cluster, coarse_n, e.weight, reduce, True)
    return Coarsening(selected, cluster, csrc, cdst, cw, coarse_n, k, rounds, picks)


def pool(
    features: Any,
    cluster: Any,
    reduce: str = "sum",
    *,
    num_clusters: Optional[int] = None,
) -> np.ndarray:
    """Pools (n, d) float32/float64 features by cluster into (num_clusters, d), same dtype.
    ``reduce`` is ``"sum"``, ``"mean"`` or ``"max"``; a cluster with no member gets zeros.
    A 1-D array is treated as one feature column and a 1-D result returned."""
    if reduce not in POOL_REDUCTIONS:
        raise ValueError(f"reduce must be one of {POOL_REDUCTIONS}, not {reduce!r}")
    cluster = _id_array(cluster, "cluster")
    if num_clusters is None:
        if cluster.size and cluster.min() < 0:
            raise ValueError("cluster ids must be non-negative")
        num_clusters = int(cluster.max()) + 1 if cluster.size else 0
    num_clusters = _check_num_nodes(num_clusters, "num_clusters")
    if not isinstance(features, np.ndarray):
        features = np.asarray(features, dtype=np.float64)
    if features.ndim == 1:
        return _core.pool(features.reshape(-1, 1), cluster, num_clusters, reduce)[:, 0]
    return _core.pool(features, cluster, num_clusters, reduce)


def take(features: Any, selected: Any) -> np.ndarray:
    """The rows of ``features`` at the ``selected`` node ids (one row per coarse node)."""
    features = np.asarray(features)
    selected = _id_array(selected, "selected")
    if features.ndim == 0:
        raise ValueError("features must have one row per node")
    n = features.shape[0]
    if selected.size and (selected.min() < 0 or selected.max() >= n):
        raise _core.NodeIdError(f"selected ids must lie in 0..{n} (features has {n} rows)")
    return features[selected]


@dataclass(frozen=True)
class CoarseningHierarchy:
    """Repeated coarsening. ``levels[i]`` maps the nodes of graph i to those of graph i+1
    (graph 0 is the input); every level's mapping is kept so values move both ways."""

    levels: list[Coarsening]
    num_fine_nodes: int

    @property
    def num_levels(self) -> int:
        return len(self.levels)

    @property
    def sizes(self) -> list[int]:
        """Node counts from the input graph down to the coarsest."""
        return [self.num_fine_nodes] + [c.num_nodes for c in self.levels]

    def _check_level(self, level: int) -> int:
        if not 0 <= level <= len(self.levels):
            raise ValueError(f"level must lie in 0..{len(self.levels)}, got {level}")
        return level

    def cluster(self, level: int) -> np.ndarray:
        """The node of graph ``level`` that each input node ends up in."""
        mapping = np.arange(self.num_fine_nodes, dtype=np.int64)
        for c in self.levels[: self._check_level(level)]:
            mapping = c.cluster[mapping]
        return mapping

    def lift(self, values: Any, level: Optional[int] = None, to_level: int = 0) -> np.ndarray:
        """Values on the nodes of graph ``level`` (default the coarsest) copied down to the
        nodes of graph ``to_level`` (default the input): each node gets its cluster's value."""
        level = self._check_level(len(self.levels) if level is None else level)
        to_level = self._check_level(to_level)
        if to_level > level:
            raise ValueError("lift goes from a coarser level to a finer one")
        values = np.asarray(values)
        if values.shape[:1] != (self.sizes[level],):
            raise ValueError(
                f"level {level} has {self.sizes[level]} nodes, got values of shape {values.shape}"
            )
        for c in reversed(self.levels[to_level:level]):
            values = values[c.cluster]
        return values

    def pool(self, features: Any, level: Optional[int] = None, reduce: str = "sum") -> np.ndarray:
        """Input-node features pooled straight to the nodes of graph ``level``."""
        level = self._check_level(len(self.levels) if level is None else level)
        return pool(features, self.cluster(level), reduce, num_clusters=self.sizes[level])


def coarsen_hierarchy(
    src: Any,
    dst: Any = None,
    num_nodes: Optional[int] = None,
    k: int = 1,
    *,
    levels: Optional[int] = None,
    target_nodes: Optional[int] = None,
    scores: Any = None,
    heuristic: Optional[str] = None,
    seed: Optional[int] = None,
    weight: Any = None,
    reduce: str = "sum",
    strategy: str = "auto",
) -> CoarseningHierarchy:
    """Coarsens repeatedly until the graph has at most ``target_nodes`` nodes, ``levels``
    steps were made, or a step no longer shrinks the graph (every component down to one
    node, or no edges). Each level ranks its nodes the same way: ``scores`` are summed per
    cluster into the next level's scores, a ``seed`` moves on by one per level, and edge
    weights merge with ``reduce``."""
    k = _check_k(k)
    if levels is not None:
        levels = _check_num_nodes(levels, "levels")
    if target_nodes is not None:
        target_nodes = _check_num_nodes(target_nodes, "target_nodes")
    e = _edges(src, dst, num_nodes, weight)
    if e.num_nodes is None:
        implied = max(int(e.src.max()), int(e.dst.max())) + 1 if e.src.size else 0
        e = e._replace(num_nodes=implied)
    current_scores = _score_array(scores)
    result: list[Coarsening] = []
    n = int(e.num_nodes or 0)
    fine_n = n
    src_, dst_, w_ = e.src, e.dst, e.weight
    while (levels is None or len(result) < levels) and (target_nodes is None or n > target_nodes):
        level_seed = None if seed is None else seed + len(result)
        c = coarsen(
            src_,
            dst_,
            n,
            k,
            scores=current_scores,
            heuristic=heuristic,
            seed=level_seed,
            weight=w_,
            reduce=reduce,
            strategy=strategy,
        )
        if c.num_nodes == n:
            break
        result.append(c)
        if current_scores is not None:
            current_scores = c.pool(current_scores, "sum")
        src_, dst_, w_, n = c.src, c.dst, c.weight, c.num_nodes
    return CoarseningHierarchy(result, fine_n)
