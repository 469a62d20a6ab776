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


def test_set_num_threads_rejects_zero_negative_and_absurd_counts():
    before = sd.get_num_threads()
    # -1 said only "can't convert negative int to unsigned"; 10**6 started a million threads
    for bad in (0, -1, 1025, 10**6):
        with pytest.raises(ValueError, match=r"threads must lie in 1\.\.=1024"):
            sd.set_num_threads(bad)
    assert sd.get_num_threads() == before


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


FORK_SCRIPT = """
import multiprocessing as mp
import numpy as np
import sparsedag as sd


def work(seed):
    g = sd.random_dag(200_000, m=1_000_000, seed=seed)       # parallel build and layering
    height = int(sd.layering(g).max())
    sel = sd.kmis(g, k=1, seed=seed).selected                # parallel k-MIS
    x = np.random.default_rng(seed).random((2_000, 20), dtype=np.float32)
    y = (x[:, 0] > 0.5).astype(np.int64)
    clf = sd.SparseMLPClassifier(hidden=(256,), epochs=1, seed=seed, progress=False)
    clf.fit(x, y)                                            # pooled training, Ctrl-C watcher
    return sd.get_num_threads(), height, int(sel.size), int(clf.n_connections_)


if __name__ == "__main__":
    sd.set_num_threads(2)
    parent = work(0)                                         # the pool's threads now exist
    with mp.get_context("fork").Pool(2) as children:
        got = children.map(work, [0, 1])
    assert got[0] == parent, (got, parent)
    sd.set_num_threads(1)
    with mp.get_context("fork").Pool(1) as children:
        assert children.map(work, [0])[0][0] == 1            # the child keeps the set count
    print("forked children finished")
"""


@pytest.mark.skipif(
    not hasattr(os, "fork") or sys.platform == "darwin", reason="needs the fork start method"
)
def test_forked_children_get_their_own_worker_threads(tmp_path):
    # A forked child inherits the pool but not its threads; without a fresh pool this hangs,
    # so the run is bounded and a hang fails the test instead of the suite.
    script = tmp_path / "fork_children.py"
    script.write_text(FORK_SCRIPT)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr
    assert "forked children finished" in out.stdout
