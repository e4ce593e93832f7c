"""An import with worker processes gives exactly what an import in one process gives.

Same reports, same stored snapshots, same rejects (file and line), in file order, on both
stores, under every policy, strict, dry run, a re-import and mixed formats. The pool is made
to start at once and to take small chunks, so that a few hundred lines cross many chunks
and both workers.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsstore import InvalidRecordError, Store
from newsstore import _pipeline as pipeline
from newsstore._linememory import LineMemory, Remembered, digester
from newsstore._reading import read_records
from newsstore._store.sqlite import SQLiteStore

SAMPLE = Path(__file__).parents[1] / "data" / "snapshot-zh-intl-2023-11-14.txt"


@pytest.fixture(autouse=True)
def eager_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "START_AFTER", 0)
    monkeypatch.setattr(pipeline, "CHUNK", 16)


def _lines(count: int = 300) -> list[str]:
    """Valid records, the same URLs again (other spellings, edits, earlier and later
    times), records without a URL, and bad lines of every kind, interleaved."""
    out = []
    for n in range(count):
        k = n % 97  # keys come back across chunks
        record: dict[str, Any] = {
            "url": f"https://n.example.com/{k}.html" + ("?utm_source=x" if n % 5 == 0 else ""),
            "title": f"第{k}篇",
            "paragraphs": [f"第{k}篇的正文，第{n % 3}版。" * 3],
            "published_at": "2023-11-14 08:00:00",
            "snapshot_at": f"2023-11-{10 + n % 7:02d} 1{n % 10}:00:00",
            "related": [{"title": f"相关{n}", "published_at": "2023-11-13"}],
        }
        if n % 41 == 0:
            record["url"] = ""
        if n % 53 == 0:
            record["snapshot_at"] = {"$date": "2023-11-15T00:00:00Z"}
        out.append(json.dumps(record, ensure_ascii=False))
        if n % 11 == 0:
            out.append(out[-1])  # the same line again
        if n % 37 == 0:
            out.append('{"url": "https://n.example.com/bad", "title": ')  # not JSON
        if n % 43 == 0:
            out.append(json.dumps({"url": "ftp://n.example.com/x", "title": "t"}))  # bad URL
        if n % 59 == 0:
            out.append(json.dumps({"url": "https://n.example.com/y", "title": 5, "extra": 1}))
        if n % 61 == 0:
            out.append("")
    return out


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _export(store: Store) -> list[dict[str, Any]]:
    buf = io.StringIO()
    store.export(buf)
    return [
        {k: v for k, v in json.loads(line).items() if k != "stored"}
        for line in buf.getvalue().splitlines()
    ]


@pytest.fixture
def single(tmp_path: Path) -> Iterator[SQLiteStore]:
    """The reference: the same import in one process (SQLite; the contract suite holds
    that MongoDB gives the same)."""
    with SQLiteStore(tmp_path / "single.db") as st:
        yield st


def _both(
    store: Store, single: Store, paths: list[Path], tmp_path: Path, **options: Any
) -> tuple[Any, Any]:
    one = single.import_records(paths, rejects=tmp_path / "one.rejects", **options)
    two = store.import_records(paths, rejects=tmp_path / "two.rejects", workers=2, **options)
    one_rejects = (tmp_path / "one.rejects").read_text()
    assert (tmp_path / "two.rejects").read_text() == one_rejects
    return one, two


@pytest.mark.parametrize("policy", ["newest", "keep", "replace"])
def test_workers_give_what_one_process_gives(
    store: Store, single: Store, tmp_path: Path, policy: str
) -> None:
    path = _write(tmp_path / "crawl.ndjson", _lines())
    one, two = _both(store, single, [path], tmp_path, policy=policy)
    assert two == one
    assert one.rejected > 0 and one.inserted > 0 and one.unchanged > 0
    assert _export(store) == _export(single)
    # Again: the line memory (SQLite) recalls what the workers prepared.
    again_one, again_two = _both(store, single, [path], tmp_path, policy=policy)
    assert again_two == again_one
    assert _export(store) == _export(single)


def test_a_strict_import_with_workers_stops_at_the_same_line(
    store: Store, single: Store, tmp_path: Path
) -> None:
    path = _write(tmp_path / "crawl.ndjson", _lines(120))
    errors = []
    for st, workers in ((single, 1), (store, 2)):
        with pytest.raises(InvalidRecordError) as caught:
            st.import_records([path], strict=True, workers=workers)
        errors.append((str(caught.value), caught.value.report))
    assert errors[1] == errors[0]
    assert errors[0][0].startswith(f"{path}:")
    assert _export(store) == _export(single)


def test_a_dry_run_with_workers_counts_and_writes_nothing(
    store: Store, single: Store, tmp_path: Path
) -> None:
    path = _write(tmp_path / "crawl.ndjson", _lines(100))
    one, two = _both(store, single, [path], tmp_path, dry_run=True)
    assert two == one and one.inserted > 0
    assert store.count() == 0


def test_workers_read_every_format_in_order(store: Store, single: Store, tmp_path: Path) -> None:
    crawl = tmp_path / "crawl"
    crawl.mkdir()
    lines = _lines(150)
    (crawl / "a.ndjson.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    array = [json.loads(line) for line in lines[:40] if line.startswith("{") and line[-1] == "}"]
    (crawl / "b.json").write_text(json.dumps(array, ensure_ascii=False), encoding="utf-8")
    shutil.copy(SAMPLE, crawl / "c.txt")
    _write(crawl / "d.ndjson", lines[::-1])
    one, two = _both(store, single, [crawl], tmp_path)
    assert two == one and one.inserted > 0
    assert _export(store) == _export(single)


def test_the_pool_prepares_lines_as_this_process_does(tmp_path: Path) -> None:
    path = _write(tmp_path / "crawl.ndjson", _lines(80))
    with SQLiteStore(tmp_path / "s.db") as st:
        recipe = st._recipe()
        here = recipe.preparer()
        memory = LineMemory.open(
            st._line_backend(), zone=st.zone, policy="newest", tracking_params=None
        )
        raws, expected = [], []
        for r in read_records(str(path), format="auto", timezone=st.zone, encoding=None):
            raws.append(r.data)  # before it is validated: the line's bytes
            expected.append((r.line, here(r)))
        with pipeline.Workers(recipe, 2) as workers:
            records = read_records(str(path), format="auto", timezone=st.zone, encoding=None)
            got = [(r.line, p) for r, p in pipeline.prepared(records, here, memory, workers)]
            assert workers.blocks > 1
    assert [line for line, _ in got] == [line for line, _ in expected]
    # Valid lines come back tagged with their digest in the memory, as this process tags them.
    digest = digester(memory.scope)
    tagged = [
        raw
        for raw, (_, result) in zip(raws, expected, strict=True)
        if not isinstance(result, InvalidRecordError)
    ]
    remembered = [p for _, p in got if isinstance(p, Remembered)]
    assert [p.digest for p in remembered] == [digest(raw) for raw in tagged]
    for (_, a), (_, b) in zip(got, expected, strict=True):
        if isinstance(b, InvalidRecordError):
            assert isinstance(a, InvalidRecordError) and str(a) == str(b) and a.raw == b.raw
        else:
            assert (a.key, a.content_hash, a.content, a.payload) == (
                b.key,
                b.content_hash,
                b.content,
                b.payload,
            )


@pytest.mark.parametrize("value", [0, -1, 1.5, "two", True])
def test_a_worker_count_that_is_not_one_or_more_is_refused(store: Store, value: Any) -> None:
    with pytest.raises(ValueError, match="workers"):
        store.import_records([], workers=value)


def test_a_worker_that_dies_is_a_newsstore_error(tmp_path: Path) -> None:
    import os
    import signal

    from newsstore import NewsstoreError

    path = _write(tmp_path / "crawl.ndjson", _lines(40))
    with SQLiteStore(tmp_path / "s.db") as st:
        recipe = st._recipe()

        def records() -> Iterator[Any]:
            return read_records(str(path), format="auto", timezone=st.zone, encoding=None)

        with pipeline.Workers(recipe, 1) as workers:
            first = list(pipeline.prepared(records(), recipe.preparer(), None, workers))
            assert workers.blocks and first
            for pid in list(workers._pool._processes):  # type: ignore[union-attr]
                os.kill(pid, signal.SIGKILL)
            again = pipeline.prepared(records(), recipe.preparer(), None, workers)
            with pytest.raises(NewsstoreError, match="worker process stopped"):
                list(again)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pipe sizes are Linux's")
def test_blocks_and_results_cross_pipes_of_a_mebibyte(tmp_path: Path) -> None:
    # A Python whose pool names its queues otherwise keeps 64 KiB pipes, and workers that
    # wait on them (see _PIPE_SIZE): this says so.
    import fcntl

    path = _write(tmp_path / "crawl.ndjson", _lines(40))
    with SQLiteStore(tmp_path / "s.db") as st:
        recipe = st._recipe()
        records = read_records(str(path), format="auto", timezone=st.zone, encoding=None)
        with pipeline.Workers(recipe, 1) as workers:
            assert list(pipeline.prepared(records, recipe.preparer(), None, workers))
            pool: Any = workers._pool
            ends = (pool._call_queue._writer, pool._result_queue._reader)
            sizes = [fcntl.fcntl(end.fileno(), fcntl.F_GETPIPE_SZ) for end in ends]
    assert sizes == [pipeline._PIPE_SIZE] * 2


_KILLED_IMPORTER = """
import sys
from newsstore import _pipeline as pipeline
from newsstore._reading import read_records
from newsstore._store.sqlite import SQLiteStore

if __name__ == "__main__":
    pipeline.START_AFTER = 0
    with SQLiteStore(sys.argv[1]) as st:
        recipe = st._recipe()
        with pipeline.Workers(recipe, 1) as workers:
            records = read_records(sys.argv[2], timezone=st.zone)
            list(pipeline.prepared(records, recipe.preparer(), None, workers))
            print(*workers._pool._processes, flush=True)
            sys.stdin.read()  # killed while it waits here
"""


def _gone(pid: int) -> bool:
    """Whether ``pid`` has exited (a zombie nobody reaps, as in a container, counts)."""
    if not os.path.isdir("/proc"):  # not Linux: an orphan is reaped by init
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_workers_exit_when_the_importing_process_is_killed(tmp_path: Path) -> None:
    # kill -9, the OOM killer, a container's stop: the pool never says goodbye, and a
    # worker waiting for its next block would wait (and hold its memory) forever.
    path = _write(tmp_path / "crawl.ndjson", _lines(40))
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_IMPORTER, str(tmp_path / "s.db"), str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    pids: list[int] = []
    try:
        assert proc.stdout is not None
        pids = [int(pid) for pid in proc.stdout.readline().split()]
        assert pids and not any(_gone(pid) for pid in pids)
    finally:
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 10
        while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = [pid for pid in pids if not _gone(pid)]
        for pid in left:  # not to leave them behind when the test fails
            os.kill(pid, signal.SIGKILL)
    assert not left


def test_the_pool_starts_only_once_enough_lines_are_to_prepare(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class NoPool:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise AssertionError("a worker pool was started")

    monkeypatch.setattr(pipeline, "START_AFTER", 60)
    monkeypatch.setattr(pipeline, "ProcessPoolExecutor", NoPool)
    small = _write(tmp_path / "small.ndjson", _lines(40))
    with SQLiteStore(tmp_path / "s.db") as st:
        assert st.import_records([small], workers=2).inserted > 0  # all in this process
        # A re-import of known lines has nothing to prepare: no pool however many.
        big = _write(tmp_path / "big.ndjson", _lines(40) * 4)
        with pytest.raises(AssertionError, match="pool was started"):
            st.import_records([_write(tmp_path / "new.ndjson", _lines(200)[40:])], workers=2)
        assert st.import_records([big], workers=2).rejected > 0


@pytest.mark.parametrize(
    ("asked", "cores", "processes"),
    [("auto", 1, 0), ("auto", 2, 1), ("auto", 3, 2), ("auto", 16, 4), (1, 8, 0), (3, 1, 3)],
)
def test_worker_count_reads_auto_as_one_per_core_but_the_writers_and_1_as_none(
    monkeypatch: pytest.MonkeyPatch, asked: Any, cores: int, processes: int
) -> None:
    import os

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False)
    assert pipeline.worker_count(asked) == processes
