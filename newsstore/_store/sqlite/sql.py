"""Helpers for the SQLite store's SQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

__all__ = ["select_in", "statements"]


def select_in(db: sqlite3.Connection, sql: str, values: list[Any]) -> Iterator[Any]:
    """The rows of ``sql``, whose ``IN ({marks})`` takes ``values``, a chunk at a time.

    500 values a statement stay under SQLite's bound-parameter limit on old builds.
    """
    for i in range(0, len(values), 500):
        chunk = values[i : i + 500]
        yield from db.execute(sql.format(marks=",".join("?" * len(chunk))), chunk)


def statements(ddl: str) -> list[str]:
    """The statements of ``ddl`` one at a time (a trigger's body holds semicolons too)."""
    out: list[str] = []
    current = ""
    for line in ddl.strip().splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            out.append(current)
            current = ""
    return out
