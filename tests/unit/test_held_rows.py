"""The held index rows' sort: the compiled one gives the Python reference's texts."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from newsstore._store.sqlite import buffer

try:
    from newsstore._heldrows import sorted_pairs as compiled
except ImportError:  # pragma: no cover - not built here
    compiled = None

needs_compiled = pytest.mark.skipif(
    compiled is None, reason="newsstore._heldrows is not built (no C compiler): Python only"
)


def _held(rng: random.Random, ids: int) -> dict[int, str]:
    """Item days (negative before 1970) or band keys (up to 53 bits), written as the store
    writes them (``str`` of a list, and JSON without spaces), with repeats."""
    out = {}
    for i in rng.sample(range(1, 10 * ids), ids):
        values = [
            rng.choice((rng.randint(-800_000, 3_000_000), rng.getrandbits(53)))
            for _ in range(rng.randint(0, 25))
        ]
        values += rng.sample(values, len(values) // 3)
        out[i] = str(values) if rng.random() < 0.5 else json.dumps(values, separators=(",", ":"))
    return out


@needs_compiled
@pytest.mark.parametrize("seed", range(20))
def test_the_compiled_sort_gives_the_reference_texts(seed: int) -> None:
    rng = random.Random(seed)
    held = _held(rng, rng.choice((1, 7, 300)))
    for limit in (1, 3, 50_000):
        assert compiled(held, limit) == buffer.python_sorted_pairs(held, limit)


@needs_compiled
def test_the_texts_hold_every_distinct_pair_once_in_order() -> None:
    held = {9: "[5, -2, 5]", 1: "[]", 2: " [ 5 ,7 ] ", 4: str([2**63 - 1, -(2**63)])}
    texts = compiled(held, 2)
    assert texts == [
        "[[-9223372036854775808,4],[-2,9]]",
        "[[5,2],[5,9]]",
        "[[7,2],[9223372036854775807,4]]",
    ]
    assert compiled({}, 5) == [] == buffer.python_sorted_pairs({}, 5)


@needs_compiled
@pytest.mark.parametrize(
    "text", ["[1,]", "[", "x", "[1 2]", "[1.5]", "[9223372036854775808]", "[1]x", '["1"]']
)
def test_a_value_that_is_not_an_array_of_integers_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a JSON array of integers"):
        compiled({1: text}, 10)


def test_without_the_extension_the_store_writes_the_same_rows(tmp_path: Path) -> None:
    # One import in a fresh interpreter where the extension does not load, as in an
    # install where it did not compile, and one here: the same index rows.
    script = """
import sqlite3, sys
if sys.argv[1] == "python":
    sys.modules["newsstore._heldrows"] = None
from newsstore._store.sqlite import SQLiteStore, buffer
assert (buffer.sorted_pairs is buffer.python_sorted_pairs) == (sys.argv[1] == "python")
with SQLiteStore(sys.argv[2]) as store:
    store.import_records([sys.argv[3]])
db = sqlite3.connect(sys.argv[2])
for table in ("items", "bands", "story_times"):
    print(table, db.execute(f"SELECT count(*) FROM {table}").fetchone())
    for row in db.execute(f"SELECT * FROM {table} ORDER BY 1, 2"):
        print(row)
"""
    from bench.generate import write_ndjson

    source = tmp_path / "crawl.ndjson"
    with source.open("w", encoding="utf-8") as fp:
        write_ndjson(fp, 60)  # the bench's records: related items, bodies, times
    runs = {}
    for mode in ("python", "default"):
        runs[mode] = subprocess.run(
            [sys.executable, "-c", script, mode, str(tmp_path / f"{mode}.db"), str(source)],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[2],
        ).stdout
    assert runs["python"] == runs["default"]
    assert runs["python"].count("\n") > 60 * 3  # items, bands and story times were written
