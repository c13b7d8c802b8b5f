"""Regenerate the README's report, its print and screenshot, and the terminal capture, from
a demo history.

    .venv/bin/python docs/make_assets.py

Builds twelve weeks of a runner's history in a temporary database through the real
``stridewatch`` command (steady weeks, a recovery week, a jump with knee pain, then a graded
return), renders ``stridewatch report`` into ``docs/report.html``, prints it with headless
Chromium (Debian: ``apt-get install chromium``) on A4 into ``docs/report.pdf`` and
screenshots its top into ``docs/report.png``, saves ``stridewatch history`` at 80 columns
into ``docs/history.txt``, and writes every example of the README (each marked by a
``<!-- docs/make_assets.py: NAME -->`` line above its block) as the commands print them at
80 columns. ``tests/test_docs_assets.py`` and ``tests/test_report_print.py`` rebuild the
same history and check that the HTML, the capture and the README's examples are what the
code makes today, and how the report prints.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
README = DOCS.parent / "README.md"
AT = "2026-11-19T20:00"
# The report is made on the Saturday morning, when the plan allows a run (on Thursday
# evening its next run is a rest day).
REPORT_AT = "2026-11-21T06:00"
FIRST_MONDAY = date(2026, 8, 31)
# Each week's runs: (day offset from Monday, km). Long runs grow within the 30-day rule
# until week 9, the jump (+39 % on its baseline, a 17 km long run after 10.5 km); a return
# plan follows from week 10.
WEEKS: tuple[tuple[tuple[int, float], ...], ...] = (
    ((1, 8.0), (3, 6.0), (6, 7.0)),
    ((1, 6.0), (3, 6.0), (6, 8.5)),
    ((1, 6.0), (3, 6.0), (6, 9.0)),
    ((1, 6.0), (3, 7.0), (6, 9.5)),
    ((1, 5.0), (3, 5.0), (6, 6.0)),
    ((1, 6.0), (3, 6.0), (6, 9.5)),
    ((1, 6.0), (3, 7.0), (6, 10.0)),
    ((1, 6.0), (3, 8.0), (6, 10.5)),
    ((1, 7.0), (3, 10.0), (6, 17.0)),
    ((2, 4.0), (5, 4.5)),
    ((1, 4.5), (3, 5.0), (6, 5.0)),
    ((1, 5.0), (3, 5.5)),
)
# (score, when, day offset from the first Monday, time, where)
PAIN = (
    (5, "during", 62, "08:20", "knee"),
    (4, "after", 62, "14:00", "knee"),
    (3, "morning", 63, "07:30", "knee"),
    (2, "morning", 65, "07:30", "knee"),
    (1, "after", 65, "19:00", "knee"),
    (2, "during", 71, "07:30", "knee"),
    (0, "morning", 77, "07:30", None),
)


def stridewatch(env: dict[str, str], *args: str) -> str:
    command = [sys.executable, "-m", "agent", "--db", env["SW_DB"], *args]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


def build_history(env: dict[str, str]) -> None:
    for n, runs in enumerate(WEEKS):
        monday = FIRST_MONDAY + timedelta(weeks=n)
        for day, km in runs:
            when = f"{monday + timedelta(days=day)}T07:00"
            minutes = f"{round(km * 5.8)}m"
            stridewatch(
                env, "log-run", "--at", when, "--distance", f"{km}km", "--duration", minutes
            )
    for score, when, day, clock, where in PAIN:
        at = f"{FIRST_MONDAY + timedelta(days=day)}T{clock}"
        extra = ("--where", where) if where else ()
        stridewatch(env, "pain", str(score), "--when", when, "--at", at, *extra)
    plan_start = f"{FIRST_MONDAY + timedelta(weeks=9)}T08:00"
    stridewatch(env, "plan", "return", "--usual", "8-10km", "--start", "4-5km", "--at", plan_start)


ASSETS = ("report.html", "report.pdf", "report.png", "history.txt")
# Paper sizes a report is printed on, as CSS names them. The report itself names none (the
# reader's printer decides); the copy printed here says which, as a print dialog would.
PAPERS = {"a4": "A4", "letter": "letter"}
# The screenshot's window: about a page's width on screen (the report's column is 860 px).
WINDOW = "900,1400"


def chromium() -> str:
    """The path of Debian's headless-capable Chromium (``apt-get install chromium``)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        sys.exit("needs Chromium: apt-get install -y chromium")
    return found


def run_chromium(*args: str) -> None:
    """Run headless Chromium once, with a throw-away profile and nothing from the network."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                *args,
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def screenshot(html: Path, png: Path) -> None:
    """The top of the report as Chromium shows it on screen (page one's content)."""
    run_chromium(f"--screenshot={png}", f"--window-size={WINDOW}", html.as_uri())


def print_pdf(html: Path, pdf: Path, paper: str = "a4") -> None:
    """The report printed to ``pdf`` on ``paper`` (``a4`` or ``letter``), without the
    browser's header and footer lines, as a reader's print dialog would."""
    page = f"<style>@page {{ size: {PAPERS[paper]}; }}</style></head>"
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / html.name
        copy.write_text(html.read_text(encoding="utf-8").replace("</head>", page, 1), "utf-8")
        run_chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", copy.as_uri())


def capture(env: dict[str, str], *args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    """``stridewatch --db DB ARGS`` as a runner sees it at 80 columns, through a pipe (in
    folder ``cwd``): its exit status, stdout and stderr."""
    command = [sys.executable, "-m", "agent", "--db", env["SW_DB"], *args]
    done = subprocess.run(
        command,
        env={**env, "COLUMNS": "80", "PYTHONPATH": str(DOCS.parent)},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def capture_history(env: dict[str, str], text: Path) -> None:
    """``stridewatch history`` at 80 columns, as plain text."""
    text.write_text(examples(env, only=("history",))["history"], encoding="utf-8")


# The README's examples: each follows a ``<!-- docs/make_assets.py: NAME -->`` line, as the
# body of the fenced block under it.
EXAMPLE = re.compile(r"(<!-- docs/make_assets\.py: ([\w-]+) -->\n```\w*\n)(.*?)(```)", re.S)
BAD_CONFIG = {
    "config-bad-value": "[progression]\nweekly_warn = 10\n",
    "config-contradiction": "[progression]\nweekly_danger = 0.12\n",
}


def examples(env: dict[str, str], only: tuple[str, ...] = ()) -> dict[str, str]:
    """Every README example (or those named in ``only``), as the code prints it now."""

    def said(*args: str, status: int = 0, err: bool = False) -> str:
        code, out, errors = capture(env, *args)
        if code != status:
            raise SystemExit(f"stridewatch {' '.join(args)}: exit status {code}: {errors}")
        return f"$ stridewatch {' '.join(args)}\n" + (errors if err else out)

    made = {
        "history": lambda: said("history", "--at", AT),
        "check-json": lambda: capture(env, "check", "--at", AT, "--json")[1],
        "usage-error": lambda: said("log-run", "--duration", "36:00", status=2, err=True),
        **{name: _config_example(env, body) for name, body in BAD_CONFIG.items()},
    }
    return {name: make() for name, make in made.items() if not only or name in only}


def _config_example(env: dict[str, str], body: str) -> Any:
    """``stridewatch config check`` of a config file holding ``body``."""

    def make() -> str:
        args = ("config", "check", "--config", "config.toml")
        with tempfile.TemporaryDirectory() as folder:
            (Path(folder) / "config.toml").write_text(body, encoding="utf-8")
            code, _out, errors = capture(env, *args, cwd=Path(folder))
        if code != 2:
            raise SystemExit(f"config check took {body!r} (exit status {code})")
        return f"$ stridewatch {' '.join(args)}\n{errors}"

    return make


def splice(readme: str, made: dict[str, str]) -> str:
    """``readme`` with each example's block holding what ``made`` says for it."""
    names = {match.group(2) for match in EXAMPLE.finditer(readme)}
    if names != set(made):
        raise SystemExit(f"README examples {sorted(names)} but made {sorted(made)}")
    return EXAMPLE.sub(lambda m: m.group(1) + made[m.group(2)] + m.group(4), readme)


def make_report(env: dict[str, str], folder: Path) -> Path:
    """``stridewatch report`` of the demo history at ``REPORT_AT``, written in ``folder``."""
    html = folder / "report.html"
    stridewatch(env, "report", "--at", REPORT_AT, "-o", str(html))
    return html


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = {
            **os.environ,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "STRIDEWATCH_TIMEZONE": "UTC",
            "SW_DB": str(home / "demo.db"),
        }
        build_history(env)
        html = make_report(env, home)
        shutil.copy(html, DOCS / "report.html")
        print_pdf(html, DOCS / "report.pdf", "a4")
        screenshot(html, DOCS / "report.png")
        capture_history(env, DOCS / "history.txt")
        readme = README.read_text(encoding="utf-8")
        README.write_text(splice(readme, examples(env)), encoding="utf-8")
    written = ", ".join(str(DOCS / name) for name in ASSETS)
    print(f"wrote {written} and the examples in {README}")


if __name__ == "__main__":
    main()
