"""Edge-order schedules of the I/O model: simulator, bounds, the tiled order (issue 6)."""

from __future__ import annotations

import collections
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_iosched import optimal_io_for_order, topological_orders

import sparsedag as sd
from conftest import dags, random_edge_order


def reference_edge_io(g: sd.Dag, order, fast_memory: int) -> tuple[int, int]:
    """Loads and stores of an edge order (edge ids) with furthest-next-use eviction, written
    from the model's statement and nothing else (inputs = sources, outputs = sinks)."""
    src, dst = g.edges()
    is_input = g.in_degree() == 0
    is_output = g.out_degree() == 0
    accesses = []
    for e in order:
        accesses += [int(dst[e]), int(src[e])]

    def next_use(x: int, after: int) -> float:
        for q in range(after + 1, len(accesses)):
            if accesses[q] == x:
                return q
        return math.inf

    resident: set[int] = set()
    born = {v for v in range(g.num_nodes) if is_input[v]}
    dirty: set[int] = set()
    loads = stores = 0
    for i, e in enumerate(order):
        u, v = int(src[e]), int(dst[e])
        for x in (v, u):
            if x in resident:
                continue
            if len(resident) >= fast_memory:
                victim = max(
                    (y for y in resident if y not in (u, v)), key=lambda y: next_use(y, 2 * i + 1)
                )
                if victim in dirty:
                    stores += 1
                    dirty.discard(victim)
                resident.remove(victim)
            if x in born:
                loads += 1
            else:
                born.add(x)
                dirty.add(x)
            resident.add(x)
        dirty.add(v)  # the accumulator changes
        for x in (u, v):
            if next_use(x, 2 * i + 1) == math.inf:
                if x in dirty and is_output[x]:
                    stores += 1
                dirty.discard(x)
                resident.discard(x)
    return loads, stores


def optimal_edge_io(g: sd.Dag, fast_memory: int) -> int:
    """Least I/O over every edge order and every eviction and write-back policy (0-1 BFS over
    (edges done, resident values, resident values not yet in slow memory))."""
    src, dst = g.edges()
    n, m = g.num_nodes, g.num_edges
    is_input = g.in_degree() == 0
    is_output = (g.out_degree() == 0) & ~is_input
    in_mask = [0] * n
    out_mask = [0] * n
    for e in range(m):
        in_mask[int(dst[e])] |= 1 << e
        out_mask[int(src[e])] |= 1 << e
    everything = (1 << m) - 1

    def born(x: int, done: int) -> bool:
        return bool(is_input[x]) or bool(done & in_mask[x])

    def needed(x: int, done: int) -> bool:
        return bool((in_mask[x] | out_mask[x]) & ~done & everything)

    start = (0, frozenset(), frozenset())
    best = {start: 0}
    queue = collections.deque([(0, start)])
    while queue:
        cost, state = queue.popleft()
        if best.get(state, math.inf) < cost:
            continue
        done, resident, dirty = state
        if done == everything and not any(is_output[x] for x in dirty):
            return cost
        moves = []
        for e in range(m):
            u, v = int(src[e]), int(dst[e])
            if done >> e & 1 or in_mask[u] & ~done or u not in resident:
                continue
            if v in resident:
                moves.append((0, (done | 1 << e, resident, dirty | {v})))
            elif not born(v, done) and len(resident) < fast_memory:
                moves.append((0, (done | 1 << e, resident | {v}, dirty | {v})))
        for x in range(n):
            if x in resident:
                if x in dirty:
                    moves.append((1, (done, resident, dirty - {x})))
                    if not needed(x, done) and not is_output[x]:
                        moves.append((0, (done, resident - {x}, dirty - {x})))
                else:
                    moves.append((0, (done, resident - {x}, dirty)))
            elif born(x, done) and needed(x, done) and len(resident) < fast_memory:
                moves.append((1, (done, resident | {x}, dirty)))
        for step, nxt in moves:
            total = cost + step
            if total < best.get(nxt, math.inf):
                best[nxt] = total
                if step == 0:
                    queue.appendleft((total, nxt))
                else:
                    queue.append((total, nxt))
    raise AssertionError("the search always finishes")


@given(g=dags(max_nodes=9, max_density=0.6), fast_memory=st.integers(2, 5), seed=st.integers(0, 99))
@settings(max_examples=60, deadline=None)
def test_simulator_matches_the_reference_on_edge_orders(g, fast_memory, seed):
    rng = np.random.default_rng(seed)
    src, dst = g.edges()
    for _ in range(3):
        order = random_edge_order(g, rng)
        expected = reference_edge_io(g, order, fast_memory)
        by_id = sd.io_cost(g, order, fast_memory, kind="edges")
        pairs = np.stack([src[order], dst[order]], axis=1)
        by_pairs = sd.io_cost(g, pairs, fast_memory)
        assert (by_id["loads"], by_id["stores"]) == expected
        assert by_pairs == by_id
        bounds = sd.io_bounds(g, fast_memory)
        assert bounds["lower_edges"] <= by_id["total"] <= bounds["upper_edges"]


@given(g=dags(max_nodes=12, max_density=0.5), fast_memory=st.integers(2, 8))
@settings(max_examples=40, deadline=None)
def test_a_neuron_order_as_an_edge_order_costs_the_same(g, fast_memory):
    src, dst = g.edges()
    for method in ("layer", "greedy", "two_approx"):
        order = sd.io_schedule(g, fast_memory, method).order
        pairs = [(u, v) for v in order for u in sorted(src[dst == v].tolist())]
        as_edges = np.array(pairs, dtype=np.int64).reshape(-1, 2)
        a = sd.io_cost(g, order, fast_memory, trace=True)
        b = sd.io_cost(g, as_edges, fast_memory, kind="edges", trace=True)
        assert (a["loads"], a["stores"]) == (b["loads"], b["stores"])
        assert a["trace_node"].tolist() == b["trace_node"].tolist()


@given(g=dags(max_nodes=6, max_density=0.6), fast_memory=st.integers(2, 3))
@settings(max_examples=25, deadline=None)
def test_edge_bounds_against_the_brute_force_optimum(g, fast_memory):
    if g.num_edges == 0 or g.num_edges > 8:
        return
    optimum = optimal_edge_io(g, fast_memory)
    bounds = sd.io_bounds(g, fast_memory)
    assert bounds["lower_edges"] <= optimum
    # neuron orders are edge orders: the edge optimum is never above theirs
    neuron_optimum = min(
        optimal_io_for_order(g, o, fast_memory)
        for o in itertools.islice(topological_orders(g), 200)
    )
    assert optimum <= neuron_optimum
    tiled = sd.io_schedule(g, fast_memory, "tiled")
    assert optimum <= tiled.io <= bounds["upper_edges"]
    assert (tiled.lower, tiled.upper) == (bounds["lower_edges"], bounds["upper_edges"])


def test_edge_orders_beat_the_neuron_lower_bound():
    # Two neurons read the same 6 inputs, M = 3: every neuron order reloads inputs (the
    # neuron-order lower bound is 2 + 2 x (6 - 2) = 10), while streaming each input into both
    # accumulators loads each once: 6 loads and 2 stores.
    g = sd.Dag.from_edges(list(range(6)) * 2, [6] * 6 + [7] * 6)
    bounds = sd.io_bounds(g, 3)
    assert bounds["lower"] == 10
    assert bounds["lower_edges"] == 8
    source_by_source = np.array([(u, v) for u in range(6) for v in (6, 7)])
    cost = sd.io_cost(g, source_by_source, 3)
    assert (cost["loads"], cost["stores"]) == (6, 2)
    tiled = sd.io_schedule(g, 3, "tiled")
    assert tiled.kind == "edges" and tiled.io == 8 and tiled.block == 2
    assert sd.io_cost(g, tiled.order, 3)["total"] == 8
    # with 5 inputs, against the exhaustive search over all edge orders and policies
    small = sd.Dag.from_edges(list(range(5)) * 2, [5] * 5 + [6] * 5)
    assert optimal_edge_io(small, 3) == 7 < sd.io_bounds(small, 3)["lower"] == 8


@pytest.mark.parametrize("seed", range(3))
def test_tiled_is_valid_and_never_worse_than_the_layer_order(seed):
    rng = np.random.default_rng(seed)
    width, degree = 96, 12
    src = np.concatenate([k * width + rng.integers(0, width, width * degree) for k in range(4)])
    dst = np.concatenate(
        [np.repeat(np.arange((k + 1) * width, (k + 2) * width), degree) for k in range(4)]
    )
    g = sd.Dag.from_edges(src, dst, 5 * width, duplicates="merge")
    for fast_memory in (8, 32, 64, 512):
        tiled = sd.io_schedule(g, fast_memory, "tiled")
        layer = sd.io_schedule(g, fast_memory, "layer")
        assert tiled.order.shape == (g.num_edges, 2)
        assert tiled.io == sd.io_cost(g, tiled.order, fast_memory)["total"]
        assert tiled.io <= layer.io
        assert tiled.lower <= tiled.io <= tiled.upper
        if fast_memory == 32:  # width between M and degree x M: tiling pays
            assert tiled.io * 1.3 < layer.io
    again = sd.io_schedule(g, 32, "tiled")
    np.testing.assert_array_equal(again.order, sd.io_schedule(g, 32, "tiled").order)


def test_invalid_edge_orders_and_bad_input():
    g = sd.Dag.from_edges([0, 1, 0], [1, 2, 2])  # edge ids: (0,1)=0 (0,2)=1 (1,2)=2
    # (0,1) then (0,2) must evict the finished 1 and reload it; finishing 1 first does not
    assert sd.io_cost(g, [0, 1, 2], 2, kind="edges")["total"] == 4
    assert sd.io_cost(g, [0, 2, 1], 2, kind="edges")["total"] == 3
    with pytest.raises(ValueError, match=r"edge 2 = \(1, 2\) at entry 0 comes before"):
        sd.io_cost(g, [2, 0, 1], 4, kind="edges")
    with pytest.raises(ValueError, match=r"edge 0 = \(0, 1\) appears twice"):
        sd.io_cost(g, [0, 0, 2], 4, kind="edges")
    with pytest.raises(ValueError, match="has 2 entries but the graph has 3 edges"):
        sd.io_cost(g, [0, 1], 4, kind="edges")
    with pytest.raises(ValueError, match="not an edge id"):
        sd.io_cost(g, [0, 1, 7], 4, kind="edges")
    with pytest.raises(ValueError, match="out of range"):
        sd.io_cost(g, [0, 1, -1], 4, kind="edges")
    with pytest.raises(ValueError, match=r"\(2, 0\) is not an edge"):
        sd.io_cost(g, [[0, 1], [2, 0], [1, 2]], 4)
    with pytest.raises(ValueError, match="outside 0..3"):
        sd.io_cost(g, [[0, 1], [0, 9], [1, 2]], 4)
    with pytest.raises(ValueError, match=r"\(m, 2\)"):
        sd.io_cost(g, np.zeros((3, 3), dtype=np.int64), 4, kind="edges")
    with pytest.raises(TypeError, match="integer dtype"):
        sd.io_cost(g, np.zeros((3, 2)), 4)
    with pytest.raises(ValueError, match="kind must be"):
        sd.io_cost(g, [0, 1, 2], 4, kind="pairs")
    with pytest.raises(ValueError, match="fast_memory must be >= 2"):
        sd.io_cost(g, [[0, 1], [0, 2], [1, 2]], 1)
