"""Thread count control and identical results for any thread count."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import sparsedag as sd

SCRIPT = """
import hashlib, sparsedag as sd
digest = hashlib.sha256()
g = sd.random_dag(60_000, m=300_000, seed=11)
for a in g.edges():
    digest.update(a.tobytes())
for method in sd.LAYERING_METHODS:
    width = 500 if method == "coffman_graham" else None
    digest.update(sd.layering(g, method, width=width).tobytes())
for method in sd.ORDER_METHODS:
    digest.update(sd.topological_order(g, method).tobytes())
lg = sd.layered_graph(2000, seed=3)
digest.update(lg.sizes.tobytes())
print(sd.get_num_threads(), digest.hexdigest())
"""


def run_with_threads(threads: int) -> tuple[str, str]:
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    count, digest = out.stdout.split()
    return count, digest


def test_same_results_for_one_and_two_threads():
    one_count, one = run_with_threads(1)
    two_count, two = run_with_threads(2)
    assert (one_count, two_count) == ("1", "2")
    assert one == two


def test_set_num_threads_roundtrip():
    before = sd.get_num_threads()
    try:
        sd.set_num_threads(1)
        assert sd.get_num_threads() == 1
        g = sd.random_dag(200_000, m=600_000, seed=1)
        one = sd.layering(g)
        sd.set_num_threads(2)
        assert sd.get_num_threads() == 2
        assert (sd.layering(sd.Dag.from_edges(*g.edges(), g.num_nodes)) == one).all()
    finally:
        sd.set_num_threads(before)


def test_set_num_threads_rejects_zero():
    with pytest.raises(ValueError, match="at least 1"):
        sd.set_num_threads(0)


def test_first_error_reported_regardless_of_threads():
    # Errors in several parallel chunks: the earliest position must win every time.
    n = 400_000
    src = list(range(n))
    dst = [v + 1 for v in range(n)]
    dst[150_000] = 150_000  # self-loop, early
    dst[350_000] = 350_000  # self-loop, late
    before = sd.get_num_threads()
    try:
        for threads in (1, 2):
            sd.set_num_threads(threads)
            with pytest.raises(sd.SelfLoopError, match="edge 150000 "):
                sd.Dag.from_edges(src, dst)
    finally:
        sd.set_num_threads(before)
