"""Faults (issue #7): what happens when the process dies, or the store cannot be written.

* An import killed with SIGKILL part-way leaves only whole batches, and running it again
  ends with the store an uninterrupted import gives: same export, no duplicates, no
  partial records.
* A read-only store, a locked store, a full disk and an unreachable MongoDB each give one
  clear line ``Error: …`` on stderr, exit code 1, no traceback — and lose nothing that
  was already stored.

Making a file read-only is done with ``chmod`` when not root, else with ``chattr +i``
(root ignores permissions); a full disk is a 1 MiB tmpfs (needs root and ``mount``)
and, everywhere, a file-size limit (``RLIMIT_FSIZE``) on a child process. A case whose
mechanism is not available here is skipped, saying why.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from newsstore import Settings, StoreError, StoreUnavailableError, open_store
from newsstore._store import sqlite as sqlite_store
from newsstore._store.sqlite import SQLiteStore
from newsstore_cli.app import app

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-c", "from newsstore_cli.app import main; main()"]
CONTENT_FIELDS = "url,title,category,published_at,source,breadcrumbs,paragraphs,images,crawler,snapshot_at,related,more_in_category_name,more_in_category"
MONGO_URI = "mongodb://reader:s3cret-pw@127.0.0.1:1/?serverSelectionTimeoutMS=300"


def record(n: int, **fields: Any) -> str:
    data = {
        "url": f"https://n.example.com/{n}",
        "title": f"第{n}篇",
        "published_at": "2023-11-14 11:19:00",
        "paragraphs": ["段落" * 20, "第二段"],
        **fields,
    }
    return json.dumps(data, ensure_ascii=False)


def write_ndjson(path: Path, count: int, **fields: Any) -> Path:
    path.write_text("".join(record(n, **fields) + "\n" for n in range(count)), encoding="utf-8")
    return path


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def assert_one_line_error(result: Result, *parts: str) -> None:
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError("uncaught exception") from result.exception
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output
    for part in parts:
        assert part in result.stderr, (part, result.stderr)


def export(db: Path) -> str:
    result = run("export", "--store", str(db), "--fields", CONTENT_FIELDS, "--sort", "oldest")
    assert result.exit_code == 0, result.output
    return result.stdout


def count_rows(db: Path) -> int:
    """Rows committed so far, read as another process would (WAL lets readers in)."""
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as con:
            return int(con.execute("SELECT count(*) FROM snapshots").fetchone()[0])
    except sqlite3.Error:
        return 0  # not created yet


def integrity(db: Path) -> str:
    with closing(sqlite3.connect(db)) as con:
        return str(con.execute("PRAGMA integrity_check").fetchone()[0])


def summary(total: int, inserted: int, unchanged: int) -> str:
    middle = f", {unchanged} unchanged" if unchanged else ""
    return f"{total} read: {inserted} inserted{middle}, 0 rejected\n"


# -- killed mid-way -------------------------------------------------------------------------
def test_import_killed_with_sigkill_then_rerun_equals_an_uninterrupted_import(
    tmp_path: Path,
) -> None:
    total, batch = 40_000, 500
    source = write_ndjson(tmp_path / "crawl.ndjson", total)
    killed = tmp_path / "killed.db"

    proc = subprocess.Popen(
        [*CLI, "import", "-q", "--batch-size", str(batch), "--store", str(killed), str(source)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while count_rows(killed) < 4 * batch:
            assert proc.poll() is None, "the import ended before it could be killed"
            assert time.monotonic() < deadline, "no batch was committed in time"
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL

    # Only whole batches were committed: each is one transaction.
    landed = count_rows(killed)
    assert 0 < landed < total
    assert landed % batch == 0
    assert integrity(killed) == "ok"

    rerun = run("import", "--store", str(killed), str(source))
    assert rerun.exit_code == 0, rerun.output
    assert rerun.stdout == summary(total, total - landed, landed)

    reference = tmp_path / "reference.db"
    assert run("import", "--store", str(reference), str(source)).exit_code == 0
    assert export(killed) == export(reference)
    with SQLiteStore(killed) as store:
        assert store.count() == total
        keys = [s.stored.key for s in store.find() if s.stored]
        assert len(keys) == len(set(keys)) == total
        assert store.stats().history == 0  # nothing imported twice became a "version"


# -- read-only store --------------------------------------------------------------------------
@contextmanager
def read_only(*paths: Path) -> Iterator[None]:
    """Make paths unwritable for this process, root included; skip when that cannot be done."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in paths}
        for p in paths:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    done: list[Path] = []
    try:
        for p in paths:
            result = subprocess.run(["chattr", "+i", str(p)], capture_output=True, check=False)
            if result.returncode != 0:
                pytest.skip(f"root ignores chmod and chattr +i failed: {result.stderr!r}")
            done.append(p)
        yield
    finally:
        for p in reversed(done):
            subprocess.run(["chattr", "-i", str(p)], check=True)


@pytest.mark.parametrize("what", ["file", "file-and-directory"])
def test_read_only_store_is_one_clear_error_and_loses_nothing(tmp_path: Path, what: str) -> None:
    folder = tmp_path / "store"
    db = folder / "news.db"
    assert (
        run("import", "--store", str(db), str(write_ndjson(tmp_path / "a.ndjson", 5))).exit_code
        == 0
    )
    before = export(db)
    more = write_ndjson(tmp_path / "more.ndjson", 8)

    with read_only(db, *([folder] if what == "file-and-directory" else [])):
        result = run("import", "--store", str(db), str(more))
        assert_one_line_error(result, str(db))
        assert any(
            reason in result.stderr
            for reason in ("attempt to write a readonly database", "unable to open database file")
        ), result.stderr
        assert result.stdout == ""
    assert export(db) == before


def test_sqlite_store_in_an_unwritable_place_cannot_be_created(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    with read_only(folder):
        result = run(
            "import", "--store", str(folder / "new.db"), str(write_ndjson(tmp_path / "a.ndjson", 1))
        )
    assert_one_line_error(result, "cannot open SQLite store", str(folder / "new.db"))


# -- locked store -----------------------------------------------------------------------------
def test_locked_store_fails_after_the_configured_timeout(tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    source = write_ndjson(tmp_path / "a.ndjson", 3)
    assert run("import", "--store", str(db), str(source)).exit_code == 0
    more = write_ndjson(tmp_path / "more.ndjson", 6)

    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # another writer, in the middle of its transaction
        started = time.monotonic()
        result = run(
            "import", "--store", str(db), str(more), env={"NEWSSTORE_SQLITE_TIMEOUT": "0.2"}
        )
        waited = time.monotonic() - started
        assert_one_line_error(result, f"SQLite store {db}: database is locked")
        assert 0.2 <= waited < 10
        # Readers are not blocked by a writer (WAL).
        found = run("find", "--store", str(db), "--json", env={"NEWSSTORE_SQLITE_TIMEOUT": "0.2"})
        assert found.exit_code == 0 and len(json.loads(found.stdout)) == 3
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # Once the lock is released the same import goes through.
    assert run("import", "--store", str(db), str(more)).stdout == (
        "6 read: 3 inserted, 3 unchanged, 0 rejected\n"
    )


def test_sqlite_timeout_setting_reaches_the_store(tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    SQLiteStore(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with open_store(settings=Settings(store=str(db), sqlite_timeout=0.05)) as store:
            started = time.monotonic()
            with pytest.raises(StoreUnavailableError, match="database is locked"):
                store.delete("https://n.example.com/1", reason="test")
            assert time.monotonic() - started < 5
    finally:
        holder.execute("ROLLBACK")
        holder.close()


# -- full disk --------------------------------------------------------------------------------
SMALL_DISK_KIB = 1024  # a new store (16 KiB pages) takes about 300 KiB


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (root only); skipped where it cannot be mounted."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SMALL_DISK_KIB}k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr!r}")
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], check=True)  # still busy: detach


@pytest.mark.parametrize("group_seconds", [0.0, sqlite_store._GROUP_SECONDS])
def test_full_disk_under_the_store(
    tmp_path: Path, small_disk: Path, group_seconds: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Batches share transactions of up to _GROUP_SECONDS; with 0 each batch commits alone,
    # which shows that what was committed before the failure stays.
    monkeypatch.setattr(sqlite_store, "_GROUP_SECONDS", group_seconds)
    source = write_ndjson(tmp_path / "a.ndjson", 1500, paragraphs=["x" * 1000])
    db = small_disk / "news.db"
    result = run("import", "--batch-size", "50", "--store", str(db), str(source))
    assert_one_line_error(result, f"SQLite store {db}: database or disk is full")
    assert integrity(db) == "ok"
    landed = count_rows(db)
    assert landed < 1500 and landed % 50 == 0  # whole batches only
    if not group_seconds:
        assert landed > 0

    # With room again, the same import completes and equals an uninterrupted one.
    moved = tmp_path / "news.db"
    with closing(sqlite3.connect(db)) as src, closing(sqlite3.connect(moved)) as dst:
        src.backup(dst)
    rerun = run("import", "--store", str(moved), str(source))
    assert rerun.stdout == summary(1500, 1500 - landed, landed)
    reference = tmp_path / "reference.db"
    run("import", "--store", str(reference), str(source))
    assert export(moved) == export(reference)


def test_full_disk_under_the_rejects_file(tmp_path: Path, small_disk: Path) -> None:
    (small_disk / "filler").write_bytes(b"\0" * ((SMALL_DISK_KIB - 6) * 1024))
    source = tmp_path / "bad.ndjson"
    source.write_text("".join(record(n, title=n) + "\n" for n in range(200)), encoding="utf-8")
    rejects = small_disk / "rejects.ndjson"
    result = run(
        "import", "--store", str(tmp_path / "news.db"), "--rejects", str(rejects), str(source)
    )
    assert_one_line_error(
        result, f"Error: {rejects}: cannot write rejects: No space left on device"
    )


def test_full_disk_under_the_export_file(tmp_path: Path, small_disk: Path) -> None:
    db = tmp_path / "news.db"
    run("import", "--store", str(db), str(write_ndjson(tmp_path / "a.ndjson", 3000)))
    out = small_disk / "out.ndjson"
    result = run("export", "--store", str(db), "-o", str(out))
    assert_one_line_error(result, f"Error: {out}: cannot write: No space left on device")


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))


def test_file_size_limit_under_the_store_in_a_child_process(tmp_path: Path) -> None:
    """The unprivileged stand-in for a full disk: writes past 1 MB fail with EFBIG."""
    source = write_ndjson(tmp_path / "a.ndjson", 3000, paragraphs=["x" * 400])
    db = tmp_path / "news.db"
    proc = subprocess.run(
        [*CLI, "import", "-q", "--batch-size", "100", "--store", str(db), str(source)],
        capture_output=True,
        text=True,
        preexec_fn=_limit_file_size,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith(f"Error: SQLite store {db}: ")
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert integrity(db) == "ok"
    landed = count_rows(db)
    # Whole batches only (a short import may fit one transaction group and land nothing).
    assert landed < 3000 and landed % 100 == 0
    rerun = run("import", "--store", str(db), str(source))
    assert rerun.stdout == summary(3000, 3000 - landed, landed)


# -- MongoDB ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["import", "{source}"],
        ["find"],
        ["get", "https://n.example.com/1"],
        ["export"],
        ["stats"],
        ["delete", "https://n.example.com/1", "--reason", "x"],
    ],
    ids=lambda a: a[0],
)
def test_unreachable_mongodb_is_one_clear_error(tmp_path: Path, args: list[str]) -> None:
    source = write_ndjson(tmp_path / "a.ndjson", 2)
    argv = [a.format(source=source) for a in args]
    started = time.monotonic()
    result = run(*argv, "--store", MONGO_URI)
    assert time.monotonic() - started < 10  # the timeout in the URI is honoured
    assert_one_line_error(result, "cannot reach MongoDB at mongodb://***@127.0.0.1:1/")
    assert "s3cret-pw" not in result.output


def test_mongodb_lost_mid_import_keeps_the_batches_written_and_a_rerun_converges(
    mongodb: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pymongo.errors import AutoReconnect

    from newsstore._store.mongo import MongoStore

    source = write_ndjson(tmp_path / "a.ndjson", 1000)
    store = MongoStore(mongodb)
    collection = type(store._snapshots)
    real_bulk_write = collection.bulk_write
    calls = {"n": 0}

    def flaky(self: Any, requests: Any, **kwargs: Any) -> Any:
        if self.name == "snapshots":
            calls["n"] += 1
            if calls["n"] == 3:
                raise AutoReconnect("connection closed by 10.0.0.7:27017")
        return real_bulk_write(self, requests, **kwargs)

    monkeypatch.setattr(collection, "bulk_write", flaky)
    with pytest.raises(StoreUnavailableError, match="MongoDB unavailable: connection closed"):
        store.import_records([source], batch_size=100)
    assert store.count() == 200  # the two batches before the failure

    report = store.import_records([source], batch_size=100)
    assert (report.inserted, report.unchanged, report.rejected) == (800, 200, 0)
    assert store.count() == 1000


def test_mongodb_document_too_large_is_a_store_error(
    mongodb: Any, monkeypatch: pytest.MonkeyPatch, make: Any
) -> None:
    """pymongo raises DocumentTooLarge, which is not a PyMongoError, for a >16 MiB document."""
    from pymongo.errors import DocumentTooLarge

    from newsstore._store.mongo import MongoStore

    store = MongoStore(mongodb)
    collection = type(store._snapshots)

    def too_large(self: Any, requests: Any, **kwargs: Any) -> Any:
        raise DocumentTooLarge("BSON document too large (17000000 bytes)")

    monkeypatch.setattr(collection, "bulk_write", too_large)
    with pytest.raises(StoreError, match="MongoDB refused a document: BSON document too large"):
        store.save(make())


def test_rejects_file_in_a_missing_directory_is_one_clear_error(tmp_path: Path) -> None:
    rejects = tmp_path / "no" / "such" / "rejects.ndjson"
    result = run(
        "import",
        "--store",
        str(tmp_path / "s.db"),
        "--rejects",
        str(rejects),
        str(write_ndjson(tmp_path / "a.ndjson", 1)),
    )
    assert_one_line_error(result, f"Error: {rejects}: No such file or directory")
