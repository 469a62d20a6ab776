"""DagNet inference in an edge order: ``predict(X, schedule=s)`` with a tiled schedule or any
valid edge order equals the layer-by-layer outputs to float rounding, follows parameter changes,
and rejects bad edge orders with clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import sparsedag as sd
from conftest import dag_edges, random_edge_pairs, usable

ACTS = ["relu", "tanh", "sigmoid", "identity", "leaky_relu"]


def close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dag_edges(max_nodes=16, max_density=0.6), st.data())
def test_edge_orders_give_the_layer_by_layer_outputs(edges, data):
    n, src, dst = edges
    assume(usable(n, src, dst))
    g = sd.Dag.from_edges(src, dst, n)
    acts = [data.draw(st.sampled_from(ACTS)) for _ in range(n)]
    net = sd.DagNet(g, activation=acts, seed=data.draw(st.integers(0, 100)))
    net.biases = np.random.default_rng(n).normal(size=n)
    rows = data.draw(st.sampled_from([1, 3, 16, 33, 600]))
    X = np.random.default_rng(rows).normal(size=(rows, net.num_inputs)).astype(np.float32)
    expected = net.predict(X)
    order = random_edge_pairs(g, np.random.default_rng(data.draw(st.integers(0, 99))))
    close(net.predict(X, schedule=order), expected)
    close(net.forward(X, schedule=order.astype(np.int32)), expected)
    memory = data.draw(st.sampled_from([2, 3, 8]))
    tiled = sd.io_schedule(net, fast_memory=memory, method="tiled")
    y = net.predict(X, schedule=tiled)
    close(y, expected)
    np.testing.assert_array_equal(net.predict(X, schedule=tiled), y)  # deterministic
    assert net.activation_rows(schedule=tiled) >= net.num_inputs


def test_tiled_schedule_on_a_larger_net_follows_parameter_changes():
    g = sd.random_dag(600, p=0.02, seed=3)
    net = sd.DagNet(g, activation="tanh", seed=1)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, net.num_inputs)).astype(np.float32)
    y = rng.normal(size=(40, net.num_outputs)).astype(np.float32)
    tiled = sd.io_schedule(net, fast_memory=32, method="tiled")
    assert tiled.kind == "edges"
    close(net.predict(X, schedule=tiled), net.predict(X))
    assert net.schedule_cache_bytes() >= 8 * net.graph.num_edges
    net.fit(X, y, epochs=2, batch_size=8, lr=0.05, progress=False)
    close(net.predict(X, schedule=tiled), net.predict(X))
    net.weights = rng.normal(size=net.graph.num_edges)
    net.biases = rng.normal(size=net.graph.num_nodes)
    close(net.predict(X, schedule=tiled), net.predict(X))
    # switching between a neuron order and an edge order keeps one copy
    layer = sd.io_schedule(net, fast_memory=32, method="layer")
    np.testing.assert_array_equal(net.predict(X, schedule=layer), net.predict(X))
    close(net.predict(X[:1], schedule=tiled.order), net.predict(X[:1]))
    net.clear_schedule_cache()
    assert net.schedule_cache_bytes() == 0


def test_bad_edge_schedules():
    g = sd.Dag.from_edges(np.array([0, 1, 2, 2]), np.array([2, 2, 3, 4]), 5)
    net = sd.DagNet(g, seed=0)
    X = np.ones((2, 2), dtype=np.float32)
    good = np.array([[0, 2], [1, 2], [2, 3], [2, 4]])
    close(net.predict(X, schedule=good), net.predict(X))
    with pytest.raises(ValueError, match=r"invalid edge order: edge \(2, 3\)"):
        net.predict(X, schedule=good[[0, 2, 1, 3]])
    with pytest.raises(ValueError, match="twice"):
        net.predict(X, schedule=good[[0, 1, 2, 2]])
    with pytest.raises(ValueError, match="4 edges"):
        net.predict(X, schedule=good[:3])
    with pytest.raises(ValueError, match=r"\(0, 3\) is not an edge"):
        net.predict(X, schedule=np.array([[0, 3], [1, 2], [2, 3], [2, 4]]))
    other = sd.DagNet(sd.random_dag(30, p=0.2, seed=1), seed=0)
    with pytest.raises(ValueError):
        net.predict(X, schedule=sd.io_schedule(other, 4, "tiled"))
    with pytest.raises(ValueError, match=r"\(m, 2\)"):
        net.predict(X, schedule=np.zeros((4, 3), dtype=np.int64))
    with pytest.raises(TypeError, match="dtype"):
        net.predict(X, schedule=good.astype(np.float64))
    with pytest.raises(ValueError, match="columns"):
        net.predict(np.ones((2, 3), dtype=np.float32), schedule=good)
    with pytest.raises(ValueError, match="NaN"):
        net.predict(np.array([[1.0, np.nan]], dtype=np.float32), schedule=good)
