"""Sync, idle: the daemon's memory and CPU while it watches three sync folders and nothing
lands in them, against the same daemon without sync, side by side in one run (issue 16).

Two real ``stridewatch run --device C0:FF:EE:00:00:01`` processes run side by side, each on a
private system bus of its own with the tests' mock BlueZ (``tests/bluez/rig.py``), where the
footpod never appears: each sits scanning for it, as a runner's daemon does between runs. That
is the baseline (a). The other (b) is the same and also watches three folders (``[sync]
folders``, through ``STRIDEWATCH_SYNC__FOLDERS``), so the ratios isolate what sync costs:

- ``Gadgetbridge``: an auto-export folder of a few hundred small GPX runs, flat;
- ``Sync/OpenTracks``: a Syncthing folder of exports by year and month (GPX and FIT), with
  Syncthing's hidden ``.stfolder`` and ``.stversions``;
- ``Downloads/strava``: empty, waiting for a bulk export.

Their files are synced before the daemons start (``stridewatch sync --once``) and both daemons
get a copy of that database: the steady state of a daemon started at login, every file seen
before, so (b) reads the folders at start and imports nothing. From :attr:`Sizes.settle_s`
after both are ready, both are measured over the same :attr:`Sizes.window_s` of wall time:
CPU time (:class:`Idle`), wakeups (context switches of all threads), VmRSS at the window's end
and VmHWM. Neither has a desktop session bus (nothing to deliver, and no desktop's server is
woken).
"""

from __future__ import annotations

import collections
import contextlib
import importlib
import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.common import STRIDEWATCH, Figure, Section, bench_env, scratch
from benchmarks.soak import Daemon

POD = "C0:FF:EE:00:00:01"  # allow-listed; never appears on the mock BlueZ
RUN_S = 300  # each synced run: 5 minutes, a point a second (a GPX of ~25 kB)
SPEED_MPS = 3.0
START_TIMEOUT_S = 30.0  # two daemons and two mock BlueZ starting on a busy 2-core machine
# The baseline may use next to no CPU in a window: its ratio's denominator is at least this.
CPU_FLOOR_S = 0.001

# The resident memory sync may add to the idle daemon (~50 MB): 15 MB, about one heavy library
# layer of those bounds.md lists (pydantic and the settings: +12.3 MB). What sync needs while
# idle is a watcher (watchfiles: a small Rust extension and anyio), the table of files waiting
# to settle, and the importer's modules, loaded for the pass over the folders at start.
TARGET_RSS = 1.3
# Idle CPU with three watched folders, seconds per hour. inotify costs nothing while nothing
# changes: idle sync needs only its own timers, the settle tick once a second
# (daemon.SYNC_TICK_S) and each folder's presence check every sync.poll_interval_s. On the
# benchmark machine an asyncio process doing just that uses 0.7-0.9 s/h (CPU of all threads,
# from /proc/self/task/*/schedstat, over 30-60 s); the target leaves as much again for the
# rest. 2 s/h is 0.06 % of one core, 48 s a day.
TARGET_CPU_PER_HOUR_S = 2.0


@dataclass(frozen=True, slots=True)
class Sizes:
    flat: int  # GPX runs in the Gadgetbridge folder
    months: int  # month folders in the OpenTracks folder, two runs each (a GPX and a FIT)
    settle_s: float  # from both daemons ready to the window's start
    window_s: float


FULL = Sizes(flat=300, months=24, settle_s=20.0, window_s=60.0)
QUICK = Sizes(flat=12, months=2, settle_s=3.0, window_s=4.0)


@dataclass(frozen=True, slots=True)
class Idle:
    """One daemon over the window: CPU and wakeups in it, memory at its end."""

    # CPU time in the window: the run time of the process's threads, from
    # /proc/PID/task/*/schedstat (nanoseconds; living threads only). utime+stime of
    # /proc/PID/stat counts gone threads too, but in 10 ms clock ticks: an idle daemon may use
    # less than one a minute, and a difference of two readings is off by up to a tick. It is
    # taken instead only when it is more than a tick above (a thread ended in the window).
    cpu_s: float
    ticks_s: float  # by /proc/PID/stat alone
    wakeups: int
    window_s: float
    rss_start_kb: int
    rss_kb: int
    hwm_kb: int
    threads: int

    @property
    def cpu_per_hour_s(self) -> float:
        return self.cpu_s / self.window_s * 3600

    @property
    def wakeups_per_s(self) -> float:
        return self.wakeups / self.window_s


@dataclass(frozen=True, slots=True)
class Measured:
    sizes: Sizes
    base: Idle
    sync: Idle
    files: dict[str, int]  # sync folder (name) -> activity files in it
    presync: dict[str, int]  # `sync --once` outcomes -> files
    startup_lines: tuple[str, ...]  # what the daemon with sync logged about its folders, files
    # Of those, anything but "watching": a file seen before decided again, a warning. None
    # expected: a restarted daemon imports nothing it synced before.
    unexpected: tuple[str, ...]


def run(quick: bool) -> Section:
    with scratch("sync-idle") as folder:
        return report(measure(folder, QUICK if quick else FULL))


def measure(folder: Path, sizes: Sizes) -> Measured:
    """Make the folders, sync them, and measure both daemons side by side."""
    folders = make_folders(folder / "home", sizes)
    env = {**bench_env(folder), "PYTHONUNBUFFERED": "1", "TZ": "UTC"}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    sync_env = {**env, "STRIDEWATCH_SYNC__FOLDERS": json.dumps([str(f) for f in folders])}
    presync = sync_once(folder / "sync.db", sync_env)
    copy_database(folder / "sync.db", folder / "base.db")
    with ExitStack() as stack:
        daemons = {
            name: start_daemon(stack, folder, name, daemon_env)
            for name, daemon_env in (("base", env), ("sync", sync_env))
        }
        ready = max(wait_for_line(d, "ready: recording to") for d in daemons.values())
        for watched in folders:
            wait_for_line(daemons["sync"], f"sync: watching {watched} (inotify)")
        time.sleep(max(0.0, ready + sizes.settle_s - time.monotonic()))
        idle = measure_window({n: d.proc.pid for n, d in daemons.items()}, sizes.window_s)
        for name, daemon in daemons.items():
            if daemon.end(signal.SIGTERM) != 0:
                raise RuntimeError(f"sync_idle: the {name} daemon did not stop cleanly:\n"
                                   + daemon.stderr())  # fmt: skip
    lines = sync_lines(daemons["sync"], home=folder / "home")
    return Measured(
        sizes=sizes,
        base=idle["base"],
        sync=idle["sync"],
        files={f.name: sum(1 for _ in activity_files(f)) for f in folders},
        presync=presync,
        startup_lines=lines,
        unexpected=tuple(line for line in lines if not line.startswith("sync: watching ")),
    )


def sync_lines(daemon: Daemon, home: Path) -> tuple[str, ...]:
    """What ``daemon`` logged about its sync folders and files, ``home`` written ``~``."""
    return tuple(
        line.split("stridewatch.sync: ", 1)[1].replace(str(home), "~")
        for _, line in daemon.lines
        if "stridewatch.sync: " in line
    )


def start_daemon(stack: ExitStack, folder: Path, name: str, env: dict[str, str]) -> Daemon:
    """``stridewatch run --device POD`` on ``folder/NAME.db``, on a private system bus of its
    own with the mock BlueZ, where the footpod never appears; scanning for it once started."""
    # The tests' rig, imported by name: it needs dbus-python, which ships no type hints.
    rig = importlib.import_module("tests.bluez.rig")
    bus: str = stack.enter_context(rig.private_system_bus())
    stack.enter_context(rig.spawn_bluez(bus, folder / f"bluez-{name}.log"))
    argv = [STRIDEWATCH, "--db", str(folder / f"{name}.db"), "run", "--device", POD]
    daemon = stack.enter_context(Daemon.start(argv, {**env, "DBUS_SYSTEM_BUS_ADDRESS": bus}))
    wait_for_line(daemon, f"sensors: watching for {POD}")
    return daemon


def report(m: Measured) -> Section:
    section = Section("Sync, idle daemon")
    a, b = m.base, m.sync
    files = ", ".join(f"{name} {count}" for name, count in m.files.items())
    idle_for = f"{m.sizes.settle_s + m.sizes.window_s:g} s idle"
    for name, value, target, unit, detail in (
        (
            "VmRSS idle, three sync folders / without sync",
            b.rss_kb / a.rss_kb,
            TARGET_RSS,
            "x",
            f"{_mb(b.rss_kb)} vs {_mb(a.rss_kb)} MB after {idle_for} (at the window's start "
            f"{_mb(b.rss_start_kb)} vs {_mb(a.rss_start_kb)}); threads {b.threads} vs "
            f"{a.threads}; activity files: {files}",
        ),
        (
            "peak RSS (VmHWM), three sync folders / without sync",
            b.hwm_kb / a.hwm_kb,
            TARGET_RSS,
            "x",
            f"{_mb(b.hwm_kb)} vs {_mb(a.hwm_kb)} MB; the peak includes the start, where the "
            "daemon with sync reads its folders and finds every file seen before",
        ),
        (
            "idle CPU, three sync folders / without sync",
            b.cpu_s / max(a.cpu_s, CPU_FLOOR_S),
            None,
            "x",
            f"{b.cpu_s * 1000:.1f} vs {a.cpu_s * 1000:.1f} ms over the same {a.window_s:.0f} s "
            f"(by /proc/PID/stat alone {b.ticks_s * 1000:.0f} vs {a.ticks_s * 1000:.0f} ms, "
            "10 ms ticks); a ratio to next to nothing: see the figures per hour",
        ),
        (
            "idle CPU per hour, without sync",
            a.cpu_per_hour_s,
            None,
            " s/h",
            f"{a.cpu_per_hour_s / 36:.4f} % of one core; {a.wakeups_per_s:.1f} wakeups/s "
            f"(context switches of all threads); over {a.window_s:.0f} s, side by side",
        ),
        (
            "idle CPU per hour, three sync folders",
            b.cpu_per_hour_s,
            TARGET_CPU_PER_HOUR_S,
            " s/h",
            f"{b.cpu_per_hour_s / 36:.4f} % of one core; {b.wakeups_per_s:.1f} wakeups/s "
            f"(without sync {a.wakeups_per_s:.1f})",
        ),
    ):
        section.add(Figure("sync_idle", name, value, target, False, unit=unit, detail=detail))
    section.notes.append(_notes(m))
    return section


def _notes(m: Measured) -> str:
    presync = ", ".join(f"{count} {status}" for status, count in sorted(m.presync.items()))
    text = (
        f"Both daemons ran side by side, each on its own private system bus and mock BlueZ, "
        f"measured over the same {m.sizes.window_s:g} s from {m.sizes.settle_s:g} s after both "
        f"were ready. Before they started, `sync --once` took the folders' files: {presync}. "
        "What the daemon with sync logged about them:\n\n```\n"
        + "\n".join(m.startup_lines)
        + "\n```"
    )
    if m.unexpected:
        text += (
            f"\n\nOf these, {len(m.unexpected)} line(s) say more than where it watches: a "
            "restarted daemon should decide no file it synced before, and find nothing wrong."
        )
    return text


def _mb(kb: int) -> str:
    return f"{kb / 1024:.1f}"


# -- the folders -----------------------------------------------------------------------------


def make_folders(home: Path, sizes: Sizes) -> list[Path]:
    """The three sync folders, their files dated in the past (their times too: long synced)."""
    from tests.files.fit_maker import Leg, make_fit
    from tests.files.xml_maker import gpx, north

    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    flat = home / "Gadgetbridge"
    flat.mkdir(parents=True)
    for day in range(1, sizes.flat + 1):
        start = today - timedelta(days=day, hours=-7)  # mornings
        text = gpx([north(start, RUN_S, SPEED_MPS)], sport="running", creator="Gadgetbridge")
        _write(flat / f"gadgetbridge-track-{start:%Y-%m-%dT%H%M}.gpx", text.encode(), start)
    nested = home / "Sync" / "OpenTracks"
    (nested / ".stfolder").mkdir(parents=True)
    (nested / ".stversions").mkdir()
    for k in range(1, 2 * sizes.months + 1):
        start = today - timedelta(days=15 * k, hours=-18)  # evenings, twice a month
        month = nested / f"{start:%Y}" / f"{start:%m}"
        month.mkdir(parents=True, exist_ok=True)
        if k % 2:
            leg = Leg("RUNNING", RUN_S, RUN_S * SPEED_MPS, hr=150)
            _write(month / f"{start:%Y-%m-%d-%H-%M-%S}.fit", make_fit(start, [leg]), start)
        else:
            text = gpx([north(start, RUN_S, SPEED_MPS)], sport="running", creator="OpenTracks")
            _write(month / f"{start:%Y-%m-%dT%H_%M}.gpx", text.encode(), start)
    first = next(activity_files(nested))
    (nested / ".stversions" / first.name).write_bytes(first.read_bytes())
    empty = home / "Downloads" / "strava"
    empty.mkdir(parents=True)
    return [flat, nested, empty]


def _write(path: Path, data: bytes, start: datetime) -> None:
    path.write_bytes(data)
    end = (start + timedelta(seconds=RUN_S)).timestamp()
    os.utime(path, (end, end))


def activity_files(folder: Path) -> Iterator[Path]:
    from agent.files.folders import activity_files as found

    return found(folder)


def sync_once(db: Path, env: dict[str, str]) -> dict[str, int]:
    """``stridewatch sync --once --json``: the outcomes, counted."""
    argv = [STRIDEWATCH, "--db", str(db), "sync", "--once", "--json"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"sync_idle: `sync --once` failed: {done.stderr.strip()}")
    files = json.loads(done.stdout)["files"]
    return dict(collections.Counter(str(f["status"]) for f in files))


def copy_database(source: Path, target: Path) -> None:
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    target.chmod(0o600)


# -- reading the processes -------------------------------------------------------------------


def wait_for_line(daemon: Daemon, text: str) -> float:
    """The monotonic time ``daemon`` logged a line containing ``text``."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        for at, line in list(daemon.lines):
            if text in line:
                return at
        if daemon.proc.poll() is not None:
            break
        time.sleep(0.01)
    raise RuntimeError(f"sync_idle: no {text!r} from the daemon:\n{daemon.stderr()}")


def measure_window(pids: dict[str, int], window_s: float) -> dict[str, Idle]:
    """Each process over the same ``window_s``: CPU and wakeups in it, memory at its end."""
    before = {name: _counters(pid) for name, pid in pids.items()}
    started = time.monotonic()
    time.sleep(window_s)
    after = {name: _counters(pid) for name, pid in pids.items()}
    elapsed = time.monotonic() - started
    found = {}
    for name, pid in pids.items():
        status = _status(pid)
        (run0, ticks0, wake0, rss0), (run1, ticks1, wake1, _) = before[name], after[name]
        found[name] = Idle(
            cpu_s=_cpu_s(run1 - run0, ticks1 - ticks0),
            ticks_s=ticks1 - ticks0,
            wakeups=wake1 - wake0,
            window_s=elapsed,
            rss_start_kb=rss0,
            rss_kb=int(status["VmRSS"].split()[0]),
            hwm_kb=int(status["VmHWM"].split()[0]),
            threads=int(status["Threads"]),
        )
    return found


def _cpu_s(run_s: float, ticks_s: float) -> float:
    """The CPU time of a window from the threads' run time and utime+stime (see :class:`Idle`)."""
    ended = run_s < 0 or ticks_s > run_s + tick_s()  # a thread ended, with its run time
    return ticks_s if ended else run_s


def tick_s() -> float:
    return 1 / os.sysconf("SC_CLK_TCK")


def _counters(pid: int) -> tuple[float, float, int, int]:
    """What :func:`measure_window` reads of ``pid``: the run time of its threads and its
    utime+stime (seconds; see :class:`Idle`), its threads' context switches, VmRSS (kB)."""
    run_ns, switches = 0, 0
    for task in _tasks(pid):
        # A thread gone meanwhile, or a kernel without schedstat, adds nothing.
        with contextlib.suppress(OSError, ValueError, IndexError):
            run_ns += int((task / "schedstat").read_text().split()[0])
        status = _status_of(task / "status")
        switches += int(status.get("voluntary_ctxt_switches", 0))
        switches += int(status.get("nonvoluntary_ctxt_switches", 0))
    rss = int(_status(pid)["VmRSS"].split()[0])
    return run_ns / 1e9, stat_cpu_s(pid), switches, rss


def stat_cpu_s(pid: int) -> float:
    """utime+stime of ``/proc/PID/stat``, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) * tick_s()


def _tasks(pid: int) -> list[Path]:
    return list(Path(f"/proc/{pid}/task").iterdir())


def _status(pid: int) -> dict[str, str]:
    return _status_of(Path(f"/proc/{pid}/status"))


def _status_of(path: Path) -> dict[str, str]:
    try:
        text = path.read_text()
    except OSError:
        return {}
    pairs = (line.partition(":") for line in text.splitlines())
    return {key: value.strip() for key, _, value in pairs}
