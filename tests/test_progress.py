"""Long calls draw their progress on sys.stderr when asked, and stay quiet otherwise."""

from __future__ import annotations

import pytest

import sparsedag as sd

GRAPH = sd.random_dag(3_000, m=12_000, seed=4)


def last_line(err: str) -> str:
    """The final state of a line redrawn in place with carriage returns."""
    assert err.endswith("\n") and err.count("\n") == 1
    return err.rsplit("\r", 1)[1]


def test_annealing_draws_its_stages_and_ends_complete(capsys):
    plain = sd.io_schedule(GRAPH, 64, "anneal", steps=50_000, seed=1, progress=False)
    shown = sd.io_schedule(GRAPH, 64, "anneal", steps=50_000, seed=1, progress=True)
    last = last_line(capsys.readouterr().err)
    assert last.startswith("io_schedule: anneal 100.0% (50000 of 50000)")
    assert shown.io == plain.io and (shown.order == plain.order).all()


def test_tiled_schedules_count_their_candidates(capsys):
    sd.io_schedule(GRAPH, 64, "tiled", progress=True)
    assert last_line(capsys.readouterr().err).startswith("io_schedule: tiled 100.0% (10 of 10)")


@pytest.mark.parametrize("progress", [False, None])  # None: stderr is not a terminal here
def test_quiet_unless_asked(capsys, progress):
    sd.io_schedule(GRAPH, 64, "anneal", steps=20_000, progress=progress)
    assert capsys.readouterr().err == ""


def test_progress_must_be_a_flag():
    with pytest.raises(TypeError, match="progress must be True, False or None"):
        sd.io_schedule(GRAPH, 64, "layer", progress="yes")


def test_network_simplex_reports_its_tree_then_its_pivots(capsys):
    plain = sd.layering(GRAPH, "network_simplex")
    shown = sd.layering(GRAPH, "network_simplex", progress=True)
    assert last_line(capsys.readouterr().err).startswith("layering: pivots")
    assert (plain == shown).all()


def test_memory_orders_and_bounds_report_their_stages(capsys):
    g, _, sizes = sd.layered_graph(300, seed=2)
    plain = sd.topological_order(g, "min_memory", sizes=sizes, seed=1)
    shown = sd.topological_order(g, "min_memory", sizes=sizes, seed=1, progress=True)
    assert last_line(capsys.readouterr().err).startswith("topological_order: windows")
    assert (plain == shown).all()
    sd.peak_memory_lower_bound(g, sizes, progress=True)
    assert last_line(capsys.readouterr().err).startswith("peak_memory_lower_bound: minimum cuts")
    small, _, small_sizes = sd.layered_graph(20, seed=2)
    sd.topological_order(small, "exact", sizes=small_sizes, progress=True)
    assert last_line(capsys.readouterr().err).startswith("topological_order: exact")
