"""Progress bars on a terminal (rich), for the commands that take a while: what
:mod:`.output` shows while an import or an export runs."""

from __future__ import annotations

from typing import Any

__all__ = ["Bar", "NoBar", "columns"]


class Bar:
    """An import's progress on stderr: a bar with percentage, rate and time left when the
    library says how many bytes it will read (files), counts and a rate when it cannot
    (standard input). The importer calls it as ``bar(records, nbytes)``."""

    def __init__(self, bar: Any) -> None:
        self._bar = bar
        self._task = bar.add_task("import", total=None, records=0, rate=0.0)
        self._closed = False

    def expect(self, total: int | None) -> None:
        if total:
            self._bar.update(self._task, total=total)
        self._bar.start()

    def __call__(self, records: int, nbytes: int) -> None:
        task = self._bar.tasks[0]
        done = task.fields["records"] + records
        rate = done / (task.elapsed or 1e-9)
        self._bar.update(self._task, advance=nbytes, records=done, rate=rate)

    def close(self) -> None:
        """Take the bar off the terminal (before a summary is printed)."""
        if not self._closed:
            self._closed = True
            self._bar.stop()


class NoBar:
    """The hook when no bar is shown (piped, --quiet): the import calls it all the same."""

    def __call__(self, records: int, nbytes: int) -> None:
        pass

    def close(self) -> None:
        pass


def columns(counts: str, *, sizes: bool) -> tuple[Any, ...]:
    """The bar's columns: spinner, bar, percentage, ``counts``, bytes read (if ``sizes``),
    time spent and time left."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return (
        SpinnerColumn(),
        BarColumn(),
        TaskProgressColumn(),  # the percentage, when the total is known
        TextColumn(counts),
        *([DownloadColumn()] if sizes else []),
        TimeElapsedColumn(),
        TimeRemainingColumn(),  # the time left, when the total is known
    )
