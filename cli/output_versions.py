"""How versions and diffs are shown: tables and coloured diffs for people, JSON for machines.

Part of :mod:`.output` (the only place that prints), kept apart for its size.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from rich.console import Console

from .output import SafeTable, echo, emit, note, out, safe, show

if TYPE_CHECKING:
    from newsstore import (
        FieldChange,
        KeyChange,
        ParagraphChange,
        SnapshotDiff,
        Version,
        VersionDiff,
    )

__all__ = ["changed_keys", "version_diff", "versions"]


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S") if at else ""


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _counts(diff: SnapshotDiff | None) -> str:
    if diff is None:
        return ""
    c = diff.counts()
    return f"+{c['added']} -{c['removed']} ~{c['changed']} ↕{c['moved']}"


def versions(items: list[Version], *, as_json: bool) -> None:
    """A key's versions: a table, or a JSON array."""
    if as_json:
        rows = [
            {
                "version": v.number,
                "key": v.key,
                "content_hash": v.content_hash,
                "snapshot_at": _iso(v.snapshot_at),
                "first_seen": _iso(v.first_seen),
                "last_seen": _iso(v.last_seen),
                "current": v.current,
                "title": v.snapshot.title,
                "changed": list(v.changed),
                "paragraphs": None if v.diff is None else v.diff.counts(),
            }
            for v in items
        ]
        emit(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = SafeTable(
        "version", "snapshot", "first seen", "last seen", "hash", "changed", "¶ +/-/~/↕"
    )
    for v in items:
        number = f"{v.number}{' (current)' if v.current else ''}"
        changed = ", ".join(v.changed) if v.diff is not None else "(first)"
        table.add_row(
            number,
            _when(v.snapshot_at),
            _when(v.first_seen),
            _when(v.last_seen),
            v.content_hash[:12],
            changed,
            _counts(v.diff),
        )
    show(table)


def changed_keys(items: list[KeyChange], *, as_json: bool) -> None:
    """Keys that got a new version in a window: a table, or a JSON array."""
    if as_json:
        rows = [
            {
                "key": c.key,
                "url": c.url,
                "changed_at": c.changed_at.isoformat(),
                "versions": c.versions,
            }
            for c in items
        ]
        emit(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not items:
        note("No key got a new version in that window.")
        return
    table = SafeTable("changed (snapshot)", "versions", "URL / key")
    for c in items:
        table.add_row(_when(c.changed_at), str(c.versions), c.key)
    show(table)


def _value(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _field_lines(change: FieldChange) -> tuple[list[str], list[str]]:
    """A field's old and new lines; for a list, only the items that differ."""
    if isinstance(change.old, list) and isinstance(change.new, list):
        old = [_value(item) for item in change.old]
        new = [_value(item) for item in change.new]
        return [x for x in old if x not in new], [x for x in new if x not in old]
    old_lines = [] if change.old is None else [_value(change.old)]
    new_lines = [] if change.new is None else [_value(change.new)]
    return old_lines, new_lines


def _header(result: VersionDiff) -> tuple[str, str]:
    old, new = result.old, result.new
    return (
        f"{result.key} version {old.number} (snapshot {_iso(old.snapshot_at)})",
        f"{result.key} version {new.number} (snapshot {_iso(new.snapshot_at)})",
    )


def _hunk(change: ParagraphChange) -> str:
    spans = []
    if change.old_index is not None:
        spans.append(f"-{change.old_index + 1}")
    if change.new_index is not None:
        spans.append(f"+{change.new_index + 1}")
    word = {"insert": "inserted", "delete": "deleted", "change": "changed", "move": "moved"}
    return f"@@ {' '.join(spans)} @@ paragraph {word[change.kind]}"


def _unified(result: VersionDiff) -> None:
    """The diff as a unified diff: ---/+++ lines, one @@ hunk a field or paragraph."""
    old, new = _header(result)
    lines = [f"--- {old}", f"+++ {new}"]
    for change in result.diff.fields:
        removed, added = _field_lines(change)
        lines += [f"@@ {change.field} @@", *("-" + x for x in removed), *("+" + x for x in added)]
    for p in result.diff.paragraphs:
        lines.append(_hunk(p))
        if p.kind == "move":
            lines.append(f" {p.new}")
            continue
        if p.old is not None:
            lines.append(f"-{p.old}")
        if p.new is not None:
            lines.append(f"+{p.new}")
    for line in lines:
        echo(line)


def _coloured(result: VersionDiff) -> None:
    """The diff for a terminal: deletions struck through in red, insertions in green."""
    from rich.text import Text

    console = Console(
        force_terminal=True, soft_wrap=True, highlight=False, markup=False, emoji=False
    )
    old, new = _header(result)
    console.print(Text(safe(f"--- {old}"), style="bold red"))
    console.print(Text(safe(f"+++ {new}"), style="bold green"))
    if not result.diff:
        console.print("no changes")
    for change in result.diff.fields:
        removed, added = _field_lines(change)
        console.print(Text(safe(change.field), style="bold cyan"))
        for x in removed:
            console.print(Text(safe(f"- {x}"), style="red"))
        for x in added:
            console.print(Text(safe(f"+ {x}"), style="green"))
    for p in result.diff.paragraphs:
        console.print(Text(safe(_hunk(p)), style="bold cyan"))
        if p.kind == "change":
            text = Text()
            for edit in p.edits:
                style = {"equal": "", "delete": "red strike", "insert": "bold green"}[edit.op]
                text.append(safe(edit.text), style=style)
            console.print(text)
        elif p.kind == "move":
            console.print(Text(safe(f"  {p.new}"), style="yellow"))
        elif p.kind == "delete":
            console.print(Text(safe(f"- {p.old}"), style="red"))
        else:
            console.print(Text(safe(f"+ {p.new}"), style="green"))


def version_diff(result: VersionDiff, *, as_json: bool, color: bool | None = None) -> None:
    """Two versions' diff: JSON, coloured (a terminal, or ``color``), else a unified diff."""
    if as_json:
        data = {
            "key": result.key,
            "from": {"version": result.old.number, "content_hash": result.old.content_hash},
            "to": {"version": result.new.number, "content_hash": result.new.content_hash},
            **result.diff.to_json(),
        }
        emit(json.dumps(data, ensure_ascii=False, indent=2))
    elif color or (color is None and out.is_terminal):
        _coloured(result)
    else:
        _unified(result)
