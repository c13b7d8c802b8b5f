"""The systemd user service: the unit file, its installation, and the sd_notify protocol.

The unit is rendered here (``systemd/stridewatch.service`` in the repository is this
rendering with a portable ``ExecStart``; a test keeps them equal). ``stridewatch service
install`` writes it with the absolute path of the running ``stridewatch`` to the user's
systemd folder, reloads the user manager and enables the service.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from agent.safe_write import check_target, write_file

UNIT_NAME = "stridewatch.service"
PORTABLE_EXEC = "/usr/bin/env stridewatch run"
# The daemon pings the watchdog at half this interval; a hung event loop is restarted.
WATCHDOG_S = 60

UNIT_TEMPLATE = """\
# stridewatch: a running-load monitor for BLE footpods and heart-rate straps.
# Installed by `stridewatch service install`; `stridewatch service status` shows its state.
[Unit]
Description=stridewatch running-load monitor
# Notifications need the desktop session bus: start with the graphical session, stop with it.
After=graphical-session.target
PartOf=graphical-session.target
Requisite=graphical-session.target

[Service]
Type=notify
NotifyAccess=main
ExecStart={exec_start}
Restart=on-failure
RestartSec=10s
WatchdogSec={watchdog}s
TimeoutStopSec=10s
Environment=PYTHONUNBUFFERED=1
# Sandboxing. BlueZ is reached over the system D-Bus and notifications over the session bus,
# both Unix sockets, so AF_UNIX is the only address family needed. The home folder is
# read-only except stridewatch's own data and config folders.
NoNewPrivileges=yes
LockPersonality=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
SystemCallArchitectures=native
RestrictAddressFamilies=AF_UNIX
UMask=0077
ProtectSystem=strict
ProtectHome=read-only
PrivateTmp=yes
ReadWritePaths={writable}

[Install]
WantedBy=graphical-session.target
"""


# How every unit this module writes starts: an existing file that starts so is ours to replace.
UNIT_SIGNATURE = UNIT_TEMPLATE.partition("\n")[0].encode("utf-8")
FORCE_ADVICE = "stridewatch did not write it (move it away, or add --force to replace it)"


def render_unit(exec_start: str = PORTABLE_EXEC, writable: Sequence[str] = ()) -> str:
    """The unit text; ``writable`` are extra folders the daemon may write to."""
    paths = [*own_folders(), *(unit_word(path) for path in writable)]
    return UNIT_TEMPLATE.format(
        exec_start=exec_start, watchdog=WATCHDOG_S, writable=" ".join(dict.fromkeys(paths))
    )


def own_folders() -> list[str]:
    """stridewatch's data and config folders as the unit names them (``-`` first: either may
    not exist yet): ``%h/...`` for the XDG defaults, else the folders that
    ``XDG_DATA_HOME`` and ``XDG_CONFIG_HOME`` give, where agent/config.py reads and writes."""
    home = Path.home()
    folders = []
    for found, default in (
        (platformdirs.user_data_dir("stridewatch"), ".local/share/stridewatch"),
        (platformdirs.user_config_dir("stridewatch"), ".config/stridewatch"),
    ):
        folder = Path(found).expanduser().absolute()
        # the "-" inside any quotes: systemd unquotes a word before reading its prefix
        folders.append(f"-%h/{default}" if folder == home / default else unit_word(f"-{folder}"))
    return folders


# The unit's PrivateTmp=yes gives the daemon /tmp and /var/tmp of its own, empty and removed
# when it stops (systemd.exec(5)): a database or config file there is not the one it sees.
PRIVATE_TMP = (Path("/tmp"), Path("/var/tmp"))


def in_private_tmp(path: Path) -> Path | None:
    """The folder of :data:`PRIVATE_TMP` that ``path`` is in (as given, or once links are
    resolved), else None."""
    given = Path(os.path.abspath(path.expanduser()))
    for where in (given, given.resolve()):
        for tmp in PRIVATE_TMP:
            if tmp in where.parents:
                return tmp
    return None


def unit_path() -> Path:
    """``$XDG_CONFIG_HOME/systemd/user/stridewatch.service``."""
    return Path(platformdirs.user_config_dir("systemd")) / "user" / UNIT_NAME


def executable() -> str:
    """The absolute path of the ``stridewatch`` command that is running now."""
    found = shutil.which("stridewatch")
    candidate = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    if candidate is not None and candidate.name == "stridewatch" and candidate.is_file():
        return str(candidate)
    if found:
        return str(Path(found).resolve())
    return f"{Path(sys.executable).resolve()} -m agent"


@dataclass(frozen=True, slots=True)
class Step:
    """One thing ``service install|uninstall`` did, and whether it worked."""

    ok: bool
    text: str


def systemctl(*args: str) -> Step:
    """Run ``systemctl --user ARGS``; report its outcome in one line."""
    command = ["systemctl", "--user", *args]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except FileNotFoundError:
        return Step(False, f"`{' '.join(command)}`: systemctl is not installed")
    except subprocess.TimeoutExpired:
        return Step(False, f"`{' '.join(command)}`: timed out")
    output = (done.stderr or done.stdout).strip().splitlines()
    detail = f": {output[0]}" if output and done.returncode else ""
    return Step(done.returncode == 0, f"`{' '.join(command)}`{detail}")


def unit_word(text: str) -> str:
    """``text`` as one word of a unit's ExecStart: quoted when it has spaces or quotes, and
    with systemd's specifiers (``%``) and variables (``$``) escaped (systemd.service(5))."""
    escaped = text.replace("%", "%%").replace("$", "$$")
    if not any(c in escaped for c in " \t\"'\\"):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def user_manager() -> Step:
    """Whether a systemd user manager answers (a desktop session, or lingering enabled)."""
    step = systemctl("show-environment")
    if step.ok:
        return Step(True, "systemd user manager found")
    return Step(
        False,
        f"no systemd user manager here ({step.text}): run `stridewatch service install` in "
        "your desktop session, or let your services run without a login first: "
        "`loginctl enable-linger $USER`",
    )


def install(exec_start: str, writable: Sequence[str] = (), *, force: bool = False) -> list[Step]:
    """Write the unit (0600, atomically: :func:`agent.safe_write.write_file`), reload the
    user manager and enable the service; one :class:`Step` per thing done. ``writable``
    folders are written resolved: absolute, as systemd needs them. A unit file an
    earlier ``install`` wrote is replaced; any other file or link at its path only with
    ``force`` (:class:`agent.safe_write.OutputError`, exit 2, otherwise)."""
    path = unit_path()
    replace = force or _ours(path)
    check_target(path, force=replace, advice=FORCE_ADVICE)  # before asking systemd anything
    manager = user_manager()
    if not manager.ok:
        return [manager]
    path.parent.mkdir(parents=True, exist_ok=True)
    # systemd ignores a relative path (and ProtectHome would leave the folder read-only)
    folders = [Path(p).expanduser().resolve() for p in writable]
    for folder in folders:  # systemd cannot set up a unit whose ReadWritePaths is missing
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            return [Step(False, f"cannot create {folder} for the daemon: {exc.strerror}")]
    text = render_unit(exec_start, [str(folder) for folder in folders])
    write_file(path, text.encode("utf-8"), force=replace, advice=FORCE_ADVICE)
    steps = [Step(True, f"wrote {path} (ExecStart={exec_start})")]
    steps.append(systemctl("daemon-reload"))
    if steps[-1].ok:
        steps.append(systemctl("enable", "--now", UNIT_NAME))
    return steps


def _ours(path: Path) -> bool:
    """A regular file (not a link) that an earlier ``install`` wrote: it starts as ours do."""
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as handle:
        return handle.read(len(UNIT_SIGNATURE)) == UNIT_SIGNATURE


def uninstall() -> list[Step]:
    path = unit_path()
    steps = [systemctl("disable", "--now", UNIT_NAME)]
    if path.exists():
        path.unlink()
        steps.append(Step(True, f"removed {path}"))
    else:
        steps.append(Step(True, f"{path} was not there"))
    steps.append(systemctl("daemon-reload"))
    return steps


def status() -> list[Step]:
    path = unit_path()
    installed = Step(path.exists(), f"unit file {path}" + ("" if path.exists() else " missing"))
    return [installed, systemctl("is-enabled", UNIT_NAME), systemctl("is-active", UNIT_NAME)]


def sd_notify(state: str) -> bool:
    """Send ``state`` (``READY=1``, ``WATCHDOG=1``, ``STOPPING=1``) to systemd, if it listens."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract namespace socket
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            # Never block the event loop: a full notify queue drops the ping, it doesn't wait.
            sock.setblocking(False)
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError:
        return False
    return True


def watchdog_interval_s() -> float | None:
    """Half of systemd's watchdog timeout, if systemd asked this process for pings."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2_000_000
