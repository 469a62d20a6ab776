"""Seeded generators: sizes, seeds and their structural promises."""

from __future__ import annotations

import numpy as np
import pytest

import sparsedag as sd
from conftest import interrupt_child


def test_random_dag_gnm_exact_and_seeded():
    a = sd.random_dag(2000, m=10_000, seed=5)
    b = sd.random_dag(2000, m=10_000, seed=5)
    c = sd.random_dag(2000, m=10_000, seed=6)
    assert a.num_edges == 10_000
    assert a == b and a != c


def test_random_dag_gnp_edge_count_within_sampling_error():
    n, p = 3000, 0.002
    g = sd.random_dag(n, p=p, seed=1)
    expected = p * n * (n - 1) / 2
    assert abs(g.num_edges - expected) < 5 * np.sqrt(expected)


def test_random_dag_dense_and_edge_cases():
    assert sd.random_dag(6, p=1.0).num_edges == 15
    assert sd.random_dag(6, m=15).num_edges == 15
    assert sd.random_dag(0, p=0.5).num_nodes == 0
    assert sd.random_dag(1, m=0).num_edges == 0


def test_random_dag_orientation_is_not_by_id():
    src, dst = sd.random_dag(500, m=3000, seed=0).edges()
    assert (src > dst).any() and (src < dst).any()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"p": 1.5}, "probability"),
        ({"p": float("nan")}, "probability"),
        ({"m": 100}, "pairs"),
        ({}, "exactly one"),
        ({"p": 0.1, "m": 3}, "exactly one"),
    ],
)
def test_random_dag_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sd.random_dag(10, seed=0, **kwargs)


def test_layered_graph_structure():
    g, layers, sizes = sd.layered_graph(1000, seed=4)
    assert g.num_nodes == 1000 and sizes.shape == (1000,)
    assert (sizes >= 0).all()
    src, dst = g.edges()
    assert (layers[dst] > layers[src]).all()
    height = layers.max() + 1
    # L = ceil(sqrt(n (1/W - 1))) with W in [0.25, 0.5]
    assert np.ceil(np.sqrt(1000)) <= height <= np.ceil(np.sqrt(3000))
    skip = (layers[dst] - layers[src] > 1).sum()
    assert 0.10 * (g.num_edges - skip) <= skip <= 0.16 * (g.num_edges - skip)
    again = sd.layered_graph(1000, seed=4)
    assert again.dag == g and (again.sizes == sizes).all()


def test_planted_layering_is_asap_and_tight():
    g, planted = sd.planted_layered_dag(2000, layers=25, density=0.05, seed=9)
    assert (sd.layering(g) == planted).all()
    metrics = sd.layering_metrics(g, planted)
    assert metrics["dummies"] == 0 and metrics["height"] == 25
    with pytest.raises(ValueError, match="layers"):
        sd.planted_layered_dag(10, layers=11)


def test_generator_counts_and_seeds_are_checked_by_name():
    # PyO3 alone said only "can't convert negative int to unsigned"
    with pytest.raises(ValueError, match="seed must be >= 0"):
        sd.random_dag(10, m=3, seed=-1)
    with pytest.raises(ValueError, match="m must be >= 0"):
        sd.random_dag(10, m=-3)
    with pytest.raises(TypeError, match="seed must be an integer"):
        sd.layered_graph(10, seed=0.5)
    with pytest.raises(ValueError, match="n must be >= 0"):
        sd.planted_layered_dag(-5, 2)


def test_random_dag_refuses_more_edges_than_fit_before_drawing_them():
    # p=0.5 on 1e9 nodes asks for 2.5e17 edges: sampling them first used to abort on a
    # failed 2e18-byte allocation (m=1e11 likewise).
    with pytest.raises(OverflowError, match="number of edges"):
        sd.random_dag(10**9, p=0.5)
    with pytest.raises(OverflowError, match="number of edges"):
        sd.random_dag(10**6, m=10**11)


def test_layered_generators_refuse_more_edges_than_fit_before_drawing_them():
    # two layers of 500,000 nodes at density 1 ask for 2.5e11 edges; drawing them first used
    # to abort on a failed allocation
    with pytest.raises(OverflowError, match="expected number of edges"):
        sd.planted_layered_dag(10**6, 2, 1.0)


PLANTED_INTERRUPT = """
import time, sparsedag as sd
print("ready", flush=True)
t0 = time.perf_counter()
try:
    # two layers of 150,000 nodes: 2.25e10 pairs visited, whatever the density
    sd.planted_layered_dag(300_000, 2, 0.0)
    print("finished", flush=True)
except KeyboardInterrupt:
    print(f"interrupted after {time.perf_counter() - t0:.2f}s", flush=True)
"""


def test_layered_generators_stop_on_ctrl_c():
    # the pair loop ignored the cancel flag, so Ctrl-C waited for every pair

    out, err = interrupt_child(PLANTED_INTERRUPT, after=0.5, timeout=120)
    assert "interrupted after" in out, (out, err)
