"""Smoke run of benches/compare_io_tiled.py (seconds): the script runs and every schedule it
reports lies above the edge-order lower bound."""

from __future__ import annotations

import pathlib
import subprocess
import sys

BENCH = pathlib.Path(__file__).resolve().parents[1] / "benches" / "compare_io_tiled.py"


def test_compare_io_tiled_quick_run():
    out = subprocess.run(
        [sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, check=True
    ).stdout
    rows = [line for line in out.splitlines() if not line.startswith("#")]
    assert len(rows) == 2 * 2 * 3 + 2 * 2
    for line in rows:
        ratios = line.split("|")[1].split()
        assert all(float(x) >= 1.0 for x in ratios if x != "-")
    assert "where activations exceed M" in out
