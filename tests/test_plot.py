"""sparsedag.plot: optional matplotlib figures of histories, annealing traces, memory profiles
and layerings. The plotted data must be exactly the library's numbers."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import sparsedag as sd

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import LineCollection, PathCollection  # noqa: E402

from sparsedag import plot as sdplot  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _data_lines(ax):
    """The lines that carry data (axhline lines span the axes: x data is [0, 1] in axes
    coordinates and they are recognised by their transform)."""
    return [line for line in ax.get_lines() if line.get_transform() == ax.transData]


def _hlines(ax):
    return [line for line in ax.get_lines() if line.get_transform() != ax.transData]


def _classification_data(rows=200, features=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, features)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    return X, y


# -- lazy, optional import --------------------------------------------------------------------


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_import_sparsedag_does_not_import_matplotlib():
    r = _run(
        "import sys, sparsedag as sd\n"
        "assert 'matplotlib' not in sys.modules\n"
        "assert 'sparsedag.plot' not in sys.modules\n"
        "sd.plot.plot_history\n"  # the module loads on first use ...
        "assert 'matplotlib' not in sys.modules\n"  # ... and matplotlib only on a call
        "print('ok')\n"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_sparsedag_works_without_matplotlib():
    r = _run(
        "import sys\n"
        "sys.modules['matplotlib'] = None\n"
        "import sparsedag as sd\n"
        "g = sd.random_dag(20, m=40, seed=0)\n"
        "assert sd.layering(g).shape == (20,)\n"
        "try:\n"
        "    sd.plot.plot_layering(g, sd.layering(g))\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    assert r.returncode == 0, r.stderr
    assert "pip install matplotlib" in r.stdout


def test_every_function_says_how_to_install_matplotlib(monkeypatch):
    g = sd.random_dag(10, m=15, seed=0)
    order = sd.topological_order(g)
    schedule = sd.io_schedule(g, 3, method="anneal", steps=50)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    calls = [
        lambda: sdplot.plot_history({"loss": [1.0, 0.5]}),
        lambda: sdplot.plot_anneal_trace(schedule),
        lambda: sdplot.plot_memory_profile(g, order, None),
        lambda: sdplot.plot_layering(g, sd.layering(g)),
    ]
    for call in calls:
        with pytest.raises(ImportError, match="pip install matplotlib"):
            call()


def test_public_names():
    assert sd.plot is sdplot
    assert set(sdplot.__all__) == {
        "plot_history",
        "plot_anneal_trace",
        "plot_memory_profile",
        "plot_layering",
    }
    with pytest.raises(AttributeError):
        sd.no_such_attribute  # noqa: B018


# -- training history -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def classifier():
    X, y = _classification_data()
    return sd.SparseMLPClassifier(hidden=(24, 24), epochs=4, progress=False, seed=3).fit(X, y)


def test_history_of_a_classifier(classifier):
    h = classifier.history_
    ax = sdplot.plot_history(classifier)
    lines = _data_lines(ax)
    assert [line.get_label() for line in lines] == ["loss", "accuracy"]
    for line, key in zip(lines, ("loss", "accuracy")):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, 5))
        np.testing.assert_array_equal(line.get_ydata(), h[key])
    assert ax.get_xlabel() == "epoch"
    assert ax.get_ylabel() == "loss, accuracy"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["loss", "accuracy"]
    assert len(ax.figure.axes) == 1  # no count asked for: no secondary axis


def test_history_counts_on_a_secondary_axis(classifier):
    h = classifier.history_
    fig, ax = plt.subplots()
    out = sdplot.plot_history(classifier, ax=ax, metrics=("loss", "connections", "neurons"))
    assert out is ax
    assert len(fig.axes) == 2
    twin = next(a for a in fig.axes if a is not ax)
    assert [line.get_label() for line in _data_lines(ax)] == ["loss"]
    counted = _data_lines(twin)
    assert [line.get_label() for line in counted] == ["connections", "neurons"]
    np.testing.assert_array_equal(counted[0].get_ydata(), h["connections"])
    np.testing.assert_array_equal(counted[1].get_ydata(), h["neurons"])
    assert twin.get_ylabel() == "connections, neurons"
    # one legend for both axes
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["loss", "connections", "neurons"]


def test_history_of_a_regressor_skips_the_nan_accuracy():
    X, _ = _classification_data(seed=1)
    target = X[:, 0] - 2 * X[:, 2]
    reg = sd.SparseMLPRegressor(hidden=(16,), epochs=3, progress=False).fit(X, target)
    assert np.all(np.isnan(reg.history_["accuracy"]))
    ax = sdplot.plot_history(reg)
    lines = _data_lines(ax)
    assert [line.get_label() for line in lines] == ["loss"]
    np.testing.assert_array_equal(lines[0].get_ydata(), reg.history_["loss"])
    assert ax.get_ylabel() == "loss"


def test_history_of_dagnet_with_validation():
    net = sd.DagNet(sd.random_dag(30, m=80, seed=4), seed=1)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, net.num_inputs)).astype(np.float32)
    targets = rng.normal(size=(120, net.num_outputs)).astype(np.float32)
    history = net.fit(
        X, targets, epochs=3, batch_size=32, progress=False, validation_data=(X[:40], targets[:40])
    )
    # mse: no accuracy in the history, so the default metrics draw the loss and its val curve
    ax = sdplot.plot_history(history)
    lines = _data_lines(ax)
    assert [line.get_label() for line in lines] == ["loss", "val_loss"]
    np.testing.assert_array_equal(lines[0].get_ydata(), history["loss"])
    np.testing.assert_array_equal(lines[1].get_ydata(), history["val_loss"])
    assert lines[0].get_linestyle() == "-"
    assert lines[1].get_linestyle() == "--"
    # the net itself works too (its history_)
    ax2 = sdplot.plot_history(net, metrics="loss")
    np.testing.assert_array_equal(_data_lines(ax2)[0].get_ydata(), net.history_["loss"])


def test_history_of_parallel_mlps_draws_one_curve_per_model():
    pm = sd.ParallelMLPs(5, 3, widths=[4, 9], activations=["relu"], repetitions=1, seed=7)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 5)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    history = pm.fit(X, y, epochs=2, loss="cross_entropy", progress=False)
    ax = sdplot.plot_history(history, metrics=("loss",))
    lines = _data_lines(ax)
    assert len(lines) == pm.num_models == 2
    values = np.asarray(history["loss"])
    for model, line in enumerate(lines):
        assert line.get_label() == f"loss (model {model})"
        np.testing.assert_array_equal(line.get_ydata(), values[:, model])


def test_history_errors(classifier):
    with pytest.raises(ValueError, match="call fit first"):
        sdplot.plot_history(sd.SparseMLPClassifier())
    with pytest.raises(TypeError, match="history dict"):
        sdplot.plot_history(42)
    with pytest.raises(ValueError, match="pass the history dict"):
        sdplot.plot_history(sd.ParallelMLPs(3, 2, widths=[4]))  # its fit returns the history
    with pytest.raises(ValueError, match="empty"):
        sdplot.plot_history({})
    with pytest.raises(ValueError, match="empty"):
        sdplot.plot_history(sd.DagNet(sd.random_dag(5, m=4, seed=0)))
    with pytest.raises(ValueError, match="no 'los'.*connections.*loss"):
        sdplot.plot_history(classifier, metrics=("los",))
    with pytest.raises(ValueError, match="at least one"):
        sdplot.plot_history(classifier, metrics=())
    with pytest.raises(TypeError, match="strings"):
        sdplot.plot_history(classifier, metrics=(1,))
    with pytest.raises(ValueError, match="not numeric"):
        sdplot.plot_history({"loss": ["a", "b"]})
    with pytest.raises(ValueError, match="none of accuracy"):
        sdplot.plot_history({"loss": [1.0]}, metrics="accuracy")
    with pytest.raises(TypeError, match="Axes"):
        sdplot.plot_history(classifier, ax="not an axes")


# -- I/O annealing ----------------------------------------------------------------------------


def test_anneal_trace_matches_the_schedule():
    g = sd.random_dag(60, m=150, seed=1)
    s = sd.io_schedule(g, 6, method="anneal", seed=2)
    assert s.trace_moves.size > 1
    ax = sdplot.plot_anneal_trace(s)
    (trace,) = _data_lines(ax)
    np.testing.assert_array_equal(trace.get_xdata(), s.trace_moves)
    np.testing.assert_array_equal(trace.get_ydata(), s.trace_io)
    levels = {line.get_label().split(" (")[0]: line.get_ydata()[0] for line in _hlines(ax)}
    assert levels == {"lower bound": s.lower, "upper bound": s.upper, "returned": s.io}
    assert ax.get_xlabel() == "annealing moves"
    assert ax.get_ylabel().startswith("I/O")
    # the returned I/O is the best checkpoint, between the bounds
    assert s.lower <= s.io == s.trace_io.min() <= s.upper


def test_anneal_trace_errors():
    g = sd.random_dag(20, m=40, seed=1)
    with pytest.raises(ValueError, match="no annealing trace.*'layer'"):
        sdplot.plot_anneal_trace(sd.io_schedule(g, 4, method="layer"))
    with pytest.raises(TypeError, match="IoSchedule"):
        sdplot.plot_anneal_trace({"trace_io": [1, 2]})


# -- memory profile ---------------------------------------------------------------------------


@pytest.mark.parametrize("model", sd.MEMORY_MODELS)
def test_memory_profile_matches_peak_memory(model):
    g = sd.random_dag(50, m=120, seed=5)
    sizes = np.random.default_rng(1).integers(1, 10, 50).astype(np.float64)
    order = sd.topological_order(g, method="dfs")
    peak, steps = sd.peak_memory(g, order, sizes, model=model, profile=True)
    ax = sdplot.plot_memory_profile(g, order, sizes, model=model, lower_bound=True)
    profile, marker = _data_lines(ax)
    np.testing.assert_array_equal(profile.get_xdata(), np.arange(1, 51))
    np.testing.assert_array_equal(profile.get_ydata(), steps)
    first = int(np.flatnonzero(steps == peak)[0])
    assert list(marker.get_xdata()) == [first + 1]
    assert list(marker.get_ydata()) == [peak]
    (bound,) = _hlines(ax)
    assert bound.get_ydata()[0] == sd.peak_memory_lower_bound(g, sizes, model=model)
    assert ax.get_xlabel() == "step"
    assert ax.get_ylabel() == "live memory"


def test_memory_profile_unit_sizes_and_no_bound():
    g = sd.random_dag(15, m=30, seed=2)
    order = sd.topological_order(g)
    ax = sdplot.plot_memory_profile(g, order, None)
    assert _hlines(ax) == []
    _, steps = sd.peak_memory(g, order, None, profile=True)
    np.testing.assert_array_equal(_data_lines(ax)[0].get_ydata(), steps)


def test_memory_profile_errors():
    g = sd.random_dag(10, m=20, seed=0)
    order = sd.topological_order(g)
    with pytest.raises(ValueError):
        sdplot.plot_memory_profile(g, order[::-1], None)  # not a topological order
    with pytest.raises(ValueError):
        sdplot.plot_memory_profile(g, order, np.ones(10), model="nope")
    with pytest.raises(ValueError, match="no nodes"):
        sdplot.plot_memory_profile(sd.Dag.from_edges([], [], 0), [], None)


# -- layered drawing --------------------------------------------------------------------------


def _drawing(ax):
    (nodes,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    (edges,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    return np.asarray(nodes.get_offsets()), [np.asarray(s) for s in edges.get_segments()]


def _crossings(xy, src, dst, layers):
    """Crossings between edges that join the same two adjacent layers."""
    count = 0
    short = [(u, v) for u, v in zip(src, dst) if layers[v] == layers[u] + 1]
    for i, (a, b) in enumerate(short):
        for c, d in short[i + 1 :]:
            if layers[a] == layers[c]:
                count += (xy[a, 0] - xy[c, 0]) * (xy[b, 0] - xy[d, 0]) < 0
    return count


def test_layering_drawing_content():
    g, _ = sd.planted_layered_dag(120, 6, density=0.1, seed=3)
    layers = sd.layering(g)
    ax = sdplot.plot_layering(g, layers)
    xy, segments = _drawing(ax)
    assert xy.shape == (g.num_nodes, 2)
    np.testing.assert_array_equal(xy[:, 1], layers)
    # x: within each layer, the ranks 0..w-1 centred on 0
    for layer in np.unique(layers):
        xs = np.sort(xy[layers == layer, 0])
        np.testing.assert_array_equal(xs, np.arange(xs.size) - (xs.size - 1) / 2)
    src, dst = g.edges()
    assert len(segments) == g.num_edges
    for (u, v), seg in zip(zip(src, dst), segments):
        np.testing.assert_array_equal(seg, [xy[u], xy[v]])
    assert ax.get_ylabel() == "layer"
    lo, hi = ax.get_ylim()
    assert lo > hi  # layer 0 at the top
    metrics = sd.layering_metrics(g, layers)
    assert f"height {metrics['height']}" in ax.get_title()


def test_layering_barycenter_uncrosses():
    # 0 -> 3 and 1 -> 2 cross in id order; one sweep puts 3 left of 2
    g = sd.Dag.from_edges([0, 1], [3, 2], 4)
    layers = sd.layering(g)
    xy0, _ = _drawing(sdplot.plot_layering(g, layers, sweeps=0))
    xy1, _ = _drawing(sdplot.plot_layering(g, layers, sweeps=1))
    src, dst = g.edges()
    assert _crossings(xy0, src, dst, layers) == 1
    assert _crossings(xy1, src, dst, layers) == 0
    # on a larger graph the sweeps remove most crossings of the id order
    g, _ = sd.planted_layered_dag(150, 5, density=0.05, seed=8)
    layers = sd.layering(g)
    src, dst = g.edges()
    before = _crossings(_drawing(sdplot.plot_layering(g, layers, sweeps=0))[0], src, dst, layers)
    after = _crossings(_drawing(sdplot.plot_layering(g, layers))[0], src, dst, layers)
    assert after < before


def test_layering_deterministic_and_any_valid_layering():
    g = sd.random_dag(80, m=200, seed=6)
    for method in ("alap", "coffman_graham"):
        layers = sd.layering(g, method=method)
        a, _ = _drawing(sdplot.plot_layering(g, layers))
        b, _ = _drawing(sdplot.plot_layering(g, layers))
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a[:, 1], layers - layers.min())


def test_layering_small_and_empty_graphs():
    ax = sdplot.plot_layering(sd.Dag.from_edges([], [], 0), np.zeros(0, dtype=np.int64))
    xy, segments = _drawing(ax)
    assert xy.shape[0] == 0 and segments == []
    xy, segments = _drawing(sdplot.plot_layering(sd.Dag.from_edges([], [], 3), [0, 0, 0]))
    np.testing.assert_array_equal(np.sort(xy[:, 0]), [-1, 0, 1])
    assert segments == []


def test_layering_errors():
    g = sd.random_dag(50, m=100, seed=0)
    layers = sd.layering(g)
    with pytest.raises(ValueError, match="max_nodes=40"):
        sdplot.plot_layering(g, layers, max_nodes=40)
    with pytest.raises(ValueError, match="max_nodes"):
        sdplot.plot_layering(g, layers, max_nodes=0)
    with pytest.raises(ValueError, match="sweeps"):
        sdplot.plot_layering(g, layers, sweeps=-1)
    with pytest.raises(ValueError, match="one layer per node"):
        sdplot.plot_layering(g, layers[:-1])
    with pytest.raises(ValueError):
        sdplot.plot_layering(g, np.zeros(50, dtype=np.int64))  # edges inside a layer
    with pytest.raises(TypeError):
        sdplot.plot_layering(g, layers.astype(np.float64))
    with pytest.raises(TypeError, match="Axes"):
        sdplot.plot_layering(g, layers, ax=plt.figure())
