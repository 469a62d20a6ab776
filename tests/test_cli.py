"""The command line entry points run end to end."""

from __future__ import annotations

import subprocess
import sys

import pytest

import sparsedag as sd


def run(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "sparsedag", *args], capture_output=True, text=True, check=True
    )
    return out.stdout


def test_demo_reports_every_layering_method():
    out = run("demo", "--nodes", "3000", "--seed", "1", "--net-nodes", "300")
    assert "3,000 nodes" in out
    for method in sd.LAYERING_METHODS:
        assert method in out
    assert "what each method is good for" in out


def test_demo_trains_a_dag_network():
    out = run("demo", "--nodes", "1000", "--net-nodes", "400", "--seed", "2")
    assert "neural engine" in out
    assert "test R²" in out and "trained in" in out


def test_info():
    out = run("info")
    assert sd.__version__ in out
    assert "threads" in out


def test_bad_command_exits_with_usage():
    result = subprocess.run(
        [sys.executable, "-m", "sparsedag", "fly"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_demo_trains_a_set_mlp():
    out = run("demo", "--nodes", "1000", "--net-nodes", "400", "--seed", "3")
    assert "sparse evolutionary training (SET)" in out
    assert "connections rewired in total" in out
    accuracy = float(out.split("test accuracy ")[1].split()[0])
    assert accuracy > 0.5  # four classes: chance is 0.25


@pytest.mark.parametrize(
    "args, message",
    [
        (("--nodes", "0"), "--nodes must be at least 2"),
        (("--nodes", "-5"), "--nodes must be at least 2"),
        (("--degree", "0"), "--degree must be in"),
        (("--degree", "nan"), "--degree must be in"),
        (("--nodes", "10", "--degree", "50"), "--degree must be in"),
        (("--net-nodes", "1"), "--net-nodes must be at least 20"),
        (("--seed", "-1"), "--seed must be non-negative"),
    ],
)
def test_demo_rejects_bad_sizes_with_a_usage_error(args, message):
    result = subprocess.run(
        [sys.executable, "-m", "sparsedag", "demo", *args], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
