"""Shared hypothesis strategies and graph families for the test suite."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import strategies as st

import sparsedag as sd


@st.composite
def dag_edges(draw, max_nodes: int = 12, max_density: float = 1.0):
    """(num_nodes, src, dst): a random DAG whose edges follow a random node permutation."""
    n = draw(st.integers(0, max_nodes))
    perm = draw(st.permutations(range(n))) if n else []
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    density = draw(st.floats(0.0, max_density))
    chosen = [pair for pair in pairs if draw(st.floats(0, 1)) < density] if pairs else []
    src = np.array([perm[i] for i, _ in chosen], dtype=np.int64)
    dst = np.array([perm[j] for _, j in chosen], dtype=np.int64)
    return n, src, dst


@st.composite
def dags(draw, max_nodes: int = 12, max_density: float = 1.0):
    n, src, dst = draw(dag_edges(max_nodes, max_density))
    return sd.Dag.from_edges(src, dst, n)


def _chain(n: int) -> sd.Dag:
    return sd.Dag.from_edges(np.arange(n - 1), np.arange(1, n), n)


def _star_out(n: int) -> sd.Dag:
    return sd.Dag.from_edges(np.zeros(n - 1, np.int64), np.arange(1, n), n)


def _star_in(n: int) -> sd.Dag:
    return sd.Dag.from_edges(np.arange(1, n), np.zeros(n - 1, np.int64), n)


def _tournament(n: int) -> sd.Dag:
    src, dst = np.triu_indices(n, k=1)
    return sd.Dag.from_edges(src.astype(np.int64), dst.astype(np.int64), n)


def _components() -> sd.Dag:
    # two diamonds, a chain and two isolated nodes
    src = [0, 0, 1, 2, 4, 4, 5, 6, 8, 9]
    dst = [1, 2, 3, 3, 5, 6, 7, 7, 9, 10]
    return sd.Dag.from_edges(src, dst, 13)


SPECIAL_GRAPHS = {
    "empty": lambda: sd.Dag.from_edges([], [], 0),
    "single": lambda: sd.Dag.from_edges([], [], 1),
    "isolated": lambda: sd.Dag.from_edges([], [], 7),
    "chain": lambda: _chain(30),
    "star_out": lambda: _star_out(20),
    "star_in": lambda: _star_in(20),
    "tournament": lambda: _tournament(12),
    "components": _components,
    "random": lambda: sd.random_dag(300, m=1500, seed=3),
    "layered": lambda: sd.layered_graph(400, seed=2).dag,
}


@pytest.fixture(params=sorted(SPECIAL_GRAPHS))
def special_graph(request) -> sd.Dag:
    return SPECIAL_GRAPHS[request.param]()


def is_valid_layering(dag: sd.Dag, layers: np.ndarray) -> bool:
    src, dst = dag.edges()
    return layers.shape == (dag.num_nodes,) and bool(np.all(layers[dst] > layers[src]))


def usable(n, src, dst) -> bool:
    """The graph has an input that feeds something and an output that is fed: a network."""
    g = sd.Dag.from_edges(src, dst, n)
    indeg, outdeg = g.in_degree(), g.out_degree()
    return bool(((indeg == 0) & (outdeg > 0)).any() and ((outdeg == 0) & (indeg > 0)).any())


def random_edge_order(g: sd.Dag, rng: np.random.Generator) -> np.ndarray:
    """A random valid edge order (edge ids): repeatedly a random edge whose source is final."""
    src, dst = g.edges()
    remaining = g.in_degree().copy()
    ready = [e for e in range(g.num_edges) if remaining[src[e]] == 0]
    order = []
    while ready:
        e = ready.pop(int(rng.integers(len(ready))))
        order.append(e)
        v = dst[e]
        remaining[v] -= 1
        if remaining[v] == 0:
            ready.extend(np.flatnonzero(src == v).tolist())
    return np.array(order, dtype=np.int64)


def random_edge_pairs(g: sd.Dag, rng: np.random.Generator) -> np.ndarray:
    """[`random_edge_order`] as (m, 2) (source, target) pairs."""
    src, dst = (np.asarray(a, dtype=np.int64) for a in g.edges())
    order = random_edge_order(g, rng)
    return np.stack([src[order], dst[order]], axis=1)


def longest_pause_of_python(call) -> tuple[float, float]:
    """Runs ``call()`` in a thread while this thread counts; returns (seconds the call took,
    longest time this thread went without running). A call holding the GIL stalls this thread
    for as long as it computes; one that releases it leaves only scheduling pauses."""
    import threading
    import time

    started = threading.Event()
    took = []

    def work():
        started.set()
        t0 = time.perf_counter()
        call()
        took.append(time.perf_counter() - t0)

    worker = threading.Thread(target=work)
    last = time.perf_counter()  # before the start: a call holding the GIL delays the wait too
    worker.start()
    started.wait()
    longest = 0.0
    while worker.is_alive():
        now = time.perf_counter()
        longest = max(longest, now - last)
        last = now
    worker.join()
    return took[0], longest


def interrupt_child(script: str, after: float, timeout: float = 120) -> tuple[str, str]:
    """Runs ``script`` in a fresh Python, waits until it prints ``ready``, presses Ctrl-C
    (SIGINT) ``after`` seconds later and returns what it printed (stdout, stderr)."""
    import signal
    import subprocess
    import sys
    import time

    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    time.sleep(after)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=timeout)
    return out, err
