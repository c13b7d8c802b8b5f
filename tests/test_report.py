"""``stridewatch report``: one self-contained HTML file, rendered from a multi-week history
logged through the real CLI; checked by parsing it as XML and reading what it says."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.config import Settings
from agent.models import Alert
from agent.units import format_budget, format_distance
from agent.views.facts import alert_facts
from tests.report_history import AT, DAYS, OVER_WEEK, STEADY_WEEKS, build, check_json, log, pain

SVG = "{http://www.w3.org/2000/svg}"
CHARTS = ("chart-story",)


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


def week_of(root: ET.Element, monday: str) -> ET.Element:
    """The weeks table's row for the week starting ``monday`` (ISO date)."""
    return by_id(root, f"week-{monday}")


def num(value: float) -> str:
    """A distance in the weeks table, whose heading names the unit: ``32.0``."""
    return km(value).removesuffix(" km")


def test_the_over_cap_week_is_marked(report: str) -> None:
    root = parse(report)
    over = week_of(root, "2026-11-02")
    assert over.get("class") == "over"
    # 32 km, held at its 20 km baseline week (pain), +60 % on it.
    assert text(over).startswith("Mon 02 Nov 32.0 of 20.0, +60% over (held)")
    weeks = [row for row in root.iter("tr") if row.get("id", "").startswith("week-")]
    assert len(weeks) == 6
    assert [row.get("id") for row in weeks if row.get("class") == "over"] == ["week-2026-11-02"]
    assert "over: Mon 02 Nov." in text(by_id(root, "glance-week"))
    # The chart labels each week's bar with its distance.
    labels = [text(t) for t in by_id(root, "chart-story").iter(f"{SVG}text")]
    assert "32" in labels


def test_the_numbers_match_check(sw: Any, report: str) -> None:
    state = check_json(sw)
    week = state["week"]
    root = parse(report)
    glance = text(by_id(root, "glance"))
    assert km(week["distance_km"]) in glance
    for value in (week["cap_km"], week["remaining_km"], state["next_run_max_km"]):
        assert format_budget(value, "km") in glance
    current = text(week_of(root, "2026-11-09"))
    cap = format_budget(week["cap_km"], "km").removesuffix(" km")
    assert current.startswith(f"Mon 09 Nov (now) {num(week['distance_km'])} of {cap}")
    assert f"now {state['acwr']:.2f}" in text(by_id(root, "sources"))


def test_page_one_tells_the_story(sw: Any, report: str) -> None:
    state = check_json(sw)
    root = parse(report)
    nxt = text(by_id(root, "glance-next"))
    binding = state["binding"]
    assert f"at most {format_budget(state['next_run_max_km'], 'km')}" in nxt
    assert f"(binding limit: {binding})" in nxt
    assert text(by_id(root, "glance-week-jump")).startswith(
        f"Biggest week Mon 02 Nov: {km(32.0)}, +60% on its {km(20.0)} baseline week "
        f"(over its {km(20.0)} cap)"
    )
    # Sunday's 14 km after the credited 8.8 km longest (Thursday's 10 km counts only up to
    # its 8.8 km limit: issue 11).
    assert f"Sun 08 Nov 07:00: {km(14.0)}, 1.59x the longest run of the 30 days before it" in (
        text(by_id(root, "glance-run-jump"))
    )
    pain_row = text(by_id(root, "glance-pain"))
    assert pain_row.startswith("Latest pain 5/10 during a run (knee), Sun 08 Nov 08:00.")
    assert "2 reports in these weeks" in pain_row
    alerts = text(by_id(root, "glance-alerts"))
    assert "warning Pain 5/10 during the run" in alerts
    assert "none active (make one with stridewatch plan return" in text(by_id(root, "glance-plan"))


def runs_of(row: ET.Element) -> list[tuple[str, str | None]]:
    """A week row's runs as written, with their class (``run mark``: over its limit)."""
    return [
        (text(span), span.get("class"))
        for span in row.iter("span")
        if "run" in span.get("class", "")
    ]


def test_longest_run_against_the_30_day_rule(report: str) -> None:
    root = parse(report)
    # Each week's longest run, and any other over its limit (vermilion), with its ratio to
    # the 30-day longest; Tuesday's 8 km, within its limit, is in the table of runs only.
    assert runs_of(week_of(root, "2026-11-02")) == [
        (f"Thu {num(10.0)} (1.25x)", "run mark"),  # over its 8.8 km limit too
        (f"Sun {num(14.0)} (1.59x)", "run mark"),
    ]
    assert runs_of(week_of(root, "2026-10-26"))[-1] == (f"Sun {num(8.0)} (1.00x)", "run")


def test_each_week_with_its_runs_and_pain_by_day(sw: Any, tmp_path: Path) -> None:
    log(sw, "2026-11-03T07:00", 5.0)
    log(sw, "2026-11-05T07:00", 8.0)
    pain(sw, 2, "after", "2026-11-05T10:00")
    pain(sw, 1, "morning", "2026-11-06T07:00")
    pain(sw, 3, "before", "2026-11-08T12:00")  # about no run
    root = parse(render(sw, tmp_path / "runs.html"))
    # week, distance, how many runs, the longest with its ratio, pain by day
    assert row_cells(week_of(root, "2026-11-02")) == [
        "Mon 02 Nov",
        "13.0 of 24.0",  # the warm-up cap: 3 runs of the longest so far
        "2",
        f"Thu {num(8.0)} (1.60x)",
        "···21·3",
    ]
    current = ["Mon 09 Nov (now)", "0.0 of 24.0", "0", "-", "·······"]
    assert row_cells(week_of(root, "2026-11-09")) == current
    heading = [text(cell) for cell in by_id(root, "weeks").iter("th")]
    assert heading == ["week of", "distance (km)", "runs", "longest (km)", "pain MTWTFSS"]


# A one-lap TCX file as a watch exports it: a trackpoint a minute with distance, heart rate
# and cadence (RunCadence counts strides: 85 is 170 steps/min).
TCX_RUN = """<?xml version="1.0" encoding="UTF-8"?>
<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
    xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2">
  <Activities><Activity Sport="Running"><Id>{start}</Id>
    <Lap StartTime="{start}"><TotalTimeSeconds>{seconds}</TotalTimeSeconds>
      <DistanceMeters>{metres}</DistanceMeters>
      <AverageHeartRateBpm><Value>{hr}</Value></AverageHeartRateBpm>
      <Track>{points}</Track></Lap>
  </Activity></Activities>
</TrainingCenterDatabase>
"""
TCX_POINT = """<Trackpoint><Time>{time}</Time><DistanceMeters>{metres}</DistanceMeters>
  <HeartRateBpm><Value>{hr}</Value></HeartRateBpm>
  <Extensions><ns3:TPX><ns3:RunCadence>{strides}</ns3:RunCadence></ns3:TPX></Extensions>
</Trackpoint>"""


def import_run(sw: Any, path: Path, start: datetime, minutes: int, km: float) -> None:
    """Import a run of ``km`` in ``minutes`` at heart rate 152 and 170 steps/min."""
    points = "".join(
        TCX_POINT.format(
            time=(start + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            metres=km * 1000 * minute / minutes,
            hr=152,
            strides=85,
        )
        for minute in range(minutes + 1)
    )
    iso = start.strftime("%Y-%m-%dT%H:%M:%SZ")
    path.write_text(
        TCX_RUN.format(start=iso, seconds=minutes * 60, metres=km * 1000, hr=152, points=points),
        encoding="utf-8",
    )
    result = sw("import", str(path))
    assert result.exit_code == 0, result.stderr


def known_runs(sw: Any, tmp_path: Path) -> None:
    """Three runs of the week of 2 Nov, one of each kind: logged with RPE and heart rate,
    imported with heart rate and cadence, logged bare (over its limit); pain after the first
    and the next morning, and during and after the last."""
    result = sw(
        "log-run",
        *("--at", "2026-11-03T07:00", "--distance", "8km", "--duration", "46:00"),
        *("--rpe", "4", "--avg-hr", "148"),
    )
    assert result.exit_code == 0, result.stderr
    import_run(sw, tmp_path / "thu.tcx", datetime(2026, 11, 5, 7, tzinfo=UTC), 30, 6.0)
    log(sw, "2026-11-08T07:00", 10.0)  # 1:00:00, 1.25x Tuesday's 8 km
    pain(sw, 3, "after", "2026-11-03T10:00")
    pain(sw, 1, "morning", "2026-11-04T07:00")
    pain(sw, 5, "during", "2026-11-08T07:30")
    pain(sw, 3, "after", "2026-11-08T10:00")


# The table of runs' columns, in the runner's unit ({}); there is no elevation column.
RUN_COLUMNS = (
    "date",
    "distance ({})",
    "time",
    "pace (min/{})",
    "HR",
    "cadence (steps/min)",
    "RPE",
    "pain",
)


@pytest.mark.parametrize(
    ("unit", "distances", "paces"),
    [
        ("km", ("8.0", "6.0", "10.0"), ("5:45", "5:00", "6:00")),
        ("mi", ("5.0", "3.7", "6.2"), ("9:15", "8:03", "9:39")),
    ],
)
def test_a_row_for_each_run(
    sw: Any, tmp_path: Path, unit: str, distances: tuple[str, ...], paces: tuple[str, ...]
) -> None:
    """Each run on one row, in the runner's unit: the date, distance (nearest 0.1), moving
    time, pace (m:ss per unit), heart rate, cadence (steps/min), RPE and the highest pain
    reported about it. Runs carry no elevation: there is no column for it."""
    known_runs(sw, tmp_path)
    root = parse(render(sw, tmp_path / "runs.html", env={"STRIDEWATCH_UNITS": unit}))
    section = by_id(root, "runs")
    heading = [text(cell) for cell in section.iter("th")]
    assert heading == [column.format(unit) for column in RUN_COLUMNS]
    assert [row_cells(row) for row in rows(section)] == [
        ["Tue 03 Nov 07:00", distances[0], "46:00", paces[0], "148", "-", "4", "3/10 after"],
        ["Thu 05 Nov 07:00", distances[1], "30:00", paces[1], "152", "170", "-", "-"],
        ["Sun 08 Nov 07:00", distances[2], "1:00:00", paces[2], "-", "-", "-", "5/10 during"],
    ]
    marked = [text(span) for span in section.iter("span") if span.get("class") == "mark"]
    assert marked == [distances[2], "5/10"]  # over its limit; pain above the stop level
    assert text(section.find("h2")) == "Run by run"  # type: ignore[arg-type]
    assert "earlier" not in text(section)


def test_the_latest_runs_and_how_many_earlier(sw: Any, report: str) -> None:
    """Sixteen runs in the weeks shown: the latest fifteen, oldest first, and a line for
    the one left out."""
    section = by_id(parse(report), "runs")
    dates = [row_cells(row)[0] for row in rows(section)]
    assert len(dates) == 15
    assert (dates[0], dates[-1]) == ("Thu 08 Oct 07:00", "Tue 10 Nov 07:00")
    assert text(section.find("h2")) == "Run by run (the latest 15)"  # type: ignore[arg-type]
    [key] = section.iter("p")
    assert text(key).startswith("1 earlier run: stridewatch runs. Time: moving.")


def test_acwr_is_context_with_its_caveat(report: str) -> None:
    row = text(row_for(by_id(parse(report), "sources"), "Acute:chronic load"))
    assert "context only" in row
    assert "Impellizzeri" in row
    assert "never alerts on it alone" in row


def test_pain_notes_the_latest_few_each_about_a_line(sw: Any, tmp_path: Path) -> None:
    """Notes are quoted, the latest first, cut to about a line; `stridewatch pain-log` has
    them all. Reports without a note are in the chart and the weeks table only."""
    build(sw)
    assert 'id="pain"' not in render(sw, tmp_path / "plain.html")
    long = "sore on the stairs, worse going down; iced it and it eased by the evening " * 3
    for day in range(1, 8):
        note = long if day == 7 else f"note {day}"
        result = sw(
            "pain", "2", "--when", "morning", "--at", f"2026-11-0{day}T07:00", "--note", note
        )
        assert result.exit_code == 0, result.stderr
    section = by_id(parse(render(sw, tmp_path / "notes.html")), "pain")
    items = [text(item) for item in section.iter("li")]
    assert len(items) == 5
    assert items[0].startswith("Sat 07 Nov 07:00: 2/10 morning: sore on the stairs")
    assert items[0].endswith("…")
    assert len(items[0]) < 120
    assert items[1:] == [
        "Fri 06 Nov 07:00: 2/10 morning: note 6",
        "Thu 05 Nov 07:00: 2/10 morning: note 5",
        "Wed 04 Nov 07:00: 2/10 morning: note 4",
        "Tue 03 Nov 07:00: 2/10 morning: note 3",
    ]
    heading = text(section.find("h2"))  # type: ignore[arg-type]
    assert heading == "Pain notes (the latest 5 of 7; all, whole: stridewatch pain-log)"


def test_alerts_with_their_reasons(report: str) -> None:
    section = by_id(parse(report), "alerts")
    alerts = alert_rows(section)
    rules = {
        text(span).split(":")[0] for span in section.iter("span") if span.get("class") == "facts"
    }
    assert {"weekly-progression", "pain-during", "single-run-spike"} <= rules
    assert {"danger", "warning"} <= {cells[1].split()[0] for cells in alerts}
    # A past week's "only so much left" forecast is advice for a week that is over.
    assert not any("left, less than your usual" in cells[2] for cells in alerts)
    [during] = [cells for cells in alerts if "Pain 5/10 during" in cells[2]]
    assert during[1] == "warning active"  # still within its 7-day hold at --at
    [weekly] = [cells for cells in alerts if "weekly-progression:" in cells[2]]
    # A held cap is the baseline week: said once, as the cap (never two roundings of it).
    assert "+60% on its baseline week and over its 20.0 km cap (held" in weekly[2]
    assert "Nielsen" in weekly[2]
    # The numbers behind it, in words: what the message already says is not repeated.
    assert weekly[2].endswith(f"weekly-progression: left {km(0.0)}")


def alert_rows(section: ET.Element) -> list[list[str]]:
    return [row_cells(row) for row in rows(section)]


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
    root = parse(render(sw, tmp_path / "plan.html"))
    section = by_id(root, "plan")
    first = row_cells(row_for(section, "Mon 02 Nov"))
    assert first[1:4] == ["1", f"{km(3.219)} to {km(4.828)}, RPE 3-4", f"{km(4.0)}, {km(4.5)}"]
    assert first[4].startswith("on track")
    current = row_cells(row_for(section, "Mon 09 Nov"))
    assert current[1] == "2"
    assert current[4].startswith("holding: a pain alert is active (pain-during)")
    assert text(by_id(root, "glance-plan")).startswith("Return plan week 2 of")


def test_what_the_runner_typed_is_escaped(sw: Any, tmp_path: Path) -> None:
    log(sw, "2026-11-10T07:00", 5.0)
    note = '<script src="https://example.com/x.js"></script> & "sore"'
    result = sw("pain", "3", "--when", "after", "--at", "2026-11-10T12:00", "--note", note)
    assert result.exit_code == 0, result.stderr
    html = render(sw, tmp_path / "note.html")
    assert "<script" not in html
    assert note in text(by_id(parse(html), "pain"))


def test_alert_numbers_in_miles_are_words(sw: Any, tmp_path: Path) -> None:
    build(sw)
    html = render(sw, tmp_path / "mi.html", env={"STRIDEWATCH_UNITS": "mi"})
    section = text(by_id(parse(html), "alerts"))
    assert "single-run-spike: run 15; 1.59x that longest run" in section
    for raw in ("_km", "True", "False", "None", "distance_km"):
        assert raw not in section


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
    weeks = [
        row.get("id") for row in parse(html).iter("tr") if row.get("id", "").startswith("week")
    ]
    assert weeks == ["week-2026-10-26", "week-2026-11-02", "week-2026-11-09"]
    assert "3 weeks, Mon 26 Oct 2026 to Sun 15 Nov 2026" in text(parse(html))


def test_empty_history_says_how_to_start(sw: Any, tmp_path: Path, db: Path) -> None:
    html = render(sw, tmp_path / "empty.html")
    root = parse(html)
    assert "No runs yet: log one with stridewatch log-run" in text(by_id(root, "empty"))
    assert text(root).count("No runs yet") == 1
    assert "graded start: the next run at most" in text(by_id(root, "start"))
    assert not list(root.iter(f"{SVG}svg"))
    assert not list(root.iter("table"))
    assert "Weeks of" not in html
    assert " - to -" not in html
    assert not db.exists()  # the report reads only


def test_one_run_gets_messages_not_broken_charts(sw: Any, tmp_path: Path) -> None:
    log(sw, "2026-11-10T07:00", 5.0)
    root = parse(render(sw, tmp_path / "one.html"))
    # The first week has its warm-up cap (3 runs of the longest so far), so it is charted.
    story = by_id(root, "chart-story")
    assert len(list(story.iter(f"{SVG}svg"))) == 1
    assert "No 30-day limit yet: the rule needs an earlier run" in text(story)
    assert "No pain reported in these weeks" in text(story)
    assert text(week_of(root, "2026-11-09")).startswith("Mon 09 Nov (now) 5.0 of 15.0 1 Tue 5.0")
    assert "no run has an earlier run to compare with yet" in text(by_id(root, "glance-run-jump"))
    assert "no week has a baseline" in text(by_id(root, "glance-week-jump"))


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


# -- the numbers of an alert's detail read as its message writes them ---------------------

# A number with what it counts: "18.2 mi", "+77%", "1.53", "1.80x", "5/10".
QUANTITY = re.compile(r"(?<![\d.:])([+-]?\d+(?:\.\d+)?)(\s?(?:km|mi|%|x\b|/10))?(?![\d]|[.:]\d)")


def near_misses(detail: str, message: str) -> list[tuple[str, str]]:
    """Pairs of a number in ``detail`` and one in ``message`` of the same kind (unit and
    decimals) one rounding step apart: the same number, rounded two ways (+76% and +77%)."""

    def quantities(text: str) -> list[tuple[float, str, int, str]]:
        found = []
        for match in QUANTITY.finditer(text):
            number, unit = match.group(1), (match.group(2) or "").strip()
            decimals = len(number.partition(".")[2])
            if unit or decimals:  # not a bare count, a date or an id
                found.append((float(number), unit, decimals, match.group(0).strip()))
        return found

    return [
        (shown, said)
        for value, unit, decimals, shown in quantities(detail)
        for other, unit2, decimals2, said in quantities(message)
        if (unit, decimals) == (unit2, decimals2)
        and 0 < abs(value - other) <= 1.01 * 10.0**-decimals
    ]


def test_near_misses_finds_one_number_rounded_two_ways() -> None:
    message = "at 26.3 mi, +45% on its 18.2 mi baseline week; ratio 1.53 (limit 6.8 mi)"
    assert near_misses("+44% on the baseline week; baseline week 18.1 mi", message) == [
        ("+44%", "+45%"),
        ("18.1 mi", "18.2 mi"),
    ]
    assert near_misses("ratio 1.52; run 14", message) == [("1.52", "1.53")]
    assert near_misses("left 0.0 mi; 1.29x that longest run; run 15", message) == []


def log_mi(sw: Any, when: str, miles: float) -> None:
    result = sw("log-run", "--at", when, "--distance", f"{miles}mi", "--duration", "54m")
    assert result.exit_code == 0, result.stderr


def test_each_number_of_an_alerts_detail_reads_as_its_message_writes_it(
    sw: Any, tmp_path: Path
) -> None:
    """A runner logging in miles: weeks of 6 + 6 + 6.2 mi (18.2 mi, held in km to 3
    decimals: 18.19996 mi), then a jump. The detail said "+44%" and "baseline week 18.1 mi"
    where the message says "+44.5%" and "18.2 mi"."""
    for monday in STEADY_WEEKS:
        for day, miles in zip(DAYS, (6.0, 6.0, 6.2), strict=True):
            log_mi(sw, f"{monday + timedelta(days=day)}T07:00", miles)
    for day, miles in zip(DAYS, (6.0, 8.0, 12.3), strict=True):
        log_mi(sw, f"{OVER_WEEK + timedelta(days=day)}T07:00", miles)
    env = {"STRIDEWATCH_UNITS": "mi"}
    html = render(sw, tmp_path / "mi.html", env=env)
    # Page one's biggest week gives the baseline as the alerts do: a distance run, nearest.
    page = " ".join(page_text(parse(html)).split())
    assert "+44.5% on its 18.2 mi baseline week" in page
    section = by_id(parse(html), "alerts")
    details = alert_details(section)
    assert len(details) >= 3
    for message, detail in details:
        assert near_misses(detail, message) == [], message
    [(message, detail)] = [pair for pair in details if pair[0].startswith("The week of 02 Nov")]
    assert "+44.5% on its 18.2 mi baseline week" in message
    # What the message gives is not said again; what it does not is in the same rounding.
    assert detail == "left 0.0 mi"


def alert_details(section: ET.Element) -> list[tuple[str, str]]:
    """Each alert of the report's alerts section: its message and its detail (the numbers
    behind it, less the rule's name)."""
    found = []
    for row in rows(section):
        cell = row_cells(row)[-1]
        [facts] = [span for span in row.iter("span") if span.get("class") == "facts"]
        detail = text(facts)
        message = cell[: -len(detail)].strip()
        found.append((message, detail.partition(": ")[2]))
    return found


SETTINGS_MI = Settings(units="mi", timezone="UTC")
SETTINGS_KM = Settings(timezone="UTC")


@pytest.mark.parametrize(
    ("settings", "message", "data", "fact"),
    [
        # The message was written from 76.54 %, the data holds 76.5.
        (SETTINGS_KM, "35.3 km, +77% on its 20.0 km baseline", {"change_pct": 76.5}, "+77%"),
        (SETTINGS_KM, "nothing about it", {"change_pct": 76.5}, "+76.5%"),
        (SETTINGS_KM, "35.3 km, +76.5% on its 20.0 km baseline", {"change_pct": 76.5}, "+76.5%"),
        # From a ratio of 1.52549, held as 1.525.
        (SETTINGS_KM, "Your ratio is 1.53, above 1.5", {"acwr": 1.525}, "ratio 1.53"),
        (SETTINGS_KM, "Monotony is 2.13 (mean daily load / SD)", {"monotony": 2.125}, "2.13"),
        (SETTINGS_KM, "a mean of 3.3/10 this week", {"week_mean": 3.25}, "mean 3.3/10"),
        # 18.2 mi logged (29.29006 km), held as 29.290 km: 18.19996 mi.
        (SETTINGS_MI, "+45% on its 18.2 mi baseline week", {"baseline_km": 29.29}, "18.2 mi"),
        # A baseline is a distance run (to the nearest 0.1), not a budget.
        (SETTINGS_MI, "no baseline in it", {"baseline_km": 29.29}, "18.2 mi"),
        # A limit is rounded down; a message giving it to the nearest 0.1 is followed.
        (SETTINGS_KM, "(8.0 km; limit 8.8 km)", {"limit_km": 8.79}, "limit 8.8 km"),
        (SETTINGS_KM, "a run over its limit", {"limit_km": 8.79}, "limit 8.7 km"),
        # A distance run to the nearest 0.1; a message rounding it down is followed.
        (SETTINGS_MI, "no distance in it", {"distance_km": 21.97}, "13.7 mi"),
        (SETTINGS_MI, "13.6 mi of its 15.0 mi cap", {"distance_km": 21.97}, "13.6 mi"),
    ],
)
def test_a_detail_writes_a_number_as_the_message_does(
    settings: Settings, message: str, data: dict[str, Any], fact: str
) -> None:
    alert = Alert("weekly-progression", "warning", message, "weekly-progression:x", data)
    [phrase] = alert_facts(alert, settings)
    assert fact in phrase
    assert near_misses(phrase, message) == []


def page_text(root: ET.Element) -> str:
    """The text a reader sees, as written (no-break spaces kept), without the charts'."""
    found: list[str] = []

    def walk(element: ET.Element) -> None:
        if element.tag.startswith(SVG) or element.tag == "style":
            return
        found.append(element.text or "")
        for child in element:
            walk(child)
            found.append(child.tail or "")

    walk(root)
    return "".join(found)


@pytest.mark.parametrize("unit", ["km", "mi"])
def test_a_number_and_its_unit_are_never_parted(sw: Any, tmp_path: Path, unit: str) -> None:
    """The current week's cell printed "Sun 29 Nov (now): 0.0" and "mi" on the next line:
    every space between a number and its unit is a no-break space, in the report's own
    words and in the messages it quotes."""
    build(sw)
    html = render(sw, tmp_path / "units.html", env={"STRIDEWATCH_UNITS": unit})
    seen = page_text(parse(html))
    assert re.findall(r"\d[ \t\n]+(?:km|mi|h|%)\b", seen) == []
    assert f"\u00a0{unit}" in seen
    assert re.search(r"\d\u00a0%", seen)  # "+10-15 % a week" in a message


def test_pain_without_runs_is_the_pain_log(sw: Any, tmp_path: Path) -> None:
    """No run to chart: the pain reports are listed, the latest first, notes or not."""
    pain(sw, 3, "morning", "2026-11-09T07:00")
    pain(sw, 2, "morning", "2026-11-10T07:00")
    section = by_id(parse(render(sw, tmp_path / "pain.html")), "pain")
    assert text(section) == (
        "Pain log Tue 10 Nov 07:00: 2/10 morning, knee Mon 09 Nov 07:00: 3/10 morning, knee"
    )


def test_a_limit_of_rest_is_said_as_rest_not_by_its_label() -> None:
    """A pain limit of 0 is rest ("over its 0.0 mi limit: rest: pain 7/10 is severe"): its
    detail must not read "no longer than the run that hurt"."""
    message = "3.1 mi: over its 0.0 mi limit: rest: pain 7/10 is severe."
    alert = Alert(
        "pain-limit", "danger", message, "pain-limit:x", {"limit": "pain", "limit_km": 0.0}
    )
    phrases = alert_facts(alert, SETTINGS_MI)
    assert "limit: rest" in phrases
    assert not any("run that hurt" in phrase for phrase in phrases)
