"""Peak memory of orders and memory-minimising orders (issue 6, part A)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sparsedag as sd
from conftest import dags

GREEDY_RULES = ("least_peak", "largest_release", "memory_dfs", "earliest_inputs")


def simulate(dag: sd.Dag, order, sizes, model: str = "coexist") -> np.ndarray:
    """Reference: replay the order with explicit live sets."""
    src, dst = dag.edges()
    consumers: dict[int, set[int]] = {v: set() for v in range(dag.num_nodes)}
    inputs: dict[int, list[int]] = {v: [] for v in range(dag.num_nodes)}
    for u, v in zip(src.tolist(), dst.tolist()):
        consumers[u].add(v)
        inputs[v].append(u)
    done: set[int] = set()
    live: set[int] = set()
    steps = []
    for v in order:
        v = int(v)
        done.add(v)
        dying = {u for u in inputs[v] if consumers[u] <= done}
        if model == "coexist":
            steps.append(sum(sizes[u] for u in live | {v}))
            live = (live | {v}) - dying
        else:
            live = (live - dying) | {v}
            steps.append(sum(sizes[u] for u in live))
    return np.array(steps, dtype=float)


def all_orders(dag: sd.Dag):
    n = dag.num_nodes
    src, dst = dag.edges()
    for perm in itertools.permutations(range(n)):
        pos = np.empty(n, dtype=np.int64)
        pos[list(perm)] = np.arange(n)
        if np.all(pos[src] < pos[dst]):
            yield list(perm)


@st.composite
def sized_dags(draw, max_nodes: int = 12):
    g = draw(dags(max_nodes=max_nodes, max_density=0.6))
    sizes = draw(
        st.lists(st.floats(0, 10, allow_nan=False), min_size=g.num_nodes, max_size=g.num_nodes)
    )
    return g, np.array(sizes, dtype=float)


@pytest.mark.parametrize("model", sd.MEMORY_MODELS)
@given(data=sized_dags(), seed=st.integers(0, 2**32))
@settings(max_examples=60, deadline=None)
def test_evaluator_matches_simulation(model, data, seed):
    g, sizes = data
    order = sd.topological_order(
        g, "lexicographic", key=np.random.default_rng(seed).random(g.num_nodes)
    )
    peak, steps = sd.peak_memory(g, order, sizes, model=model, profile=True)
    expected = simulate(g, order, sizes, model)
    np.testing.assert_allclose(steps, expected, atol=1e-9)
    assert peak == pytest.approx(expected.max() if len(expected) else 0.0, abs=1e-9)
    assert sd.peak_memory(g, order, sizes, model=model) == peak


@pytest.mark.parametrize("model", sd.MEMORY_MODELS)
@given(data=sized_dags(max_nodes=7))
@settings(max_examples=60, deadline=None)
def test_exact_equals_brute_force(model, data):
    g, sizes = data
    best = min(simulate(g, o, sizes, model).max(initial=0.0) for o in all_orders(g))
    order = sd.topological_order(g, "exact", sizes=sizes, model=model)
    assert sd.is_topological_order(g, order)
    assert sd.peak_memory(g, order, sizes, model=model) == pytest.approx(best, abs=1e-9)


@given(data=sized_dags(max_nodes=25), seed=st.integers(0, 1000))
@settings(max_examples=40, deadline=None)
def test_min_memory_never_worse_than_a_greedy_rule(data, seed):
    g, sizes = data
    order = sd.topological_order(g, "min_memory", sizes=sizes, seed=seed, effort=0.5)
    assert sd.is_topological_order(g, order)
    ours = sd.peak_memory(g, order, sizes)
    for rule in GREEDY_RULES:
        greedy = sd.topological_order(g, rule, sizes=sizes)
        assert sd.is_topological_order(g, greedy)
        assert ours <= sd.peak_memory(g, greedy, sizes)


@pytest.mark.parametrize("seed", range(4))
def test_min_memory_on_layered_graphs(seed):
    graph = sd.layered_graph(300, seed=seed)
    dag, sizes = graph.dag, graph.sizes
    order = sd.topological_order(dag, "min_memory", sizes=sizes, seed=seed)
    assert sd.is_topological_order(dag, order)
    ours = sd.peak_memory(dag, order, sizes)
    greedy = min(
        sd.peak_memory(dag, sd.topological_order(dag, rule, sizes=sizes), sizes)
        for rule in GREEDY_RULES
    )
    assert ours <= greedy
    # effort 0 is the greedy portfolio (plus Kahn and DFS)
    portfolio = sd.topological_order(dag, "min_memory", sizes=sizes, effort=0)
    assert ours <= sd.peak_memory(dag, portfolio, sizes) <= greedy


def test_min_memory_is_deterministic_per_seed():
    graph = sd.layered_graph(400, seed=5)
    a = sd.topological_order(graph.dag, "min_memory", sizes=graph.sizes, seed=3)
    b = sd.topological_order(graph.dag, "min_memory", sizes=graph.sizes, seed=3)
    np.testing.assert_array_equal(a, b)
    with sd_threads(1):
        c = sd.topological_order(graph.dag, "min_memory", sizes=graph.sizes, seed=3)
    np.testing.assert_array_equal(a, c)


class sd_threads:
    def __init__(self, count: int) -> None:
        self.count = count

    def __enter__(self) -> None:
        self.previous = sd.get_num_threads()
        sd.set_num_threads(self.count)

    def __exit__(self, *exc) -> None:
        sd.set_num_threads(self.previous)


@pytest.mark.parametrize("method", sd.MEMORY_ORDER_METHODS)
def test_memory_orders_on_special_graphs(special_graph, method):
    sizes = np.linspace(0.5, 3.0, special_graph.num_nodes)
    if method == "exact" and special_graph.num_nodes > 14:
        pytest.skip("exact search is for small graphs")
    order = sd.topological_order(special_graph, method, sizes=sizes)
    assert sd.is_topological_order(special_graph, order)
    assert np.isfinite(sd.peak_memory(special_graph, order, sizes))


def test_known_profile():
    g = sd.Dag.from_edges([0, 0, 1, 2], [1, 2, 3, 3])
    sizes = [1.0, 2.0, 4.0, 8.0]
    peak, steps = sd.peak_memory(g, [0, 1, 2, 3], sizes, profile=True)
    assert peak == 14.0 and steps.tolist() == [1.0, 3.0, 7.0, 14.0]
    peak, steps = sd.peak_memory(g, [0, 1, 2, 3], sizes, model="free_inputs_first", profile=True)
    assert peak == 8.0 and steps.tolist() == [1.0, 3.0, 6.0, 8.0]
    assert sd.peak_memory(sd.Dag.from_edges([], [], 0), [], []) == 0.0


def test_bad_inputs():
    g = sd.Dag.from_edges([0, 1], [1, 2])
    with pytest.raises(ValueError, match="sizes has 2 entries"):
        sd.peak_memory(g, [0, 1, 2], [1.0, 2.0])
    with pytest.raises(ValueError, match="not finite"):
        sd.peak_memory(g, [0, 1, 2], [1.0, float("nan"), 1.0])
    with pytest.raises(ValueError, match="not finite"):
        sd.topological_order(g, "min_memory", sizes=[1.0, float("inf"), 1.0])
    with pytest.raises(ValueError, match="negative"):
        sd.topological_order(g, "exact", sizes=[1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="not a topological order"):
        sd.peak_memory(g, [1, 0, 2], [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="appears twice"):
        sd.peak_memory(g, [0, 0, 2], [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="order has 2 entries"):
        sd.peak_memory(g, [0, 1], [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="out of range"):
        sd.peak_memory(g, [0, 1, -2], [1.0, 1.0, 1.0])
    with pytest.raises(TypeError, match="numeric"):
        sd.peak_memory(g, [0, 1, 2], ["a", "b", "c"])
    with pytest.raises(ValueError, match="unknown memory model"):
        sd.peak_memory(g, [0, 1, 2], [1.0, 1.0, 1.0], model="lazy")
    with pytest.raises(ValueError, match="effort"):
        sd.topological_order(g, "min_memory", effort=-1)
    with pytest.raises(ValueError, match="effort"):
        sd.topological_order(g, "min_memory", effort=float("nan"))
    # complex sizes used to lose their imaginary part with only a warning
    with pytest.raises(TypeError, match="numeric.*complex"):
        sd.peak_memory(g, [0, 1, 2], [1j, 1, 1])
    # a fractional seed or state budget used to be truncated silently; None and strings
    # failed with "'<' not supported"
    for bad in (1.5, None, "3", True):
        with pytest.raises(TypeError, match="seed must be an integer"):
            sd.topological_order(g, "min_memory", seed=bad)
    with pytest.raises(TypeError, match="max_states must be an integer"):
        sd.topological_order(g, "exact", max_states=10.5)
    with pytest.raises(TypeError, match="effort must be a real number"):
        sd.topological_order(g, "min_memory", effort="1")
    with pytest.raises(ValueError, match="sizes only apply"):
        sd.topological_order(g, "kahn", sizes=[1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="unknown memory order method"):
        sd.memory_order(g, "fastest")
    with pytest.raises(ValueError, match="max_states"):
        sd.topological_order(sd.Dag.from_edges([], [], 20), "exact", max_states=1000)
    with pytest.raises(ValueError, match="at most 128 nodes"):
        sd.topological_order(sd.Dag.from_edges([], [], 200), "exact")


@pytest.mark.parametrize("model", sd.MEMORY_MODELS)
@given(data=sized_dags(max_nodes=7))
@settings(max_examples=60, deadline=None)
def test_lower_bound_below_the_optimum_and_above_a_single_step(model, data):
    g, sizes = data
    best = min(simulate(g, o, sizes, model).max(initial=0.0) for o in all_orders(g))
    bound = sd.peak_memory_lower_bound(g, sizes, model=model)
    assert bound <= best + 1e-9
    # every node's step holds at least the node and (coexist) its inputs, or (free inputs
    # first) the node alone
    src, dst = g.edges()
    for v in range(g.num_nodes):
        step = sizes[v] + (sizes[src[dst == v]].sum() if model == "coexist" else 0.0)
        assert bound >= step - 1e-9


@pytest.mark.parametrize("seed", range(3))
def test_lower_bound_on_layered_graphs(seed):
    graph = sd.layered_graph(200, seed=seed)
    dag, sizes = graph.dag, graph.sizes
    bound = sd.peak_memory_lower_bound(dag, sizes)
    order = sd.topological_order(dag, "min_memory", sizes=sizes, seed=seed)
    assert 0 < bound <= sd.peak_memory(dag, order, sizes)
    chain = sd.Dag.from_edges([0, 1], [1, 2])
    assert sd.peak_memory_lower_bound(chain, [1.0, 2.0, 4.0]) == 6.0
    assert sd.peak_memory_lower_bound(chain, None) == 2.0
    assert sd.peak_memory_lower_bound(sd.Dag.from_edges([], [], 0), []) == 0.0


def test_lower_bound_bad_inputs():
    g = sd.Dag.from_edges([0, 1], [1, 2])
    # finite sizes whose sum overflows made peaks inf and differences NaN: peak_memory
    # returned inf and min_memory on 2,000 nodes never finished
    huge = [1e308, 1e308, 1e308]
    for call in (
        lambda: sd.peak_memory(g, [0, 1, 2], huge),
        lambda: sd.peak_memory_lower_bound(g, huge),
        lambda: sd.topological_order(g, "min_memory", sizes=huge),
    ):
        with pytest.raises(ValueError, match="sizes sum to inf"):
            call()
    with pytest.raises(ValueError, match="sizes has 2 entries"):
        sd.peak_memory_lower_bound(g, [1.0, 2.0])
    with pytest.raises(ValueError, match="not finite"):
        sd.peak_memory_lower_bound(g, [1.0, float("nan"), 1.0])
    with pytest.raises(ValueError, match="negative"):
        sd.peak_memory_lower_bound(g, [1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="unknown memory model"):
        sd.peak_memory_lower_bound(g, [1.0, 1.0, 1.0], model="lazy")
    with pytest.raises(TypeError, match="numeric"):
        sd.peak_memory_lower_bound(g, ["a", "b", "c"])
