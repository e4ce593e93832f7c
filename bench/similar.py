"""``python -m bench similar [--stories N] [--store N] [--only PARTS]``: the near-duplicate
figures (issue #17).

* **precision and recall** of ``store.similar`` at the default threshold, on the labelled
  set of :mod:`bench.stories` (every record asked about; the truth is the other records of
  its story): targets ≥ 0.95 each;
* **fingerprint cost** per sample-sized record: :func:`newsstore._minhash.signature` of the
  sample page's paragraphs, CPU time, median of 5 runs of 2,000 calls (target ≤ 10 µs):
  the compiled path (``newsstore._fingerprint``; ``compiled`` says whether it is built)
  and the numpy fallback, alternating; the signature's share of what ``Store._prepare``
  costs for that record; and ``bands`` and ``distance`` (per candidate in ``similar`` and
  ``clusters``) compiled and in Python;
* **import cost**: the main suite's generated records imported with and without
  fingerprints (alternating, CPU time, medians of 3), and the µs a record it adds;
* **similar p50** on a large SQLite store (the labelled set plus unrelated filler pages,
  :func:`bench.stories.filler_records`): 500 lookups by URL of labelled records after 50
  warm-up calls (target ≤ 20 ms on 1M);
* **clusters for a day**: ``store.clusters`` over each of 10 days of the labelled set, in
  that store, cold (the file dropped from the page cache before each call, see
  :func:`clusters_cold`: wall time and bytes read from disk) and again right after (its
  rows in the page cache), p50 and max (target ≤ 1 s).

The results go to ``bench/similar-results.json``. The large store is cached in
``bench/work/similar-N.db``.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .measure import machine, percentile, remove_db
from .stories import FILLER_DAYS, filler_records, story_records

WORK = Path(__file__).resolve().parent / "work"
RESULTS = Path(__file__).resolve().parent / "similar-results.json"
SAMPLE = (
    Path(__file__).resolve().parent.parent / "tests" / "data" / "snapshot-zh-intl-2023-11-14.txt"
)


def _say(message: str) -> None:
    print(f"[similar] {message}", flush=True)


def accuracy(stories: int) -> dict[str, Any]:
    """Precision and recall of ``similar`` on ``stories`` labelled stories (an in-memory store)."""
    from newsstore import Snapshot
    from newsstore._settings import Settings
    from newsstore._store.sqlite import SQLiteStore

    records = list(story_records(stories))
    label = {rec["url"]: rec.pop("label") for rec in records}
    members: dict[int, set[str]] = {}
    for url, story in label.items():
        members.setdefault(story, set()).add(url)
    tp = fp = fn = 0
    answered = 0  # snapshots for which similar finds another
    distances: dict[str, list[int]] = {"copies": [], "unrelated": []}
    with SQLiteStore(":memory:") as store:
        store.save_many(Snapshot.model_validate(rec) for rec in records)
        for url, story in label.items():
            got = {h.url for h in store.similar(url)}
            want = members[story] - {url}
            answered += bool(got)
            tp += len(got & want)
            fp += len(got - want)
            fn += len(want - got)
        counted = store.near_duplicates()
        # How far copies and unrelated stories are: every band-sharing pair, no threshold.
        for url, story in list(label.items())[:2000]:
            for hit in store.similar(url, max_distance=64):
                kind = "copies" if label.get(hit.url or "") == story else "unrelated"
                distances[kind].append(hit.distance)
    threshold = Settings().similar_distance
    return {
        "stories": stories,
        "records": len(records),
        "threshold": threshold,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "pairs": {"true_positive": tp, "false_positive": fp, "false_negative": fn},
        # What stats counts, against the labels and against similar of every snapshot.
        "near_duplicates": {
            "stats": counted,
            "similar": answered,
            "labelled": sum(1 for story in label.values() if len(members[story]) > 1),
        },
        "copies_distance_max": max(distances["copies"], default=None),
        "copies_distance_p99": percentile(distances["copies"], 99) if distances["copies"] else None,
        "unrelated_sharing_a_band_distance_min": min(distances["unrelated"], default=None),
    }


def fingerprint_cost() -> dict[str, Any]:
    """µs per call of the signature of the sample's body (C and numpy), and of ``_prepare``."""
    from newsstore import _minhash, parse_snapshot_file
    from newsstore._store.sqlite import SQLiteStore

    snapshot = parse_snapshot_file(SAMPLE)
    paragraphs = snapshot.paragraphs
    sig = _minhash.signature(paragraphs)
    other = _minhash.signature(paragraphs[1:])
    assert sig is not None
    assert other is not None
    assert sig == _minhash._numpy_signature(_minhash._joined(paragraphs))
    n = 2_000
    calls: dict[str, Any] = {
        "signature": lambda: _minhash.signature(paragraphs),
        "signature_numpy": lambda: _minhash._numpy_signature(_minhash._joined(paragraphs)),
        "bands": lambda: _minhash.bands(sig),
        "bands_python": lambda: _minhash._bands(sig),
        "distance": lambda: _minhash.distance(sig, other),
        "distance_python": lambda: _minhash._distance(sig, other),
    }
    runs: dict[str, list[float]] = {name: [] for name in calls}
    with SQLiteStore(":memory:") as store:
        calls["prepare"] = lambda: store._prepare(snapshot)
        runs["prepare"] = []
        for _ in range(5):  # alternating, so a busy spell weighs on each alike
            for name, fn in calls.items():
                # CPU time: on a shared machine wall clock measures the other jobs too.
                start = time.process_time()
                for _ in range(n):
                    fn()
                runs[name].append((time.process_time() - start) / n * 1e6)
    us = {name: statistics.median(times) for name, times in runs.items()}
    compiled = _minhash._fast is not None
    return {
        "body_characters": sum(map(len, paragraphs)),
        "compiled": compiled,
        "signature_us": round(us["signature"], 1),
        "signature_numpy_us": round(us["signature_numpy"], 1),
        "numpy_over_signature": round(us["signature_numpy"] / us["signature"], 1),
        "prepare_us_with_signature": round(us["prepare"], 1),
        "share_of_prepare": round(us["signature"] / us["prepare"], 3),
        "bands_us": round(us["bands"], 2),
        "bands_python_us": round(us["bands_python"], 2),
        "distance_us": round(us["distance"], 2),
        "distance_python_us": round(us["distance_python"], 2),
    }


def import_cost(count: int = 5_000, runs: int = 3) -> dict[str, Any]:
    """Import rate of the main suite's generated records with and without fingerprints.

    The same NDJSON file into a fresh SQLite file each time, alternating, in this process;
    "without" replaces the signature by None (no fingerprint, no bands written).
    """
    import tempfile
    from unittest import mock

    from newsstore._store.sqlite import SQLiteStore

    from .generate import GenParams, write_ndjson

    rates: dict[str, list[float]] = {"with": [], "without": []}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data.ndjson"
        with data.open("w", encoding="utf-8") as fp:
            write_ndjson(fp, count, GenParams())
        for run in range(runs):
            for kind in ("with", "without"):
                db = Path(tmp) / f"{kind}-{run}.db"
                patch = mock.patch("newsstore._store.sqlite.rows.signature", return_value=None)
                with SQLiteStore(db) as store:
                    if kind == "without":
                        patch.start()
                    try:
                        cpu = time.process_time()
                        store.import_records([data])
                        rates[kind].append(count / (time.process_time() - cpu))
                    finally:
                        if kind == "without":
                            patch.stop()
    with_fp, without = statistics.median(rates["with"]), statistics.median(rates["without"])
    return {
        "records": count,
        "per_cpu_second_with": round(with_fp),
        "per_cpu_second_without": round(without),
        "slowdown": round(without / with_fp, 3),
        "us_added_per_record": round((1 / with_fp - 1 / without) * 1e6, 1),
    }


def big_store(size: int, stories: int, days: int = FILLER_DAYS) -> Path:
    """A SQLite store of ``size`` records: the labelled set, then filler over ``days`` (cached)."""
    from newsstore import Snapshot
    from newsstore._store.sqlite import SQLiteStore

    WORK.mkdir(parents=True, exist_ok=True)
    name = f"similar-{size}-{stories}" + ("" if days == FILLER_DAYS else f"-d{days}")
    db = WORK / f"{name}.db"
    done = WORK / f"{name}.json"
    if done.exists() and db.exists():
        return db
    remove_db(db)
    labelled = list(story_records(stories))
    start = time.perf_counter()
    with SQLiteStore(db) as store:

        def records() -> Any:
            for rec in labelled:
                rec.pop("label")
                yield Snapshot.model_validate(rec)
            filler = filler_records(max(0, size - len(labelled)), days=days)
            for n, rec in enumerate(filler):
                rec.pop("label")
                if n % 100_000 == 0:
                    _say(f"  {n:,} filler records")
                yield Snapshot.model_validate(rec)

        with store._write_group():
            report = store.save_many(records())
    seconds = time.perf_counter() - start
    done.write_text(json.dumps({"summary": report.summary(), "seconds": seconds}))
    return db


def lookups(db: Path, stories: int) -> dict[str, Any]:
    """``similar`` p50/p99 by URL, and ``clusters`` for a day, on the big store."""
    import random

    from newsstore._store.sqlite import SQLiteStore

    urls = [rec["url"] for rec in story_records(stories)]
    rng = random.Random(5)
    with SQLiteStore(db) as store:
        count = store.count()
        for url in rng.sample(urls, 50):
            store.similar(url)
        times = []
        found = 0
        for url in rng.sample(urls, min(500, len(urls))):
            start = time.perf_counter()
            found += len(store.similar(url))
            times.append((time.perf_counter() - start) * 1000)
    return {
        "store_snapshots": count,
        "similar_ms_p50": round(statistics.median(times), 2),
        "similar_ms_p99": round(percentile(times, 99), 2),
        "similar_hits_per_lookup": round(found / len(times), 1),
        **clusters_cold(db),
    }


def _drop_cached(db: Path) -> None:
    """Evict the store's file (and its WAL) from the page cache: the next read is a disk read.

    Needs no root: ``POSIX_FADV_DONTNEED`` drops a file's clean pages for any reader of it.
    """
    for path in (db, Path(f"{db}-wal")):
        if path.exists():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fdatasync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def _read_bytes() -> int:
    """Bytes this process has had read from storage (not from the page cache)."""
    with open("/proc/self/io", encoding="ascii") as fp:
        return next(int(line.split()[1]) for line in fp if line.startswith("read_bytes:"))


def clusters_cold(db: Path, days: int = 10) -> dict[str, Any]:
    """``clusters`` for ``days`` days of November 2023, cold then warm.

    Cold: a fresh store object (SQLite's own page cache empty) and the file dropped from
    the page cache before each call; the wall time and the bytes read from disk are those
    of the call alone. Warm: the same day again at once.
    """
    from newsstore._store.sqlite import SQLiteStore

    cold: list[float] = []
    warm: list[float] = []
    read: list[int] = []
    sizes: list[int] = []
    counts: list[int] = []
    first = datetime.fromisoformat("2023-11-01T00:00:00+08:00")
    for offset in range(0, 3 * days, 3):
        day = first + timedelta(days=offset)
        with SQLiteStore(db) as store:
            _drop_cached(db)
            before = _read_bytes()
            start = time.perf_counter()
            clusters = store.clusters(day, day + timedelta(days=1))
            cold.append((time.perf_counter() - start) * 1000)
            read.append(_read_bytes() - before)
            start = time.perf_counter()
            store.clusters(day, day + timedelta(days=1))
            warm.append((time.perf_counter() - start) * 1000)
            sizes.append(sum(c.size for c in clusters))
            counts.append(store.count(store.on_day(day.date())))
    return {
        "clusters_day_ms_p50_cold": round(statistics.median(cold), 1),
        "clusters_day_ms_max_cold": round(max(cold), 1),
        "clusters_day_read_kib_p50_cold": round(statistics.median(read) / 1024),
        "clusters_day_read_kib_max_cold": round(max(read) / 1024),
        "clusters_day_ms_p50_warm": round(statistics.median(warm), 1),
        "clustered_snapshots_per_day": round(statistics.median(sizes)),
        "snapshots_on_a_day": round(statistics.median(counts)),
    }


PARTS = ("accuracy", "fingerprint", "import", "store")


def run(
    stories: int, store: int, only: tuple[str, ...] = PARTS, filler_days: int | None = None
) -> dict[str, Any]:
    """The figures of ``only`` (default: all); printed and written to
    ``bench/similar-results.json``. A run of some parts keeps the file's other figures (and
    machine) and dates the parts it measured (``measured`` and ``load_average`` in each).
    """
    now = datetime.now().astimezone().isoformat(timespec="seconds")
    partial = set(only) != set(PARTS)
    result: dict[str, Any] = json.loads(RESULTS.read_text(encoding="utf-8")) if partial else {}
    if not partial:
        result["machine"] = machine()
    if "accuracy" in only:
        _say(f"accuracy on {stories:,} labelled stories")
        result["accuracy"] = accuracy(stories)
        _say(json.dumps(result["accuracy"]))
    if "fingerprint" in only:
        result["fingerprint"] = fingerprint_cost()
        _say(json.dumps(result["fingerprint"]))
    if "import" in only:
        result["import"] = import_cost()
        _say(json.dumps(result["import"]))
    if "store" in only:
        _say(f"building (or reusing) a {store:,}-snapshot store")
        db = big_store(store, stories, filler_days or FILLER_DAYS)
        result["store"] = lookups(db, stories)
        result["store"]["file_gb"] = round(os.path.getsize(db) / 1e9, 2)
        _say(json.dumps(result["store"]))
    if partial:
        load = machine()["load_average"]
        for part in only:
            result[part]["measured"] = now
            result[part]["load_average"] = load
    else:
        result["measured"] = now
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return result
