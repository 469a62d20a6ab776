"""Inference in edge orders (sd.IoPlan with io_schedule(..., method="tiled") and any valid edge
order): equal to the neuron-order executor and to a NumPy reference, checked once, with clear
errors, the GIL released and Ctrl-C honoured."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sparsedag as sd
from conftest import interrupt_child, random_edge_pairs


def reference(g: sd.Dag, weights: np.ndarray, x: np.ndarray, outputs=None) -> np.ndarray:
    """Neuron by neuron in a topological order: ReLU on hidden neurons, outputs linear."""
    src, dst = (np.asarray(a, dtype=np.int64) for a in g.edges())
    in_csr = np.lexsort((src, dst))  # weights are in in-edge CSR order: by target, then source
    w_of = np.empty(len(src), dtype=np.float64)
    w_of[in_csr] = weights
    n = g.num_nodes
    inputs = np.flatnonzero(g.in_degree() == 0)
    outs = np.flatnonzero(g.out_degree() == 0) if outputs is None else np.sort(outputs)
    is_out = np.zeros(n, dtype=bool)
    is_out[outs] = True
    value = np.zeros((n, x.shape[0]))
    value[inputs] = x.T
    for v in sd.topological_order(g):
        if v in set(inputs.tolist()):
            continue
        edges = np.flatnonzero(dst == v)
        z = (w_of[edges, None] * value[src[edges]]).sum(axis=0)
        value[v] = z if is_out[v] else np.maximum(z, 0.0)
    return value[outs].T


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 40),
    p=st.floats(0.05, 0.4),
    seed=st.integers(0, 10_000),
    memory=st.sampled_from([2, 3, 5, 16]),
    batch=st.sampled_from([1, 2, 5, 16, 19]),
)
def test_edge_orders_equal_neuron_orders_and_numpy(n, p, seed, memory, batch):
    g = sd.random_dag(n, p=p, seed=seed)
    if g.num_edges == 0:
        return
    rng = np.random.default_rng(seed)
    w = rng.uniform(-1, 1, size=g.num_edges).astype(np.float32)
    x = rng.uniform(-1, 1, size=(batch, int((g.in_degree() == 0).sum()))).astype(np.float32)
    layer = sd.io_schedule(g, memory, "layer")
    expected = sd.IoPlan(g, layer.order).run(w, x)
    np.testing.assert_allclose(expected, reference(g, w, x), rtol=1e-4, atol=1e-4)
    tiled = sd.io_schedule(g, memory, "tiled")
    assert tiled.kind == "edges"
    for order in (tiled, tiled.order, random_edge_pairs(g, np.random.default_rng(seed))):
        plan = sd.IoPlan(g, order)
        assert plan.kind == "edges"
        y = plan.run(w, x)
        np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)
        np.testing.assert_array_equal(plan.bind(w).run(x), y)  # deterministic, bind = run


def test_every_tiled_block_and_explicit_outputs():
    g = sd.random_dag(300, m=2400, seed=4)
    rng = np.random.default_rng(2)
    w = rng.normal(size=g.num_edges).astype(np.float32) / 4
    sources = np.flatnonzero(g.in_degree() == 0)
    # outputs with consumers, and an input that is also an output
    outputs = np.unique(np.concatenate([[10, 150, 299], sources[:1]]))
    x = rng.normal(size=(7, len(sources))).astype(np.float32)
    layer = sd.io_schedule(g, 32, "layer", outputs=outputs)
    expected = sd.IoPlan(g, layer.order, outputs=outputs).run(w, x)
    np.testing.assert_allclose(expected, reference(g, w, x, outputs), rtol=1e-4, atol=1e-4)
    tiled = sd.io_schedule(g, 32, "tiled", outputs=outputs)
    plan = sd.IoPlan(g, tiled, outputs=outputs)
    np.testing.assert_allclose(plan.run(w, x), expected, rtol=1e-4, atol=1e-4)
    assert 1 <= plan.accumulators <= max(tiled.block, 1) + 1
    assert 0 < plan.runs <= g.num_edges
    # edge ids with kind="edges" are the same order
    src, dst = g.edges()
    pairs = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(src, dst))}
    ids = np.array([pairs[(int(a), int(b))] for a, b in tiled.order])
    by_ids = sd.IoPlan(g, ids, outputs=outputs, kind="edges").run(w, x)
    np.testing.assert_array_equal(by_ids, plan.run(w, x))
    np.testing.assert_array_equal(sd.io_execute(g, tiled.order, w, x, outputs=outputs), by_ids)


def test_neuron_order_as_edges_is_bit_identical():
    g, order = sd.io_efficient_network(8, 500, 5, 16, seed=1)
    rng = np.random.default_rng(3)
    w = rng.normal(size=g.num_edges).astype(np.float32)
    x = rng.normal(size=(16, 8)).astype(np.float32)
    # each neuron's in-edges in source-id order, neuron by neuron: the same sums, same order
    src, dst = (np.asarray(a) for a in g.edges())
    position = np.empty(g.num_nodes, dtype=np.int64)
    position[order] = np.arange(g.num_nodes)
    as_edges = np.stack([src, dst], axis=1)[np.lexsort((src, position[dst]))]
    np.testing.assert_array_equal(sd.IoPlan(g, as_edges).run(w, x), sd.IoPlan(g, order).run(w, x))


def test_bad_edge_orders_and_inputs_raise():
    g = sd.Dag.from_edges([0, 0, 1], [1, 2, 2], 3)  # edges (0,1) (0,2) (1,2)
    good = np.array([[0, 1], [0, 2], [1, 2]])
    w = np.ones(3, dtype=np.float32)
    x = np.ones((2, 1), dtype=np.float32)
    np.testing.assert_array_equal(sd.IoPlan(g, good).run(w, x), [[2.0], [2.0]])
    with pytest.raises(ValueError, match=r"invalid edge order: edge 2 = \(1, 2\)"):
        sd.IoPlan(g, good[[2, 0, 1]])
    with pytest.raises(ValueError, match="appears twice"):
        sd.IoPlan(g, good[[0, 0, 2]])
    with pytest.raises(ValueError, match="3 edges"):
        sd.IoPlan(g, good[:2])
    other = sd.Dag.from_edges([0, 1, 0], [1, 2, 3], 4)  # an edge order of another graph
    with pytest.raises(ValueError, match=r"\(0, 3\)"):
        sd.IoPlan(g, np.array(other.edges()).T)
    with pytest.raises(ValueError, match=r"\(m, 2\)"):
        sd.IoPlan(g, np.zeros((3, 3), dtype=np.int64))
    with pytest.raises(TypeError, match="integer dtype"):
        sd.IoPlan(g, good.astype(np.float64))
    with pytest.raises(ValueError, match="not an edge id"):
        sd.IoPlan(g, [0, 1, 7], kind="edges")
    with pytest.raises(ValueError, match="kind must be"):
        sd.IoPlan(g, good, kind="pairs")
    with pytest.raises(ValueError, match="1-D array of node ids"):
        sd.IoPlan(g, good, kind="neurons")
    plan = sd.IoPlan(g, good)
    with pytest.raises(ValueError, match="weights has"):
        plan.run(w[:2], x)
    with pytest.raises(ValueError, match="finite"):
        plan.bind(np.array([1.0, np.nan, 1.0]))
    with pytest.raises(ValueError, match="inputs has"):
        plan.run(w, np.ones((2, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="two-dimensional"):
        plan.bind(w).run(np.ones(2))
    with pytest.raises(ValueError, match="batch"):
        plan.run(w, np.ones((0, 1), dtype=np.float32))


def test_edge_plan_releases_the_gil():
    g = sd.random_dag(200_000, m=3_000_000, seed=5)
    tiled = sd.io_schedule(g, 4096, "tiled")
    rng = np.random.default_rng(0)
    bound = sd.IoPlan(g, tiled).bind(
        rng.uniform(0.5, 1.5, size=g.num_edges).astype(np.float32) / 16
    )
    x = np.ones((64, int((g.in_degree() == 0).sum())), dtype=np.float32)
    started = threading.Event()

    def work():
        started.set()
        bound.run(x)

    worker = threading.Thread(target=work)
    worker.start()
    started.wait()
    ticks = 0
    while worker.is_alive():
        ticks += 1
    worker.join()
    # With the GIL held for the whole call this loop could not run while the worker computes.
    assert ticks > 10_000


CHILD = """
import time
import numpy as np
import sparsedag as sd
g = sd.random_dag(200_000, m=3_000_000, seed=5)
tiled = sd.io_schedule(g, 4096, "tiled")
bound = sd.IoPlan(g, tiled).bind(np.full(g.num_edges, 1 / 16, dtype=np.float32))
x = np.ones((4096, int((g.in_degree() == 0).sum())), dtype=np.float32)
print("ready", flush=True)
t0 = time.perf_counter()
try:
    bound.run(x)
    print("finished", flush=True)
except KeyboardInterrupt:
    print(f"interrupted after {time.perf_counter() - t0:.2f}s", flush=True)
print("still usable", bool(np.isfinite(bound.run(x[:1])).all()), flush=True)
"""


def test_ctrl_c_interrupts_an_edge_order_run():
    out, err = interrupt_child(CHILD, after=0.5, timeout=300)
    assert "interrupted after" in out, (out, err)
    assert "still usable True" in out, (out, err)


def test_no_edges_and_computed_neurons_without_in_edges():
    g = sd.Dag.from_edges([], [], 3)
    plan = sd.IoPlan(g, np.zeros((0, 2), dtype=np.int64))
    np.testing.assert_array_equal(
        plan.run(np.zeros(0, np.float32), np.ones((2, 3), np.float32)), np.ones((2, 3))
    )
    g = sd.random_dag(50, p=0.1, seed=3)
    inputs = np.flatnonzero(g.in_degree() == 0)[::2]  # the other sources are computed (= 0)
    rng = np.random.default_rng(0)
    w = rng.normal(size=g.num_edges).astype(np.float32)
    x = rng.normal(size=(5, len(inputs))).astype(np.float32)
    tiled = sd.io_schedule(g, 4, "tiled", inputs=inputs)
    layer = sd.io_schedule(g, 4, "layer", inputs=inputs)
    np.testing.assert_allclose(
        sd.IoPlan(g, tiled, inputs=inputs).run(w, x),
        sd.IoPlan(g, layer.order, inputs=inputs).run(w, x),
        rtol=1e-4,
        atol=1e-5,
    )
