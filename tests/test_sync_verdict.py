"""The verdict after a sync pass (agent/files/sync.py): which run it names and how, the rules'
finding it speaks for, and which runs get an after-run pain check-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.config import Settings
from agent.config_load import load_settings
from agent.files.sync import Synced, verdict
from agent.store import Store

# A Wednesday evening in a UTC zone.
AT = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)


def settings() -> Settings:
    return load_settings(environ={"STRIDEWATCH_TIMEZONE": "UTC"})


def add(store: Store, start: datetime, km: float) -> int:
    return store.add_run(
        started_at=start, distance_m=km * 1000, moving_s=km * 360, elapsed_s=km * 360,
        source="import",
    )  # fmt: skip


def synced(*run_ids: int) -> list[Synced]:
    return [Synced(Path(f"/sync/{i}.fit"), "imported", None, (i,), (i,)) for i in run_ids]


@pytest.mark.parametrize(
    ("start", "said"),
    [
        (AT - timedelta(hours=12), "this morning's"),
        (AT - timedelta(hours=5), "this afternoon's"),
        (AT - timedelta(hours=1, minutes=30), "this evening's"),
        (AT - timedelta(days=1, hours=1), "yesterday evening's"),
        (AT - timedelta(days=3), "Sunday's"),
        (AT - timedelta(days=30), "2026-10-26's"),
    ],
)
def test_the_run_is_named_by_when_it_was(tmp_path: Path, start: datetime, said: str) -> None:
    with Store.open(tmp_path / "db.sqlite") as store:
        run_id = add(store, start, 8.0)
        found = verdict(store, settings(), synced(run_id), AT)
    assert found is not None
    assert found.alert.message.startswith(f"Synced: {said} 8.0 km run.")
    assert found.alert.rule == "synced"
    assert found.run_id == run_id


def test_it_speaks_for_the_rules_findings_and_says_what_comes_next(tmp_path: Path) -> None:
    with Store.open(tmp_path / "db.sqlite") as store:
        for days in (8, 10, 12, 15, 17, 19):  # two weeks of 10 km runs: the longest 10 km
            add(store, AT - timedelta(days=days), 10.0)
        run_id = add(store, AT - timedelta(hours=3), 13.0)
        found = verdict(store, settings(), synced(run_id), AT)
        stored = store.stored_alerts(since=None)
    assert found is not None
    message = found.alert.message
    assert "30% longer than your longest run" in message
    assert "Next run at most" in message
    assert message.endswith("left this week.")
    assert found.alert.severity != "info"
    # The alerts the check stored are the ones the verdict covers (marked delivered with it).
    assert sorted(found.covered) == sorted(a.id for a in stored)
    assert found.covered


def test_several_runs_name_the_latest_and_count_them(tmp_path: Path) -> None:
    with Store.open(tmp_path / "db.sqlite") as store:
        ids = [add(store, AT - timedelta(days=d, hours=2), 5.0 + d) for d in (3, 2, 0)]
        found = verdict(store, settings(), synced(*ids), AT)
    assert found is not None
    assert found.alert.message.startswith("Synced 3 runs; the latest, this evening's 5.0 km run")


def test_only_recent_runs_get_an_after_run_checkin(tmp_path: Path) -> None:
    with Store.open(tmp_path / "db.sqlite") as store:
        old = add(store, AT - timedelta(days=20), 6.0)
        recent = add(store, AT - timedelta(hours=2), 6.0)
        found = verdict(store, settings(), synced(old, recent), AT)
    assert found is not None
    assert [run_id for run_id, _ in found.checkins] == [recent]


def test_no_stored_run_no_verdict(tmp_path: Path) -> None:
    skipped = [Synced(Path("/sync/ride.fit"), "skipped", "cycling activity, not a run")]
    with Store.open(tmp_path / "db.sqlite") as store:
        assert verdict(store, settings(), skipped, AT) is None
