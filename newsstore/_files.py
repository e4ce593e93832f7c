"""Directories expanded into the files an import reads.

Directories are walked recursively in sorted order, keeping the files whose name matches a
glob; a symlink inside a directory that leads out of it is skipped unless asked for, and
a followed symlink loop visits each real directory once. Files named directly are always
read, and ``-`` stands for standard input.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from fnmatch import fnmatch
from pathlib import Path

__all__ = ["DEFAULT_GLOB", "iter_files"]

DEFAULT_GLOB = "*"


def iter_files(
    paths: Iterable[str | os.PathLike[str]],
    *,
    glob: str = DEFAULT_GLOB,
    follow_symlinks: bool = False,
) -> Iterator[str]:
    """Expand directories (recursively, sorted, files matching ``glob``) into file paths.

    A symlink inside a directory that leads outside of it is skipped unless
    ``follow_symlinks`` is true. Files named directly are always read.
    """
    for path in paths:
        name = os.fspath(path)
        if name == "-" or not os.path.isdir(name):
            yield name
            continue
        root = Path(name).resolve()
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
            for filename in sorted(filenames):
                full = os.path.join(dirpath, filename)
                if not fnmatch(filename, glob):
                    continue
                if (
                    not follow_symlinks
                    and os.path.islink(full)
                    and not Path(full).resolve().is_relative_to(root)
                ):
                    continue
                yield full
