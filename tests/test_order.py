"""Topological orders."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sparsedag as sd
from conftest import dags


@pytest.mark.parametrize("method", sd.ORDER_METHODS)
def test_orders_valid_on_special_graphs(special_graph, method):
    order = sd.topological_order(special_graph, method)
    assert sd.is_topological_order(special_graph, order)
    assert sorted(order.tolist()) == list(range(special_graph.num_nodes))


@pytest.mark.parametrize("method", sd.ORDER_METHODS)
@given(g=dags(max_nodes=15))
@settings(max_examples=60, deadline=None)
def test_orders_valid_on_random_dags(method, g):
    assert sd.is_topological_order(g, sd.topological_order(g, method))


@given(g=dags(max_nodes=15), data=st.data())
@settings(max_examples=80, deadline=None)
def test_lexicographic_matches_networkx(g, data):
    key = data.draw(st.lists(st.integers(-5, 5), min_size=g.num_nodes, max_size=g.num_nodes))
    ours = sd.topological_order(g, "lexicographic", key=np.array(key, dtype=float))
    ref = list(nx.lexicographical_topological_sort(g.to_networkx(), key=lambda v: (key[v], v)))
    assert ours.tolist() == ref


def test_kahn_is_fifo_and_stable():
    g = sd.Dag.from_edges([0, 0, 1, 2], [1, 2, 3, 3], num_nodes=5)
    assert sd.topological_order(g).tolist() == [0, 4, 1, 2, 3]
    assert sd.topological_order(g, "dfs").tolist() == [4, 0, 2, 1, 3]


def test_is_topological_order_rejects():
    g = sd.Dag.from_edges([0, 1], [1, 2])
    assert not sd.is_topological_order(g, [1, 0, 2])
    assert not sd.is_topological_order(g, [0, 0, 2])
    assert not sd.is_topological_order(g, [0, 1])
    assert not sd.is_topological_order(g, [0, 1, 5])
    # the error names the edge that an order breaks, with both positions
    with pytest.raises(ValueError, match=r"edge 1 -> 2 points backwards \(2 is at position 1, "):
        sd.peak_memory(g, [0, 2, 1], [1.0, 1.0, 1.0])


def test_order_bad_arguments():
    g = sd.Dag.from_edges([0, 1], [1, 2])
    with pytest.raises(ValueError, match="unknown order method"):
        sd.topological_order(g, "random")
    with pytest.raises(ValueError, match="key only applies"):
        sd.topological_order(g, "kahn", key=[1, 2, 3])
    with pytest.raises(ValueError, match="key has 2 entries"):
        sd.topological_order(g, "lexicographic", key=[1, 2])
    with pytest.raises(ValueError, match="NaN"):
        sd.topological_order(g, "lexicographic", key=[1, float("nan"), 3])
    # complex keys used to lose their imaginary part with only a warning
    with pytest.raises(TypeError, match="real numbers.*complex"):
        sd.topological_order(g, "lexicographic", key=[1j, 2, 3])
