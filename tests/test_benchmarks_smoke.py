"""Every benchmark runs at a tiny size (``--quick``) and produces its figures, so none can rot.

This does not check the targets (that is what ``python -m benchmarks`` and RESULTS.md are for):
only that each benchmark measures what it says, against a baseline of the same run.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmarks import __main__ as bench
from benchmarks.common import Section


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
    assert "| ingest: pipeline / raw executemany (same rows) |" in text
    assert "| startup: `--version` / `python3 -c pass` (whole processes) |" in text
    for key in ("- CPU: ", "- cores: ", "- Python: ", "- Date: "):
        assert key in text
    assert "Profile of one replay" in text
