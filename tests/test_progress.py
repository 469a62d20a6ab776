"""Long calls draw their progress on sys.stderr when asked, and stay quiet otherwise."""

from __future__ import annotations

import pytest

import sparsedag as sd

GRAPH = sd.random_dag(3_000, m=12_000, seed=4)


def test_annealing_draws_its_stages_and_ends_complete(capsys):
    plain = sd.io_schedule(GRAPH, 64, "anneal", steps=50_000, seed=1, progress=False)
    shown = sd.io_schedule(GRAPH, 64, "anneal", steps=50_000, seed=1, progress=True)
    err = capsys.readouterr().err
    assert err.startswith("\rio_schedule: ")
    assert err.endswith("\n") and err.count("\n") == 1  # one line, redrawn in place
    last = err.rsplit("\r", 1)[1]
    assert last.startswith("io_schedule: anneal 100.0% (50000 of 50000)")
    assert shown.io == plain.io and (shown.order == plain.order).all()


def test_tiled_schedules_count_their_candidates(capsys):
    sd.io_schedule(GRAPH, 64, "tiled", progress=True)
    last = capsys.readouterr().err.rsplit("\r", 1)[1]
    assert last.startswith("io_schedule: tiled 100.0% (10 of 10)")


@pytest.mark.parametrize("progress", [False, None])  # None: stderr is not a terminal here
def test_quiet_unless_asked(capsys, progress):
    sd.io_schedule(GRAPH, 64, "anneal", steps=20_000, progress=progress)
    assert capsys.readouterr().err == ""


def test_progress_must_be_a_flag():
    with pytest.raises(TypeError, match="progress must be True, False or None"):
        sd.io_schedule(GRAPH, 64, "layer", progress="yes")
