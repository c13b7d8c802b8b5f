"""What every benchmark shares: figures, timing helpers, scratch folders, the machine."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The console script of the venv the benchmarks run in (``.venv/bin/stridewatch``).
STRIDEWATCH = str(Path(sys.executable).with_name("stridewatch"))


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured ratio against a baseline of the same run, and its target.

    ``higher_is_better`` says which way ``target`` bounds ``value``; ``detail`` holds the
    absolute numbers behind the ratio, for people reading RESULTS.md.
    """

    section: str
    name: str
    value: float
    target: float | None
    higher_is_better: bool
    unit: str = "x"
    detail: str = ""

    @property
    def passed(self) -> bool | None:
        if self.target is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    @property
    def target_text(self) -> str:
        if self.target is None:
            return "(reported)"
        return f"{'>=' if self.higher_is_better else '<='} {self.target:g}{self.unit}"

    @property
    def verdict(self) -> str:
        return {True: "pass", False: "FAIL", None: "-"}[self.passed]

    def line(self) -> str:
        return (
            f"{self.section}: {self.name} = {self.value:.3g}{self.unit} "
            f"(target {self.target_text}) {self.verdict}  [{self.detail}]"
        )


@dataclass(slots=True)
class Section:
    """A benchmark's figures, and notes (profiles, explanations) for RESULTS.md."""

    title: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        print(figure.line(), flush=True)
        return figure


def median_time(func: Callable[[], object], repeat: int) -> float:
    """Median wall seconds of ``repeat`` calls of ``func``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def process_time(argv: Sequence[str], repeat: int, *, env: dict[str, str] | None = None) -> float:
    """Median wall seconds of ``repeat`` whole-process runs of ``argv`` (output discarded)."""

    def once() -> None:
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True, env=env)

    once()  # warm the page cache and the .pyc files
    return median_time(once, repeat)


def interleaved_process_times(
    commands: dict[str, Sequence[str]], repeat: int, *, env: dict[str, str] | None = None
) -> dict[str, float]:
    """Median wall seconds of each command, runs interleaved so load drifts hit all alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for argv in commands.values():
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True, env=env)
    for _ in range(repeat):
        for name, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, check=True, env=env)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


@contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A scratch folder on the real disk (not tmpfs), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"sw-bench-{prefix}-") as folder:
        yield Path(folder)


def bench_env(home: Path) -> dict[str, str]:
    """An environment with its own empty config home (and data and cache), so a user's config
    cannot interfere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIDEWATCH_")}
    # Bytecode cached, as an installed package has it (pip compiles on install): with
    # PYTHONDONTWRITEBYTECODE set, every module edited since its last .pyc was compiled again
    # on every start, inflating whichever command imports more of the package.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["XDG_CONFIG_HOME"] = str(home / "config")
    env["XDG_DATA_HOME"] = str(home / "data")
    env["XDG_CACHE_HOME"] = str(home / "cache")
    return env


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, str]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "CPU": cpu_model(),
        "cores": str(os.cpu_count()),
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "SQLite": __import__("sqlite3").sqlite_version,
        "OS": f"{platform.system()} {platform.release()}",
        "load average at start": " ".join(f"{x:.2f}" for x in load),
    }


def rss_kb() -> tuple[int, int]:
    """(VmRSS, VmHWM) of this process in kB, from /proc/self/status."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


def profile_excerpt(func: Callable[[], object], lines: int = 14) -> str:
    """cProfile of one call of ``func``: the top ``lines`` functions by own time."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(func)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime")
    stats.print_stats(lines)
    text = out.getvalue()
    start = text.find("   ncalls")
    return text[start:].rstrip() if start >= 0 else text.rstrip()
