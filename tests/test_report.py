"""``stridewatch report``: one self-contained HTML file, rendered from a multi-week history
logged through the real CLI; checked by parsing it as XML and reading what it says."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from agent.units import format_budget, format_distance
from tests.report_history import AT, build, check_json, log, pain

SVG = "{http://www.w3.org/2000/svg}"
CHARTS = ("chart-weekly", "chart-longest", "chart-acwr", "chart-pain")


def km(value: float, unit: Any = "km") -> str:
    return format_distance(value * 1000, unit)


def render(sw: Any, path: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = sw("report", "--at", AT, "-o", str(path), *args, env=env)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"wrote {path}")
    return path.read_text(encoding="utf-8")


def parse(html: str) -> ET.Element:
    """Parse strictly as XML: an unclosed or mismatched tag is an error."""
    return ET.fromstring(html)


def by_id(root: ET.Element, ident: str) -> ET.Element:
    [found] = [element for element in root.iter() if element.get("id") == ident]
    return found


def text(element: ET.Element) -> str:
    return " ".join("".join(element.itertext()).split())


def rows(section: ET.Element) -> list[ET.Element]:
    return [row for row in section.iter("tr") if row.find("td") is not None]


def row_for(section: ET.Element, label: str) -> ET.Element:
    [found] = [row for row in rows(section) if text(row).startswith(label)]
    return found


@pytest.fixture
def report(sw: Any, tmp_path: Path) -> str:
    build(sw)
    return render(sw, tmp_path / "report.html")


def test_the_html_is_well_formed(report: str) -> None:
    root = parse(report)
    assert root.tag == "html"
    assert report.startswith("<!DOCTYPE html>")
    meta = root.find("head/meta")
    assert meta is not None
    assert meta.get("charset") == "utf-8"
    idents = [element.get("id") for element in root.iter() if element.get("id")]
    assert len(idents) == len(set(idents)), "ids must be unique across the inline charts"


def test_the_html_is_self_contained(report: str) -> None:
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", report, re.I)
    assert not re.search(r"""url\(\s*["']?\s*(?:https?:)?//""", report, re.I)
    assert not re.search(r"<script\b", report, re.I)
    assert not re.search(r"<link\b", report, re.I)
    assert not re.search(r"@import", report, re.I)
    root = parse(report)
    references = [
        value
        for element in root.iter()
        for name, value in element.attrib.items()
        if name in ("src", "href", "{http://www.w3.org/1999/xlink}href")
    ]
    assert references, "the charts reference their own clip paths and markers"
    assert all(value.startswith("#") for value in references)
    assert "@media print" in report
    assert "@page" in report


def test_each_chart_is_an_inline_svg_with_a_caption(report: str) -> None:
    root = parse(report)
    for ident in CHARTS:
        figure = by_id(root, ident)
        assert figure.tag == "figure"
        assert figure.find(f"{SVG}svg") is not None, ident
        assert figure.find("figcaption") is not None, ident


def test_the_over_cap_week_is_marked(report: str) -> None:
    root = parse(report)
    weekly = by_id(root, "weekly")
    over = row_for(weekly, "Mon 02 Nov 2026")
    assert over.get("class") == "over"
    assert "over cap" in text(over)
    assert f"{km(32.0)} {km(20.0)} {km(20.0)} +60%" in text(over)
    others = [row for row in rows(weekly) if row is not over]
    assert len(others) == 5
    assert all("over cap" not in text(row) for row in others)
    assert all("over" not in (row.get("class") or "") for row in others)
    # The chart labels the bar over its cap, and only that one.
    labels = [text(t) for t in by_id(root, "chart-weekly").iter(f"{SVG}text")]
    assert labels.count("over") == 1


def test_the_numbers_match_check(sw: Any, report: str) -> None:
    state = check_json(sw)
    week = state["week"]
    root = parse(report)
    glance = text(by_id(root, "glance"))
    for value in (week["distance_km"], week["cap_km"], week["remaining_km"]):
        assert km(value) in glance
    assert km(state["next_run_max_km"]) in glance
    current = row_for(by_id(root, "weekly"), "Mon 09 Nov 2026 (this week)")
    assert f"{km(week['distance_km'])} {km(week['baseline_km'])} {km(week['cap_km'])}" in text(
        current
    )
    assert f"{state['acwr']:.2f}" in text(by_id(root, "acwr"))


def test_longest_run_against_the_30_day_rule(report: str) -> None:
    section = by_id(parse(report), "longest")
    over = row_for(section, "Mon 02 Nov 2026")
    # Thursday's 10 km was itself over its 8.8 km limit, so it counts only up to 8.8 km:
    # Sunday's limit is 1.1 x 8.8 = 9.68 km, not 1.1 x 10 (issue 11: credited history).
    assert f"{km(14.0)} {km(8.8)} {km(9.68)} over limit (1.59x)" in text(over)
    steady = row_for(section, "Mon 19 Oct 2026")
    assert f"{km(8.0)} {km(8.0)} {km(8.8)} within limit" in text(steady)


def test_acwr_is_context_with_its_caveat(report: str) -> None:
    section = text(by_id(parse(report), "acwr"))
    assert "Context only" in section
    assert "Impellizzeri" in section
    assert "never alerts on it alone" in section


def test_the_pain_log(report: str) -> None:
    section = by_id(parse(report), "pain")
    assert [text(row).split(" 2026 ")[1][:20] for row in rows(section)] == [
        "09:00 2/10 after kne",
        "08:00 5/10 during kn",
    ]
    assert len(list(by_id(section, "chart-pain").iter(f"{SVG}svg"))) == 1


def test_alerts_with_their_reasons(report: str) -> None:
    section = by_id(parse(report), "alerts")
    found = {(cells[1], cells[2]) for cells in (row_cells(row) for row in rows(section))}
    assert ("danger", "weekly-progression") in found
    assert ("warning", "pain-during") in found
    assert ("warning", "single-run-spike") in found
    # A past week's "only so much left" forecast is advice for a week that is over.
    assert ("caution", "weekly-progression") not in found
    during = row_cells(row_for(section, "02 Nov 2026 warning pain-during"))
    assert during[-1] == "active"  # still within its 7-day hold at --at
    weekly = row_for(section, "02 Nov 2026 danger weekly-progression")
    assert "+60% on its 20.0 km baseline week" in text(weekly)
    assert "cap_km: 20.0" in text(weekly)
    assert "Nielsen" in text(weekly)


def row_cells(row: ET.Element) -> list[str]:
    return [text(cell) for cell in row.iter("td")]


def test_thresholds_and_their_sources(report: str) -> None:
    section = text(by_id(parse(report), "sources"))
    for source in ("Nielsen", "Frandsen", "Williams", "Impellizzeri", "Foster", "Silbernagel"):
        assert source in section
    assert "cap at +10% on the baseline week" in section
    assert "1.1x the longest run of the past 30 days" in section


def test_the_plan_and_its_adherence(sw: Any, tmp_path: Path) -> None:
    log(sw, "2026-11-03T07:00", 4.0)
    log(sw, "2026-11-05T07:00", 4.5)
    made = sw("plan", "return", "--usual", "6-8mi", "--at", "2026-11-02T08:00", "--json")
    assert made.exit_code == 0, made.stderr
    pain(sw, 5, "during", "2026-11-10T07:30")
    log(sw, "2026-11-10T07:00", 4.0)
    section = by_id(parse(render(sw, tmp_path / "plan.html")), "plan")
    first = row_cells(row_for(section, "Mon 02 Nov 2026"))
    assert first[1:5] == [
        "1",
        f"{km(3.219)} to {km(4.828)}, RPE 3-4",
        f"{km(4.0)}, {km(4.5)}",
        "yes",
    ]
    assert first[5].startswith("on track")
    current = row_cells(row_for(section, "Mon 09 Nov 2026"))
    assert current[1] == "2"
    assert current[5].startswith("holding: a pain alert is active (pain-during)")
    assert "Plan week 2 of" in text(section)


def test_what_the_runner_typed_is_escaped(sw: Any, tmp_path: Path) -> None:
    log(sw, "2026-11-10T07:00", 5.0)
    note = '<script src="https://example.com/x.js"></script> & "sore"'
    result = sw("pain", "3", "--when", "after", "--at", "2026-11-10T12:00", "--note", note)
    assert result.exit_code == 0, result.stderr
    html = render(sw, tmp_path / "note.html")
    assert "<script" not in html
    assert note in text(by_id(parse(html), "pain"))


def test_no_plan_says_how_to_make_one(report: str) -> None:
    assert "stridewatch plan return --usual 6-8mi" in text(by_id(parse(report), "plan"))


def test_miles(sw: Any, tmp_path: Path) -> None:
    build(sw)
    html = render(sw, tmp_path / "mi.html", env={"STRIDEWATCH_UNITS": "mi"})
    week = check_json(sw)["week"]
    glance = text(by_id(parse(html), "glance"))
    assert format_budget(week["cap_km"], "mi") in glance  # a cap is rounded down
    assert " km" not in text(parse(html))


def test_the_output_is_deterministic(sw: Any, tmp_path: Path, report: str) -> None:
    assert render(sw, tmp_path / "again.html") == report


def test_weeks_limits_the_report(sw: Any, tmp_path: Path) -> None:
    build(sw)
    html = render(sw, tmp_path / "short.html", "--weeks", "3")
    weekly = by_id(parse(html), "weekly")
    assert [text(row)[:15] for row in rows(weekly)] == [
        "Mon 26 Oct 2026",
        "Mon 02 Nov 2026",
        "Mon 09 Nov 2026",
    ]


def test_empty_history_says_how_to_start(sw: Any, tmp_path: Path, db: Path) -> None:
    html = render(sw, tmp_path / "empty.html")
    root = parse(html)
    assert "No runs yet: log one with" in text(by_id(root, "empty"))
    assert not list(root.iter(f"{SVG}svg"))
    for ident in CHARTS:
        assert "No runs yet" in text(by_id(root, ident))
    assert not db.exists()  # the report reads only


def test_one_run_gets_messages_not_broken_charts(sw: Any, tmp_path: Path) -> None:
    log(sw, "2026-11-10T07:00", 5.0)
    root = parse(render(sw, tmp_path / "one.html"))
    # The first week has its warm-up cap (3 runs of the longest so far), so it is charted.
    assert len(list(by_id(root, "chart-weekly").iter(f"{SVG}svg"))) == 1
    assert "needs an earlier run" in text(by_id(root, "chart-longest"))
    assert "needs 28 days" in text(by_id(root, "chart-acwr"))
    assert "No pain reported" in text(by_id(root, "chart-pain"))
    assert f"{km(5.0)} - {km(15.0)} - within cap" in text(row_for(by_id(root, "weekly"), "Mon 09"))


def test_a_missing_folder_is_one_line(sw: Any, tmp_path: Path) -> None:
    result = sw("report", "-o", str(tmp_path / "nope" / "r.html"))
    assert result.exit_code == 2
    assert result.stderr.startswith("stridewatch: -o ")
    assert "does not exist" in result.stderr


def test_default_file_name(sw: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = sw("report", "--at", AT)
    assert result.exit_code == 0
    assert (tmp_path / "stridewatch-report-2026-11-11.html").is_file()


def test_help_has_an_example(sw: Any) -> None:
    result = sw("report", "-h")
    assert result.exit_code == 0
    assert "Example: stridewatch report --weeks 16 -o report.html" in result.stdout
