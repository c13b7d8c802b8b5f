"""Start-up: ``stridewatch --version`` and ``stridewatch check`` against ``python3 -c pass``.

``python3`` is the interpreter the ``stridewatch`` script runs on (the venv's), so the ratio is
what stridewatch adds to Python's own start-up (a pyenv shim would add ~70 ms of bash).

Also checks, with ``python -X importtime``, that the heavy libraries are not imported by
``--version`` and ``check`` (they belong to the commands that need them), and records what
the slowest imports of ``check`` are, for RESULTS.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.common import (
    STRIDEWATCH,
    Figure,
    Section,
    bench_env,
    interleaved_process_times,
    scratch,
)

# Imported only by the commands that need them (scan/pair/run, the daemon, notify-test,
# import/export, report/history charts, progress bars and the human tables: `check` without
# --json renders with rich, which it needs).
HEAVY = ("bleak", "apscheduler", "plyer", "fitdecode", "fit_tool", "matplotlib", "numpy", "rich")


LOG_RUN = ("--distance", "6km", "--duration", "36:00")


def run(quick: bool) -> Section:
    section = Section("Start-up")
    repeat = 5 if quick else 15
    with scratch("startup") as folder:
        env = bench_env(folder)
        db = folder / "startup.db"
        subprocess.run(
            [STRIDEWATCH, "--db", str(db), "log-run", "--at", "2026-11-20T07:30", *LOG_RUN],
            stdout=subprocess.DEVNULL,
            check=True,
            env=env,
        )
        times = interleaved_process_times(
            {
                "python": [sys.executable, "-c", "pass"],
                "version": [STRIDEWATCH, "--version"],
                "check": [STRIDEWATCH, "--db", str(db), "check"],
            },
            repeat,
            env=env,
        )
        for name, label in (("version", "`--version`"), ("check", "`check`")):
            section.add(
                Figure(
                    "startup",
                    f"{label} / `python3 -c pass` (whole processes)",
                    times[name] / times["python"],
                    None,
                    False,
                    detail=f"{times[name] * 1e3:.0f} ms vs {times['python'] * 1e3:.0f} ms, "
                    f"median of {repeat}",
                )
            )
        _heavy_imports(section, db, env)
    return section


def _imports(argv: list[str], env: dict[str, str]) -> list[tuple[int, str]]:
    """(cumulative microseconds, module) of each top-level import ``argv`` makes."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "agent", *argv],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    found = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        if cumulative.strip().isdigit():
            found.append((int(cumulative), name.rstrip()))
    return found


def _heavy_imports(section: Section, db: Path, env: dict[str, str]) -> None:
    for argv in (["--version"], ["--db", str(db), "check", "--json"]):
        imports = _imports(argv, env)
        names = {name.strip().split(".")[0] for _, name in imports}
        heavy = sorted(names & set(HEAVY))
        section.add(
            Figure(
                "startup",
                f"heavy libraries imported by `{' '.join(a for a in argv if a != str(db))}`",
                len(heavy),
                0,
                False,
                unit="",
                detail=", ".join(heavy) or f"none of {', '.join(HEAVY)}",
            )
        )
    top = sorted((item for item in imports if not item[1].startswith("   ")), reverse=True)
    lines = [f"{us / 1000:7.1f} ms  {name.strip()}" for us, name in top[:12]]
    section.notes.append(
        "Slowest imports of `check --json` (`python -X importtime`, cumulative, top levels only):"
        "\n\n```\n" + "\n".join(lines) + "\n```"
    )
