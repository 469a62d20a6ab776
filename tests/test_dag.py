"""Building, exporting and validating DAGs through the public API."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings

import sparsedag as sd
from conftest import dag_edges


def test_from_edges_roundtrip_sorted():
    g = sd.Dag.from_edges(np.array([2, 0, 0, 1]), np.array([3, 2, 1, 3]))
    assert (g.num_nodes, g.num_edges) == (4, 4)
    src, dst = g.edges()
    assert src.tolist() == [0, 0, 1, 2] and dst.tolist() == [1, 2, 3, 3]
    assert src.dtype == np.int64
    assert g.in_degree().tolist() == [0, 1, 1, 2]
    assert g.out_degree().tolist() == [2, 1, 1, 0]


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint32, np.uint64])
def test_accepts_every_integer_dtype(dtype):
    g = sd.Dag.from_edges(np.array([0, 1], dtype=dtype), np.array([1, 2], dtype=dtype))
    assert g.num_edges == 2


def test_lists_and_num_nodes():
    g = sd.Dag.from_edges([0], [1], num_nodes=5)
    assert g.num_nodes == 5
    assert sd.Dag.from_edges([], []).num_nodes == 0


def test_mixed_integer_dtypes_are_promoted():
    g = sd.Dag.from_edges(np.array([0, 1], np.int32), np.array([1, 2], np.int64))
    assert g.num_edges == 2


@given(dag_edges(max_nodes=15))
@settings(max_examples=60, deadline=None)
def test_edges_match_networkx(case):
    n, src, dst = case
    g = sd.Dag.from_edges(src, dst, n)
    ours = set(zip(*(a.tolist() for a in g.edges())))
    assert ours == set(zip(src.tolist(), dst.tolist()))
    assert g.num_nodes == n


def test_networkx_labels_roundtrip():
    nxg = nx.DiGraph()
    nxg.add_edges_from([("a", ("t", 1)), (("t", 1), 3.5), ("a", 3.5)])
    nxg.add_node("lonely")
    g = sd.Dag.from_networkx(nxg)
    assert g.labels == ["a", ("t", 1), 3.5, "lonely"]
    back = g.to_networkx()
    assert set(back.nodes) == set(nxg.nodes)
    assert set(back.edges) == set(nxg.edges)
    layers = g.to_dict(sd.layering(g))
    assert layers == {"a": 0, ("t", 1): 1, 3.5: 2, "lonely": 0}
    # a float id used to be truncated to another node's label ([0.5] gave ["a"])
    with pytest.raises(TypeError, match="node ids must be integers"):
        g.label([0.5])


def test_networkx_graph_accepted_by_algorithms():
    nxg = nx.DiGraph([("x", "y"), ("y", "z")])
    assert sd.layering(nxg).tolist() == [0, 1, 2]


def test_networkx_undirected_rejected():
    with pytest.raises(TypeError, match="directed"):
        sd.Dag.from_networkx(nx.Graph([(0, 1)]))


def test_networkx_cycle_named_with_ids():
    with pytest.raises(sd.CycleError) as info:
        sd.Dag.from_networkx(nx.DiGraph([("a", "b"), ("b", "c"), ("c", "a")]))
    assert info.value.cycle == [0, 1, 2]


def test_scipy_roundtrip():
    a = sp.csr_array(np.array([[0, 1, 1], [0, 0, 1], [0, 0, 0]], dtype=np.float32))
    g = sd.Dag.from_scipy(a)
    assert g.num_edges == 3
    assert (g.to_scipy().toarray() == a.toarray()).all()
    assert sd.layering(a).tolist() == [0, 1, 2]


def test_scipy_errors():
    with pytest.raises(ValueError, match="square"):
        sd.Dag.from_scipy(sp.csr_array(np.ones((2, 3))))
    with pytest.raises(TypeError, match="scipy.sparse"):
        sd.Dag.from_scipy(np.ones((2, 2)))
    with pytest.raises(sd.SelfLoopError):
        sd.Dag.from_scipy(sp.eye(3, format="csr"))


# --- bad input: each case raises a documented exception with an actionable message -----


def test_cycle_is_named():
    with pytest.raises(sd.CycleError, match=r"1 -> 2 -> 3 -> 1") as info:
        sd.Dag.from_edges([0, 1, 2, 3], [1, 2, 3, 1])
    assert info.value.cycle == [1, 2, 3]
    assert isinstance(info.value, ValueError)


def test_long_cycle_message_is_truncated():
    n = 1000
    with pytest.raises(sd.CycleError, match="1000 nodes in all") as info:
        sd.Dag.from_edges(np.arange(n), (np.arange(n) + 1) % n)
    assert sorted(info.value.cycle) == list(range(n))


def test_out_of_range_and_negative_ids():
    with pytest.raises(sd.NodeIdError, match=r"edge 1 uses node id 7.*0\.\.5"):
        sd.Dag.from_edges([0, 7], [1, 2], num_nodes=5)
    # without num_nodes the range is not known yet: it used to say "must lie in 0..0"
    with pytest.raises(sd.NodeIdError, match="edge 1 uses node id -3, but node ids must be non-n"):
        sd.Dag.from_edges([0, -3], [1, 2])
    with pytest.raises(sd.NodeIdError, match=r"2147483648, but ids must lie in 0\.\.10"):
        sd.Dag.from_edges(np.array([0], np.uint32), np.array([2**31], np.uint32), num_nodes=10)
    # ids of 2**63 and more are read saturated; the messages used to quote the saturated
    # value as if it were the id
    with pytest.raises(OverflowError, match=r"largest id is 9223372036854775808 or more"):
        sd.Dag.from_edges(np.array([0], np.uint64), np.array([2**63 + 5], np.uint64))
    with pytest.raises(sd.NodeIdError, match=r"node id 9223372036854775807 or more, but"):
        sd.Dag.from_edges(np.array([0], np.uint64), np.array([2**64 - 1], np.uint64), 5)


def test_self_loop():
    with pytest.raises(sd.SelfLoopError, match="edge 1 is a self-loop on node 2"):
        sd.Dag.from_edges([0, 2], [1, 2])


def test_duplicates_rejected_or_merged():
    with pytest.raises(sd.DuplicateEdgeError, match="0 -> 1.*merge"):
        sd.Dag.from_edges([0, 0], [1, 1])
    g = sd.Dag.from_edges([0, 0, 1], [1, 1, 2], duplicates="merge")
    assert g.num_edges == 2
    with pytest.raises(ValueError, match="duplicates must be"):
        sd.Dag.from_edges([0], [1], duplicates="sometimes")


def test_wrong_dtype():
    with pytest.raises(TypeError, match="integer dtype.*float64"):
        sd.Dag.from_edges(np.array([0.0, 1.0]), np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="integers"):
        sd.Dag.from_edges([0.5], [1.5])
    with pytest.raises(TypeError, match="same dtype"):
        sd.Dag.from_edges(np.array([0], np.int32), np.array([1], np.uint64))


def test_wrong_shape():
    with pytest.raises(ValueError, match="one-dimensional"):
        sd.Dag.from_edges(np.zeros((2, 2), np.int64), np.zeros((2, 2), np.int64))


def test_non_contiguous():
    src = np.arange(10, dtype=np.int64)[::2]
    dst = src + 1
    with pytest.raises(ValueError, match="contiguous"):
        sd.Dag.from_edges(src, dst)


def test_mismatched_lengths():
    with pytest.raises(ValueError, match="same length"):
        sd.Dag.from_edges([0, 1], [1])


def test_too_many_nodes():
    with pytest.raises(OverflowError, match="number of nodes"):
        sd.Dag.from_edges([0], [1], num_nodes=2**32 + 1)
    with pytest.raises(OverflowError):
        sd.random_dag(2**33, m=1)


def test_bad_num_nodes():
    with pytest.raises(ValueError, match="non-negative"):
        sd.Dag.from_edges([0], [1], num_nodes=-1)
    # True used to be read as one node
    for bad in (True, 3.0, "3"):
        with pytest.raises(TypeError, match="num_nodes must be an integer"):
            sd.Dag.from_edges([0], [1], num_nodes=bad)


def test_direct_construction_refused():
    with pytest.raises(TypeError, match="from_edges"):
        sd.Dag("not a core dag")  # type: ignore[arg-type]


def test_equality_and_hash():
    a = sd.Dag.from_edges([0, 1], [1, 2])
    b = sd.Dag.from_edges(np.array([1, 0]), np.array([2, 1]))
    assert a == b and hash(a) == hash(b)
    assert a != sd.Dag.from_edges([0], [1])


def test_pickle_and_copy_roundtrip():
    # Dag used to refuse pickling ("cannot pickle 'sparsedag._core.Dag' object"), so it could
    # not be sent to a multiprocessing worker or deep-copied.
    import copy
    import pickle

    g = sd.random_dag(200, m=600, seed=4)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(g, protocol=protocol)) == g
    assert copy.deepcopy(g) == g and copy.copy(g) == g
    labelled = sd.Dag.from_networkx(nx.DiGraph([("a", "b"), ("b", "c")]))
    restored = pickle.loads(pickle.dumps(labelled))
    assert restored == labelled and restored.labels == ["a", "b", "c"]
    isolated = sd.Dag.from_edges([], [], 5)
    assert pickle.loads(pickle.dumps(isolated)).num_nodes == 5
    assert pickle.loads(pickle.dumps(g._core)) == g._core
