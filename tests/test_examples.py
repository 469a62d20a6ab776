"""The scripts in examples/ run end to end (small sizes) and print what they promise."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


def run(script: str, *args: str) -> str:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def plot_args(tmp_path: Path, name: str) -> list[str]:
    return ["--plot", str(tmp_path / name)] if HAS_MATPLOTLIB else []


def test_every_example_is_tested():
    tested = {"set_mlp.py", "inference_orders.py", "io_scheduling.py", "peak_memory.py"}
    tested |= {"kmis_coarsening.py", "many_models.py"}
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested


def test_set_mlp(tmp_path):
    out = run("set_mlp.py", "--epochs", "3", *plot_args(tmp_path, "history.png"))
    accuracy = float(out.split("test accuracy ")[1].split()[0])
    assert accuracy > 0.4  # four classes: chance is 0.25
    assert "bytes per connection" in out
    assert (tmp_path / "history.png").exists() == HAS_MATPLOTLIB


def test_inference_orders():
    out = run("inference_orders.py", "--nodes", "3000")
    assert "bit for bit" in out and 'memory="low"' in out


def test_io_scheduling(tmp_path):
    out = run("io_scheduling.py", "--fast-memory", "64", *plot_args(tmp_path, "anneal.png"))
    for method in ("layer", "greedy", "two_approx", "anneal", "tiled"):
        assert f"\n{method} " in out
    assert "matches the layer order" in out


def test_peak_memory(tmp_path):
    out = run("peak_memory.py", "--nodes", "300", *plot_args(tmp_path, "profile.png"))
    ratios = [float(line.split()[3]) for line in out.splitlines() if "x the lower bound" in line]
    assert len(ratios) == 5 and min(ratios) >= 1.0  # no order beats the lower bound
    assert ratios[-1] == min(ratios)  # min_memory is the best of them


@pytest.mark.parametrize("k", ["1", "2"])
def test_kmis_coarsening(k):
    out = run("kmis_coarsening.py", "--nodes", "5000", "--k", k)
    sizes = [int(line.split()[2].replace(",", "")) for line in out.splitlines() if "level" in line]
    assert sizes == sorted(sizes, reverse=True) and len(sizes) == 3


def test_many_models():
    out = run("many_models.py", "--repetitions", "2", "--epochs", "4")
    assert out.startswith("12 models (3 widths x 2 activations x 2 repetitions)")
    accuracy = float(out.split("validation accuracy ")[1].split()[0])
    assert accuracy > 0.5  # three classes: chance is about 0.33
