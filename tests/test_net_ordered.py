"""DagNet inference in a chosen order: ``predict(X, memory="low")`` and ``predict(X,
schedule=s)`` give the layer-by-layer outputs bit for bit, keep exactly the rows a liveness
simulation says, and reject bad modes and schedules."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import sparsedag as sd
from conftest import dag_edges, usable

ACTS = ["relu", "tanh", "sigmoid", "identity", "leaky_relu"]


def random_topological_order(g: sd.Dag, rng: np.random.Generator) -> np.ndarray:
    """Kahn's algorithm taking a uniformly random ready node each step."""
    src, dst = g.edges()
    indeg = np.bincount(dst, minlength=g.num_nodes)
    succ = [[] for _ in range(g.num_nodes)]
    for u, v in zip(src.tolist(), dst.tolist()):
        succ[u].append(v)
    ready = [v for v in range(g.num_nodes) if indeg[v] == 0]
    order = []
    while ready:
        v = ready.pop(int(rng.integers(len(ready))))
        order.append(v)
        for w in succ[v]:
            indeg[w] -= 1
            if indeg[w] == 0:
                ready.append(w)
    return np.array(order, dtype=np.int64)


def simulated_rows(net: sd.DagNet, order: np.ndarray) -> int:
    """Inputs plus the most computed activations alive at once: a value that something reads
    is alive from its step through the step of its last reader (so a step's new value and its
    operands coexist)."""
    g = net.graph
    src, dst = g.edges()
    position = np.empty(g.num_nodes, dtype=np.int64)
    position[order] = np.arange(len(order))
    inputs = set(net.inputs.tolist())
    last = {}
    for u, v in zip(src.tolist(), dst.tolist()):
        last[u] = max(last.get(u, -1), int(position[v]))
    best = 0
    for t in range(len(order)):
        alive = sum(1 for u, end in last.items() if u not in inputs and position[u] <= t <= end)
        best = max(best, alive)
    return len(inputs) + best


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dag_edges(max_nodes=16, max_density=0.6), st.data())
def test_every_order_gives_the_layer_by_layer_outputs(edges, data):
    n, src, dst = edges
    assume(usable(n, src, dst))
    g = sd.Dag.from_edges(src, dst, n)
    acts = [data.draw(st.sampled_from(ACTS)) for _ in range(n)]
    net = sd.DagNet(g, activation=acts, seed=data.draw(st.integers(0, 100)))
    rows = data.draw(st.sampled_from([1, 3, 16, 257, 600]))
    X = np.random.default_rng(rows).normal(size=(rows, net.num_inputs)).astype(np.float32)
    expected = net.predict(X)
    np.testing.assert_array_equal(net.predict(X, memory="low"), expected)
    order = random_topological_order(g, np.random.default_rng(data.draw(st.integers(0, 99))))
    np.testing.assert_array_equal(net.predict(X, schedule=order), expected)
    np.testing.assert_array_equal(net.forward(X, schedule=order.astype(np.int32)), expected)
    assert net.activation_rows(schedule=order) == simulated_rows(net, order)
    assert net.activation_rows("full") == n


def test_io_schedule_runs_and_low_memory_keeps_fewer_rows():
    g = sd.random_dag(400, p=0.02, seed=3)
    net = sd.DagNet(g, seed=1)
    X = np.random.default_rng(0).normal(size=(40, net.num_inputs)).astype(np.float32)
    expected = net.predict(X)
    for method in ("layer", "greedy", "two_approx", "anneal"):
        s = sd.io_schedule(net, fast_memory=16, method=method, seed=0)
        np.testing.assert_array_equal(net.predict(X, schedule=s), expected)
    low = net.activation_rows("low")
    assert low == simulated_rows(net, net.__dict__["_ordered_plans"].low_order)
    layer_order = sd.io_schedule(net, fast_memory=16, method="layer").order
    assert low <= net.activation_rows(schedule=layer_order) < net.graph.num_nodes


def test_classifier_labels_and_networkx_labels():
    nx = pytest.importorskip("networkx")
    d = nx.DiGraph()
    d.add_edges_from([("a", "h1"), ("b", "h1"), ("a", "h2"), ("h1", "o1"), ("h2", "o1")])
    d.add_edges_from([("h2", "o2"), ("b", "o2")])
    net = sd.DagNet(sd.Dag.from_networkx(d), seed=0)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(64, 2)).astype(np.float32)
    y = (X[:, 0] > X[:, 1]).astype(np.int64)
    net.fit(X, y, epochs=3, loss="cross_entropy", progress=False)
    np.testing.assert_array_equal(net.predict(X, memory="low"), net.predict(X))
    order = sd.topological_order(net.graph, method="dfs")
    np.testing.assert_array_equal(net.predict(X, schedule=order), net.predict(X))


def test_bad_modes_and_schedules():
    g = sd.Dag.from_edges(np.array([0, 1, 2, 2]), np.array([2, 2, 3, 4]), 5)
    net = sd.DagNet(g, seed=0)
    X = np.ones((2, 2), dtype=np.float32)
    with pytest.raises(ValueError, match="unknown memory mode"):
        net.predict(X, memory="medium")
    with pytest.raises(ValueError, match="unknown memory mode"):
        net.predict(X, memory=None)
    with pytest.raises(ValueError, match="not both"):
        net.predict(X, memory="low", schedule=np.arange(5))
    with pytest.raises(ValueError, match="every node"):
        net.predict(X, schedule=np.arange(4))
    with pytest.raises(ValueError, match="every node"):
        net.predict(X, schedule=np.arange(5).reshape(1, 5))
    with pytest.raises(TypeError, match="dtype"):
        net.predict(X, schedule=np.arange(5, dtype=np.float64))
    with pytest.raises(TypeError, match="dtype"):
        net.predict(X, schedule=["0", "1", "2", "3", "4"])
    with pytest.raises(ValueError, match="not topological"):
        net.predict(X, schedule=np.array([0, 2, 1, 3, 4]))
    with pytest.raises(ValueError, match="twice"):
        net.predict(X, schedule=np.array([0, 1, 2, 3, 3]))
    with pytest.raises(ValueError, match="not a node"):
        net.predict(X, schedule=np.array([0, 1, 2, 3, 5]))
    with pytest.raises(ValueError, match="out of range"):
        net.predict(X, schedule=np.array([0, 1, 2, 3, -1]))
    with pytest.raises(ValueError, match="columns"):
        net.predict(np.ones((2, 3), dtype=np.float32), memory="low")
    with pytest.raises(ValueError, match="NaN"):
        net.predict(np.array([[1.0, np.nan]], dtype=np.float32), memory="low")
    with pytest.raises(ValueError, match="unknown memory mode"):
        net.activation_rows("medium")


def test_parameter_copy_follows_training_and_weight_changes():
    g = sd.random_dag(300, p=0.03, seed=4)
    net = sd.DagNet(g, activation="tanh", seed=2)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(16, net.num_inputs)).astype(np.float32)
    y = rng.normal(size=(16, net.num_outputs)).astype(np.float32)
    greedy = sd.io_schedule(net, fast_memory=16, method="greedy", seed=0)
    dfs = sd.topological_order(net.graph, method="dfs")
    assert net.schedule_cache_bytes() == 0
    np.testing.assert_array_equal(net.predict(X, schedule=greedy), net.predict(X))
    one_copy = net.schedule_cache_bytes()
    assert one_copy >= 4 * net.graph.num_edges
    net.fit(X, y, epochs=2, batch_size=8, lr=0.05, progress=False)
    np.testing.assert_array_equal(net.predict(X, schedule=greedy), net.predict(X))
    net.partial_fit(X, y)
    np.testing.assert_array_equal(net.predict(X, schedule=greedy), net.predict(X))
    net.weights = rng.normal(size=net.graph.num_edges)
    np.testing.assert_array_equal(net.predict(X, schedule=greedy), net.predict(X))
    net.biases = rng.normal(size=net.graph.num_nodes)
    np.testing.assert_array_equal(net.predict(X, memory="low"), net.predict(X))
    np.testing.assert_array_equal(net.predict(X[:1], schedule=dfs), net.predict(X[:1]))
    # Only the order used last keeps its copy.
    assert net.schedule_cache_bytes() == one_copy
    net.clear_schedule_cache()
    assert net.schedule_cache_bytes() == 0
    np.testing.assert_array_equal(net.predict(X, schedule=greedy), net.predict(X))
    # The last call's order is reused only while the array still holds it.
    order = np.array(greedy.order, dtype=np.int64)
    np.testing.assert_array_equal(net.predict(X, schedule=order), net.predict(X))
    order[:] = dfs
    assert net.activation_rows(schedule=order) == simulated_rows(net, order)
    np.testing.assert_array_equal(net.predict(X, schedule=order), net.predict(X))
