"""Directories expanded into the files an import reads.

A :class:`FileSet` tells whether a path names one of some files, by any spelling or link
(what an import must not read, and an export must not overwrite).

Directories are walked recursively in sorted order, keeping the regular files whose name
matches a glob (by default the formats newsstore reads, :data:`KNOWN_FILES`): a FIFO,
socket or device inside a directory is skipped (reading one could wait for ever, or never
end), and so is a link that leads nowhere (dangling, or a loop of links). A symlink inside
a directory that leads out of it is skipped unless asked for, and a followed symlink loop
visits each real directory once; skipped links are reported to a ``skipped`` hook. Files
named directly are always read, whatever they are (a FIFO too), and ``-`` stands for
standard input.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import suppress
from fnmatch import fnmatch
from pathlib import Path

__all__ = ["KNOWN_FILES", "FileSet", "iter_files"]

KNOWN_FILES = tuple(
    f"*{ext}{gz}" for ext in (".json", ".ndjson", ".jsonl", ".txt") for gz in ("", ".gz")
)
"""What a directory import reads unless given a glob: the formats newsstore knows (a
``readme.md`` or a ``.db`` beside them is not an input). Matched case-insensitively."""

Skipped = Callable[[str, str], None]
"""Called as ``skipped(path, why)`` for a link a directory walk leaves out."""


def _wanted(filename: str, glob: str | None) -> bool:
    if glob is None:
        lower = filename.lower()
        return any(fnmatch(lower, pattern) for pattern in KNOWN_FILES)
    return fnmatch(filename, glob)


def iter_files(
    paths: Iterable[str | os.PathLike[str]],
    *,
    glob: str | None = None,
    follow_symlinks: bool = False,
    skipped: Skipped | None = None,
) -> Iterator[str]:
    """Expand directories (recursively, sorted, files matching ``glob``, by default
    :data:`KNOWN_FILES`) into file paths.

    Inside a directory only regular files are kept, and a symlink that leads outside of it
    is skipped unless ``follow_symlinks`` is true (``skipped`` hears of it, and of a link
    that leads nowhere). Files named directly are always read.
    """
    for path in paths:
        name = os.fspath(path)
        if name == "-" or not os.path.isdir(name):
            yield name
            continue
        # realpath, not Path.resolve: it never raises on a symlink loop.
        root = Path(os.path.realpath(name))
        seen: set[tuple[int, int]] = set()
        for dirpath, dirnames, filenames in os.walk(name, followlinks=follow_symlinks):
            if follow_symlinks:
                # A followed symlink loop (sub/up -> ..) would walk the same files again and
                # again, 40 levels deep: visit each real directory once.
                try:
                    info = os.stat(dirpath)
                except OSError:
                    info = None
                if info is None or (info.st_dev, info.st_ino) in seen:
                    dirnames.clear()
                    continue
                seen.add((info.st_dev, info.st_ino))
            dirnames.sort()
            if not follow_symlinks and skipped is not None:
                for sub in dirnames:
                    full = os.path.join(dirpath, sub)
                    if os.path.islink(full) and _leads_out(full, root):
                        skipped(full, "a link to a directory outside; use --follow-symlinks")
            for filename in sorted(filenames):
                full = os.path.join(dirpath, filename)
                if _wanted(filename, glob) and _walked_file(full, root, follow_symlinks, skipped):
                    yield full


def _leads_out(path: str, root: Path) -> bool:
    return not Path(os.path.realpath(path)).is_relative_to(root)


def _walked_file(path: str, root: Path, follow_symlinks: bool, skipped: Skipped | None) -> bool:
    """Whether a directory walk reads ``path``: a regular file (through its links), inside
    ``root`` unless links are followed."""
    try:
        info = os.stat(path)  # through the links: what would be read
    except OSError:  # a dangling link, a loop of links, a file gone meanwhile
        if skipped is not None and os.path.islink(path):
            skipped(path, "a link that leads nowhere (dangling, or a loop)")
        return False
    if not stat.S_ISREG(info.st_mode):
        return False
    if follow_symlinks or not os.path.islink(path) or not _leads_out(path, root):
        return True
    if skipped is not None:
        skipped(path, "a link to a file outside the directory; use --follow-symlinks")
    return False


class FileSet:
    """Files known by name and by identity (a hard link or another spelling is the same)."""

    def __init__(self, names: Collection[str]) -> None:
        # By name too: a -wal file may not exist yet, or be made anew.
        self._real = {os.path.realpath(n) for n in names}
        self._ids: set[tuple[int, int]] = set()
        for name in names:
            with suppress(OSError):
                info = os.stat(name)
                self._ids.add((info.st_dev, info.st_ino))

    def holds(self, path: str | os.PathLike[str]) -> bool:
        if not self._real or os.fspath(path) == "-":
            return False
        if os.path.realpath(path) in self._real:
            return True
        try:
            info = os.stat(path)
        except OSError:
            return False
        return (info.st_dev, info.st_ino) in self._ids
