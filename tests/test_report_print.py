"""The report as a physiotherapist prints it: twelve weeks of the demo history that
``docs/make_assets.py`` builds, rendered by ``stridewatch report`` and printed by headless
Chromium (Debian's ``chromium``) on A4 and on Letter, then read back with pypdf: the pages,
page one's text, the size of every piece of text, and the page breaks."""

from __future__ import annotations

import importlib.util
import math
import os
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from agent.cli import cli
from agent.config_load import load_settings
from agent.units import format_budget, format_km, parse_datetime
from agent.views import report

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAPERS = ("a4", "letter")
# Page sizes in PDF points (1/72 inch): what Chromium was asked to print on.
PAGE_POINTS = {"a4": (595.9, 841.9), "letter": (612.0, 792.0)}
# The smallest text the report may print (issue 17); pypdf reports sizes to about 0.01 pt.
MIN_PT = 8.0 - 0.05


def make_assets() -> Any:
    spec = importlib.util.spec_from_file_location("make_assets", DOCS / "make_assets.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Printed:
    html: Path
    pdfs: dict[str, Path]
    view: report.Overview


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One private home for the module: the history is built once for all its tests."""
    folder = tmp_path_factory.mktemp("print")
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("STRIDEWATCH_"):
                patch.delenv(name)
        patch.setenv("HOME", str(folder))
        patch.setenv("XDG_CONFIG_HOME", str(folder / ".config"))
        patch.setenv("XDG_DATA_HOME", str(folder / ".local" / "share"))
        patch.setenv("TZ", "UTC")
        patch.setenv("STRIDEWATCH_TIMEZONE", "UTC")
        yield folder


@pytest.fixture(scope="module")
def printed(home: Path) -> Printed:
    assets = make_assets()
    env = {"STRIDEWATCH_TIMEZONE": "UTC", "SW_DB": str(home / "demo.db")}

    def stridewatch(env: dict[str, str], *args: str) -> str:
        result = CliRunner().invoke(cli, ["--db", env["SW_DB"], *args], env=env)
        assert result.exit_code == 0, result.output
        return result.output

    assets.stridewatch = stridewatch
    assets.build_history(env)
    html = assets.make_report(env, home)
    pdfs = {paper: home / f"report-{paper}.pdf" for paper in PAPERS}
    for paper, pdf in pdfs.items():
        assets.print_pdf(html, pdf, paper)
    settings = load_settings(None)
    at = parse_datetime(assets.REPORT_AT, settings.zone)
    view = report.load_overview(home / "demo.db", settings, at, report.DEFAULT_WEEKS)
    return Printed(html, pdfs, view)


def words(text: str) -> str:
    """Text as read: ligatures undone (Chromium prints "eﬀort"), whitespace folded."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def page_texts(pdf: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(pdf).pages]


@pytest.mark.parametrize("paper", PAPERS)
def test_twelve_weeks_print_on_at_most_two_pages(printed: Printed, paper: str) -> None:
    assert len(printed.view.weeks) == 12
    pages = PdfReader(printed.pdfs[paper]).pages
    assert 1 <= len(pages) <= 2
    width, height = PAGE_POINTS[paper]
    assert float(pages[0].mediabox.width) == pytest.approx(width, abs=1)
    assert float(pages[0].mediabox.height) == pytest.approx(height, abs=1)


@pytest.mark.parametrize("paper", PAPERS)
def test_page_one_holds_the_allowance_the_biggest_jump_and_the_latest_pain(
    printed: Printed, paper: str
) -> None:
    view = printed.view
    allowance = view.assessment.allowance
    week, run, pain = view.biggest_week, view.biggest_run, view.latest_pain
    assert allowance.binding is not None
    assert week is not None
    assert run is not None
    assert run.ratio is not None
    assert pain is not None
    one = words(page_texts(printed.pdfs[paper])[0])
    assert f"Next run at most {format_budget(allowance.next_run_max_km, 'km')}" in one
    assert f"(binding limit: {allowance.binding.rule})" in one
    assert "Next run at most 6.0 km" in one  # the plan's week 3: 4.8-6.0 km
    assert f"Biggest week week of Mon 26 Oct: {format_km(week.distance_km, 'km')}, +39%" in one
    assert f"Biggest run Sun 01 Nov 07:00: {format_km(run.run.distance_km, 'km')}, 1.62x" in one
    assert pain.score == 0
    assert "Latest pain 0/10 in the morning, Mon 16 Nov 07:30" in one
    assert "highest 5/10 during a run, Sun 01 Nov 08:20" in one


@pytest.mark.parametrize("paper", PAPERS)
def test_every_printed_text_is_at_least_8_pt(printed: Printed, paper: str) -> None:
    """Every run of text on every page, the charts' labels and legends included (they are
    SVG text, printed as text), at its size on the paper."""
    sizes: list[tuple[float, str]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        if text.strip():
            sizes.append((size * _scale(tm, cm), text.strip()))

    for page in PdfReader(printed.pdfs[paper]).pages:
        page.extract_text(visitor_text=visit)
    assert len(sizes) > 200
    small = [(round(size, 2), text) for size, text in sizes if size < MIN_PT]
    assert small == []
    chart_labels = [size for size, text in sizes if text in ("cap", "over the cap", "during")]
    assert chart_labels
    assert min(chart_labels) >= MIN_PT


def _scale(tm: Any, cm: Any) -> float:
    """How much the text and current transformation matrices enlarge a font: the square
    root of the determinant of their product (PDF matrices are [a b c d e f])."""
    a = tm[0] * cm[0] + tm[1] * cm[2]
    b = tm[0] * cm[1] + tm[1] * cm[3]
    c = tm[2] * cm[0] + tm[3] * cm[2]
    d = tm[2] * cm[1] + tm[3] * cm[3]
    return math.sqrt(abs(a * d - b * c))


@pytest.mark.parametrize("paper", PAPERS)
def test_no_page_ends_with_a_heading(printed: Printed, paper: str) -> None:
    root = ET.fromstring(printed.html.read_text(encoding="utf-8"))
    headings = {" ".join("".join(h.itertext()).split()) for h in root.iter("h2")}
    assert "Runs, week by week" in headings
    texts = page_texts(printed.pdfs[paper])
    for text in texts[:-1]:
        last = [line.strip() for line in text.splitlines() if line.strip()][-1]
        assert last not in headings
    # Every section made it into the print.
    assert headings <= {line.strip() for text in texts for line in text.splitlines()}


def test_the_docs_report_is_current(printed: Printed) -> None:
    """docs/report.html is what the code renders today, and docs/report.pdf its A4 print
    (compared as words: a newer Chromium may wrap lines differently)."""
    assert printed.html.read_text(encoding="utf-8") == (DOCS / "report.html").read_text(
        encoding="utf-8"
    )
    fresh = words(" ".join(page_texts(printed.pdfs["a4"])))
    assert words(" ".join(page_texts(DOCS / "report.pdf"))) == fresh
    assert (DOCS / "report.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_an_empty_history_prints_one_helpful_page(home: Path) -> None:
    html = home / "empty.html"
    result = CliRunner().invoke(
        cli,
        ["--db", str(home / "none.db"), "report", "--at", "2026-11-21T06:00", "-o", str(html)],
    )
    assert result.exit_code == 0, result.output
    pdf = home / "empty.pdf"
    make_assets().print_pdf(html, pdf, "a4")
    [page] = page_texts(pdf)
    text = words(page)
    assert text.count("No runs yet") == 1
    assert "log one with stridewatch log-run" in text
    assert "the next run at most 4.8 km" in text
    assert "Weeks of" not in text
    assert not (home / "none.db").exists()
