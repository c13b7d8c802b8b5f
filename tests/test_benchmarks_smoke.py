"""Every benchmark runs at a tiny size (``--quick``) and produces its figures, so none can rot.

This does not check the targets (that is what ``python -m benchmarks`` and RESULTS.md are for):
only that each benchmark measures what it says, against a baseline of the same run.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmarks import __main__ as bench
from benchmarks import soak, sync_idle
from benchmarks.common import Figure, Section
from benchmarks.results import merge_results, write_results


@pytest.mark.parametrize("name", sorted(bench.BENCHMARKS))
def test_each_benchmark_produces_figures(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    section: Section = bench.BENCHMARKS[name](True)
    assert section.figures, f"{name} produced no figures"
    for figure in section.figures:
        assert math.isfinite(figure.value), figure
        assert figure.detail, figure
        assert figure.verdict in ("pass", "FAIL", "-")
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == len(section.figures)
    assert all(
        line.startswith(f"{f.section}: {f.name} = ")
        for line, f in zip(printed, section.figures, strict=True)
    )


def test_results_file_lists_every_figure_and_the_machine(tmp_path: Path) -> None:
    output = tmp_path / "RESULTS.md"
    assert bench.main(["--quick", "--only", "ingest", "startup", "--output", str(output)]) == 0
    text = output.read_text()
    assert "| ingest: pipeline / raw executemany (same samples, a row each) |" in text
    assert "| startup: `--version` / `python3 -c pass` (whole processes) |" in text
    for key in ("- CPU: ", "- cores: ", "- Python: ", "- Date: "):
        assert key in text
    assert "Profile of one replay" in text


def test_soak_keeps_one_run_through_a_kill_and_a_stop(tmp_path: Path) -> None:
    """One SIGKILL and a SIGTERM (the soak's smallest size): its checks find nothing wrong,
    and its figures are there, without judging how much was lost (that depends on timing)."""
    lives = soak.soak(tmp_path, kills=1, life_s=(1.0, 1.5))
    assert [life.sig for life in lives] == ["SIGKILL", "SIGTERM"]
    for life in lives:
        assert life.faults == (), life
        assert life.gained_samples > 0, life
        assert life.gained_m > 0, life
        assert math.isfinite(life.lost_s), life
    figures = {f.name: f for f in soak.report(lives, kills=1).figures}
    assert figures["runs lost or split (SIGKILL x1, then SIGTERM)"].value == 0
    lost = [f for name, f in figures.items() if name.startswith("seconds of running lost")]
    assert [f.unit for f in lost] == [" s", " s"]
    assert lost[0].value <= lost[1].value  # median, max
    ratio = figures["max seconds lost per kill / flush interval"]
    assert ratio.target == (soak.FLUSH_S + soak.SLACK_S) / soak.FLUSH_S
    assert ratio.value == pytest.approx(lost[1].value / soak.FLUSH_S)


def test_sync_idle_measures_both_daemons_idle_over_one_window(tmp_path: Path) -> None:
    """The idle benchmark at its smallest size: the daemon with sync watches its three folders
    with inotify and decides none of the files synced before it started again; both daemons
    are read over the same window, and the figures are the ratios of what was read (their
    values depend on the machine, and are not judged here)."""
    m = sync_idle.measure(tmp_path, sync_idle.QUICK)
    assert m.files["Gadgetbridge"] == sync_idle.QUICK.flat
    assert m.files["OpenTracks"] == 2 * sync_idle.QUICK.months
    assert m.files["strava"] == 0
    assert m.presync == {"imported": sum(m.files.values())}
    watched = ("Gadgetbridge", "Sync/OpenTracks", "Downloads/strava")
    assert m.startup_lines == tuple(f"sync: watching ~/{name} (inotify)" for name in watched)
    assert m.unexpected == ()
    assert m.base.window_s == m.sync.window_s >= sync_idle.QUICK.window_s
    for idle in (m.base, m.sync):
        assert 10 * 1024 < idle.rss_kb <= idle.hwm_kb < 1024 * 1024, idle  # 10 MB to 1 GB
        assert 0 <= idle.ticks_s <= idle.cpu_s + sync_idle.tick_s(), idle
        assert idle.wakeups >= 0, idle
    figures = {f.name: f for f in sync_idle.report(m).figures}
    rss = figures["VmRSS idle, three sync folders / without sync"]
    assert rss.value == pytest.approx(m.sync.rss_kb / m.base.rss_kb)
    assert rss.target == sync_idle.TARGET_RSS
    per_hour = figures["idle CPU per hour, three sync folders"]
    assert per_hour.value == pytest.approx(m.sync.cpu_s / m.sync.window_s * 3600)
    assert per_hour.unit == " s/h"
    assert figures["idle CPU per hour, without sync"].target is None


def test_merge_replaces_one_benchmarks_figures_and_keeps_the_rest(tmp_path: Path) -> None:
    output = tmp_path / "RESULTS.md"
    old, other = Section("Soak"), Section("Start-up")
    old.figures.append(Figure("soak", "runs lost", 3, 0, False, unit="", detail="before"))
    old.notes.append("old soak note")
    other.figures.append(Figure("startup", "ratio", 2.0, None, False, detail="kept"))
    other.notes.append("start-up note")
    about = {"CPU": "the CPU", "load average at start": "0.10 0.20 0.30"}
    write_results(output, [old, other], about, 100.0, quick=False)
    new = Section("Soak")
    new.figures.append(Figure("soak", "runs lost", 0, 0, False, unit="", detail="after"))
    new.notes.append("new soak note")
    merge_results(output, {"soak": new}, {**about, "load average at start": "1 1 1"}, 9.0)
    text = output.read_text()
    assert "| soak: runs lost | 0 | <= 0 | pass | after |" in text
    assert "before" not in text
    assert "old soak note" not in text
    assert "| startup: ratio | 2x | (reported) | - | kept |" in text
    assert "start-up note" in text
    assert "new soak note" in text
    assert "Targets met: 1 of 1." in text
    assert "- Whole command: 100 s" in text  # the header of the run that measured the rest
    assert "- Re-measured alone (`--merge`): `soak` on " in text
    assert "load average at start 1 1 1" in text
