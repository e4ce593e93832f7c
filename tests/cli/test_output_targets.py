"""What ``export -o`` and ``dump -o`` do to what the path already is.

A regular file or a new path is replaced atomically; a symlink is written through, a FIFO
or a device is written directly, a hard-linked file is rewritten in place, and an error
names the path the user gave, never the temporary file beside it.

Devices are made with mknod in tmp_path (skipped without the privilege): nothing under
/dev is ever a target, since the code before the fix replaced what it wrote to.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from newsstore import open_output

from ..conftest import SAMPLE


@pytest.fixture
def stocked(run) -> bytes:
    """The CLI's store holding the sample; what ``export`` writes of it to stdout."""
    assert run("import", "-q", str(SAMPLE)).exit_code == 0
    return run("export").stdout.encode()


def _is_archive(data: bytes) -> bool:
    lines = data.decode().splitlines()
    return len(lines) == 2 and json.loads(lines[0])["newsstore"] == "archive"


def _leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.endswith(".partial")]


def _device(path: Path, minor: int) -> Path:
    """A character device of the memory driver at ``path``: 3 is null, 7 is full."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    except (PermissionError, AttributeError):
        pytest.skip("making a device node needs root")
    return path


@contextmanager
def _reading(fifo: Path) -> Iterator[list[bytes]]:
    """What a reader waiting on ``fifo`` in a thread gets, once the block has run."""
    got: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as fp:
            got.append(fp.read())

    # Held so that a reader nothing ever writes to can be let go (through /proc).
    hold = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    try:
        yield got
    finally:
        os.close(os.open(f"/proc/self/fd/{hold}", os.O_WRONLY | os.O_NONBLOCK))
        thread.join(10)
        os.close(hold)


@pytest.mark.parametrize("command", ["export", "dump"])
def test_a_symlink_stays_a_link_and_its_target_gets_the_data(
    run, stocked: bytes, tmp_path: Path, command: str
) -> None:
    real = tmp_path / "real.ndjson"
    real.write_bytes(b"old\n")
    link = tmp_path / "link.ndjson"
    link.symlink_to(real.name)
    result = run(command, "-o", str(link))
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == real.name
    data = real.read_bytes()
    assert data == stocked if command == "export" else _is_archive(data)
    assert _leftovers(tmp_path) == []


def test_a_dangling_symlink_creates_its_target(run, stocked: bytes, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    link = tmp_path / "link.ndjson"
    link.symlink_to(Path("out") / "new.ndjson")
    assert run("export", "-o", str(link)).exit_code == 0
    assert link.is_symlink()
    assert (tmp_path / "out" / "new.ndjson").read_bytes() == stocked


@pytest.mark.parametrize("command", ["export", "dump"])
def test_a_fifo_is_written_to_its_reader(run, stocked: bytes, tmp_path: Path, command: str) -> None:
    fifo = tmp_path / "pipe.ndjson"
    os.mkfifo(fifo)
    with _reading(fifo) as got:
        result = run(command, "-o", str(fifo))
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert got and (got[0] == stocked if command == "export" else _is_archive(got[0]))
    assert _leftovers(tmp_path) == []


def test_a_device_is_written_directly(run, stocked: bytes, tmp_path: Path) -> None:
    null = _device(tmp_path / "null", 3)
    result = run("export", "-o", str(null))
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(null.lstat().st_mode)
    assert _leftovers(tmp_path) == []


def test_a_full_device_is_an_error_naming_it(run, stocked: bytes, tmp_path: Path) -> None:
    full = _device(tmp_path / "full", 7)
    result = run("dump", "-o", str(full))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {full}: cannot write: No space left on device\n"
    assert stat.S_ISCHR(full.lstat().st_mode)
    assert _leftovers(tmp_path) == []


def test_a_file_keeps_its_permission_bits(run, stocked: bytes, tmp_path: Path) -> None:
    out = tmp_path / "private.ndjson"
    out.write_bytes(b"old\n")
    out.chmod(0o600)
    assert run("export", "-o", str(out)).exit_code == 0
    assert out.read_bytes() == stocked
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


@pytest.mark.parametrize("command", ["export", "dump"])
def test_every_hard_link_sees_the_new_content(
    run, stocked: bytes, tmp_path: Path, command: str
) -> None:
    out = tmp_path / "out.ndjson"
    out.write_bytes(b"old content, longer than nothing\n" * 1000)
    other = tmp_path / "other.ndjson"
    os.link(out, other)
    assert run(command, "-o", str(out)).exit_code == 0
    assert os.path.samefile(out, other)
    data = other.read_bytes()
    assert data == stocked if command == "export" else _is_archive(data)


@pytest.mark.parametrize(
    ("target", "why"),
    [
        (lambda d: d / "adir", "Is a directory"),
        (lambda d: d / "nodir" / "x.ndjson", "No such file or directory"),
    ],
    ids=["directory", "missing-parent"],
)
@pytest.mark.parametrize("command", ["export", "dump"])
def test_an_unwritable_path_is_an_error_naming_it(
    run, stocked: bytes, tmp_path: Path, command: str, target: Callable[[Path], Path], why: str
) -> None:
    (tmp_path / "adir").mkdir()
    path = target(tmp_path)
    result = run(command, "-o", str(path))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {path}: {why}\n"
    assert _leftovers(tmp_path / "adir") == [] and _leftovers(tmp_path) == []


def test_a_symlink_to_a_missing_directory_is_an_error_naming_the_link(
    run, stocked: bytes, tmp_path: Path
) -> None:
    link = tmp_path / "link.ndjson"
    link.symlink_to(tmp_path / "nodir" / "x.ndjson")
    result = run("export", "-o", str(link))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {link}: No such file or directory\n"
    assert link.is_symlink()


def test_open_output_writes_through_a_link_to_a_hard_linked_file(tmp_path: Path) -> None:
    real = tmp_path / "real.ndjson.gz"
    real.write_bytes(b"old")
    os.link(real, tmp_path / "twin.ndjson.gz")
    link = tmp_path / "link.ndjson.gz"
    link.symlink_to(real)
    with open_output(link, io.StringIO()) as fp:
        fp.write("new\n")
    assert link.is_symlink()
    assert gzip.decompress((tmp_path / "twin.ndjson.gz").read_bytes()) == b"new\n"
