"""k-MIS pooling in PyTorch Geometric's conventions, without a torch dependency.

Graphs are ``edge_index`` arrays of shape (2, m) holding both directions of every undirected
edge, with optional ``edge_weight`` (m,), node features ``x`` (n, d) and a ``batch`` vector
for several graphs in one. Everything goes in and out as numpy arrays; CPU torch tensors
convert with ``np.asarray(t)`` on the way in and ``torch.from_numpy(a)`` on the way out::

    from sparsedag.pyg import kmis_pool
    out = kmis_pool(data.edge_index.numpy(), data.x.numpy(), k=2, batch=data.batch.numpy())
    data.x, data.edge_index = torch.from_numpy(out.x), torch.from_numpy(out.edge_index)

The coarse ``edge_index`` keeps PyG's form: A' = S^T A S without its diagonal, so an input
with both directions gives an output with both directions. Clusters never span two graphs of a
batch, because a k-MIS cluster never leaves a connected component.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

import numpy as np

from . import _core
from ._coarsen import (
    COARSEN_REDUCTIONS,
    _check_heuristic,
    _check_k,
    _check_num_nodes,
    _float_array,
    _rank_array,
    _score_array,
    pool,
)

__all__ = ["KMISPoolOutput", "kmis_pool", "kmis_select"]


class KMISPoolOutput(NamedTuple):
    """The pooled graph: features, edges and batch vector of the coarse nodes, plus the
    ``cluster`` of every input node and the ``selected`` input nodes (one per coarse node)."""

    x: Optional[np.ndarray]
    edge_index: np.ndarray
    edge_weight: np.ndarray
    batch: Optional[np.ndarray]
    cluster: np.ndarray
    selected: np.ndarray


def _edge_index(edge_index: Any) -> tuple[np.ndarray, np.ndarray]:
    array = np.asarray(edge_index)
    if array.ndim != 2 or array.shape[0] != 2:
        raise ValueError(f"edge_index must have shape (2, num_edges), got {array.shape}")
    if array.dtype.kind not in "iu":
        raise TypeError(f"edge_index must hold integers, got dtype {array.dtype}")
    array = array.astype(np.int64, copy=False)
    return np.ascontiguousarray(array[0]), np.ascontiguousarray(array[1])


def _num_nodes(src: np.ndarray, dst: np.ndarray, num_nodes: Any, x: Any) -> int:
    if num_nodes is not None:
        return int(_check_num_nodes(num_nodes) or 0)
    implied = int(max(src.max(), dst.max())) + 1 if src.size else 0
    # Nodes without edges exist only through x; ids beyond x's rows are caught by the caller.
    return max(implied, int(np.shape(x)[0])) if x is not None else implied


def _batch_vector(batch: Any, n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    batch = np.asarray(batch)
    if batch.shape != (n,):
        raise ValueError(f"batch must have shape ({n},), got {batch.shape}")
    if batch.dtype.kind not in "iu":
        raise TypeError(f"batch must hold integer graph ids, got dtype {batch.dtype}")
    if n and batch.min() < 0:
        i = int(np.argmin(batch))
        raise ValueError(f"batch holds graph ids >= 0, but batch[{i}] = {batch[i]}")
    # A cluster follows edges, so an edge between two graphs would merge them.
    crossing = np.flatnonzero(batch[src] != batch[dst])
    if crossing.size:
        e = int(crossing[0])
        u, v = int(src[e]), int(dst[e])
        raise ValueError(
            f"edge {e} ({u}, {v}) joins graph {batch[u]} and graph {batch[v]}; "
            "the graphs of a batch must not share edges"
        )
    return batch


def kmis_select(
    edge_index: Any,
    num_nodes: Optional[int] = None,
    *,
    k: int = 1,
    scores: Any = None,
    heuristic: Optional[str] = None,
    rank: Any = None,
    seed: Optional[int] = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(selected, cluster)`` of the k-MIS on an ``edge_index`` graph (see
    :func:`sparsedag.kmis` for the rank options; ``scores`` higher first)."""
    k = _check_k(k)
    _check_heuristic(heuristic)
    src, dst = _edge_index(edge_index)
    n = _num_nodes(src, dst, num_nodes, None)
    selected, cluster, _, _ = _core.kmis(
        src, dst, n, k, _rank_array(rank), _score_array(scores), heuristic, seed, "auto"
    )
    return selected, cluster


def kmis_pool(
    edge_index: Any,
    x: Any = None,
    edge_weight: Any = None,
    batch: Any = None,
    num_nodes: Optional[int] = None,
    *,
    k: int = 1,
    scores: Any = None,
    heuristic: Optional[str] = None,
    rank: Any = None,
    seed: Optional[int] = None,
    reduce_x: str = "take",
    reduce_edge: str = "sum",
) -> KMISPoolOutput:
    """k-MIS pooling of one PyG graph (or batch): selects a maximal k-independent set,
    clusters every node with its best selected node within k hops, and returns the coarse
    graph. ``reduce_x`` is ``"take"`` (features of the selected nodes, as KMISPooling does by
    default), ``"sum"``, ``"mean"`` or ``"max"`` over each cluster; ``reduce_edge`` (``"sum"``,
    ``"mean"``, ``"max"``, ``"min"``) merges the weights of edges between the same clusters
    (default weight 1). ``scores`` (one per node, higher first) with ``heuristic="greedy"`` or
    ``"w-greedy"`` reproduces the score-based selection of Bacciu et al."""
    k = _check_k(k)
    _check_heuristic(heuristic)
    if reduce_x not in ("take", "sum", "mean", "max"):
        raise ValueError(f"reduce_x must be 'take', 'sum', 'mean' or 'max', not {reduce_x!r}")
    if reduce_edge not in COARSEN_REDUCTIONS:
        raise ValueError(f"reduce_edge must be one of {COARSEN_REDUCTIONS}, not {reduce_edge!r}")
    src, dst = _edge_index(edge_index)
    n = _num_nodes(src, dst, num_nodes, x)
    weights = None if edge_weight is None else _float_array(edge_weight, "edge_weight")
    if x is not None and np.shape(x)[0] != n:
        raise ValueError(f"x has {np.shape(x)[0]} rows but the graph has {n} nodes")
    selected, cluster, _, _ = _core.kmis(
        src, dst, n, k, _rank_array(rank), _score_array(scores), heuristic, seed, "auto"
    )
    coarse_n = int(selected.shape[0])
    csrc, cdst, cw = _core.contract_edges(src, dst, cluster, coarse_n, weights, reduce_edge, False)
    pooled_x = None
    if x is not None:
        if reduce_x == "take":
            pooled_x = np.asarray(x)[selected]
        else:
            pooled_x = pool(x, cluster, reduce_x, num_clusters=coarse_n)
    coarse_batch = None if batch is None else _batch_vector(batch, n, src, dst)[selected]
    return KMISPoolOutput(pooled_x, np.stack([csrc, cdst]), cw, coarse_batch, cluster, selected)
