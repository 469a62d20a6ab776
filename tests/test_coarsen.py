"""k-MIS coarsening and pooling: the DESIGN.md test vector, the sequential greedy MIS of
G^k built with networkx as reference, the paper's guarantees, interop and bad input."""

from __future__ import annotations

import os
import subprocess
import sys

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import sparsedag as sd
from conftest import interrupt_child
from sparsedag.pyg import kmis_pool, kmis_select

# 0-1, 0-4, 1-2, 1-4, 2-3, 3-4 (DESIGN.md §4)
VSRC = np.array([0, 0, 1, 1, 2, 3])
VDST = np.array([1, 4, 2, 4, 3, 4])


def test_design_test_vector():
    sel, cluster = sd.kmis(VSRC, VDST, 5, k=0)
    assert sel.tolist() == [0, 1, 2, 3, 4] and cluster.tolist() == [0, 1, 2, 3, 4]
    sel, cluster = sd.kmis(VSRC, VDST, 5, k=1)
    assert sel.tolist() == [0, 2] and cluster.tolist() == [0, 0, 1, 1, 0]
    sel, cluster = sd.kmis(VSRC, VDST, 5, k=2)
    assert sel.tolist() == [0] and cluster.tolist() == [0] * 5
    for strategy in ("rounds", "sequential"):
        assert sd.kmis(VSRC, VDST, 5, k=1, strategy=strategy).selected.tolist() == [0, 2]
    c = sd.coarsen(VSRC, VDST, 5, k=1, weight=[1, 2, 3, 4, 5, 6])
    assert (c.num_nodes, c.src.tolist(), c.dst.tolist(), c.weight.tolist()) == (2, [0], [1], [9])
    assert c.edge_index.tolist() == [[0], [1]]
    for reduce, expected in [("mean", 4.5), ("max", 6.0), ("min", 3.0)]:
        assert sd.coarsen(VSRC, VDST, 5, k=1, weight=[1, 2, 3, 4, 5, 6], reduce=reduce).weight[
            0
        ] == pytest.approx(expected)
    assert sd.coarsen(VSRC, VDST, 5, k=2).src.size == 0


# --- reference: sequential greedy MIS of G^k built with networkx ---------------------------


def nx_graph(n, src, dst):
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from((int(a), int(b)) for a, b in zip(src, dst) if a != b)
    return g


def greedy_power_mis(g: nx.Graph, rank: np.ndarray, k: int) -> list[int]:
    power = nx.power(g, k) if k > 0 else nx.empty_graph(g.nodes)
    power.add_nodes_from(g.nodes)
    blocked: set[int] = set()
    chosen = []
    for v in np.argsort(rank, kind="stable").tolist():
        if v not in blocked:
            chosen.append(v)
            blocked.add(v)
            blocked.update(power.neighbors(v))
    return sorted(chosen)


def rank_from_keys(keys: np.ndarray) -> np.ndarray:
    """Higher key first, ties by id."""
    order = np.lexsort((np.arange(keys.size), -keys))
    rank = np.empty(keys.size, dtype=np.int64)
    rank[order] = np.arange(keys.size)
    return rank


def walk_mass(g: nx.Graph, x: np.ndarray, k: int) -> np.ndarray:
    a = nx.to_numpy_array(g, nodelist=range(g.number_of_nodes())) + np.eye(len(x))
    for _ in range(k):
        x = a @ x
    return x


@st.composite
def graphs(draw, max_nodes=16):
    n = draw(st.integers(0, max_nodes))
    if n == 0:
        return 0, np.zeros(0, np.int64), np.zeros(0, np.int64)
    m = draw(st.integers(0, 2 * n + 2))
    src = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    dst = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    return n, np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64)


@settings(max_examples=120, deadline=None)
@given(graphs(), st.integers(0, 4), st.sampled_from(["id", "rank", "scores", "greedy", "wgreedy"]))
def test_equals_greedy_mis_of_power_graph(graph, k, how):
    n, src, dst = graph
    g = nx_graph(n, src, dst)
    rng = np.random.default_rng(n * 31 + k)
    scores = rng.integers(1, 4, size=n).astype(np.float64)
    if how == "id":
        rank, kwargs = np.arange(n), {}
    elif how == "rank":
        rank = rng.permutation(n)
        kwargs = {"rank": rank}
    elif how == "scores":
        rank, kwargs = rank_from_keys(scores), {"scores": scores}
    elif how == "greedy":
        rank = rank_from_keys(scores / walk_mass(g, np.ones(n), k))
        kwargs = {"scores": scores, "heuristic": "greedy"}
    else:
        rank = rank_from_keys(scores / walk_mass(g, scores, k))
        kwargs = {"scores": scores, "heuristic": "w-greedy"}
    expected = greedy_power_mis(g, rank, k)
    sel, cluster = sd.kmis(src, dst, n, k=k, **kwargs)
    assert sel.tolist() == expected
    check_guarantees(g, sel, cluster, rank, k)
    c = sd.coarsen(src, dst, n, k=k, **kwargs)
    assert c.selected.tolist() == expected and (c.cluster == cluster).all()
    check_coarse_graph(g, c, k)


def check_guarantees(g, sel, cluster, rank, k):
    dist = dict(nx.all_pairs_shortest_path_length(g))
    sel = sel.tolist()
    for i, s in enumerate(sel):  # k-independent
        for t in sel[i + 1 :]:
            assert dist[s].get(t, np.inf) > k
    for v in g.nodes:  # maximal; centre = min-rank selected node within k hops
        near = [s for s in sel if dist[v].get(s, np.inf) <= k]
        assert near
        assert sel[cluster[v]] == min(near, key=lambda s: rank[s])


def check_coarse_graph(g, c, k):
    dist = dict(nx.all_pairs_shortest_path_length(g))
    sel = c.selected.tolist()
    for a, b in zip(c.src.tolist(), c.dst.tolist()):
        assert a < b and k + 1 <= dist[sel[a]][sel[b]] <= 2 * k + 1
    h = nx_graph(c.num_nodes, c.src, c.dst)
    dh = dict(nx.all_pairs_shortest_path_length(h))
    for i, s in enumerate(sel):
        for j, t in enumerate(sel):
            d_g, d_h = dist[s].get(t), dh[i].get(j)
            assert (d_g is None) == (d_h is None)  # components preserved
            if d_g is not None:
                assert d_h <= d_g <= (2 * k + 1) * d_h
    # every component of G maps to exactly one component of H
    for comp in nx.connected_components(g):
        clusters = {int(c.cluster[v]) for v in comp}
        assert len({frozenset(nx.node_connected_component(h, x)) for x in clusters}) == 1


def test_random_rank_is_seeded():
    g = sd.random_dag(2000, m=6000, seed=4)
    a = sd.kmis(g, k=2, seed=7)
    b = sd.kmis(g, k=2, heuristic="random", seed=7)
    c = sd.kmis(g, k=2, seed=8)
    assert (a.selected == b.selected).all() and (a.cluster == b.cluster).all()
    assert not np.array_equal(a.selected, c.selected)


def test_strategies_agree_on_grid():
    # a grid ranked by id advances one diagonal per round: the case the sequential finish is for
    w = 40
    idx = np.arange(w * w).reshape(w, w)
    src = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    dst = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    results = {}
    for strategy in ("auto", "rounds", "sequential"):
        c = sd.coarsen(src, dst, w * w, k=2, strategy=strategy)
        results[strategy] = c
    assert results["rounds"].rounds > 20 and results["auto"].rounds < results["rounds"].rounds
    assert results["auto"].sequential_picks > 0 and results["rounds"].sequential_picks == 0
    for c in results.values():
        assert (c.selected == results["rounds"].selected).all()
        assert (c.cluster == results["rounds"].cluster).all()


# --- input forms -----------------------------------------------------------------------------


def test_graph_input_forms_agree():
    dag = sd.random_dag(300, m=900, seed=5)
    src, dst = dag.edges()
    expected = sd.coarsen(src, dst, 300, k=2, heuristic="greedy")
    from_dag = sd.coarsen(dag, k=2, heuristic="greedy")
    # a symmetric scipy matrix (both triangles stored) and a networkx graph
    a = sp.coo_array((np.ones(src.size), (src, dst)), shape=(300, 300))
    from_scipy = sd.coarsen(a + a.T, k=2, heuristic="greedy")
    from_nx = sd.coarsen(nx_graph(300, src, dst), k=2, heuristic="greedy")
    from_digraph = sd.coarsen(dag.to_networkx(), k=2, heuristic="greedy")
    from_lists = sd.coarsen(src.tolist(), dst.tolist(), k=2, heuristic="greedy")
    for c in (from_dag, from_scipy, from_nx, from_digraph, from_lists):
        assert (c.selected == expected.selected).all()
        assert (c.cluster == expected.cluster).all()
        assert (c.src == expected.src).all() and (c.dst == expected.dst).all()
        assert np.allclose(c.weight, expected.weight)
    # int32 ids are borrowed as they are; mixed dtypes are promoted
    c32 = sd.kmis(src.astype(np.int32), dst.astype(np.int32), 300, k=2)
    mixed = sd.kmis(src.astype(np.int32), dst, 300, k=2)
    assert (c32.selected == mixed.selected).all()


def test_scipy_weights_and_networkx_labels():
    m = sp.csr_array(np.array([[0, 2.0, 0], [5.0, 7.0, 1.0], [0, 0, 0]]))
    c = sd.coarsen(m, k=0)
    # pair {0,1} stored twice (2 and 5 -> max 5); the diagonal entry is dropped
    assert c.src.tolist() == [0, 1] and c.dst.tolist() == [1, 2]
    assert c.weight.tolist() == [5.0, 1.0]
    g = nx.Graph()
    g.add_edge("a", "b", weight=3.0)
    g.add_edge("b", "c")
    c = sd.coarsen(g, k=0)
    assert c.weight.tolist() == [3.0, 1.0]


# --- pooling, take, lift, hierarchy ------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 30), st.integers(0, 4), st.integers(1, 6), st.sampled_from(["f4", "f8"]))
def test_pool_matches_numpy(n, d, clusters, dtype):
    rng = np.random.default_rng(n + 7 * d)
    x = rng.normal(size=(n, d)).astype(dtype)
    cluster = rng.integers(0, clusters, size=n)
    total = np.zeros((clusters, d), dtype=dtype)
    np.add.at(total, cluster, x)
    count = np.bincount(cluster, minlength=clusters)
    maximum = np.full((clusters, d), -np.inf, dtype=dtype)
    np.maximum.at(maximum, cluster, x)
    maximum[count == 0] = 0
    got = sd.pool(x, cluster, "sum", num_clusters=clusters)
    assert got.dtype == np.dtype(dtype) and got.shape == (clusters, d)
    tol = 1e-5 if dtype == "f4" else 1e-12
    np.testing.assert_allclose(got, total, rtol=tol, atol=tol)
    mean = sd.pool(x, cluster, "mean", num_clusters=clusters)
    np.testing.assert_allclose(mean, total / np.maximum(count, 1)[:, None], rtol=tol, atol=tol)
    np.testing.assert_array_equal(sd.pool(x, cluster, "max", num_clusters=clusters), maximum)


def test_take_lift_and_result_methods():
    c = sd.coarsen(VSRC, VDST, 5, k=1)
    x = np.arange(10, dtype=np.float32).reshape(5, 2)
    assert c.take(x).tolist() == [[0, 1], [4, 5]]
    assert c.pool(x, "max").tolist() == [[8, 9], [6, 7]]
    assert sd.pool(np.arange(5.0), c.cluster).tolist() == [5.0, 5.0]
    assert c.lift(np.array(["a", "b"])).tolist() == ["a", "a", "b", "b", "a"]
    with pytest.raises(ValueError, match="coarse values"):
        c.lift([1, 2, 3])
    with pytest.raises(sd.NodeIdError):
        sd.take(x, [0, 5])


def test_hierarchy_levels_target_and_lift():
    dag = sd.random_dag(3000, m=9000, seed=2)
    h = sd.coarsen_hierarchy(dag, k=1, heuristic="greedy")
    sizes = h.sizes
    assert sizes[0] == 3000 and all(a > b for a, b in zip(sizes, sizes[1:]))
    assert h.levels[-1].src.size == 0  # stops once nothing shrinks any more
    n_components = nx.number_connected_components(dag.to_networkx().to_undirected())
    assert sizes[-1] == n_components
    two = sd.coarsen_hierarchy(dag, k=1, heuristic="greedy", levels=2)
    assert two.sizes == sizes[:3]
    target = sd.coarsen_hierarchy(dag, k=1, heuristic="greedy", target_nodes=200)
    assert target.sizes[-1] <= 200 < target.sizes[-2]
    # composed mapping, lifting and pooling straight to a level
    mapping = two.cluster(2)
    assert (mapping == two.levels[1].cluster[two.levels[0].cluster]).all()
    labels = np.arange(two.sizes[2])
    assert (two.lift(labels) == mapping).all()
    assert (two.lift(labels, level=2, to_level=1) == labels[two.levels[1].cluster]).all()
    x = np.random.default_rng(0).normal(size=(3000, 3))
    np.testing.assert_allclose(two.pool(x, 2, "sum"), two.levels[1].pool(two.levels[0].pool(x)))
    with pytest.raises(ValueError, match="level"):
        two.cluster(3)
    # scores are summed per cluster for the next level; seeds move on per level
    s = sd.coarsen_hierarchy(dag, k=1, scores=np.ones(3000), heuristic="w-greedy", levels=3)
    r = sd.coarsen_hierarchy(dag, k=1, seed=3, levels=3)
    assert s.num_levels == 3 and r.num_levels == 3


def test_pyg_entry_point_keeps_both_directions():
    both_src = np.concatenate([VSRC, VDST])
    both_dst = np.concatenate([VDST, VSRC])
    edge_index = np.stack([both_src, both_dst])
    x = np.arange(10, dtype=np.float32).reshape(5, 2)
    out = kmis_pool(edge_index, x, batch=np.zeros(5, np.int64), k=1)
    assert out.edge_index.tolist() == [[0, 1], [1, 0]]
    assert out.edge_weight.tolist() == [2.0, 2.0]
    assert out.x.tolist() == [[0, 1], [4, 5]] and out.batch.tolist() == [0, 0]
    mean = kmis_pool(edge_index, x, k=1, reduce_x="mean", reduce_edge="max")
    np.testing.assert_allclose(mean.x, [[10 / 3, 13 / 3], [5, 6]], rtol=1e-6)
    sel, cluster = kmis_select(edge_index, k=1)
    assert sel.tolist() == [0, 2] and cluster.tolist() == [0, 0, 1, 1, 0]
    # two graphs in one batch: no cluster spans both
    shifted = np.concatenate([edge_index, edge_index + 5], axis=1)
    batch = np.repeat([0, 1], 5)
    out = kmis_pool(shifted, batch=batch, k=2)
    assert out.batch.tolist() == [0, 1]
    assert (batch[out.selected[out.cluster]] == batch).all()


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: sd.kmis([0, 7], [1, 2], 5), sd.NodeIdError, "node id 7"),
        (lambda: sd.kmis([0, -1], [1, 2]), sd.NodeIdError, "-1"),
        (lambda: sd.kmis(VSRC, VDST, 5, k=-1), ValueError, "non-negative"),
        (lambda: sd.kmis(VSRC, VDST, 5, k=1.5), TypeError, "integer"),
        (lambda: sd.kmis(VSRC, VDST, 5, rank=[0, 1, 1, 2, 3]), ValueError, "permutation"),
        (lambda: sd.kmis(VSRC, VDST, 5, rank=[0, 1, 2, 3, 9]), ValueError, "permutation"),
        (lambda: sd.kmis(VSRC, VDST, 5, rank=[0, 1, 2]), ValueError, "3 entries"),
        (lambda: sd.kmis(VSRC, VDST, 5, rank=[0, 1, 2, 3, -4]), ValueError, "out of range"),
        (lambda: sd.kmis(VSRC, VDST, 5, scores=[1, 2, np.nan, 3, 4]), ValueError, "finite"),
        (lambda: sd.kmis(VSRC, VDST, 5, scores=[1, 2, np.inf, 3, 4]), ValueError, "finite"),
        (lambda: sd.kmis(VSRC, VDST, 5, scores=[1, 2]), ValueError, "2 entries"),
        (
            lambda: sd.kmis(VSRC, VDST, 5, scores=[1, 0, 1, 1, 1], heuristic="w-greedy"),
            ValueError,
            "positive",
        ),
        (lambda: sd.kmis(VSRC, VDST, 5, heuristic="best"), ValueError, "heuristic"),
        (lambda: sd.kmis(VSRC, VDST, 5, rank=np.arange(5), heuristic="greedy"), ValueError, "not"),
        (lambda: sd.kmis(VSRC, VDST, 5, strategy="fast"), ValueError, "strategy"),
        (lambda: sd.kmis(VSRC, VDST[:3], 5), ValueError, "same length"),
        (lambda: sd.kmis(VSRC[::2], VDST[::2], 5), ValueError, "contiguous"),
        (lambda: sd.kmis(VSRC.astype(float), VDST.astype(float)), TypeError, "integer"),
        (lambda: sd.kmis(VSRC), TypeError, "dst is missing"),
        (lambda: sd.kmis("graph"), TypeError, "expected edge arrays"),
        (lambda: sd.kmis(VSRC, VDST, 2**33), OverflowError, "number of nodes"),
        (lambda: sd.kmis(VSRC, VDST, -2), ValueError, "non-negative"),
        (lambda: sd.kmis(sp.csr_array((2, 3)), k=1), ValueError, "square"),
        (lambda: sd.coarsen(VSRC, VDST, 5, weight=[1.0] * 5), ValueError, "5 entries"),
        (lambda: sd.coarsen(VSRC, VDST, 5, weight=[np.nan] * 6), ValueError, "finite"),
        (lambda: sd.coarsen(VSRC, VDST, 5, weight=["a"] * 6), TypeError, "numbers"),
        (lambda: sd.coarsen(VSRC, VDST, 5, weight=np.ones(12)[::2]), ValueError, "contiguous"),
        (lambda: sd.coarsen(VSRC, VDST, 5, reduce="median"), ValueError, "reduce"),
        (lambda: sd.pool(np.ones((4, 2)), [0, 0, 1, 1, 1]), ValueError, "4 rows"),
        (lambda: sd.pool(np.ones((5, 2), np.int64), [0] * 5), TypeError, "float32 or float64"),
        (lambda: sd.pool(np.ones((5, 4))[:, ::2], [0] * 5), ValueError, "contiguous"),
        (lambda: sd.pool(np.ones((5, 2, 2)), [0] * 5), ValueError, "two-dimensional"),
        (lambda: sd.pool(np.full((5, 2), np.nan), [0] * 5), ValueError, "finite"),
        (lambda: sd.pool(np.ones((5, 2)), [0, 0, 1, 1, 1], num_clusters=1), ValueError, "0..1"),
        (lambda: sd.pool(np.ones((5, 2)), [0] * 5, "median"), ValueError, "reduce"),
        (lambda: sd.pool(np.ones((2, 2)), [0, -1]), ValueError, "non-negative"),
        (lambda: sd.kmis(VSRC, VDST, 5, seed=-1), ValueError, "seed must be >= 0"),
        # sized by arguments: these used to abort the interpreter on a failed allocation
        (lambda: sd.pool(np.ones((2, 2)), [0, 1], num_clusters=10**12), OverflowError, "clust"),
        (lambda: sd.pool(np.ones((0, 2**40)), [], num_clusters=2**20), MemoryError, "GB"),
        (lambda: kmis_pool(np.zeros((3, 2), np.int64)), ValueError, r"\(2, num_edges\)"),
        (lambda: kmis_pool(np.zeros((2, 2)), k=1), TypeError, "integers"),
        (lambda: kmis_pool(np.stack([VSRC, VDST]), np.ones((4, 2))), ValueError, "rows"),
        (lambda: kmis_pool(np.stack([VSRC, VDST]), batch=[0, 1]), ValueError, "batch"),
        (lambda: sd.coarsen_hierarchy(VSRC, VDST, 5, levels=-1), ValueError, "levels must be"),
        (lambda: sd.coarsen_hierarchy(VSRC, VDST, 5, target_nodes=-1), ValueError, "target_n"),
    ],
)
def test_bad_input_raises_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_heuristics_with_a_huge_k_on_edgeless_graphs_return():
    # the walk counts never change without edges, but all 2**62 hops were walked (a hang
    # that Ctrl-C could not stop; on graphs with edges the walk now polls Ctrl-C each hop)
    empty = np.zeros(0, np.int64)
    for heuristic in ("greedy", "w-greedy"):
        sel, _ = sd.kmis(empty, empty, 3, k=2**62, heuristic=heuristic)
        assert sel.tolist() == [0, 1, 2]


def test_empty_and_edgeless_graphs():
    empty = np.zeros(0, np.int64)
    sel, cluster = sd.kmis(empty, empty)
    assert sel.size == 0 and cluster.size == 0
    c = sd.coarsen(empty, empty, 4, k=3)
    assert c.selected.tolist() == [0, 1, 2, 3] and c.src.size == 0
    assert sd.pool(np.zeros((0, 3)), empty, num_clusters=0).shape == (0, 3)
    assert sd.coarsen_hierarchy(empty, empty, 4).num_levels == 0


# --- threads and Ctrl-C ------------------------------------------------------------------------

THREAD_SCRIPT = """
import hashlib, numpy as np, sparsedag as sd
from sparsedag.pyg import kmis_pool
digest = hashlib.sha256()
g = sd.random_dag(80_000, m=300_000, seed=21)
src, dst = g.edges()
w = np.random.default_rng(0).random(src.size)
x = np.random.default_rng(1).normal(size=(80_000, 4)).astype(np.float32)
for kwargs in ({}, {"seed": 3}, {"heuristic": "greedy"},
               {"heuristic": "w-greedy", "scores": np.random.default_rng(2).random(80_000) + 0.1}):
    for k in (1, 3):
        c = sd.coarsen(src, dst, 80_000, k=k, weight=w, **kwargs)
        for a in (c.selected, c.cluster, c.src, c.dst, c.weight, c.pool(x, "mean")):
            digest.update(a.tobytes())
out = kmis_pool(np.stack([np.r_[src, dst], np.r_[dst, src]]), x, k=2, reduce_x="sum")
digest.update(out.x.tobytes()); digest.update(out.edge_weight.tobytes())
print(sd.get_num_threads(), digest.hexdigest())
"""


def test_same_results_for_one_and_two_threads():
    digests = []
    for threads in (1, 2):
        env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
        out = subprocess.run(
            [sys.executable, "-c", THREAD_SCRIPT],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        count, digest = out.stdout.split()
        assert count == str(threads)
        digests.append(digest)
    assert digests[0] == digests[1]


INTERRUPT_SCRIPT = """
import time, numpy as np, sparsedag as sd
n = 300_000
src, dst = np.arange(n - 1), np.arange(1, n)
print("ready", flush=True)
t0 = time.perf_counter()
try:
    # a path ranked by id with rounds only: one selection per round, ~n/9 rounds
    sd.kmis(src, dst, n, k=8, strategy="rounds")
    print("finished", flush=True)
except KeyboardInterrupt:
    print(f"interrupted after {time.perf_counter() - t0:.2f}s", flush=True)
print("still usable", sd.kmis(src[:10], dst[:10], k=1).selected.tolist() == [0, 2, 4, 6, 8, 10])
"""


def test_ctrl_c_interrupts_kmis():
    out, err = interrupt_child(INTERRUPT_SCRIPT, after=0.3, timeout=60)
    assert "interrupted after" in out, (out, err)
    assert "still usable True" in out, (out, err)
