"""How results are shown: tables for people, JSON for machines, progress on a terminal.

The only place that prints, or that picks stdout as the place to write an export.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import IO, TYPE_CHECKING

from rich.console import Console
from rich.table import Table

import newsstore
from newsstore import TimeField

if TYPE_CHECKING:
    from newsstore import (
        Diagnosis,
        ImportReport,
        RelatedHit,
        SimilarHit,
        Snapshot,
        Stats,
        StoryCluster,
        Tombstone,
    )

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


def _show(table: Table) -> None:
    # Fitted to a terminal; piped, no column is cut to rich's default 80 characters.
    if not out.is_terminal:
        out.width = 100_000  # rich caps a print's width at the console's
    out.print(table)


def echo(text: str) -> None:
    """Print plain text to stdout, untouched by rich markup."""
    sys.stdout.write(text + "\n")


def error(message: str) -> None:
    """One ``Error: …`` line on stderr, untouched by rich markup."""
    err.print(f"Error: {message}", markup=False)


def snapshot_json(snapshot: Snapshot) -> None:
    """One snapshot as indented JSON."""
    echo(snapshot.model_dump_json(indent=2))


def snapshots(
    items: Iterable[Snapshot], *, as_json: bool, ndjson: bool, time_field: TimeField = "published"
) -> int:
    """A list of snapshots: a table (showing the time filtered on), a JSON array or NDJSON.

    The table shows each snapshot's key, the canonical URL, not the spelling last seen.
    Returns how many.
    """
    if ndjson or as_json:
        return newsstore.write_snapshots(items, sys.stdout, format="ndjson" if ndjson else "json")
    table = Table(time_field, "title", "source", "category", "URL / key")
    count = 0
    for s in items:
        count += 1
        at = s.published_at if time_field == "published" else s.snapshot_at
        when = at.strftime("%Y-%m-%d %H:%M") if at else ""
        key = s.stored.key if s.stored else (s.url or "")
        table.add_row(when, s.title, s.source or "", s.category or "", key)
    if count:
        _show(table)
    else:
        err.print("No snapshots match.")
    return count


def shown_of(shown: int, offset: int, total: int) -> None:
    """Say that a listing shows part of what matched."""
    if offset + shown < total or offset:
        first = f"{offset + 1}–{offset + shown}" if offset else str(shown)
        err.print(f"{first} of {total} shown (use --limit, --offset)", markup=False)


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
        err.print(f"{count} snapshots written to {out}", markup=False)


@contextmanager
def progress(quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    """An import's progress bar on a terminal; nothing when piped or with --quiet.

    Yields the ``progress(records, nbytes)`` hook the importer calls, or None.
    """
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (
        SpinnerColumn(),
        TextColumn("{task.completed:,} records"),
        TextColumn("{task.fields[rate]:,.0f}/s"),
        TextColumn("{task.fields[mb]:.1f} MB read"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("import", total=None, rate=0.0, mb=0.0)
        read = [0]

        def advance(records: int, nbytes: int) -> None:
            read[0] += nbytes
            elapsed = bar.tasks[0].elapsed or 1e-9
            completed = bar.tasks[0].completed + records
            bar.update(task, advance=records, rate=completed / elapsed, mb=read[0] / 1e6)

        yield advance


def report(result: ImportReport, *, dry_run: bool = False, as_json: bool = False) -> None:
    """The import summary: one line, then the first rejections on stderr (or JSON)."""
    if as_json:
        data = {**result.model_dump(), "read": result.total, "dry_run": dry_run}
        echo(json.dumps(data, ensure_ascii=False))
        return
    prefix = "dry run, nothing written: " if dry_run else ""
    echo(prefix + result.summary())
    for message in result.errors[:20]:
        err.print(f"rejected: {message}", markup=False)
    if result.rejected > len(result.errors[:20]):
        err.print(f"… and {result.rejected - len(result.errors[:20])} more rejected", markup=False)


def related(hits: Iterable[RelatedHit], *, as_json: bool = False, ndjson: bool = False) -> int:
    """Related items with the snapshot listing them: a table, a JSON array or NDJSON."""
    count = 0
    table = Table("date", "item", "kind", "listed by", "links to")
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
                echo(text)
            else:
                sys.stdout.write(("," if count > 1 else "") + "\n" + text)
        else:
            when = hit.item.published_at.strftime("%Y-%m-%d %H:%M")
            text = hit.item.title or (hit.item.excerpt or "")[:40]
            table.add_row(when, text, hit.kind, hit.listed_by.title, hit.links_to or "")
    if as_json:
        sys.stdout.write("\n]\n" if count else "]\n")
    elif count and not ndjson:
        _show(table)
    return count


def taken_down(tomb: Tombstone) -> None:
    """What a takedown did."""
    if tomb.removed:
        echo(f"deleted {tomb.key}; later imports of it are suppressed")
    else:
        echo(f"recorded a takedown of {tomb.key}; later imports of it are suppressed")
        err.print(f"note: nothing was stored under {tomb.key}", markup=False)


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
        echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not items:
        err.print("No takedowns.")
        return
    table = Table("deleted", "key", "URL", "reason")
    for t in items:
        table.add_row(t.deleted_at.strftime("%Y-%m-%d %H:%M"), t.key, t.url or "", t.reason)
    _show(table)


def diagnosis(result: Diagnosis, *, as_json: bool) -> None:
    """What the store runs on, and what to act on."""
    if as_json:
        from dataclasses import asdict

        echo(json.dumps({**asdict(result), "missing": result.missing}, ensure_ascii=False))
        return
    for label, value in (
        ("store", result.store),
        ("server", result.server),
        ("topology", result.topology),
        ("writes", result.writes),
    ):
        echo(f"{label + ':':<10}{value}")
    table = Table("index", "present")
    for name, present in result.indexes.items():
        table.add_row(name, "yes" if present else "MISSING")
    _show(table)
    for note in result.notes:
        err.print(f"note: {note}", markup=False)


def stats(result: Stats, *, as_json: bool) -> None:
    """Store statistics."""
    if as_json:
        from dataclasses import asdict

        echo(json.dumps(asdict(result), ensure_ascii=False, indent=2))
        return
    echo(
        f"{result.snapshots} snapshots, {result.history} in history, "
        f"{result.keys_with_versions} keys with versions, {result.suppressed} suppressed"
    )
    for title, counts in (
        ("category", result.by_category),
        ("source", result.by_source),
        ("day", result.by_day),
    ):
        table = Table(title, "snapshots")
        for name, n in list(counts.items())[:20]:
            table.add_row(name or "(none)", str(n))
        _show(table)


def _when(t: datetime | None) -> str:
    return "" if t is None else t.strftime("%Y-%m-%d %H:%M")


def _hit_json(hit: SimilarHit) -> dict[str, object]:
    def iso(t: datetime | None) -> str | None:
        return None if t is None else t.isoformat()

    return {
        "key": hit.key,
        "url": hit.url,
        "distance": hit.distance,
        "source": hit.source,
        "published_at": iso(hit.published_at),
        "snapshot_at": iso(hit.snapshot_at),
    }


def similar(hits: list[SimilarHit], *, as_json: bool) -> None:
    """The other copies of a story: a table, or a JSON array."""
    if as_json:
        echo(json.dumps([_hit_json(h) for h in hits], ensure_ascii=False, indent=2))
        return
    if not hits:
        err.print("No other copies within the distance.", markup=False)
        return
    table = Table("distance", "published", "source", "URL / key")
    for h in hits:
        table.add_row(str(h.distance), _when(h.published_at), h.source or "", h.url or h.key)
    _show(table)


def clusters(found: list[StoryCluster], *, as_json: bool) -> None:
    """Stories of a window, largest first: a table of each, or a JSON array."""
    if as_json:
        rows = [
            {
                "size": c.size,
                "sources": list(c.sources),
                "first": _hit_json(c.first),
                "members": [_hit_json(m) for m in c.members],
            }
            for c in found
        ]
        echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not found:
        err.print("No story has two snapshots or more in this window.", markup=False)
        return
    table = Table("story", "copies", "first published", "first by", "sources", "first URL / key")
    for n, c in enumerate(found, 1):
        first = c.first
        table.add_row(
            str(n),
            str(c.size),
            _when(first.published_at),
            first.source or "",
            ", ".join(c.sources),
            first.url or first.key,
        )
    _show(table)


@contextmanager
def steps(quiet: bool, what: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar of ``done`` out of ``total`` on a terminal; the hook does nothing when
    piped or with --quiet."""
    if quiet or not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.progress import Progress

    with Progress(console=err, transient=True) as bar:
        task = bar.add_task(what, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        yield advance
