"""The user-facing `Dag`: a thin wrapper over the Rust `_core.Dag` that adds interop with
scipy.sparse and networkx and keeps the mapping from node ids back to arbitrary labels."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any, Optional, Union

import numpy as np

from . import _core

if TYPE_CHECKING:
    import networkx as nx
    import scipy.sparse

__all__ = ["Dag", "GraphLike", "as_dag"]


def _id_array(values: Any, name: str) -> np.ndarray:
    """Lists and tuples become int64 arrays; numpy arrays pass through untouched so that the
    core can borrow them without a copy (and reject bad dtypes or strides itself)."""
    if isinstance(values, np.ndarray):
        return values
    array = np.asarray(values)
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integers, got values of dtype {array.dtype}")
    return array.astype(np.int64, copy=False)


class Dag:
    """A directed acyclic graph with nodes ``0..num_nodes`` (and optional labels).

    Build one with :meth:`from_edges`, :meth:`from_scipy` or :meth:`from_networkx`; every
    builder validates ids, self-loops, duplicates and acyclicity and raises a subclass of
    :class:`GraphError` (a ``ValueError``) naming the offending edge or cycle.
    """

    __slots__ = ("_core", "_labels")

    def __init__(self, core: _core.Dag, labels: Optional[Sequence[Hashable]] = None) -> None:
        if not isinstance(core, _core.Dag):
            raise TypeError("use Dag.from_edges, Dag.from_scipy or Dag.from_networkx")
        if labels is not None and len(labels) != core.num_nodes:
            raise ValueError(f"{len(labels)} labels given for {core.num_nodes} nodes")
        self._core = core
        self._labels = list(labels) if labels is not None else None

    # -- builders -----------------------------------------------------------------------
    @classmethod
    def from_edges(
        cls,
        src: Any,
        dst: Any,
        num_nodes: Optional[int] = None,
        *,
        duplicates: str = "reject",
    ) -> Dag:
        """Builds a DAG from two integer arrays of equal length (edge ``src[i] -> dst[i]``).

        int32, int64, uint32 and uint64 numpy arrays are borrowed without copying; they must
        be one-dimensional and contiguous. ``num_nodes`` defaults to ``max(id) + 1``.
        ``duplicates`` is ``"reject"`` (raise :class:`DuplicateEdgeError`) or ``"merge"``.
        """
        src = _id_array(src, "src")
        dst = _id_array(dst, "dst")
        if num_nodes is not None:
            if isinstance(num_nodes, bool) or not isinstance(num_nodes, (int, np.integer)):
                raise TypeError(f"num_nodes must be an integer, got {num_nodes!r}")
            if num_nodes < 0:
                raise ValueError(f"num_nodes must be a non-negative integer, got {num_nodes!r}")
        if src.dtype != dst.dtype:
            common = np.promote_types(src.dtype, dst.dtype)
            if common.kind in "iu":
                src, dst = src.astype(common), dst.astype(common)
        return cls(_core.Dag.from_edges(src, dst, num_nodes, duplicates))

    @classmethod
    def from_scipy(cls, matrix: scipy.sparse.spmatrix | scipy.sparse.sparray) -> Dag:
        """Builds a DAG from the sparsity pattern of a square scipy.sparse matrix: every
        stored entry ``A[i, j]`` (explicit zeros included) is an edge ``i -> j``."""
        import scipy.sparse as sp

        if not sp.issparse(matrix):
            raise TypeError(f"expected a scipy.sparse matrix, got {type(matrix).__name__}")
        rows, cols = matrix.shape
        if rows != cols:
            raise ValueError(f"an adjacency matrix must be square, got shape {matrix.shape}")
        coo = matrix.tocoo()
        coo.sum_duplicates()
        return cls.from_edges(
            np.ascontiguousarray(coo.row, dtype=np.int64),
            np.ascontiguousarray(coo.col, dtype=np.int64),
            rows,
        )

    @classmethod
    def from_networkx(cls, graph: nx.DiGraph, *, duplicates: str = "reject") -> Dag:
        """Builds a DAG from a ``networkx.DiGraph`` with any hashable node labels. Node ``i``
        is the ``i``-th node of ``graph.nodes``; :attr:`labels` maps ids back."""
        if not hasattr(graph, "is_directed") or not graph.is_directed():
            raise TypeError("from_networkx needs a directed networkx graph (nx.DiGraph)")
        labels = list(graph.nodes)
        index = {label: i for i, label in enumerate(labels)}
        m = graph.number_of_edges()
        src = np.fromiter((index[u] for u, _ in graph.edges()), dtype=np.int64, count=m)
        dst = np.fromiter((index[v] for _, v in graph.edges()), dtype=np.int64, count=m)
        core = _core.Dag.from_edges(src, dst, len(labels), duplicates)
        return cls(core, labels)

    # -- inspection ---------------------------------------------------------------------
    @property
    def num_nodes(self) -> int:
        return self._core.num_nodes

    @property
    def num_edges(self) -> int:
        return self._core.num_edges

    @property
    def labels(self) -> Optional[list[Hashable]]:
        """Node labels from :meth:`from_networkx`, or ``None`` when ids are the labels."""
        return self._labels

    def label(self, ids: Any) -> list[Hashable]:
        """The labels of the given node ids (the ids themselves when there are no labels)."""
        ids = np.asarray(ids)
        if ids.size and ids.dtype.kind not in "iu":
            # a float id would be truncated to another node's label
            raise TypeError(f"node ids must be integers, got dtype {ids.dtype}")
        ids = ids.astype(np.int64).ravel()
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_nodes):
            raise IndexError(f"node ids must lie in 0..{self.num_nodes}")
        if self._labels is None:
            return ids.tolist()
        return [self._labels[i] for i in ids]

    def to_dict(self, values: Any) -> dict[Hashable, Any]:
        """Maps a per-node array (a layering, say) to ``{label: value}``."""
        values = np.asarray(values)
        if values.shape[:1] != (self.num_nodes,):
            raise ValueError(f"expected {self.num_nodes} values, got shape {values.shape}")
        return dict(zip(self.label(np.arange(self.num_nodes)), values.tolist()))

    def edges(self) -> tuple[np.ndarray, np.ndarray]:
        """``(src, dst)`` int64 arrays, sorted by source then target."""
        return self._core.edges()

    def in_degree(self) -> np.ndarray:
        return self._core.in_degree()

    def out_degree(self) -> np.ndarray:
        return self._core.out_degree()

    def to_networkx(self) -> nx.DiGraph:
        """A ``networkx.DiGraph`` with the original labels (or ids) as nodes."""
        import networkx as nx

        graph = nx.DiGraph()
        names = self.label(np.arange(self.num_nodes))
        graph.add_nodes_from(names)
        src, dst = self.edges()
        graph.add_edges_from(zip(self.label(src), self.label(dst)))
        return graph

    def to_scipy(self) -> scipy.sparse.csr_array:
        """The adjacency matrix as a ``scipy.sparse.csr_array`` of ones."""
        import scipy.sparse as sp

        indptr, indices = self._core.out_csr()
        data = np.ones(indices.shape[0], dtype=np.float64)
        return sp.csr_array((data, indices, indptr), shape=(self.num_nodes, self.num_nodes))

    def __reduce__(self) -> tuple[type[Dag], tuple[_core.Dag, Optional[list[Hashable]]]]:
        # Explicit, so every pickle protocol works with __slots__; the core graph pickles as
        # its edge list and is validated again when loaded.
        return (Dag, (self._core, self._labels))

    def __len__(self) -> int:
        return self.num_nodes

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Dag) and self._core == other._core and self._labels == other._labels
        )

    def __hash__(self) -> int:
        return hash(self._core)

    def __repr__(self) -> str:
        return f"Dag(num_nodes={self.num_nodes}, num_edges={self.num_edges})"


GraphLike = Union[Dag, "nx.DiGraph", "scipy.sparse.spmatrix", "scipy.sparse.sparray"]


def as_dag(graph: Any) -> Dag:
    """Accepts a :class:`Dag`, a networkx DiGraph or a scipy.sparse adjacency matrix."""
    if isinstance(graph, Dag):
        return graph
    if isinstance(graph, _core.Dag):
        return Dag(graph)
    if hasattr(graph, "is_directed") and hasattr(graph, "nodes"):
        return Dag.from_networkx(graph)
    if hasattr(graph, "tocoo") and hasattr(graph, "shape"):
        return Dag.from_scipy(graph)
    raise TypeError(
        "expected a sparsedag.Dag, a networkx.DiGraph or a scipy.sparse matrix, "
        f"got {type(graph).__name__}"
    )
