"""import as users drive it: what a directory holds, links left out, interrupts, formats."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newsstore._store.sqlite import SQLiteStore


def _line(n: int) -> str:
    record = {"url": f"https://n.example.com/{n}", "title": f"t{n}", "published_at": "2023-11-14"}
    return json.dumps(record) + "\n"


def test_a_directory_import_reads_only_the_known_formats(run, tmp_path: Path) -> None:
    crawl = tmp_path / "crawl"
    crawl.mkdir()
    (crawl / "a.ndjson").write_text(_line(1))
    (crawl / "b.JSONL").write_text(_line(2))
    (crawl / "c.json.gz").write_bytes(gzip.compress(_line(3).encode()))
    (crawl / "readme.md").write_text("# notes\n")
    (crawl / "store.db").write_bytes(b"SQLite format 3\x00")
    result = run("import", str(crawl))
    assert (result.exit_code, result.stdout) == (0, "3 read: 3 inserted, 0 rejected\n")
    assert run("import", str(crawl), "--glob", "*.md").exit_code == 1  # asked for, read


def test_an_empty_directory_is_reported_as_an_empty_file_is(run, tmp_path: Path) -> None:
    empty_dir, empty_file = tmp_path / "d", tmp_path / "e.ndjson"
    empty_dir.mkdir()
    empty_file.write_text("")
    for path, says in ((empty_dir, "empty directory: no files"), (empty_file, "empty file")):
        result = run("import", str(path))
        assert result.exit_code == 1
        assert result.stdout == "1 read: 0 inserted, 1 rejected\n"
        assert result.stderr.startswith(f"rejected: {path}: {says}")


def test_skipped_symlinks_are_reported_with_the_hint(run, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.ndjson").write_text(_line(9))
    crawl = tmp_path / "crawl"
    crawl.mkdir()
    (crawl / "a.ndjson").write_text(_line(1))
    (crawl / "link.ndjson").symlink_to(outside / "x.ndjson")
    (crawl / "dirlink").symlink_to(outside)
    (crawl / "dangling.ndjson").symlink_to(tmp_path / "gone")
    result = run("import", str(crawl))
    assert result.exit_code == 0 and result.stdout.startswith("1 read: 1 inserted")
    skipped = sorted(line for line in result.stderr.splitlines() if line.startswith("skipped:"))
    assert len(skipped) == 3
    assert all(str(crawl) in line for line in skipped)
    assert sum("--follow-symlinks" in line for line in skipped) == 2
    assert any("leads nowhere" in line for line in skipped)
    report = json.loads(run("import", str(crawl), "--json").stdout)
    assert len(report["skipped"]) == 3
    followed = run("import", str(crawl), "--follow-symlinks")
    assert "unchanged" in followed.stdout and "--follow-symlinks" not in followed.stderr


def test_import_format_ejson_reads_mongoexport_output(run, tmp_path: Path) -> None:
    path = tmp_path / "dump.data"
    record = {"url": "https://n.example.com/e", "title": "e", "published_at": {"$date": 0}}
    path.write_text(json.dumps(record) + "\n")
    result = run("import", "--format", "ejson", str(path))
    assert result.exit_code == 0, result.output
    array = tmp_path / "array.data"
    array.write_text(json.dumps([record | {"url": "https://n.example.com/f"}]))
    assert run("import", "--format", "ejson", str(array)).exit_code == 0
    assert run("find", "--count").stdout == "2\n"
    assert "ejson" in run("import", "-h").stdout


@pytest.mark.slow
@pytest.mark.parametrize(("workers", "presses"), [("1", 1), ("2", 1), ("1", 8), ("2", 8)])
def test_an_interrupted_import_prints_what_landed_and_exits_130(
    tmp_path: Path, workers: str, presses: int
) -> None:
    # presses > 1: Ctrl-C pressed again while the import stops (its last commit, the
    # workers' shutdown) must not roll that commit back nor lose the summary.
    SQLiteStore(tmp_path / "s.db").close()
    crawl = tmp_path / "big.ndjson"
    crawl.write_text("".join(_line(n) for n in range(200_000)))
    env = {**os.environ, "NEWSSTORE_STORE": str(tmp_path / "s.db")}
    # Ctrl-C's handling as a terminal's foreground process has it: a process a script starts
    # in the background inherits SIGINT ignored (POSIX), and Python then leaves it ignored.
    code = (
        "import signal; signal.signal(signal.SIGINT, signal.default_int_handler);"
        " from newsstore_cli.app import main; main()"
    )
    args = [sys.executable, "-c", code, "import", str(crawl), "--batch-size", "100"]
    args += ["--workers", workers]
    # A session of its own, so that the interrupt goes to its whole process group (the
    # workers too), as Ctrl-C in a terminal does.
    proc = subprocess.Popen(
        args,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    with SQLiteStore(tmp_path / "s.db") as store:
        # Batches are committed about every second: wait for the first, then interrupt.
        while store.count() == 0 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
    for press in range(presses):
        if press:
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):  # it may have stopped already
            os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    # A press that comes after the summary ends the process by the signal itself, which a
    # shell reports as 130 too.
    assert proc.returncode in (130, -signal.SIGINT if presses > 1 else 130), (out, err)
    assert out.startswith("stopped (interrupted): ") and "Traceback" not in err, (out, err)
    inserted = int(out.split(", ")[0].split(" read: ")[1].split()[0])
    with SQLiteStore(tmp_path / "s.db") as store:
        landed = store.count()
    assert 0 < landed == inserted < 200_000, (landed, out, err)  # what the summary says


class _Recorder:
    def __init__(self) -> None:
        self.expected: list[int | None] = []
        self.nbytes = 0

    def expect(self, total: int | None) -> None:
        self.expected.append(total)

    def __call__(self, records: int, nbytes: int) -> None:
        self.nbytes += nbytes


def test_the_importer_tells_the_bar_the_size_to_expect(tmp_path: Path, monkeypatch) -> None:
    plain, packed = tmp_path / "a.ndjson", tmp_path / "b.ndjson.gz"
    plain.write_text(_line(1) + _line(2))
    packed.write_bytes(gzip.compress(_line(3).encode()))
    with SQLiteStore(tmp_path / "s.db") as store:
        hook = _Recorder()
        store.import_records([tmp_path], progress=hook)
        # A .gz counts as what it holds: the bar ends where the records end.
        assert hook.expected == [plain.stat().st_size + len(_line(3))]
        assert hook.nbytes <= hook.expected[0]
        monkeypatch.setattr(sys, "stdin", open(plain))  # noqa: SIM115
        unknown = _Recorder()
        store.import_records(["-"], progress=unknown)
        assert unknown.expected == [None]  # stdin: counts only


def test_the_import_bar_shows_percent_rate_and_time_left_on_a_terminal(
    run, tmp_path: Path, monkeypatch
) -> None:
    from io import StringIO

    from rich.console import Console

    from newsstore_cli import output

    screen = StringIO()
    monkeypatch.setattr(output, "err", Console(file=screen, force_terminal=True, width=150))
    path = tmp_path / "a.ndjson"
    path.write_text("".join(_line(n) for n in range(300)))
    assert run("import", str(path)).exit_code == 0
    shown = screen.getvalue()
    assert "%" in shown and "records" in shown and "/s" in shown
    assert run("import", "-q", str(path)).exit_code == 0
    piped = screen.getvalue()[len(shown) :]
    assert "records" not in piped  # --quiet: no bar


def test_the_export_bar_counts_records_on_a_terminal(run, tmp_path: Path, monkeypatch) -> None:
    from io import StringIO

    from rich.console import Console

    from newsstore_cli import output

    path = tmp_path / "a.ndjson"
    path.write_text("".join(_line(n) for n in range(600)))
    run("import", str(path))
    screen = StringIO()
    monkeypatch.setattr(output, "err", Console(file=screen, force_terminal=True, width=150))
    for format in ("ndjson", "ejson-canonical"):  # the fast path and the models
        out = tmp_path / f"out.{format}"
        assert run("export", "--format", format, "-o", str(out)).exit_code == 0
        assert out.read_text().count("\n") == 600
    assert "of 600 records" in screen.getvalue() and "%" in screen.getvalue()
    shown = len(screen.getvalue())
    assert run("export").exit_code == 0  # to stdout: no bar over the output
    assert "records" not in screen.getvalue()[shown:].replace("600 snapshots", "")


def test_import_workers_from_standard_input_lands_every_line_in_order(
    run, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsstore import _pipeline

    monkeypatch.setattr(_pipeline, "START_AFTER", 0)
    monkeypatch.setattr(_pipeline, "CHUNK", 4)
    # The same URL three times: the last snapshot time wins, wherever the chunks are cut.
    lines = [_line(n) for n in range(30)]
    lines += [
        json.dumps({"url": "https://n.example.com/x", "title": t, "snapshot_at": f"2023-11-1{d}"})
        + "\n"
        for t, d in (("first", 1), ("third", 3), ("second", 2))
    ]
    result = run("import", "-", "--workers", "2", "--json", input="".join(lines) + "{bad\n")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert (report["inserted"], report["updated"], report["versioned"]) == (31, 1, 1)
    assert report["errors"] == ["<stdin>:34: " + report["errors"][0].split(": ", 1)[1]]
    assert json.loads(run("get", "https://n.example.com/x").stdout)["title"] == "third"


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", "65", "٣"])
def test_import_refuses_a_worker_count_as_a_usage_error(run, value: str) -> None:
    result = run("import", "-", "--workers", value, input="")
    assert result.exit_code == 2 and "--workers" in result.output, result.output
