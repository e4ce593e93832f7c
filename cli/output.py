"""How results are shown: tables for people, JSON for machines, progress on a terminal.

The only place that prints, or that picks stdout as the place to write an export.

Text for people (tables, summaries, notes, errors) passes through :func:`safe`, which
shows every control character escaped (``\\x1b``, ``\\n``): a title, a category or a file
name from a crawl can hold ESC/OSC sequences that would set the window title or clear the
screen, and a newline would forge a line of its own. Machine output (:func:`emit`, JSON,
NDJSON, exports) is written exactly as it is.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, Literal

from rich.console import Console
from rich.table import Table
from rich.text import Text

import newsstore
from newsstore import TimeField

from .bars import Bar, NoBar, columns

if TYPE_CHECKING:
    from newsstore import (
        ArchiveReport,
        CopyReport,
        Diagnosis,
        ImportReport,
        RelatedHit,
        Snapshot,
        Stats,
        Tombstone,
    )

ListFormat = Literal["table", "tsv", "csv", "json", "ndjson"]
"""How ``find`` lists snapshots."""

# No markup and no emoji codes: "[bold]" or ":smile:" in a title is text, not styling.
out = Console(soft_wrap=True, highlight=False, markup=False, emoji=False)
err = Console(stderr=True, soft_wrap=True, highlight=False, markup=False, emoji=False)

# C0 controls (newlines and tabs too: each output line is one line), DEL and C1 controls.
_CONTROLS = {
    code: {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}.get(code, f"\\x{code:02x}")
    for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))
}


def safe(text: str) -> str:
    """``text`` with its control characters shown escaped, safe to show on a terminal."""
    return text.translate(_CONTROLS)


class SafeTable(Table):
    """A rich table whose cells are plain text, control characters escaped."""

    def add_row(self, *cells: object, **kwargs: object) -> None:
        super().add_row(*(Text(safe(str(c))) for c in cells), **kwargs)  # type: ignore[arg-type]


def note(text: str) -> None:
    """A line for people on stderr (a note, a rejection, a count), control characters escaped."""
    err.print(safe(text))


def show(table: Table) -> None:
    # Fitted to a terminal; piped, no column is cut to rich's default 80 characters.
    if not out.is_terminal:
        out.width = 100_000  # rich caps a print's width at the console's
    out.print(table)


def echo(text: str) -> None:
    """Print a line for people to stdout, control characters escaped."""
    sys.stdout.write(safe(text) + "\n")


def emit(text: str) -> None:
    """Print machine output (JSON) to stdout exactly as it is, and a newline."""
    sys.stdout.write(text + "\n")


def error(message: str) -> None:
    """One ``Error: …`` line on stderr, control characters escaped."""
    note(f"Error: {message}")


def snapshot_json(snapshot: Snapshot) -> None:
    """One snapshot as indented JSON."""
    emit(snapshot.model_dump_json(indent=2))


def snapshots(
    items: Iterable[Snapshot],
    *,
    as_json: bool = False,
    ndjson: bool = False,
    time_field: TimeField = "published",
    format: ListFormat = "table",
    fields: list[str] | None = None,
) -> int:
    """A list of snapshots: a table (showing the time filtered on), TSV, CSV, a JSON array
    or NDJSON; with ``fields`` (dotted paths), those fields only.

    The table shows each snapshot's key, the canonical URL, not the spelling last seen.
    Returns how many.
    """
    format = "ndjson" if ndjson else "json" if as_json else format
    if format in ("json", "ndjson"):
        return newsstore.write_snapshots(items, sys.stdout, format=format, fields=fields)
    time_path = "published_at" if time_field == "published" else "snapshot_at"
    paths = fields or [time_path, "title", "source", "category", "stored.key"]
    if format in ("tsv", "csv"):
        return _delimited(items, paths, format)
    headers = paths if fields else [time_field, "title", "source", "category", "URL / key"]
    table = SafeTable(*headers)
    count = 0
    for s in items:
        count += 1
        if fields:
            table.add_row(*map(_cell, newsstore.field_values(s, paths)))
            continue
        at = s.published_at if time_field == "published" else s.snapshot_at
        when = at.strftime("%Y-%m-%d %H:%M") if at else ""
        key = s.stored.key if s.stored else (s.url or "")
        table.add_row(when, s.title, s.source or "", s.category or "", key)
    if count:
        show(table)
    else:
        note("No snapshots match.")
    return count


def _cell(value: object) -> str:
    """A field's value as one cell: text as it is, numbers and lists as JSON, null empty."""
    if value is None or isinstance(value, str):
        return value or ""
    return json.dumps(value, ensure_ascii=False)


def _delimited(items: Iterable[Snapshot], paths: list[str], format: ListFormat) -> int:
    """TSV (cells escaped, a backslash as \\\\: a tab or newline cannot break a row, and each
    escape reads back one way) or CSV (quoted, exact; on a terminal, controls escaped)."""
    count = 0
    if format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(paths)
        shown = safe if out.is_terminal else str  # a crawled ESC must not drive the terminal
        for s in items:
            writer.writerow(shown(_cell(v)) for v in newsstore.field_values(s, paths))
            count += 1
        return count
    sys.stdout.write("\t".join(paths) + "\n")
    for s in items:
        cells = (safe(_cell(v).replace("\\", "\\\\")) for v in newsstore.field_values(s, paths))
        sys.stdout.write("\t".join(cells) + "\n")
        count += 1
    return count


def shown_of(shown: int, offset: int, total: int) -> None:
    """Say that a listing shows part of what matched."""
    if offset + shown < total or offset:
        first = f"{offset + 1}–{offset + shown}" if offset else str(shown)
        note(f"{first} of {total} shown (use --limit, --offset)")


def snapshot_text(text: str, *, first: bool = True) -> None:
    """One snapshot in the crawler's text form (after a blank line, unless the first)."""
    sys.stdout.write(text if first else "\n" + text)


@contextmanager
def destination(out: str | None, *, protect: tuple[str, ...] = ()) -> Iterator[IO[str]]:
    """The file ``-o`` names (``.gz`` compresses), else stdout; a failed write names the file.

    The file is replaced only when the export succeeds; one of ``protect`` is refused.
    """
    try:
        with newsstore.open_output(out, sys.stdout, protect=protect) as fp:
            yield fp
    except OSError as exc:
        if exc.filename is not None or out in (None, "-"):
            raise
        # A failed write (disk full) does not say which file: name the output.
        raise OSError(exc.errno, f"cannot write: {exc.strerror}", out) from exc


def written(count: int, out: str | None) -> None:
    """How many snapshots an export wrote to a file (nothing when it went to stdout)."""
    if out not in (None, "-"):
        note(f"{count} snapshots written to {out}")


@contextmanager
def progress(quiet: bool) -> Iterator[Any]:
    """An import's progress bar on a terminal; nothing shown when piped or with --quiet.

    Yields the hook the importer calls (``progress(records, nbytes)``, with ``expect`` to
    learn the total size) and ``close()`` to take the bar away before a summary.
    """
    if quiet or not err.is_terminal:
        yield NoBar()
        return
    from rich.progress import Progress

    shown = columns("{task.fields[records]:,} records {task.fields[rate]:,.0f}/s", sizes=True)
    bar = Progress(*shown, console=err, transient=True, auto_refresh=True)
    hook = Bar(bar)
    try:
        yield hook
    finally:
        hook.close()


@contextmanager
def export_progress(
    out: str | None, total: Callable[[], int]
) -> Iterator[Callable[[int], None] | None]:
    """An export's bar (records written of ``total()``, rate, time left) on a terminal,
    when the export goes to a file; None (no bar) when stderr is not a terminal or the
    export is written to stdout."""
    if out in (None, "-") or not err.is_terminal:
        yield None
        return
    from rich.progress import Progress

    shown = columns("{task.completed:,.0f} of {task.total:,.0f} records", sizes=False)
    bar = Progress(*shown, console=err, transient=True)
    task = bar.add_task("export", total=total())
    with bar:
        yield lambda n: bar.update(task, advance=n)


def report(
    result: ImportReport,
    *,
    dry_run: bool = False,
    as_json: bool = False,
    stopped: str | None = None,
) -> None:
    """The import summary: one line, then the first rejections and skipped links on stderr
    (or JSON); ``stopped`` says why the import stopped early (what landed is counted)."""
    if as_json:
        data = {**result.model_dump(), "read": result.total, "dry_run": dry_run}
        if stopped:
            data["stopped"] = stopped
        emit(json.dumps(data, ensure_ascii=False))
        return
    prefix = "dry run, nothing written: " if dry_run else ""
    if stopped:
        prefix = f"stopped ({stopped}): " + prefix
    echo(prefix + result.summary())
    for message in result.skipped:
        note(f"skipped: {message}")
    for message in result.errors[:20]:
        note(f"rejected: {message}")
    if result.rejected > len(result.errors[:20]):
        note(f"… and {result.rejected - len(result.errors[:20])} more rejected")
    for message in result.warnings[:20]:
        note(f"warning: {message}")


def related(hits: Iterable[RelatedHit], *, as_json: bool = False, ndjson: bool = False) -> int:
    """Related items with the snapshot listing them: a table, a JSON array or NDJSON."""
    count = 0
    table = SafeTable("date", "item", "kind", "listed by", "links to")
    if as_json:
        sys.stdout.write("[")
    for hit in hits:
        count += 1
        listed = hit.listed_by.stored.key if hit.listed_by.stored else ""
        if as_json or ndjson:
            row = {
                "item": hit.item.model_dump(mode="json"),
                "kind": hit.kind,
                "listed_by": listed,
                "listed_by_title": hit.listed_by.title,
                "links_to": hit.links_to,
            }
            text = json.dumps(row, ensure_ascii=False)
            if ndjson:
                emit(text)
            else:
                sys.stdout.write(("," if count > 1 else "") + "\n" + text)
        else:
            when = hit.item.published_at.strftime("%Y-%m-%d %H:%M")
            text = hit.item.title or (hit.item.excerpt or "")[:40]
            table.add_row(when, text, hit.kind, hit.listed_by.title, hit.links_to or "")
    if as_json:
        sys.stdout.write("\n]\n" if count else "]\n")
    elif count and not ndjson:
        show(table)
    return count


def taken_down(tomb: Tombstone) -> None:
    """What a takedown did."""
    if tomb.removed:
        echo(f"deleted {tomb.key}; later imports of it are suppressed")
    elif tomb.earlier:
        when = tomb.deleted_at.isoformat(sep=" ", timespec="seconds")
        echo(f"{tomb.key} was taken down already, {when} ({tomb.reason}); that takedown stands")
    else:
        echo(f"recorded a takedown of {tomb.key}; later imports of it are suppressed")
        note(f"note: nothing was stored under {tomb.key}")


def lifted(tomb: Tombstone) -> None:
    """A takedown lifted."""
    echo(f"lifted the takedown of {tomb.key} ({tomb.reason}); imports of it land again")


def tombstones(items: list[Tombstone], *, as_json: bool) -> None:
    """The takedowns: a table, or a JSON array."""
    if as_json:
        rows = [
            {"key": t.key, "url": t.url, "reason": t.reason, "deleted_at": t.deleted_at.isoformat()}
            for t in items
        ]
        emit(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not items:
        note("No takedowns.")
        return
    table = SafeTable("deleted", "key", "URL", "reason")
    for t in items:
        table.add_row(t.deleted_at.strftime("%Y-%m-%d %H:%M"), t.key, t.url or "", t.reason)
    show(table)


def diagnosis(result: Diagnosis, *, as_json: bool) -> None:
    """What the store runs on, and what to act on."""
    if as_json:
        from dataclasses import asdict

        emit(json.dumps({**asdict(result), "missing": result.missing}, ensure_ascii=False))
        return
    for label, value in (
        ("store", result.store),
        ("server", result.server),
        ("topology", result.topology),
        ("writes", result.writes),
    ):
        echo(f"{label + ':':<10}{value}")
    table = SafeTable("index", "present")
    for name, present in result.indexes.items():
        table.add_row(name, "yes" if present else "MISSING")
    show(table)
    for text in result.notes:
        note(f"note: {text}")


def stats(result: Stats, *, as_json: bool) -> None:
    """Store statistics."""
    if as_json:
        from dataclasses import asdict

        emit(json.dumps(asdict(result), ensure_ascii=False, indent=2))
        return
    echo(
        f"{result.snapshots} snapshots, {result.history} in history, "
        f"{result.keys_with_versions} keys with versions, {result.suppressed} suppressed"
    )
    if result.near_duplicates is None and result.near_distance > result.NEAR_LIMIT:
        echo(
            f"near-duplicates: not counted (NEWSSTORE_SIMILAR_DISTANCE is"
            f" {result.near_distance}; they are counted within {result.NEAR_LIMIT} at most)"
        )
    elif result.near_duplicates is None:
        echo("near-duplicates: not counted yet (`newsstore backfill` pairs this store's snapshots)")
    else:
        echo(
            f"{result.near_duplicates} snapshots have a near-duplicate"
            f" (within {result.near_distance} of 64)"
        )
    for title, counts in (
        ("category", result.by_category),
        ("source", result.by_source),
        ("day", result.by_day),
    ):
        table = SafeTable(title, "snapshots")
        for name, n in list(counts.items())[:20]:
            table.add_row(name or "(none)", str(n))
        show(table)


@contextmanager
def _counter(quiet: bool, what: str) -> Iterator[tuple[Any, Any] | None]:
    """A rich progress bar and its task counting ``what`` on a terminal (a spinner, the
    count, the rate, the time spent; a bar too once a total is known); None when piped or
    with --quiet."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (
        SpinnerColumn(),
        BarColumn(),
        TextColumn("{task.completed:,} " + what),
        TextColumn("{task.fields[rate]:,.0f}/s"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        yield bar, bar.add_task(what, total=None, rate=0.0)


@contextmanager
def counting(quiet: bool, what: str) -> Iterator[Callable[[int], None] | None]:
    """Yields the ``progress(n)`` hook a dump, restore, copy or re-key calls (``n`` more
    done), drawing a bar on a terminal; None when piped or with --quiet."""
    with _counter(quiet, what) as shown:
        if shown is None:
            yield None
            return
        bar, task = shown

        def advance(n: int) -> None:
            done = bar.tasks[0].completed + n
            bar.update(task, advance=n, rate=done / (bar.tasks[0].elapsed or 1e-9))

        yield advance


@contextmanager
def steps(quiet: bool, what: str) -> Iterator[Callable[[int, int], None]]:
    """Yields the ``progress(done, total)`` hook a backfill calls, drawing a bar on a
    terminal; the hook does nothing when piped or with --quiet."""
    with _counter(quiet, what) as shown:
        if shown is None:
            yield lambda done, total: None
            return
        bar, task = shown

        def advance(done: int, total: int) -> None:
            rate = done / (bar.tasks[0].elapsed or 1e-9)
            bar.update(task, completed=done, total=total or None, rate=rate)

        yield advance


def dumped(counts: tuple[int, int, int], out: str | None) -> None:
    """What a dump wrote (on stderr: stdout may be the archive)."""
    snapshots, history, takedowns = counts
    where = "" if out in (None, "-") else f" to {out}"
    err.print(
        f"{snapshots} snapshots, {history} history versions, {takedowns} takedowns written{where}",
        markup=False,
    )


def _rejections(report: ArchiveReport) -> None:
    for message in report.errors[:20]:
        err.print(f"rejected: {message}", markup=False)
    if report.rejected > len(report.errors[:20]):
        err.print(f"… and {report.rejected - len(report.errors[:20])} more rejected", markup=False)


def restored(report: ArchiveReport) -> None:
    """What a restore merged in."""
    echo("restored: " + report.summary())
    _rejections(report)


def copied(report: CopyReport) -> None:
    """What a copy wrote, and its final check."""
    echo("copied: " + report.written.summary())
    _rejections(report.written)
    snapshots, history, takedowns = report.source
    if report.equal:
        counts = f"{snapshots} snapshots, {history} history versions, {takedowns} takedowns"
        held = ", ".join(map(str, report.target))  # more, where it held data of its own
        same = report.source == report.target
        echo(
            f"check: both stores hold {counts}"
            if same
            else f"check: the target holds all of the source's {counts} (now {held} in all)"
        )
        return
    for difference in report.differences:
        err.print(f"check: {difference}", markup=False)


def rekeyed(report: ArchiveReport, params: tuple[str, ...]) -> None:
    """What a re-key moved, and the list the store now records."""
    echo(
        f"re-keyed: {report.snapshots} snapshots, {report.history} history versions and"
        f" {report.tombstones} takedowns moved to new keys; {report.suppressed} suppressed"
        " by a takedown"
    )
    echo("tracking parameters: " + (",".join(params) or "(none)"))
    _rejections(report)
