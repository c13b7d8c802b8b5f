"""The report as a physiotherapist prints it: twelve weeks of the demo history that
``docs/make_assets.py`` builds, and of runners who log much more (five runs a week with pain
after them and in the mornings; pain every day with long notes and alerts by the dozen),
rendered by ``stridewatch report`` and printed by headless Chromium (Debian's ``chromium``)
on A4 and on Letter, then read back with pypdf: the pages, page one's text, the size of
every piece of text, and the page breaks."""

from __future__ import annotations

import importlib.util
import math
import os
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from agent.cli import cli
from agent.config_load import load_settings
from agent.rules.evaluate import rank
from agent.store import Store
from agent.units import format_budget, format_km, format_pct, parse_datetime
from agent.views import overview, overview_build, pages

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
    view: overview.Overview


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
    view = overview_build.load_overview(
        home / "demo.db", settings, at, overview_build.DEFAULT_WEEKS
    )
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
    assert week.change is not None
    change = format_pct(week.change)  # as every message writes it (+38.8%)
    assert f"Biggest week Mon 26 Oct: {format_km(week.distance_km, 'km')}, {change}" in one
    assert f"Biggest run Sun 01 Nov 07:00: {format_km(run.run.distance_km, 'km')}, 1.62x" in one
    assert pain.score == 0
    assert "Latest pain 0/10 in the morning, Mon 16 Nov 07:30" in one
    assert "highest 5/10 during a run, Sun 01 Nov 08:20" in one


@pytest.mark.parametrize("paper", PAPERS)
def test_every_printed_text_is_at_least_8_pt(printed: Printed, paper: str) -> None:
    """Every run of text on every page, the charts' labels and legends included (they are
    SVG text, printed as text), at its size on the paper."""
    sizes = text_sizes(printed.pdfs[paper])
    assert len(sizes) > 200
    small = [(round(size, 2), text) for size, text in sizes if size < MIN_PT]
    assert small == []
    chart_labels = [size for size, text in sizes if text in ("cap", "over the cap", "during")]
    assert chart_labels
    assert min(chart_labels) >= MIN_PT


def text_sizes(pdf: Path) -> list[tuple[float, str]]:
    """Each run of text of ``pdf`` with its size on the paper (pt)."""
    sizes: list[tuple[float, str]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        if text.strip():
            sizes.append((size * _scale(tm, cm), text.strip()))

    for page in PdfReader(pdf).pages:
        page.extract_text(visitor_text=visit)
    return sizes


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
    assert "Week by week" in headings
    texts = page_texts(printed.pdfs[paper])
    for text in texts[:-1]:
        last = [line.strip() for line in text.splitlines() if line.strip()][-1]
        assert last not in headings
    # Every section made it into the print.
    assert headings <= {line.strip() for text in texts for line in text.splitlines()}


@pytest.mark.parametrize("paper", PAPERS)
def test_the_latest_runs_print_a_row_each(printed: Printed, paper: str) -> None:
    """The demo's 34 runs: the latest 15 a row each (the table may begin on page one), the
    newest on page two, and a line for the 19 before them."""
    shown, earlier = pages.latest_runs(printed.view)
    assert (len(shown), earlier) == (15, 19)
    texts = [words(text) for text in page_texts(printed.pdfs[paper])]
    for row in shown:
        assert f"{row.run.started_at:%a %d %b %H:%M} " in " ".join(texts)
    assert "Thu 19 Nov 07:00 5.5 32:00 5:49" in texts[1]
    assert "19 earlier runs: stridewatch runs." in texts[1]


def test_the_docs_report_is_current(printed: Printed) -> None:
    """docs/report.html is what the code renders today, and docs/report.pdf its A4 print
    (compared as words: a newer Chromium may wrap lines differently)."""
    assert printed.html.read_text(encoding="utf-8") == (DOCS / "report.html").read_text(
        encoding="utf-8"
    )
    fresh = words(" ".join(page_texts(printed.pdfs["a4"])))
    assert words(" ".join(page_texts(DOCS / "report.pdf"))) == fresh
    assert (DOCS / "report.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize("paper", PAPERS)
def test_an_empty_history_prints_one_helpful_page(home: Path, paper: str) -> None:
    html = home / f"empty-{paper}.html"
    result = CliRunner().invoke(
        cli,
        ["--db", str(home / "none.db"), "report", "--at", "2026-11-21T06:00", "-o", str(html)],
    )
    assert result.exit_code == 0, result.output
    pdf = home / f"empty-{paper}.pdf"
    make_assets().print_pdf(html, pdf, paper)
    [page] = page_texts(pdf)
    text = words(page)
    assert text.count("No runs yet") == 1
    assert "log one with stridewatch log-run" in text
    assert "the next run at most 4.8 km" in text
    assert "Weeks of" not in text
    assert not (home / "none.db").exists()
    # A command is never broken across lines (on Letter it was: "--" / "when morning").
    lines = [words(line) for line in page.splitlines()]
    for command in (
        "stridewatch log-run --distance 6km --duration 36:00",
        "stridewatch import ~/Downloads/activities/",
        "stridewatch pain 2 --when morning",
    ):
        assert any(command in line for line in lines), command


# -- runners who log much more: still two pages (the tester's five pages) -----------------

CROWDED_AT = "2026-11-29T12:00"  # a Sunday noon, after twelve weeks from Mon 7 Sep
CROWDED_FIRST = date(2026, 9, 7)
RUN_DAYS = (0, 1, 3, 4, 6)
LONG_NOTE = (
    "sore on the stairs, worse going down; iced it for twenty minutes and it eased by the "
    "evening, but it was stiff again at work the next morning and again on the walk home"
)


def at(day: date, hours: float) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hours)


def build_crowded(path: Path, *, worst: bool) -> None:
    """Twelve weeks of five runs a week, rising, with a jump in week 9. Pain after each run
    and the next morning in the last five weeks; ``worst``: in all twelve, during each run
    as well, an evening report every day with a long note, and long notes after runs."""
    with Store.open(path) as store:
        for week in range(12):
            monday = CROWDED_FIRST + timedelta(weeks=week)
            base = 5.0 + 0.4 * week + (3.0 if week == 8 else 0.0)
            for n, day in enumerate(RUN_DAYS):
                km = base * (1.6 if day == 6 else 1.0)
                start = at(monday + timedelta(days=day), 7)
                run = store.add_run(
                    started_at=start,
                    distance_m=km * 1000,
                    moving_s=km * 350,
                    elapsed_s=km * 350,
                    source="manual",
                )
                if not worst and week < 7:
                    continue
                score = 3 + week % 3 + n % 2
                note = LONG_NOTE if worst else None
                after = start + timedelta(hours=3)
                store.add_pain(at=after, score=score, when="after", where="knee", note=note)
                morning = start + timedelta(hours=24)
                store.add_pain(at=morning, score=2 + week % 4, when="morning", where="knee")
                if worst:
                    during = start + timedelta(minutes=30)
                    store.add_pain(at=during, score=5 + n % 3, when="during", run_id=run)
        for day in range(84 if worst else 0):
            evening = at(CROWDED_FIRST + timedelta(days=day), 20)
            store.add_pain(
                at=evening, score=4 + day % 4, when="morning", where="hip", note=LONG_NOTE
            )


# The days of the crowded history's latest fifteen runs: its last three weeks.
LATEST_RUNS = tuple(
    f"{CROWDED_FIRST + timedelta(weeks=week, days=day):%a %d %b}"
    for week in (9, 10, 11)
    for day in RUN_DAYS
)


@dataclass(frozen=True)
class Crowded:
    html: Path
    pdfs: dict[str, Path]


@pytest.fixture(scope="module", params=["pain", "worst"])
def crowded(home: Path, request: pytest.FixtureRequest) -> Crowded:
    name = request.param
    db = home / f"{name}.db"
    build_crowded(db, worst=name == "worst")
    html = home / f"{name}.html"
    args = ["--db", str(db), "report", "--at", CROWDED_AT, "-o", str(html), "--force"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    pdfs = {paper: home / f"{name}-{paper}.pdf" for paper in PAPERS}
    for paper, pdf in pdfs.items():
        make_assets().print_pdf(html, pdf, paper)
    return Crowded(html, pdfs)


@pytest.mark.parametrize("paper", PAPERS)
def test_a_crowded_history_prints_on_two_pages_with_the_story_on_page_one(
    crowded: Crowded, paper: str
) -> None:
    texts = page_texts(crowded.pdfs[paper])
    assert len(texts) == 2
    one = words(texts[0])
    # Page one: the glance, then the chart (it was pushed to page two by 15 alerts).
    for label in (
        "Next run rest",
        "This week 52.6 km of its",
        "Phase: held",
        "Biggest week Mon 02 Nov: 62.7 km",
        "Biggest run",
        "Latest pain",
        "Return plan",
        "Active alerts",
        "Weekly distance (km) against the cap",
        "Longest run of the week (km)",
        "Pain (0-10)",
        "The weeks, their longest runs and the pain log.",
    ):
        assert label in one, label
    # The few most serious active alerts, one per rule; the rest counted, below.
    alerts = one[one.index("Active alerts") : one.index("Weekly distance")]
    assert len(re.findall(r"\b(?:DANGER|WARNING|CAUTION|INFO)\b", alerts)) == 3
    assert re.search(r"and \d+ more active, by rule under Alerts in these weeks\.", alerts)
    # Every section made it into the print, and the numbers are readable.
    root = ET.fromstring(crowded.html.read_text(encoding="utf-8"))
    headings = {" ".join("".join(h.itertext()).split()) for h in root.iter("h2")}
    assert {"Week by week", "Alerts in these weeks", "Thresholds in force and their sources"} <= (
        headings
    )
    assert headings <= {line.strip() for text in texts for line in text.splitlines()}
    assert [size for size, _ in text_sizes(crowded.pdfs[paper]) if size < MIN_PT] == []
    # A row for each of the latest fifteen of the sixty runs (the table may begin on page
    # one), the newest on page two with the line for the others; no heading ends page one.
    both, two = words(" ".join(texts)), words(texts[1])
    assert "Run by run (the latest 15)" in both
    for day in LATEST_RUNS:
        assert f"{day} 07:00 " in both, day
    assert "Sun 29 Nov 07:00 15.0 1:27:44 5:50" in two
    assert "45 earlier runs: stridewatch runs." in two
    assert [line.strip() for line in texts[0].splitlines() if line.strip()][-1] not in headings


def test_page_one_names_each_rule_once_and_each_pain_report_once(crowded: Crowded) -> None:
    """The tester's page one: six pain-level warnings, four pain-baseline warnings about
    the same mornings, and more."""
    root = ET.fromstring(crowded.html.read_text(encoding="utf-8"))
    [row] = [element for element in root.iter("tr") if element.get("id") == "glance-alerts"]
    said = [" ".join("".join(p.itertext()).split()) for p in row.iter("p")]
    assert len(said) == 4  # three alerts and how many more
    view = overview_build.load_overview(
        crowded.html.with_suffix(".db"),
        load_settings(None),
        parse_datetime(CROWDED_AT, load_settings(None).zone),
        overview_build.DEFAULT_WEEKS,
    )
    shown = pages.glance_alerts(view.assessment.alerts)
    assert [alert.message for alert in shown] == [line.split(" ", 1)[1] for line in said[:3]]
    assert len({alert.rule for alert in shown}) == 3
    reports = [alert.data["pain_id"] for alert in shown if "pain_id" in alert.data]
    assert len(reports) == len(set(reports))
    worst = max(rank(alert) for alert in view.assessment.alerts)
    assert rank(shown[0]) == worst
    more = len(view.assessment.alerts) - 3
    assert said[3] == f"and {more} more active, by rule under Alerts in these weeks."


def test_page_one_says_each_label_once(crowded: Crowded, home: Path) -> None:
    """ "rest: rest day: the plan asks ...", "Biggest week week of ...": a label is not said
    again by the words after it."""
    root = ET.fromstring(crowded.html.read_text(encoding="utf-8"))
    [glance] = [element for element in root.iter("section") if element.get("id") == "glance"]
    for row in glance.iter("tr"):
        line = " ".join("".join(row.itertext()).split())
        assert not re.search(r"\b([a-z]+)\W+\1\b", line, re.I), line
    nxt = " ".join("".join(glance.find("table/tbody/tr").itertext()).split())  # type: ignore[union-attr]
    reason = {"pain.html": "the week's cap is reached", "worst.html": "pain 7/10 is severe"}
    assert nxt.startswith(f"Next run rest: {reason[crowded.html.name]}")


def test_a_rest_day_is_said_once(printed: Printed, home: Path) -> None:
    """The demo on Thursday evening, the day after a run in the plan's first weeks: it read
    "Next run rest: rest day: the plan asks ..."."""
    html = home / "thursday.html"
    args = ["--db", str(home / "demo.db"), "report", "--at", make_assets().AT, "-o", str(html)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    root = ET.fromstring(html.read_text(encoding="utf-8"))
    [row] = [element for element in root.iter("tr") if element.get("id") == "glance-next"]
    assert " ".join("".join(row.itertext()).split()).startswith(
        "Next run rest day: the plan asks for a day off between runs in its first 4 weeks; "
        "next run Sat 21 Nov (binding limit: plan)"
    )
