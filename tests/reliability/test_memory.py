"""Memory stays flat however many records are rejected (issue #15, item 10).

The CLI pauses the cycle collector during an import, so anything a rejection leaves in a
reference cycle (an exception kept with its traceback, whose frames hold it back) is kept
until the end: 1.9 KB a line, 1.9 GB for a million bad lines. Here the collector is paused
as the CLI pauses it, and what it finds afterwards must not grow with the rejections; the
messages a report keeps are capped. ``python -m bench.reject_memory`` measures peak RSS.
"""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

from bench.reject_memory import write_bad_lines
from newsstore._schemas import MAX_ERRORS_KEPT
from newsstore._store.sqlite import SQLiteStore


def _cyclic_garbage_after_import(tmp_path: Path, source: Path) -> tuple[int, int]:
    with SQLiteStore(tmp_path / f"{source.stem}.db") as store:
        gc.collect()
        gc.disable()
        try:
            report = store.import_records([source], rejects=tmp_path / "rejects.ndjson")
            garbage = gc.collect()
        finally:
            gc.enable()
    assert len(report.errors) == MAX_ERRORS_KEPT  # the messages kept are capped
    return report.rejected, garbage


def _as_array(lines: list[str]) -> str:
    # Elements a JSON array can hold (the NDJSON lines that are not valid JSON left out).
    return "[" + ",\n".join(x for x in lines if x.endswith("}")) + "]"


@pytest.mark.parametrize("kind", ["ndjson", "json"])
def test_rejections_leave_no_reference_cycles(tmp_path: Path, kind: str) -> None:
    found = []
    for count in (700, 7000):
        source = tmp_path / f"bad{count}.ndjson"
        write_bad_lines(source, count)
        if kind == "json":
            text = _as_array(source.read_text().splitlines())
            source = source.with_suffix(".json")
            source.write_text(text)
            assert len(json.loads(text)) > MAX_ERRORS_KEPT
        found.append(_cyclic_garbage_after_import(tmp_path, source))
    (few, few_garbage), (many, many_garbage) = found
    assert many > 9 * few
    # Whatever the import leaves to the collector is a constant, not a per-rejection cost.
    assert many_garbage <= few_garbage + 20, found
