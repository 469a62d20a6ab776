"""Ctrl-C during a long core call raises KeyboardInterrupt and leaves the package usable."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from conftest import interrupt_child

CHILD = """
import sys, time
import sparsedag as sd
g = sd.random_dag(400_000, m=2_000_000, seed=1)
start = sd.layering(g, "alap")
print("ready", flush=True)
t0 = time.perf_counter()
try:
    sd.promote_layering(g, start)
    print("finished", flush=True)
except KeyboardInterrupt:
    print(f"interrupted after {time.perf_counter() - t0:.2f}s", flush=True)
# The package still works after the interrupt.
print("still usable", sd.layering(sd.random_dag(100, m=300, seed=2)).max() >= 0, flush=True)
"""


def test_ctrl_c_interrupts_long_call():
    out, err = interrupt_child(CHILD, after=0.3, timeout=120)
    assert "interrupted after" in out, (out, err)
    assert "still usable True" in out, (out, err)


GREEDY_CHILD = """
import time
import sparsedag as sd
g = sd.Dag.from_edges([], [], 300_000)
print("ready", flush=True)
for method in ("least_peak", "min_memory"):
    t0 = time.perf_counter()
    try:
        # every node is ready at once: the ready-set rules take O(n^2), many minutes here
        sd.topological_order(g, method)
        print("finished", flush=True)
    except KeyboardInterrupt:
        print(f"interrupted after {time.perf_counter() - t0:.2f}s", flush=True)
    print("next", flush=True)
"""


def test_ctrl_c_interrupts_the_greedy_memory_orders():
    # least_peak ran with the GIL released but never polled the cancel flag, so Ctrl-C
    # waited for the whole quadratic scan (min_memory, which starts with it, likewise).
    child = subprocess.Popen(
        [sys.executable, "-c", GREEDY_CHILD],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    for _ in range(2):
        time.sleep(0.5)
        child.send_signal(signal.SIGINT)
        line = child.stdout.readline()
        assert line.startswith("interrupted after"), line
        assert child.stdout.readline().strip() == "next"
    child.communicate(timeout=120)
