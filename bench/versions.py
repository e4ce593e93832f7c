"""Versions (issue #16): the character-diff engine, a whole diff, and ``find --changed``.

``python -m bench versions [--store N]`` prints three measurements (medians of several
runs, in one process, so the engines are compared as ratios on the same machine state):

* **Engine.** The paragraphs of ``tests/data``'s sample page, each edited two ways: a few
  characters replaced (美方 for three characters, as an editor fixes a word), and rewritten
  (a third of another paragraph, half of its own, a third of another). For each engine, the
  time per paragraph and the number of edit runs it reports (fewer is easier to read: a
  rewritten sentence that comes back as a dozen one-character runs is noise). Engines:
  the standard library's ``difflib.SequenceMatcher`` (a replace counts as a delete and an
  insert), ``diff-match-patch`` (pure Python, when installed) and ``fast-diff-match-patch``
  (the C++ implementation), both with semantic cleanup.
* **A whole diff** of two sample-sized versions (a generated record and the same record with
  a title edit, three paragraphs rewritten, one inserted, one deleted, one moved and a
  caption changed), through :func:`newsstore.diff_snapshots`. Target: ≤ 5 ms.
* **find --changed for a day** on the big store of ``python -m bench run`` (``--store N``
  snapshots, built and cached in ``bench/work`` as that suite builds it): ``Store.changed``
  for 100 random Beijing days. Target: ≤ 50 ms on the 1M store. The suite's store figures
  (``fig_store``) include the same measurement on the 1M store.

Measured on the 2-core machine the feature was written on (medians of 7 runs):

======================  ===================  ====================  =================
engine                  few characters       rewritten             edit runs (few /
                        (µs a paragraph)     (µs a paragraph)      rewritten)
======================  ===================  ====================  =================
difflib                 ~60                  ~100                  2 / ~14
diff-match-patch        ~14                  ~4,000                2 / ~2
fast-diff-match-patch   ~4                   ~470                  2 / ~2
======================  ===================  ====================  =================

(Rewritten paragraphs measured 190–1,540 µs with fast-diff-match-patch and 1,900–9,600 µs
with the pure-Python port over five runs on the shared machine; the few-character times
held within 10%.) A whole diff: 0.41–0.77 ms (median of 50). find --changed for a day on
the 1M store (900,606 snapshots, 16 GB): 0.63–0.68 ms p50 over three runs of 100 days.

So newsstore uses fast-diff-match-patch with semantic cleanup: on the edits news sites make
(a word or two) it is the fastest by 15×, and on rewritten sentences it reports what a
reader sees (about two runs, where difflib scatters a dozen one-character matches through
the sentence) at half a millisecond; the pure-Python port reads as well but is ten times
slower, too slow for an article with a few rewritten paragraphs within 5 ms.
"""

from __future__ import annotations

import difflib
import random
import statistics
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from .measure import percentile

__all__ = ["changed_per_day", "engines", "run", "whole_diff"]

SAMPLE = (
    Path(__file__).resolve().parent.parent / "tests" / "data" / "snapshot-zh-intl-2023-11-14.txt"
)
_RUNS = 7


def _median_us(fn: Callable[[str, str], Any], pairs: list[tuple[str, str]]) -> float:
    times = []
    for _ in range(_RUNS):
        start = time.perf_counter()
        for a, b in pairs:
            fn(a, b)
        times.append((time.perf_counter() - start) / len(pairs) * 1e6)
    return statistics.median(times)


def engines() -> list[dict[str, Any]]:
    """Each engine's time per paragraph and edit runs, on the sample's paragraphs."""
    import fast_diff_match_patch

    from newsstore import parse_snapshot_file

    paragraphs = [p for p in parse_snapshot_file(SAMPLE).paragraphs if len(p) > 30]
    rng = random.Random(1)

    def few(p: str) -> str:
        i = rng.randrange(len(p) - 5)
        return p[:i] + "美方" + p[i + 3 :]

    def rewritten(p: str) -> str:
        q = paragraphs[rng.randrange(len(paragraphs))]
        half = len(p) // 2
        return q[: len(q) // 3] + p[half // 2 : half] + q[-len(q) // 3 :]

    def by_difflib(a: str, b: str) -> int:
        ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
        return sum({"equal": 0, "replace": 2}.get(tag, 1) for tag, *_ in ops)

    def by_fast(a: str, b: str) -> int:
        runs = fast_diff_match_patch.diff(a, b, cleanup="Semantic", counts_only=True)
        return sum(op != "=" for op, _ in runs)

    candidates: dict[str, Callable[[str, str], int]] = {
        "difflib": by_difflib,
        "fast-diff-match-patch": by_fast,
    }
    try:
        import diff_match_patch  # type: ignore[import-not-found]

        dmp = diff_match_patch.diff_match_patch()
        dmp.Diff_Timeout = 0

        def by_dmp(a: str, b: str) -> int:
            runs = dmp.diff_main(a, b)
            dmp.diff_cleanupSemantic(runs)
            return sum(op != 0 for op, _ in runs)

        candidates["diff-match-patch"] = by_dmp
    except ImportError:
        pass
    rows = []
    for kind, edit in (("few characters", few), ("rewritten", rewritten)):
        pairs = [(p, edit(p)) for p in paragraphs]
        for name, engine in candidates.items():
            rows.append(
                {
                    "engine": name,
                    "edit": kind,
                    "us_per_paragraph": _median_us(engine, pairs),
                    "edit_runs": statistics.mean(engine(a, b) for a, b in pairs),
                    "paragraphs": len(pairs),
                }
            )
    return rows


def whole_diff() -> dict[str, Any]:
    """:func:`newsstore.diff_snapshots` on two sample-sized versions: median ms of 50 calls."""
    from newsstore import Snapshot, diff_snapshots

    from .generate import GenParams, record

    base = record(GenParams(), 11)
    a = Snapshot.model_validate(base)
    edited = dict(base)
    paragraphs = list(base["paragraphs"])
    for i in (1, 4, 7):  # three paragraphs rewritten in part
        paragraphs[i] = paragraphs[i][: len(paragraphs[i]) // 2] + "据最新消息,双方仍在磋商。"
    del paragraphs[2]
    paragraphs.insert(5, "新增的一段:记者从有关方面获悉,会谈将于下周举行。")
    paragraphs.append(paragraphs.pop(0))  # moved to the end
    edited["paragraphs"] = paragraphs
    edited["title"] = base["title"] + "(更新)"
    edited["images"] = [dict(img) for img in base["images"]]
    edited["images"][0]["caption"] = "新的图片说明"
    b = Snapshot.model_validate(edited)
    diff = diff_snapshots(a, b)
    times = []
    for _ in range(50):
        start = time.perf_counter()
        diff_snapshots(a, b)
        times.append((time.perf_counter() - start) * 1000)
    return {
        "median_ms": statistics.median(times),
        "p90_ms": percentile(times, 90),
        "paragraphs": [len(a.paragraphs), len(b.paragraphs)],
        "json_kb": round(len(a.model_dump_json().encode()) / 1024, 1),
        "changes": diff.counts() | {"fields": list(diff.changed_fields)},
    }


def changed_per_day(db: Path, days: int = 100, seed: int = 7) -> dict[str, Any]:
    """``Store.changed`` for random Beijing days on the store at ``db``: median ms."""
    from newsstore._store.sqlite import SQLiteStore
    from newsstore._times import day_range

    rng = random.Random(seed)
    first, span = date(2019, 1, 2), (date(2025, 9, 29) - date(2019, 1, 2)).days
    with SQLiteStore(db, create=False) as store:
        for _ in range(10):  # warm-up: page cache, statement cache
            store.changed(*day_range(first + timedelta(days=rng.randrange(span)), store.zone))
        times, found = [], []
        for _ in range(days):
            start, end = day_range(first + timedelta(days=rng.randrange(span)), store.zone)
            began = time.perf_counter()
            keys = store.changed(start, end)
            times.append((time.perf_counter() - began) * 1000)
            found.append(len(keys))
        snapshots = store.count()
    return {
        "store": snapshots,
        "median_ms": statistics.median(times),
        "p99_ms": percentile(times, 99),
        "keys_per_day_mean": sum(found) / len(found),
        "keys_per_day_max": max(found),
    }


def run(store: int | None = None) -> dict[str, Any]:
    """Print and return the three measurements (the store one when ``store`` is given)."""
    out: dict[str, Any] = {"measured": datetime.now().isoformat(timespec="seconds")}
    out["engines"] = engines()
    for row in out["engines"]:
        print(
            f"{row['engine']:<22} {row['edit']:<15} {row['us_per_paragraph']:9.1f} µs/paragraph"
            f"  {row['edit_runs']:5.1f} edit runs"
        )
    out["whole_diff"] = whole_diff()
    w = out["whole_diff"]
    print(
        f"diff_snapshots, {w['json_kb']} KB versions: median {w['median_ms']:.2f} ms,"
        f" p90 {w['p90_ms']:.2f} ms (≤ 5 ms); {w['changes']}"
    )
    if store is not None:
        from .generate import GenParams
        from .suite import WORK, big_store

        WORK.mkdir(parents=True, exist_ok=True)
        db, _ = big_store(WORK, store, GenParams(), False)
        out["changed_per_day"] = c = changed_per_day(db)
        print(
            f"find --changed, a day, {c['store']:,}-snapshot store: median {c['median_ms']:.2f} ms,"
            f" p99 {c['p99_ms']:.2f} ms (≤ 50 ms); keys a day: mean {c['keys_per_day_mean']:.1f},"
            f" max {c['keys_per_day_max']}"
        )
    return out
