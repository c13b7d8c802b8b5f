"""Start-up of the read commands (issue 18): an up-to-date database is opened and read with
plain sqlite3; sqlite-utils is imported only for a file that needs a migration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from agent.store import Store

ROOT = Path(__file__).resolve().parent.parent

OPEN_AND_READ = """
import sys
from pathlib import Path
from agent.store import Store
with Store.open(Path(sys.argv[1])) as store:
    store.runs()
    store.stored_alerts()
    store.pain_reports()
print("sqlite_utils" in sys.modules)
"""


def imports_sqlite_utils(db: Path) -> bool:
    result = subprocess.run(
        [sys.executable, "-c", OPEN_AND_READ, str(db)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return result.stdout.strip() == "True"


def test_up_to_date_database_opens_without_sqlite_utils(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    assert imports_sqlite_utils(db)  # a new file: the migrations create it
    assert not imports_sqlite_utils(db)  # then up to date: plain sqlite3


def test_older_database_is_migrated_through_sqlite_utils(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    Store.open(db).close()
    with Store.open(db) as store:
        store.conn.execute("delete from _sqlite_migrations where name = 'm010_synced_files'")
        store.conn.execute("drop table synced_files")
        store.conn.commit()
    assert imports_sqlite_utils(db)
    with Store.open(db) as store:
        assert "synced_files" in store.db.table_names()
