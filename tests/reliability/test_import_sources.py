"""What an import reads (issue #15, items 5, 7, 8 and 19): each input once, files only.

* A stream that can be read only once (``-``, a FIFO, ``/dev/stdin``) named twice is
  refused before anything is read (the second read would lose what the first took).
* Walking a directory keeps regular files only: a symlink loop, a dangling link, a FIFO, a
  socket or a device is skipped (a FIFO would wait for a writer for ever, ``/dev/zero``
  never ends); a FIFO named directly is still read.
* The store's own database files inside an imported directory are skipped, as the rejects
  file is; named directly, they are refused.

The cases that hung before are run in a child process with a timeout.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from newsstore import InvalidRecordError
from newsstore._files import iter_files
from newsstore._store.sqlite import SQLiteStore
from newsstore_cli.app import app

CLI = [sys.executable, "-c", "from newsstore_cli.app import main; main()"]


def line(n: int) -> str:
    return json.dumps(
        {"url": f"https://n.example.com/{n}", "title": f"第{n}篇"}, ensure_ascii=False
    )


def write(path: Path, *numbers: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line(n) + "\n" for n in numbers), encoding="utf-8")
    return path


def run(*args: str, stdin: str | None = None) -> Result:
    result = CliRunner().invoke(app, list(args), input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(result.output) from result.exception
    assert "Traceback" not in result.output
    return result


def spawn(
    *args: str, stdin: bytes | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(
            [*CLI, *args],
            input=None if stdin is None else stdin.decode(),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL if stdin is None else None,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"newsstore {' '.join(args)} hung")
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def numbers(db: Path) -> set[int]:
    with SQLiteStore(db) as store:
        return {int((s.url or "").rsplit("/", 1)[1]) for s in store.find()}


# -- item 5: a stream named twice -----------------------------------------------------------


def test_stdin_named_twice_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    good = write(tmp_path / "good.ndjson", 2)
    result = run("import", "--store", str(db), "-", str(good), "-", stdin=line(1) + "\n")
    assert result.exit_code == 1
    assert result.stderr == "Error: <stdin>: named twice: a stream can be read only once\n"
    assert numbers(db) == set()  # not even good.ndjson: refused up front


def test_the_library_refuses_it_without_touching_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Untouchable(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            raise AssertionError("standard input was read")

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(Untouchable())))
    with SQLiteStore(tmp_path / "s.db") as store:
        with pytest.raises(InvalidRecordError, match="named twice"):
            store.import_records(["-", write(tmp_path / "a.ndjson", 1), "-"])
        assert store.stats().snapshots == 0


def test_stdin_and_dev_stdin_are_one_stream(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    proc = spawn("import", "--store", str(db), "-", "/dev/stdin", stdin=(line(1) + "\n").encode())
    assert proc.returncode == 1
    assert proc.stderr == "Error: /dev/stdin: named twice (as -): a stream can be read only once\n"


def test_a_fifo_named_twice_is_refused_without_opening_it(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    proc = spawn("import", "--store", str(tmp_path / "s.db"), str(fifo), str(fifo), timeout=20)
    assert proc.returncode == 1
    assert proc.stderr == f"Error: {fifo}: named twice: a stream can be read only once\n"


def test_a_regular_file_named_twice_is_read_twice(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    good = write(tmp_path / "good.ndjson", 1)
    result = run("import", "-q", "--store", str(db), str(good), str(good))
    assert result.exit_code == 0, result.output
    assert numbers(db) == {1}


# -- items 7 and 8: what a directory walk reads ----------------------------------------------


@pytest.fixture
def odd_dir(tmp_path: Path) -> Path:
    """crawl/ with good files around a loop of links, a dangling link, a FIFO and a socket."""
    crawl = tmp_path / "crawl"
    write(crawl / "a.ndjson", 1)
    write(crawl / "sub" / "z.ndjson", 2)
    os.symlink("loop2", crawl / "loop1")
    os.symlink("loop1", crawl / "loop2")
    os.symlink("self", crawl / "self")
    os.symlink("missing.ndjson", crawl / "dangling.ndjson")
    os.mkfifo(crawl / "pipe.ndjson")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(crawl / "sock"))
    listener.close()
    return crawl


@pytest.mark.parametrize("follow", [False, True], ids=["no-follow", "follow"])
def test_a_directory_walk_keeps_regular_files_only(odd_dir: Path, follow: bool) -> None:
    found = list(iter_files([odd_dir], follow_symlinks=follow))
    assert found == [str(odd_dir / "a.ndjson"), str(odd_dir / "sub" / "z.ndjson")]


@pytest.mark.parametrize("follow", [[], ["--follow-symlinks"]], ids=["no-follow", "follow"])
def test_importing_it_skips_the_rest_and_never_hangs(
    odd_dir: Path, tmp_path: Path, follow: list[str]
) -> None:
    db = tmp_path / "s.db"
    proc = spawn("import", "-q", "--store", str(db), *follow, str(odd_dir), timeout=30)
    assert proc.returncode == 0, proc.stderr
    # Only a link that leads nowhere is worth a line (a FIFO, socket or device is not a
    # file to import); it is named, with why.
    lines = proc.stderr.splitlines()
    assert all(line.startswith("skipped: ") and "leads nowhere" in line for line in lines)
    assert numbers(db) == {1, 2}


def test_devices_are_skipped_even_through_followed_links(tmp_path: Path) -> None:
    crawl = tmp_path / "crawl"
    write(crawl / "a.ndjson", 1)
    os.symlink("/dev/zero", crawl / "zero.ndjson")  # never ends
    os.symlink("/dev/null", crawl / "null.ndjson")
    if os.geteuid() == 0:
        os.mknod(crawl / "zero-node", 0o600 | 0o020000, os.makedev(1, 5))
    db = tmp_path / "s.db"
    proc = spawn("import", "-q", "--store", str(db), "--follow-symlinks", str(crawl))
    assert proc.returncode == 0, proc.stderr
    assert numbers(db) == {1}


def test_a_fifo_named_directly_is_still_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "w", encoding="utf-8") as fp:
            fp.write(line(1) + "\n" + line(2) + "\n")

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    db = tmp_path / "s.db"
    result = run("import", "-q", "--store", str(db), str(fifo))
    writer.join(5)
    assert result.exit_code == 0, result.output
    assert numbers(db) == {1, 2}


# -- item 19: the store's own files inside an imported directory ----------------------------


def test_the_stores_own_files_inside_an_imported_directory_are_skipped(tmp_path: Path) -> None:
    crawl = tmp_path / "crawl"
    write(crawl / "a.ndjson", 1)
    with SQLiteStore(crawl / "news.db") as store:
        assert (crawl / "news.db-wal").exists()  # open in WAL mode: all three are there
        for _ in range(2):  # on every run
            report = store.import_records([crawl])
            assert report.rejected == 0, report
        assert store.stats().snapshots == 1


def test_the_stores_own_files_by_another_name_are_skipped(tmp_path: Path) -> None:
    crawl = tmp_path / "crawl"
    write(crawl / "a.ndjson", 1)
    with SQLiteStore(tmp_path / "news.db") as store:
        os.link(tmp_path / "news.db", crawl / "copy.db")  # a hard link is the same file
        os.symlink(tmp_path / "news.db-wal", crawl / "wal")
        report = store.import_records([crawl], follow_symlinks=True)
        assert report.rejected == 0, report


@pytest.mark.parametrize("suffix", ["", "-wal"])
def test_the_stores_own_file_named_directly_is_refused(tmp_path: Path, suffix: str) -> None:
    with SQLiteStore(tmp_path / "news.db") as store:
        named = f"{store.path}{suffix}"
        with pytest.raises(InvalidRecordError, match="is the store's own database file"):
            store.import_records([write(tmp_path / "a.ndjson", 1), named])
        assert store.stats().snapshots == 0


def test_the_cli_skips_the_stores_files_in_an_imported_directory(tmp_path: Path) -> None:
    crawl = tmp_path / "crawl"
    write(crawl / "a.ndjson", 1)
    db = crawl / "news.db"
    SQLiteStore(db).close()
    result = run("import", "-q", "--store", str(db), str(crawl))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
