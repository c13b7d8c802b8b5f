"""The systemd user unit: verified by systemd itself, installed with the right ExecStart."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from agent.daemon import service as service_module
from agent.daemon.service import (
    PORTABLE_EXEC,
    render_unit,
    sd_notify,
    unit_path,
    watchdog_interval_s,
)

ROOT = Path(__file__).resolve().parent.parent


def verify(unit: Path, runtime: Path) -> subprocess.CompletedProcess[str]:
    """`systemd-analyze verify --user`, with a private runtime dir (no user manager here)."""
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    return subprocess.run(
        ["systemd-analyze", "verify", "--user", str(unit)],
        capture_output=True,
        text=True,
        env=env,
        cwd=unit.parent,
        check=False,
    )


def test_checked_in_unit_is_the_rendered_one() -> None:
    assert (ROOT / "systemd" / "stridewatch.service").read_text() == render_unit()


def test_checked_in_unit_passes_systemd_analyze_without_any_warning(tmp_path: Path) -> None:
    done = verify(ROOT / "systemd" / "stridewatch.service", tmp_path / "runtime")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout == ""


def test_unit_runs_as_notify_service_after_the_graphical_session() -> None:
    unit = render_unit()
    for line in (
        "Type=notify",
        "Restart=on-failure",
        "WatchdogSec=60s",
        "After=graphical-session.target",
        "WantedBy=graphical-session.target",
        "RestrictAddressFamilies=AF_UNIX",
        "ProtectSystem=strict",
    ):
        assert line in unit.splitlines(), line


@pytest.fixture
def fake_systemctl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for the `systemctl` program (the process boundary), logging its calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "systemctl.log"
    script = bin_dir / "systemctl"
    script.write_text(
        f'#!/bin/sh\necho "$@" >> {log}\n'
        'case "$*" in *is-active*) echo inactive; exit 3;; esac\nexit 0\n'
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return log


def test_install_writes_a_verified_unit_reloads_and_enables(
    sw, fake_systemctl: Path, tmp_path: Path, db: Path
) -> None:
    result = sw("service", "install")
    assert result.exit_code == 0, result.stdout + result.stderr
    unit = unit_path()
    assert unit.is_relative_to(Path(os.environ["XDG_CONFIG_HOME"]))
    text = unit.read_text()
    exec_line = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    assert exec_line.endswith(" run")
    assert os.path.isabs(exec_line.removeprefix("ExecStart=").split()[0])
    assert str(db.parent) in text
    assert fake_systemctl.read_text().splitlines() == [
        "--user show-environment",
        "--user daemon-reload",
        "--user enable --now stridewatch.service",
    ]
    assert f"ok wrote {unit}" in " ".join(result.stdout.split())  # wrapped at 80 columns
    done = verify(unit, tmp_path / "runtime")
    assert (done.returncode, done.stderr) == (0, "")


def test_install_without_a_user_manager_says_so(
    sw, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "systemctl"
    script.write_text("#!/bin/sh\necho 'Failed to connect to bus: No medium found' >&2\nexit 1\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    result = sw("service", "install", env={"COLUMNS": "80"})
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "FAIL  no systemd user manager here (`systemctl --user show-environment`: Failed",
        "      to connect to bus: No medium found): run `stridewatch service install` in",
        "      your desktop session, or let your services run without a login first:",
        "      `loginctl enable-linger $USER`",
    ]
    assert not unit_path().exists()  # nothing written that would not start


def test_status_and_uninstall(sw, fake_systemctl: Path) -> None:
    assert sw("service", "install").exit_code == 0
    status = sw("service", "status")
    assert status.exit_code == 3  # installed, not running
    assert f"yes unit file {unit_path()}" in " ".join(status.stdout.split())
    assert "no    `systemctl --user is-active stridewatch.service`: inactive" in status.stdout
    result = sw("service", "uninstall")
    assert result.exit_code == 0
    assert not unit_path().exists()
    assert "--user disable --now stridewatch.service" in fake_systemctl.read_text()


def test_sd_notify_sends_to_the_notify_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        assert sd_notify("READY=1")
        assert server.recv(64) == b"READY=1"
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert not sd_notify("READY=1")


def test_watchdog_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert watchdog_interval_s() is None
    monkeypatch.setenv("WATCHDOG_USEC", "60000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert watchdog_interval_s() == 30.0
    monkeypatch.setenv("WATCHDOG_PID", "1")
    assert watchdog_interval_s() is None


def test_unit_file_mode_is_readable(sw, fake_systemctl: Path) -> None:
    assert sw("service", "install").exit_code == 0
    assert stat.S_IMODE(unit_path().stat().st_mode) & 0o400


def test_install_again_replaces_the_unit_it_wrote(sw, fake_systemctl: Path) -> None:
    assert sw("service", "install").exit_code == 0
    unit_path().write_text(unit_path().read_text().replace("RestartSec=10s", "RestartSec=1s"))
    again = sw("service", "install")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert "RestartSec=10s" in unit_path().read_text().splitlines()
    assert stat.S_IMODE(unit_path().stat().st_mode) == 0o600


def test_a_unit_file_stridewatch_did_not_write_needs_force(
    sw, fake_systemctl: Path, tmp_path: Path
) -> None:
    unit = unit_path()
    unit.parent.mkdir(parents=True)
    unit.write_text("[Service]\nExecStart=/usr/local/bin/my-own-wrapper\n")
    refused = sw("service", "install")
    assert refused.exit_code == 2
    assert refused.stderr.splitlines() == [
        f"stridewatch: {unit}: already exists; stridewatch did not write it (move it away, "
        "or add --force to replace it)"
    ]
    assert unit.read_text() == "[Service]\nExecStart=/usr/local/bin/my-own-wrapper\n"
    assert not fake_systemctl.exists()  # nothing enabled
    forced = sw("service", "install", "--force")
    assert forced.exit_code == 0, forced.stdout + forced.stderr
    assert "Type=notify" in unit.read_text().splitlines()


def test_a_linked_unit_is_replaced_with_force_never_written_through(
    sw, fake_systemctl: Path, tmp_path: Path
) -> None:
    linked = tmp_path / "elsewhere.service"  # as `systemctl --user link` leaves it
    linked.write_text(render_unit())
    unit = unit_path()
    unit.parent.mkdir(parents=True)
    unit.symlink_to(linked)
    assert sw("service", "install").exit_code == 2
    assert unit.is_symlink()
    assert sw("service", "install", "--force").exit_code == 0
    assert not unit.is_symlink()
    assert linked.read_text() == render_unit()
    assert f"ExecStart={PORTABLE_EXEC}" not in unit.read_text().splitlines()


def test_status_of_nothing_installed_is_not_success(sw, fake_systemctl: Path) -> None:
    status = sw("service", "status")
    assert status.exit_code == 3
    assert f"no unit file {unit_path()} missing" in " ".join(status.stdout.split())


def test_install_keeps_the_database_and_config_given(
    sw, fake_systemctl: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "my runs"  # a space, and a % that systemd would expand
    folder.mkdir()
    config = tmp_path / "cfg%1.toml"
    config.write_text("")
    db = folder / "history.db"
    result = sw("--db", str(db), "--config", str(config), "service", "install", use_db=False)
    assert result.exit_code == 0, result.stdout + result.stderr
    text = unit_path().read_text()
    exec_line = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    escaped = str(config).replace("%", "%%")
    assert exec_line.endswith(f' --db "{db}" --config {escaped} run')
    assert str(folder) in text  # the daemon may write there
    done = verify(unit_path(), tmp_path / "runtime")
    assert (done.returncode, done.stderr) == (0, "")


# What systemctl says where no user bus can be reached (a console login, an ssh session).
NO_BUS = (
    "Failed to connect to bus: $DBUS_SESSION_BUS_ADDRESS and $XDG_RUNTIME_DIR not defined "
    "(consider using --machine=<user>@.host --user to connect to bus of other user)"
)


@pytest.fixture
def no_bus_systemctl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "systemctl"
    script.write_text(f"#!/bin/sh\necho '{NO_BUS}' >&2\nexit 1\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")


@pytest.mark.parametrize("args", [("install",), ("status",), ("uninstall",)])
@pytest.mark.parametrize("columns", ["80", "60"])
def test_long_advice_wraps_to_the_terminal_keeping_commands_whole(
    sw, no_bus_systemctl: None, args: tuple[str, ...], columns: str
) -> None:
    result = sw("service", *args, env={"COLUMNS": columns})
    assert result.exit_code in (1, 3)
    lines = result.stdout.splitlines()
    long = [line for line in lines if len(line) > int(columns)]
    assert all(len(line[6:].split()) == 1 for line in long), long  # a path is never cut
    assert NO_BUS.split("(")[0].strip() in " ".join(" ".join(lines).split())
    for command in ("`loginctl enable-linger $USER`", "`systemctl --user "):
        said = " ".join(result.stdout.split())
        if command in said:
            assert any(command in line for line in lines), lines
    for line in lines:  # each step's mark, then its text beneath itself
        assert line[:6].rstrip() in ("ok", "FAIL", "yes", "no", "")
        assert line[6] != " "


def test_a_relative_database_gives_absolute_paths_in_the_unit(
    sw, fake_systemctl: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    result = sw("--db", "sub/x.db", "--config", "my.toml", "service", "install", use_db=False)
    assert result.exit_code == 0, result.stdout + result.stderr
    text = unit_path().read_text()
    [writable] = [line for line in text.splitlines() if line.startswith("ReadWritePaths=")]
    paths = [path.lstrip("-") for path in writable.removeprefix("ReadWritePaths=").split()]
    assert paths[-1] == str((tmp_path / "sub").resolve())
    assert all(path.startswith(("/", "%h/")) for path in paths), paths
    exec_line = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    assert f" --db {tmp_path / 'sub' / 'x.db'} " in exec_line
    assert f" --config {tmp_path / 'my.toml'} " in exec_line
    done = verify(unit_path(), tmp_path / "runtime")
    assert (done.returncode, done.stderr) == (0, "")


def test_the_database_folder_is_made_before_the_unit_names_it(
    sw, fake_systemctl: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """systemd cannot set up a unit whose ReadWritePaths folder is missing (the daemon, under
    ProtectHome=read-only, could not make it either): install makes it, private (0700)."""
    monkeypatch.chdir(tmp_path)
    result = sw("--db", "runs/2026/x.db", "service", "install", use_db=False)
    assert result.exit_code == 0, result.stdout + result.stderr
    folder = tmp_path / "runs" / "2026"
    assert folder.is_dir()
    assert folder.stat().st_mode & 0o777 == 0o700
    assert str(folder.resolve()) in unit_path().read_text()


def test_a_database_in_tmp_is_warned_of_the_private_tmp(
    sw, fake_systemctl: Path, tmp_path: Path
) -> None:
    """The unit's PrivateTmp=yes gives the daemon a /tmp of its own: a database there would
    be another, lost when the daemon stops. Installed anyway (a test machine's choice), with
    one warning line for each such file."""
    db = tmp_path / "x.db"
    config = tmp_path / "c.toml"
    config.write_text("")
    assert db.is_relative_to("/tmp")  # pytest's folders are there
    result = sw("--db", str(db), "--config", str(config), "service", "install", use_db=False)
    assert result.exit_code == 0, result.stdout + result.stderr
    warnings = " ".join(result.stderr.split()).split("stridewatch: warning: ")
    assert warnings == [
        "",
        f"{db}: in /tmp, which the service sees private and empty (PrivateTmp=yes); the "
        "daemon would record into another database there, lost when it stops: give a --db "
        "outside it ",
        f"{config}: in /tmp, which the service sees private and empty (PrivateTmp=yes); the "
        "daemon would not find this config there",
    ]
    assert "PrivateTmp=yes" in unit_path().read_text().splitlines()


def test_install_says_everything_within_80_columns(
    sw, fake_systemctl: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warning is advice on a command that went through: wrapped to the terminal (its
    later lines indented), the paths in it whole; the step naming ExecStart too, broken
    between the command's words, never inside a path."""
    from rich.cells import cell_len

    with tempfile.TemporaryDirectory(prefix="sw") as folder:  # a path short enough to fit
        db, config = Path(folder) / "my.db", Path(folder) / "c.toml"
        config.write_text("")
        monkeypatch.setenv("XDG_CONFIG_HOME", folder)  # the unit's own path short too
        monkeypatch.setattr(service_module, "executable", lambda: "/usr/bin/stridewatch")
        result = sw(
            *("--db", str(db), "--config", str(config), "service", "install"),
            use_db=False,
            env={"COLUMNS": "80"},
        )
    assert result.exit_code == 0, result.stdout + result.stderr
    lines = (result.stdout + result.stderr).splitlines()
    assert [line for line in lines if cell_len(line) > 80] == []
    warnings = [line for line in result.stderr.splitlines() if not line.startswith("    ")]
    assert len(warnings) == 2
    assert all(w.startswith("stridewatch: warning: ") for w in warnings)
    words = result.stdout.split() + result.stderr.split()
    assert str(db) in words or f"{db}:" in words  # never cut
    said = " ".join(result.stdout.split())
    assert f"(ExecStart=/usr/bin/stridewatch --db {db} --config {config} run)" in said


def test_read_write_paths_follow_the_xdg_folders(monkeypatch: pytest.MonkeyPatch) -> None:
    """The data and config folders the daemon writes are where agent/config.py puts them:
    ``%h/...`` for the defaults, else the folders XDG_DATA_HOME and XDG_CONFIG_HOME give."""

    def writable() -> list[str]:
        [line] = [x for x in render_unit().splitlines() if x.startswith("ReadWritePaths=")]
        return line.removeprefix("ReadWritePaths=").split(" ")

    assert writable() == ["-%h/.local/share/stridewatch", "-%h/.config/stridewatch"]
    monkeypatch.setenv("XDG_DATA_HOME", "/srv/runner/data")
    monkeypatch.setenv("XDG_CONFIG_HOME", "/srv/runner/50%conf")
    assert writable() == ["-/srv/runner/data/stridewatch", "-/srv/runner/50%%conf/stridewatch"]
    monkeypatch.setenv("XDG_DATA_HOME", "/srv/my data")
    assert writable()[0] == '"-/srv/my'  # quoted whole, the "-" inside the quotes
    assert render_unit().count('"-/srv/my data/stridewatch"') == 1


def test_which_paths_the_private_tmp_hides(tmp_path: Path) -> None:
    from agent.daemon.service import in_private_tmp

    assert in_private_tmp(Path("/tmp/x.db")) == Path("/tmp")
    assert in_private_tmp(Path("/var/tmp/a/x.db")) == Path("/var/tmp")
    assert in_private_tmp(Path("/srv/runs/x.db")) is None
    assert in_private_tmp(Path("/tmpfiles/x.db")) is None
    link = tmp_path / "link"
    link.symlink_to("/var/tmp")
    assert in_private_tmp(link / "x.db") is not None
