"""I/O-aware scheduling of sparse inference (issue 6, part B)."""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sparsedag as sd
from conftest import dags


def topological_orders(dag: sd.Dag):
    n = dag.num_nodes
    src, dst = dag.edges()
    for perm in itertools.permutations(range(n)):
        pos = np.empty(n, dtype=np.int64)
        pos[list(perm)] = np.arange(n)
        if np.all(pos[src] < pos[dst]):
            yield list(perm)


def optimal_io_for_order(dag: sd.Dag, order, fast_memory: int) -> int:
    """Least loads + stores of any eviction and write-back policy for a fixed order (inputs
    = sources, outputs = sinks), by exhaustive search over the eviction choices."""
    preds = {v: [] for v in range(dag.num_nodes)}
    src, dst = dag.edges()
    for u, v in zip(src.tolist(), dst.tolist()):
        preds[v].append(u)
    is_input = {v: not preds[v] for v in preds}
    is_output = {v: True for v in preds}
    for u in src.tolist():
        is_output[u] = False
    events = []  # (value, neuron being computed, is_creation)
    for v in order:
        if is_input[v]:
            continue
        events.append((v, v, True))
        events.extend((u, v, False) for u in sorted(preds[v]))
    last_touch: dict[int, int] = {}
    for i, (x, v, _) in enumerate(events):
        last_touch[x] = i
        last_touch[v] = max(last_touch.get(v, i), i)

    @functools.cache
    def best(i: int, resident: frozenset, saved: frozenset) -> int:
        if i == len(events):
            return 0
        x, v, creating = events[i]
        options = []
        if x in resident:
            options.append((0, resident, saved))
        else:
            fetch = 0 if creating else 1
            if len(resident) < fast_memory:
                options.append((fetch, resident | {x}, saved))
            else:
                for y in resident:
                    if y == v:
                        continue  # the accumulator being computed stays
                    store = 0 if (is_input[y] or y in saved) else 1
                    options.append((fetch + store, (resident - {y}) | {x}, saved | {y}))
        result = None
        for cost, res, sav in options:
            if creating:
                pass
            else:
                assert is_input[x] or x in saved or x in resident
            # values whose last touch is this event leave; unsaved outputs are written
            for y in [y for y in res if last_touch[y] == i]:
                if is_output[y] and not is_input[y] and y not in sav:
                    cost += 1
                    sav = sav | {y}
                res = res - {y}
            total = cost + best(i + 1, res, sav)
            result = total if result is None else min(result, total)
        return result

    return best(0, frozenset(), frozenset())


@given(g=dags(max_nodes=7, max_density=0.7), fast_memory=st.integers(2, 4))
@settings(max_examples=40, deadline=None)
def test_bounds_and_simulator_against_brute_force(g, fast_memory):
    if g.num_edges == 0:
        return
    bounds = sd.io_bounds(g, fast_memory)
    simulated = []
    optimum = None
    for order in topological_orders(g):
        sim = sd.io_cost(g, order, fast_memory)["total"]
        opt = optimal_io_for_order(g, order, fast_memory)
        # furthest-next-use is within 2x of the best policy for the same order
        assert opt <= sim <= 2 * opt
        simulated.append(sim)
        optimum = opt if optimum is None else min(optimum, opt)
    assert bounds["lower_from_counts"] <= bounds["lower"] <= optimum
    assert max(simulated) <= bounds["upper"]
    for method in sd.IO_NEURON_ORDER_METHODS:
        s = sd.io_schedule(g, fast_memory, method, steps=200)
        assert sd.is_topological_order(g, s.order)
        assert s.io == sd.io_cost(g, s.order, fast_memory)["total"]
        assert optimum <= s.io <= bounds["upper"]
        assert (s.lower, s.upper) == (bounds["lower"], bounds["upper"])


def test_eight_neuron_network_against_brute_force():
    # 2 inputs, 6 neurons, a skip connection and a wide fan-in
    src = [0, 1, 0, 1, 2, 3, 2, 4, 5, 3, 6]
    dst = [2, 2, 3, 4, 4, 4, 5, 5, 6, 7, 7]
    g = sd.Dag.from_edges(src, dst, 8)
    for fast_memory in (2, 3, 4):
        optimum = min(optimal_io_for_order(g, o, fast_memory) for o in topological_orders(g))
        bounds = sd.io_bounds(g, fast_memory)
        assert bounds["lower"] <= optimum
        best = sd.io_schedule(g, fast_memory, "anneal", steps=500)
        assert optimum <= best.io <= bounds["upper"]


def test_known_costs_and_trace():
    g = sd.Dag.from_edges([0, 1, 2], [2, 2, 3])
    r = sd.io_cost(g, [0, 1, 2, 3], 3, trace=True)
    assert (r["loads"], r["stores"], r["total"]) == (2, 1, 3)
    assert r["trace_node"].tolist() == [0, 1, 3]
    assert r["trace_load"].tolist() == [True, True, False]
    assert r["trace_step"].tolist() == [2, 2, 3]
    r = sd.io_cost(g, [0, 1, 2, 3], 2, count_weights=True)
    assert (r["loads"], r["stores"], r["weight_reads"], r["total"]) == (2, 1, 3, 6)
    b = sd.io_bounds(g, 2, count_weights=True)
    assert b["lower"] == 3 + 3 and b["connections"] == 3


@pytest.mark.parametrize(
    ("inputs", "neurons", "degree", "fast_memory"),
    [(4, 50, 3, 4), (10, 500, 8, 16), (32, 3000, 16, 64), (1, 100, 1, 2)],
)
def test_io_efficient_network_meets_the_lower_bound(inputs, neurons, degree, fast_memory):
    g, order = sd.io_efficient_network(inputs, neurons, degree, fast_memory, seed=3)
    assert g.num_nodes == inputs + neurons
    assert sd.is_topological_order(g, order)
    assert np.all(g.in_degree()[inputs:] >= 1)
    cost = sd.io_cost(g, order, fast_memory)["total"]
    bounds = sd.io_bounds(g, fast_memory)
    assert cost == bounds["lower"] == bounds["inputs_used"] + bounds["outputs_written"]
    assert bounds["inputs_used"] == inputs


def test_anneal_starts_from_the_best_constructive_and_never_gets_worse():
    g = sd.random_dag(600, m=4000, seed=4)
    for fast_memory in (16, 128):
        constructive = {
            m: sd.io_schedule(g, fast_memory, m).io for m in ("layer", "greedy", "two_approx")
        }
        s = sd.io_schedule(g, fast_memory, "anneal", steps=20_000, seed=1, checkpoints=8)
        assert s.trace_io[0] == min(constructive.values()) == constructive[s.start]
        assert s.io == s.trace_io.min() <= s.trace_io[0]
        assert len(s.trace_moves) == len(s.trace_io) == 9
        assert s.io == sd.io_cost(g, s.order, fast_memory)["total"]
        again = sd.io_schedule(g, fast_memory, "anneal", steps=20_000, seed=1, checkpoints=8)
        np.testing.assert_array_equal(s.order, again.order)


def test_inputs_and_outputs_can_be_chosen():
    g = sd.Dag.from_edges([0, 1, 2], [1, 2, 3])
    default = sd.io_cost(g, [0, 1, 2, 3], 2)
    assert default["total"] == 2  # load 0, store 3
    marked = sd.io_cost(g, [0, 1, 2, 3], 2, outputs=[1, 3])
    assert marked["total"] == 3

    class Net:
        dag = g
        inputs = (0,)
        outputs = (2, 3)

    assert sd.io_cost(Net(), [0, 1, 2, 3], 2)["total"] == 3


def test_bad_inputs():
    g = sd.Dag.from_edges([0, 1], [1, 2])
    with pytest.raises(ValueError, match="fast_memory must be >= 2"):
        sd.io_cost(g, [0, 1, 2], 1)
    with pytest.raises(ValueError, match="fast_memory must be >= 2"):
        sd.io_schedule(g, 0)
    with pytest.raises(TypeError, match="integer"):
        sd.io_bounds(g, 2.5)
    with pytest.raises(ValueError, match="not a topological order"):
        sd.io_cost(g, [1, 0, 2], 4)
    with pytest.raises(ValueError, match="order has 2 entries"):
        sd.io_cost(g, [0, 1], 4)
    with pytest.raises(ValueError, match="inputs must be sources"):
        sd.io_cost(g, [0, 1, 2], 4, inputs=[1])
    with pytest.raises(ValueError, match="ids must lie in"):
        sd.io_bounds(g, 4, outputs=[7])
    with pytest.raises(ValueError, match="out of range"):
        sd.io_bounds(g, 4, outputs=[-1])
    with pytest.raises(ValueError, match="unknown schedule method"):
        sd.io_schedule(g, 4, "fifo")
    with pytest.raises(ValueError, match="steps"):
        sd.io_schedule(g, 4, steps=-1)
    # fractional counts and seeds used to be truncated silently (steps=1.5 ran 1 step),
    # None and strings failed with "'<' not supported"
    for name in ("steps", "seed", "checkpoints"):
        for bad in (1.5, "10", True):
            with pytest.raises(TypeError, match=f"{name} must be an integer"):
                sd.io_schedule(g, 4, **{name: bad})
    assert sd.io_schedule(g, 4, steps=1e3).io == sd.io_schedule(g, 4, steps=1000).io
    for bad in (None, float("nan")):
        with pytest.raises(TypeError, match="fast_memory must be an integer"):
            sd.io_cost(g, [0, 1, 2], bad)
    # any memory of at least the node count behaves alike; 2**70 was an OverflowError
    assert sd.io_bounds(g, 2**70) == sd.io_bounds(g, 3)
    with pytest.raises(ValueError, match="neurons must be >= 0"):
        sd.io_efficient_network(2, -10, 1, 4)
    # the node count inputs + neurons wrapped to 0 in release builds and ran out of memory
    with pytest.raises(ValueError, match="do not fit in u32 ids"):
        sd.io_efficient_network(2**63, 2**63, 1, 2)
    with pytest.raises(ValueError, match="degree must lie"):
        sd.io_efficient_network(2, 10, 4, 4)
    with pytest.raises(ValueError, match="at least one input"):
        sd.io_efficient_network(0, 10, 1, 4)
    # a degree beyond the values that exist used to size a buffer by itself: 2**63 panicked
    # (capacity overflow), 1e9 aborted on a failed allocation; each neuron reads what exists
    wide = sd.io_efficient_network(4, 10, 10**9, 10**9 + 1)[0]
    assert wide == sd.io_efficient_network(4, 10, 2**63, 2**64 - 1)[0]
    # neuron k reads every value before it: inputs 0..=k and neurons 0..k, then all of them
    assert wide.num_edges == sum(2 * k + 1 for k in range(4)) + sum(k + 4 for k in range(4, 10))


def dense_reference(g: sd.Dag, weights: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Forward pass in NumPy, in Kahn order, float64."""
    n = g.num_nodes
    src, dst = g.edges()
    order = np.lexsort((src, dst))  # in-CSR order: by target, then source
    s, d, w = src[order], dst[order], weights.astype(np.float64)
    indeg = g.in_degree()
    outdeg = g.out_degree()
    inputs = np.flatnonzero(indeg == 0)
    values = np.zeros((n, x.shape[0]))
    values[inputs] = x.T
    for v in sd.topological_order(g):
        if indeg[v] == 0:
            continue
        mask = d == v
        total = (w[mask][:, None] * values[s[mask]]).sum(axis=0)
        values[v] = total if outdeg[v] == 0 else np.maximum(total, 0.0)
    return values[np.flatnonzero(outdeg == 0)].T


@given(g=dags(max_nodes=14, max_density=0.5), batch=st.integers(1, 5), seed=st.integers(0, 99))
@settings(max_examples=40, deadline=None)
def test_executor_matches_numpy_in_every_order(g, batch, seed):
    rng = np.random.default_rng(seed)
    n_in = int((g.in_degree() == 0).sum())
    weights = rng.normal(size=g.num_edges).astype(np.float32)
    x = rng.normal(size=(batch, n_in)).astype(np.float32)
    expected = dense_reference(g, weights, x)
    results = []
    for method in ("layer", "two_approx", "anneal"):
        order = sd.io_schedule(g, 2 + seed % 3, method, steps=100).order
        y = sd.io_execute(g, order, weights, x)
        np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)
        results.append(y)
    random_order = sd.topological_order(g, "lexicographic", key=rng.random(g.num_nodes))
    results.append(sd.io_execute(g, random_order, weights, x))
    for y in results[1:]:
        np.testing.assert_array_equal(y, results[0])  # same sums in the same order


def test_executor_bad_inputs():
    g = sd.Dag.from_edges([0, 1], [2, 2])
    order = [0, 1, 2]
    w = np.ones(2, dtype=np.float32)
    x = np.ones((3, 2), dtype=np.float32)
    assert sd.io_execute(g, order, w, x).tolist() == [[2.0]] * 3
    with pytest.raises(ValueError, match="weights has 1 entries"):
        sd.io_execute(g, order, w[:1], x)
    with pytest.raises(ValueError, match="inputs has"):
        sd.io_execute(g, order, w, np.ones((3, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="two-dimensional"):
        sd.io_execute(g, order, w, np.ones(2))
    with pytest.raises(ValueError, match="finite"):
        sd.io_execute(g, order, np.array([1.0, np.nan]), x)
    with pytest.raises(ValueError, match="not a topological order"):
        sd.io_execute(g, [2, 0, 1], w, x)
    with pytest.raises(ValueError, match="batch"):
        sd.io_execute(g, order, w, np.ones((0, 2), dtype=np.float32))
    # complex weights or samples used to lose their imaginary part with only a warning
    with pytest.raises(TypeError, match="weights must hold real numbers"):
        sd.io_execute(g, order, w * 1j, x)
    with pytest.raises(TypeError, match="X must hold real numbers"):
        sd.io_execute(g, order, w, x * 1j)


def test_plan_reuses_rows_and_runs_repeatedly():
    g, order = sd.io_efficient_network(8, 400, 4, 16, seed=2)
    plan = sd.IoPlan(g, order)
    # inputs + at most M - 1 live values (the window) + the value being computed
    assert plan.rows <= 8 + 16
    rng = np.random.default_rng(0)
    w = rng.normal(size=g.num_edges).astype(np.float32)
    x = rng.normal(size=(3, 8)).astype(np.float32)
    y1, y2 = plan.run(w, x), plan.run(w, x)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(y1, sd.io_execute(g, order, w, x))
    layer = sd.io_schedule(g, 16, "layer").order
    np.testing.assert_array_equal(y1, sd.IoPlan(g, layer).run(w, x))
    with pytest.raises(ValueError, match="not a topological order"):
        sd.IoPlan(g, order[::-1])


def test_bound_plan_equals_run_in_every_order():
    g, generation = sd.io_efficient_network(8, 600, 6, 32, seed=3)
    rng = np.random.default_rng(1)
    w = rng.normal(size=g.num_edges).astype(np.float32)
    orders = [generation] + [sd.io_schedule(g, 32, m).order for m in ("layer", "greedy")]
    for batch in (1, 5, 16, 37):
        x = rng.normal(size=(batch, 8)).astype(np.float32)
        expected = sd.IoPlan(g, generation).run(w, x)
        for order in orders:
            bound = sd.IoPlan(g, order).bind(w)
            np.testing.assert_array_equal(bound.run(x), expected)
            np.testing.assert_array_equal(bound.run(x), expected)  # reusable
    plan = sd.IoPlan(g, generation)
    with pytest.raises(ValueError, match="weights has"):
        plan.bind(w[:-1])
    with pytest.raises(ValueError, match="finite"):
        plan.bind(np.full(g.num_edges, np.inf))
    with pytest.raises(ValueError, match="inputs has"):
        plan.bind(w).run(np.ones((2, 9), dtype=np.float32))
