"""How results are shown: tables for people, JSON for machines. The only place that prints."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable

from rich.console import Console
from rich.table import Table

from newsstore import ImportReport, Snapshot
from newsstore._store import RelatedHit, Stats

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


def echo(text: str) -> None:
    """Print plain text to stdout, untouched by rich markup."""
    sys.stdout.write(text + "\n")


def snapshot_json(snapshot: Snapshot) -> None:
    """One snapshot as indented JSON."""
    echo(snapshot.model_dump_json(indent=2))


def snapshots(items: Iterable[Snapshot], *, as_json: bool, ndjson: bool) -> int:
    """A list of snapshots: a table, a JSON array or NDJSON. Returns how many."""
    if ndjson or as_json:
        from newsstore._export import write_snapshots

        return write_snapshots(items, sys.stdout, format="ndjson" if ndjson else "json")
    table = Table("published", "title", "source", "category", "URL / key")
    count = 0
    for s in items:
        count += 1
        when = s.published_at.strftime("%Y-%m-%d %H:%M") if s.published_at else ""
        key = s.url or (s.stored.key if s.stored else "")
        table.add_row(when, s.title, s.source or "", s.category or "", key)
    if count:
        out.print(table)
    else:
        err.print("No snapshots match.")
    return count


def report(result: ImportReport, *, dry_run: bool = False) -> None:
    """The import summary: one line, then the first rejections on stderr."""
    prefix = "dry run, nothing written: " if dry_run else ""
    echo(prefix + result.summary())
    for message in result.errors[:20]:
        err.print(f"rejected: {message}", markup=False)
    if result.rejected > len(result.errors[:20]):
        err.print(f"… and {result.rejected - len(result.errors[:20])} more rejected", markup=False)


def related(hits: Iterable[RelatedHit], *, as_json: bool) -> int:
    """Related items with the snapshot listing them."""
    count = 0
    table = Table("date", "item", "kind", "listed by", "links to")
    for hit in hits:
        count += 1
        listed = hit.listed_by.stored.key if hit.listed_by.stored else ""
        if as_json:
            row = {
                "item": hit.item.model_dump(mode="json"),
                "kind": hit.kind,
                "listed_by": listed,
                "listed_by_title": hit.listed_by.title,
                "links_to": hit.links_to,
            }
            echo(json.dumps(row, ensure_ascii=False))
        else:
            when = hit.item.published_at.strftime("%Y-%m-%d %H:%M")
            text = hit.item.title or (hit.item.excerpt or "")[:40]
            table.add_row(when, text, hit.kind, hit.listed_by.title, hit.links_to or "")
    if count and not as_json:
        out.print(table)
    return count


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
        out.print(table)
