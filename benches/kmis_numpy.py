"""The parallel k-MIS rounds of Bacciu, Conte and Landolfi written with NumPy/SciPy only: the
reference peer of benches/compare_kmis.py. Same rounds, same rank, same answer as
``sparsedag.kmis`` (the comparison script checks that).

    while some node is uncovered:
        min_rank = rank, with covered nodes set to +inf
        repeat k times: min_rank[v] = min(min_rank[v], min over neighbours u of min_rank[u])
        selected |= (rank == min_rank) and not covered
        covered = selected dilated k hops
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def symmetric_csr(src: np.ndarray, dst: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, indices) of the simple undirected graph under the edges (no self-loops)."""
    keep = src != dst
    rows = np.concatenate([src[keep], dst[keep]])
    cols = np.concatenate([dst[keep], src[keep]])
    a = sp.csr_array((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(n, n))
    a.sum_duplicates()
    return a.indptr, a.indices


class _Neighbourhood:
    """Per-node reductions over neighbours with ufunc.reduceat, patched for empty rows."""

    def __init__(self, indptr: np.ndarray, indices: np.ndarray) -> None:
        self.indices = indices
        self.nonempty = np.flatnonzero(np.diff(indptr) > 0)
        self.starts = indptr[:-1][self.nonempty]

    def reduce(self, ufunc: np.ufunc, values: np.ndarray, empty: int) -> np.ndarray:
        out = np.full(values.shape[0], empty, dtype=values.dtype)
        if self.indices.size:
            out[self.nonempty] = ufunc.reduceat(values[self.indices], self.starts)
        return out


def kmis_rounds(
    indptr: np.ndarray, indices: np.ndarray, rank: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """(selected ids ascending, cluster per node, rounds)."""
    n = rank.shape[0]
    rank = rank.astype(np.int64)
    if k == 0:
        return np.arange(n), np.arange(n), 0
    inf = np.int64(n)
    nb = _Neighbourhood(indptr, indices)
    covered = np.zeros(n, dtype=bool)
    selected = np.zeros(n, dtype=bool)
    rounds = 0
    while not covered.all():
        rounds += 1
        key = np.where(covered, inf, rank)
        for _ in range(k):
            key = np.minimum(key, nb.reduce(np.minimum, key, inf))
        new = ~covered & (key == rank)
        selected |= new
        reach = new.astype(np.int8)
        for _ in range(k):
            reach = np.maximum(reach, nb.reduce(np.maximum, reach, 0))
        covered |= reach.astype(bool)
    # cluster: the minimum-rank selected node within k hops
    key = np.where(selected, rank, inf)
    for _ in range(k):
        key = np.minimum(key, nb.reduce(np.minimum, key, inf))
    sel = np.flatnonzero(selected)
    coarse_of_rank = np.full(n + 1, -1, dtype=np.int64)
    coarse_of_rank[rank[sel]] = np.arange(sel.size)
    return sel, coarse_of_rank[key], rounds


def kmis(src, dst, n, k, rank):
    indptr, indices = symmetric_csr(src, dst, n)
    return kmis_rounds(indptr, indices, rank, k)
