"""Sparse-training building blocks against NumPy references: Erdős–Rényi counts, exact SET
removals and regrowth invariants, importance pruning with numpy.percentile, All-ReLU."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sparsedag as sd
from sparsedag.sparse import SparseLayer

# ---------------------------------------------------------------- helpers


def layer_from_dense(cells: np.ndarray, present: np.ndarray) -> SparseLayer:
    """A layer holding cells[j, i] wherever present[j, i]; momentum = position + 1 so that
    survivors stay recognisable after evolution."""
    n_out, n_in = cells.shape
    rows, cols = np.nonzero(present)
    offsets = np.concatenate([[0], np.cumsum(present.sum(axis=1))]).astype(np.int64)
    weights = cells[rows, cols].astype(np.float32)
    momentum = np.arange(1, rows.size + 1, dtype=np.float32)
    return SparseLayer(n_in, n_out, offsets, cols.astype(np.int32), weights, momentum)


def connections(layer: SparseLayer) -> list[tuple[int, int, float, float]]:
    rows = np.repeat(np.arange(layer.n_out), np.diff(layer.offsets))
    return list(
        zip(
            rows.tolist(),
            layer.indices.tolist(),
            layer.weights.tolist(),
            layer.momentum.tolist(),
        )
    )


def reference_survivors(layer: SparseLayer, zeta: float) -> list[tuple[int, int, float, float]]:
    """Sort each sign by (|w|, CSR position), drop the first floor(zeta * count); drop zeros."""
    w = layer.weights.astype(np.float64)
    removed = w == 0
    for side in (w > 0, w < 0):
        positions = np.flatnonzero(side)
        order = positions[np.lexsort((positions, np.abs(w[positions])))]
        removed[order[: math.floor(zeta * positions.size)]] = True
    return [c for c, r in zip(connections(layer), removed) if not r]


def assert_valid(layer: SparseLayer) -> None:
    assert layer.offsets.dtype == np.int64 and layer.indices.dtype == np.int32
    assert layer.weights.dtype == np.float32 and layer.momentum.dtype == np.float32
    assert layer.offsets.shape == (layer.n_out + 1,) and layer.offsets[0] == 0
    assert layer.offsets[-1] == layer.indices.size == layer.weights.size
    assert np.all(np.diff(layer.offsets) >= 0)
    assert np.all((layer.indices >= 0) & (layer.indices < layer.n_in))
    for j in range(layer.n_out):
        row = layer.indices[layer.offsets[j] : layer.offsets[j + 1]]
        assert np.all(np.diff(row) > 0), "rows must be sorted without duplicates"


@st.composite
def small_layers(draw, max_side: int = 8):
    n_in = draw(st.integers(1, max_side))
    n_out = draw(st.integers(1, max_side))
    values = [-1.0, -0.5, -0.25, -0.0, 0.0, 0.25, 0.5, 0.75, 1.0]  # ties and zeros are common
    cells = np.array(
        draw(st.lists(st.sampled_from(values), min_size=n_in * n_out, max_size=n_in * n_out))
    ).reshape(n_out, n_in)
    present = np.array(
        draw(st.lists(st.booleans(), min_size=n_in * n_out, max_size=n_in * n_out))
    ).reshape(n_out, n_in)
    return layer_from_dense(cells, present)


# ---------------------------------------------------------------- Erdős–Rényi


@pytest.mark.parametrize(
    ("n_in", "n_out", "eps"), [(1000, 1000, 20.0), (784, 300, 11.0), (3000, 10, 1.0)]
)
def test_initial_counts_match_the_epsilon_formula(n_in, n_out, eps):
    p = sd.sparse.erdos_renyi_probability(n_in, n_out, eps)
    assert p == pytest.approx(eps * (n_in + n_out) / (n_in * n_out))
    mean, sd_ = n_in * n_out * p, math.sqrt(n_in * n_out * p * (1 - p))
    for seed in range(4):
        layer = sd.sparse.erdos_renyi_layer(n_in, n_out, eps, seed=seed)
        assert_valid(layer)
        assert abs(layer.nnz - mean) < 5 * sd_, (layer.nnz, mean, sd_)
        assert np.all(layer.momentum == 0)
        assert np.all(np.abs(layer.weights) <= math.sqrt(6 / n_in))


def test_dense_when_the_probability_reaches_one():
    layer = sd.sparse.erdos_renyi_layer(6, 5, 20.0)
    assert sd.sparse.erdos_renyi_probability(6, 5, 20.0) == 1.0
    assert layer.nnz == 30
    assert np.all(layer.to_dense() != 0)


def test_initialisers_use_their_limits():
    he = sd.sparse.erdos_renyi_layer(400, 300, 10, init="he_uniform", seed=1)
    neuron = sd.sparse.erdos_renyi_layer(400, 300, 10, init="he_uniform_neuron", seed=1)
    xavier = sd.sparse.erdos_renyi_layer(400, 300, 10, init="xavier_uniform", seed=1)
    # same topology for every initialiser (indices are drawn first)
    assert np.array_equal(he.indices, neuron.indices)
    assert np.abs(he.weights).max() <= math.sqrt(6 / 400)
    assert np.abs(he.weights).max() > 0.9 * math.sqrt(6 / 400)
    assert np.abs(xavier.weights).max() <= math.sqrt(6 / 700)
    limits = np.repeat(np.sqrt(6 / np.maximum(neuron.fan_in, 1)), neuron.fan_in)
    assert np.all(np.abs(neuron.weights) <= limits)
    assert set(sd.sparse.INITS) == {"he_uniform", "he_uniform_neuron", "xavier_uniform"}


def test_same_seed_same_layer_on_any_thread_count():
    before = sd.get_num_threads()
    try:
        sd.set_num_threads(1)
        a = sd.sparse.erdos_renyi_layer(2000, 3000, 20, seed=5)
        sd.set_num_threads(2)
        b = sd.sparse.erdos_renyi_layer(2000, 3000, 20, seed=5)
    finally:
        sd.set_num_threads(before)
    for x, y in zip(a, b):
        assert np.array_equal(x, y)
    c = sd.sparse.erdos_renyi_layer(2000, 3000, 20, seed=6)
    assert not np.array_equal(a.indices[:100], c.indices[:100])


def test_scipy_view_of_a_layer():
    pytest.importorskip("scipy")
    layer = sd.sparse.erdos_renyi_layer(50, 40, 3, seed=2)
    m = layer.to_scipy()
    assert m.shape == (40, 50) and m.nnz == layer.nnz and m.has_canonical_format
    assert np.array_equal(m.toarray(), layer.to_dense())


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((10, 10, 0.0), {}, ValueError, "epsilon"),
        ((10, 10, -1.0), {}, ValueError, "epsilon"),
        ((10, 10, float("nan")), {}, ValueError, "epsilon"),
        ((0, 10, 1.0), {}, ValueError, "at least one input"),
        ((10, 0, 1.0), {}, ValueError, "at least one input"),
        ((-1, 10, 1.0), {}, ValueError, "n_in"),
        ((10.5, 10, 1.0), {}, TypeError, "n_in"),
        ((10, 10, 1.0), {"init": "glorot"}, ValueError, "unknown init"),
        ((10, 10, 1.0), {"seed": -1}, ValueError, "seed"),
        ((2**31, 2, 1.0), {}, ValueError, "int32"),
    ],
)
def test_erdos_renyi_rejects_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        sd.sparse.erdos_renyi_layer(*args, **kwargs)


# ---------------------------------------------------------------- evolution


@settings(max_examples=150, deadline=None)
@given(small_layers(), st.floats(0.0, 0.999), st.integers(0, 2**63))
def test_evolution_removes_exactly_the_reference_set(layer, zeta, seed):
    expected = reference_survivors(layer, zeta)
    nnz = layer.nnz
    stats = sd.sparse.evolve_layer(layer, zeta, seed=seed, init="he_uniform_neuron")
    assert_valid(layer)
    assert layer.nnz == nnz
    assert (
        stats["added"]
        == stats["removed_positive"] + stats["removed_negative"] + stats["removed_zero"]
    )
    survivors = [c for c in connections(layer) if c[3] != 0]
    assert survivors == expected
    assert int(np.count_nonzero(layer.momentum == 0)) == stats["added"]


def test_evolution_keeps_the_count_over_many_steps_and_regrows_with_zero_momentum():
    layer = sd.sparse.erdos_renyi_layer(1000, 1000, 20, seed=1)
    nnz = layer.nnz
    for step in range(5):
        layer.momentum[:] = 1.0
        stats = sd.sparse.evolve_layer(layer, 0.3, seed=step)
        assert_valid(layer)
        assert layer.nnz == nnz
        assert int(np.count_nonzero(layer.momentum == 0)) == stats["added"]
        n_pos = stats["removed_positive"]
        assert abs(stats["added"] - 0.3 * nnz) < 0.01 * nnz and n_pos > 0


def test_evolution_is_seeded():
    a = sd.sparse.erdos_renyi_layer(300, 200, 5, seed=1)
    b = SparseLayer(*(x.copy() if isinstance(x, np.ndarray) else x for x in a))
    c = SparseLayer(*(x.copy() if isinstance(x, np.ndarray) else x for x in a))
    sd.sparse.evolve_layer(a, seed=3)
    sd.sparse.evolve_layer(b, seed=3)
    sd.sparse.evolve_layer(c, seed=4)
    assert np.array_equal(a.indices, b.indices) and np.array_equal(a.weights, b.weights)
    assert not np.array_equal(a.indices, c.indices)


def test_regrowth_respects_alive_masks():
    layer = sd.sparse.erdos_renyi_layer(30, 20, 2, seed=1)
    in_alive = np.arange(30) % 3 != 0
    out_alive = np.arange(20) % 2 == 0
    layer.momentum[:] = 1.0
    sd.sparse.evolve_layer(layer, 0.5, seed=2, input_alive=in_alive, output_alive=out_alive)
    assert_valid(layer)
    rows = np.repeat(np.arange(20), layer.fan_in)
    fresh = layer.momentum == 0
    assert fresh.any()
    assert np.all(out_alive[rows[fresh]]) and np.all(in_alive[layer.indices[fresh]])


def test_regrowth_without_room_raises_and_leaves_the_layer_alone():
    layer = sd.sparse.erdos_renyi_layer(4, 4, 20, seed=1)  # dense
    before = [x.copy() for x in layer[2:]]
    with pytest.raises(ValueError, match="cannot regrow"):
        sd.sparse.evolve_layer(layer, 0.5, output_alive=np.zeros(4, dtype=bool))
    for x, y in zip(before, layer[2:]):
        assert np.array_equal(x, y)


def _fresh_layer() -> SparseLayer:
    return layer_from_dense(
        np.array([[0.5, -0.5, 0.25], [1.0, -1.0, 0.75]]), np.ones((2, 3), dtype=bool)
    )


def _with(layer: SparseLayer, **changes) -> SparseLayer:
    return layer._replace(**changes)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda x: _with(x, weights=x.weights.astype(np.float64)), TypeError, "float32"),
        (lambda x: _with(x, indices=x.indices.astype(np.int64)), TypeError, "int32"),
        (lambda x: _with(x, offsets=x.offsets.astype(np.int32)), TypeError, "int64"),
        (lambda x: _with(x, weights=x.weights.tolist()), TypeError, "numpy array"),
        (lambda x: _with(x, weights=x.weights.reshape(2, 3)), ValueError, "one-dimensional"),
        (
            lambda x: _with(x, weights=np.repeat(x.weights, 2)[::2]),
            ValueError,
            "not contiguous",
        ),
        (lambda x: _with(x, weights=_set(x.weights, 1, np.nan)), ValueError, "not finite"),
        (lambda x: _with(x, momentum=_set(x.momentum, 0, np.inf)), ValueError, "not finite"),
        (lambda x: _with(x, indices=_set(x.indices, 2, 3)), ValueError, "out of range"),
        (lambda x: _with(x, indices=_set(x.indices, 2, -1)), ValueError, "negative"),
        (lambda x: _with(x, indices=_set(x.indices, 1, 2)), ValueError, "duplicate"),
        (lambda x: _with(x, indices=_swap(x.indices, 0, 2)), ValueError, "not sorted"),
        (lambda x: _with(x, offsets=x.offsets[:-1].copy()), ValueError, "offsets"),
        (
            lambda x: _with(x, offsets=_set(x.offsets, 1, 7)),
            ValueError,
            "offsets must not decrease",
        ),
        (lambda x: _with(x, momentum=x.momentum[:-1].copy()), ValueError, "one length"),
        (lambda x: _with(x, momentum=x.weights), ValueError, "share memory"),
        (lambda x: _with(x, weights=_readonly(x.weights)), ValueError, "writeable"),
        (lambda x: _with(x, n_in=2), ValueError, "out of range"),
    ],
)
def test_evolution_rejects_bad_layers(make, error, match):
    with pytest.raises(error, match=match):
        sd.sparse.evolve_layer(make(_fresh_layer()), 0.3)


def _set(array: np.ndarray, position: int, value) -> np.ndarray:
    out = array.copy()
    out[position] = value
    return out


def _swap(array: np.ndarray, a: int, b: int) -> np.ndarray:
    out = array.copy()
    out[a], out[b] = out[b], out[a]
    return out


def _readonly(array: np.ndarray) -> np.ndarray:
    out = array.copy()
    out.flags.writeable = False
    return out


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"zeta": 1.0}, ValueError, "zeta"),
        ({"zeta": -0.1}, ValueError, "zeta"),
        ({"zeta": float("nan")}, ValueError, "zeta"),
        ({"init": "nope"}, ValueError, "unknown init"),
        ({"seed": -3}, ValueError, "seed"),
        ({"input_alive": np.ones(2, dtype=bool)}, ValueError, "input_alive"),
        ({"output_alive": np.ones(2, dtype=np.int64)}, TypeError, "boolean"),
    ],
)
def test_evolution_rejects_bad_options(kwargs, error, match):
    layer = _fresh_layer()
    before = layer.weights.copy()
    with pytest.raises(error, match=match):
        sd.sparse.evolve_layer(layer, **kwargs)
    assert np.array_equal(layer.weights, before)


# ---------------------------------------------------------------- importance pruning


@st.composite
def layer_chains(draw):
    sizes = draw(st.lists(st.integers(1, 7), min_size=2, max_size=4))
    layers = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        present = np.array(
            draw(st.lists(st.booleans(), min_size=n_in * n_out, max_size=n_in * n_out))
        ).reshape(n_out, n_in)
        # eighths: every score is exact whatever the summation order
        eighths = draw(st.lists(st.integers(-8, 8), min_size=n_in * n_out, max_size=n_in * n_out))
        cells = np.array(eighths, dtype=np.float64).reshape(n_out, n_in) / 8
        layers.append(layer_from_dense(cells, present))
    return layers


def edge_set(layer: SparseLayer) -> set[tuple[int, int]]:
    return {(j, i) for j, i, _, _ in connections(layer)}


@settings(max_examples=150, deadline=None)
@given(layer_chains(), st.floats(0, 100))
def test_importance_pruning_matches_numpy_percentile(layers, q):
    result = sd.sparse.importance_prune(layers, q)
    hidden = len(layers) - 1
    assert len(result.removed) == hidden
    for h in range(hidden):
        layer, nxt = layers[h], layers[h + 1]
        scores = np.abs(layer.to_dense().astype(np.float64)).sum(axis=1)
        np.testing.assert_array_equal(result.scores[h], scores)
        connected = (layer.fan_in > 0) | np.isin(np.arange(layer.n_out), nxt.indices)
        if not connected.any():
            assert result.removed[h].size == 0 and result.thresholds[h] is None
            continue
        t = np.percentile(scores[connected], q)
        assert result.thresholds[h] == t
        expected = np.flatnonzero(connected & (scores <= t))
        np.testing.assert_array_equal(result.removed[h], expected)
    dropped = 0
    for k, (before, after) in enumerate(zip(layers, result.layers)):
        assert_valid(after)
        rows_gone = set(result.removed[k].tolist()) if k < hidden else set()
        cols_gone = set(result.removed[k - 1].tolist()) if k > 0 else set()
        kept = [c for c in connections(before) if c[0] not in rows_gone and c[1] not in cols_gone]
        assert connections(after) == kept
        dropped += before.nnz - after.nnz
    assert result.removed_connections == dropped


def test_importance_pruning_shrinks_the_network():
    sizes = [100, 300, 300, 10]
    layers = [
        sd.sparse.erdos_renyi_layer(a, b, 10, seed=s)
        for s, (a, b) in enumerate(zip(sizes, sizes[1:]))
    ]
    result = sd.sparse.importance_prune(layers, 20)
    for h, removed in enumerate(result.removed):
        # at or below the 20th percentile: about a fifth of each hidden layer
        assert 0.19 * 300 <= removed.size <= 0.21 * 300 + 1
        after, nxt = result.layers[h], result.layers[h + 1]
        assert np.all(after.fan_in[removed] == 0)
        assert not np.isin(nxt.indices, removed).any()
    assert sum(x.nnz for x in result.layers) == sum(x.nnz for x in layers) - (
        result.removed_connections
    )
    # the inputs are untouched
    assert layers[0].nnz + layers[1].nnz + layers[2].nnz > sum(x.nnz for x in result.layers)
    # a second pruning ignores the neurons already gone
    again = sd.sparse.importance_prune(result.layers, 20)
    for first, second in zip(result.removed, again.removed):
        assert not np.isin(second, first).any()


def test_percentile_is_numpy_default():
    rng = np.random.default_rng(0)
    for n in (1, 2, 5, 100):
        values = rng.standard_normal(n)
        for q in (0, 10, 20, 33.3, 50, 99.9, 100):
            assert sd.sparse.percentile(values, q) == np.percentile(values, q)


def test_importance_pruning_rejects_bad_input():
    layers = [sd.sparse.erdos_renyi_layer(5, 4, 2, seed=s) for s in range(2)]
    with pytest.raises(ValueError, match="percentile"):
        sd.sparse.importance_prune(layers, 101)
    with pytest.raises(ValueError, match="percentile"):
        sd.sparse.importance_prune(layers, float("nan"))
    wrong_chain = [layers[0], sd.sparse.erdos_renyi_layer(3, 4, 2)]
    with pytest.raises(ValueError, match="chain"):
        sd.sparse.importance_prune(wrong_chain, 20)
    broken = layers[0]._replace(indices=layers[0].indices[::-1].copy())
    with pytest.raises(ValueError, match=r"layers\[0\]"):
        sd.sparse.importance_prune([broken, layers[1]], 20)
    nan = layers[1]._replace(weights=np.full_like(layers[1].weights, np.nan))
    with pytest.raises(ValueError, match="not finite"):
        sd.sparse.importance_prune([layers[0], nan], 20)
    bad_dtype = layers[1]._replace(weights=layers[1].weights.astype(np.float64))
    with pytest.raises(TypeError, match="float32"):
        sd.sparse.importance_prune([layers[0], bad_dtype], 20)
    with pytest.raises(TypeError, match="tuple"):
        sd.sparse.importance_prune([layers[0], "layer"], 20)  # type: ignore[list-item]


# ---------------------------------------------------------------- pruning to a count


@settings(max_examples=100, deadline=None)
@given(small_layers(), st.integers(0, 70))
def test_pruning_to_a_count_keeps_the_largest_magnitudes(layer, count):
    w = np.abs(layer.weights.astype(np.float64))
    positions = np.arange(w.size)
    order = np.lexsort((positions, w))  # by |w|, ties by CSR position
    drop = max(w.size - count, 0)
    keep = np.ones(w.size, dtype=bool)
    keep[order[:drop]] = False
    pruned = sd.sparse.prune_to_count(layer, count)
    assert_valid(pruned)
    assert pruned.nnz == min(count, layer.nnz)
    assert connections(pruned) == [c for c, k in zip(connections(layer), keep) if k]


def test_pruning_to_a_count_rejects_bad_input():
    layer = sd.sparse.erdos_renyi_layer(10, 10, 2, seed=1)
    with pytest.raises(ValueError, match="count"):
        sd.sparse.prune_to_count(layer, -1)
    with pytest.raises(ValueError, match="not finite"):
        sd.sparse.prune_to_count(layer._replace(weights=layer.weights * np.nan), 3)
    with pytest.raises(ValueError, match="not sorted"):
        sd.sparse.prune_to_count(layer._replace(indices=layer.indices[::-1].copy()), 3)


# ---------------------------------------------------------------- All-ReLU


def test_all_relu_slopes_alternate():
    assert [sd.sparse.all_relu_slope(k, 0.6) for k in range(4)] == pytest.approx(
        [-0.6, 0.6, -0.6, 0.6]
    )
    z = np.array([[-2.0, -0.5], [0.0, 1.5]], dtype=np.float32)
    for layer in range(4):
        slope = -0.75 if layer % 2 == 0 else 0.75
        out = sd.sparse.all_relu(z, layer, alpha=0.75)
        assert out.shape == z.shape and out.dtype == np.float32
        np.testing.assert_allclose(out, np.where(z >= 0, z, slope * z))
        grad = sd.sparse.all_relu_derivative(z, layer, alpha=0.75)
        np.testing.assert_allclose(grad, np.where(z >= 0, 1.0, slope))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(-10, 10).filter(lambda v: abs(v) > 1e-2), min_size=1, max_size=20),
    st.integers(0, 5),
    st.floats(0.01, 1.0),
)
def test_all_relu_derivative_matches_finite_differences(values, layer, alpha):
    z = np.array(values, dtype=np.float64)
    h = 1e-3
    numeric = (
        sd.sparse.all_relu((z + h).astype(np.float32), layer, alpha).astype(np.float64)
        - sd.sparse.all_relu((z - h).astype(np.float32), layer, alpha).astype(np.float64)
    ) / (2 * h)
    analytic = sd.sparse.all_relu_derivative(z.astype(np.float32), layer, alpha)
    np.testing.assert_allclose(numeric, analytic, atol=2e-2)


def test_all_relu_rejects_bad_input():
    z = np.ones(4, dtype=np.float32)
    with pytest.raises(TypeError, match="float32"):
        sd.sparse.all_relu(z.astype(np.float64), 0)
    with pytest.raises(TypeError, match="numpy array"):
        sd.sparse.all_relu([1.0, 2.0], 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="contiguous"):
        sd.sparse.all_relu(np.ones((4, 4), dtype=np.float32)[:, ::2], 0)
    with pytest.raises(ValueError, match="non-finite"):
        sd.sparse.all_relu(np.array([np.nan], dtype=np.float32), 0)
    with pytest.raises(ValueError, match="alpha"):
        sd.sparse.all_relu(z, 0, alpha=float("inf"))
    with pytest.raises(ValueError, match="layer"):
        sd.sparse.all_relu(z, -1)


def test_pruned_neurons_stay_dead_through_evolution_with_alive_masks():
    sizes = [50, 200, 200, 10]
    layers = [
        sd.sparse.erdos_renyi_layer(a, b, 5, seed=s)
        for s, (a, b) in enumerate(zip(sizes, sizes[1:]))
    ]
    result = sd.sparse.importance_prune(layers, 30)
    alive = [np.ones(n, dtype=bool) for n in sizes]
    for h, removed in enumerate(result.removed):
        alive[h + 1][removed] = False
    for step in range(3):
        for k, layer in enumerate(result.layers):
            nnz = layer.nnz
            sd.sparse.evolve_layer(
                layer, 0.3, seed=10 * step + k, input_alive=alive[k], output_alive=alive[k + 1]
            )
            assert_valid(layer)
            assert layer.nnz == nnz
            rows = np.repeat(np.arange(layer.n_out), layer.fan_in)
            assert alive[k + 1][rows].all() and alive[k][layer.indices].all()


def test_building_blocks_release_the_gil():
    from conftest import longest_pause_of_python

    big = sd.sparse.erdos_renyi_layer(20000, 20000, 200.0, seed=1)
    narrow = sd.sparse.erdos_renyi_layer(20000, 100, 200.0, seed=2)
    calls = {
        "erdos_renyi_layer": lambda: sd.sparse.erdos_renyi_layer(20000, 20000, 200.0),
        "evolve_layer": lambda: sd.sparse.evolve_layer(big, 0.3),
        "importance_prune": lambda: sd.sparse.importance_prune([big, narrow], 30),
        "prune_to_count": lambda: sd.sparse.prune_to_count(big, big.nnz // 2),
    }
    for name, call in calls.items():
        took, pause = longest_pause_of_python(call)
        assert pause < 0.5 * took, (name, took, pause)


def test_seeds_of_two_to_the_64_and_more_are_value_errors():
    layer = sd.sparse.erdos_renyi_layer(10, 10, 2.0, seed=2**64 - 1)
    with pytest.raises(ValueError, match="below 2\\*\\*64"):
        sd.sparse.erdos_renyi_layer(10, 10, 2.0, seed=2**64)  # was OverflowError
    with pytest.raises(ValueError, match="below 2\\*\\*64"):
        sd.sparse.evolve_layer(layer, 0.3, seed=2**70)


def test_a_layer_larger_than_memory_is_refused_up_front():
    # 8.6e9 expected connections (under the 2**34 cap): the process was killed for memory
    with pytest.raises(MemoryError, match="GiB"):
        sd.sparse.erdos_renyi_layer(2**20, 2**14, 2**13)
