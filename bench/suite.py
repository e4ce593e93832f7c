"""The figures of issue #6, each against its target, with its peers run side by side.

Throughputs are records per second of **CPU time** (user + system) of the process doing the
work, on one core: the machine the suite runs on is shared, and CPU time is what the work
costs whatever else runs. Wall-clock figures are measured too and kept in ``results.json``
(and shown in the table's note column); on an idle machine the two agree. Latencies (get,
day lookup) are wall clock per call.
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from .generate import GenParams, record, write_ndjson, write_text_files
from .measure import (
    Timing,
    child_json,
    child_python,
    machine,
    percentile,
    remove_db,
    run_child,
    timed,
)
from .peers import floor, sqlite_utils_upsert
from .versions import changed_per_day

__all__ = ["Figure", "run"]

WORK = Path(__file__).resolve().parent / "work"
RESULTS = Path(__file__).resolve().parent / "results.json"
FULL_IMPORT = 100_000
FULL_STORE = 1_000_000
_CATEGORIES = ("国际", "国内", "财经", "科技", "体育", "娱乐", "军事", "社会", "教育", "健康")


@dataclass
class Figure:
    """One line of the table."""

    key: str
    label: str
    value: float | None
    unit: str
    target: str
    passed: bool | None  # None: informational, or not measured
    ratio: float | None = None
    ratio_of: str = ""
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- data ----------------------------------------------------------------------------------
def dataset(work: Path, count: int, params: GenParams) -> Path:
    """The NDJSON file of ``count`` generated records (cached, keyed by the parameters)."""
    path = work / f"data-{params.tag()}-{count}.ndjson"
    if not path.exists():
        _say(f"generating {count:,} records -> {path.name}")
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as fp:
            write_ndjson(fp, count, params)
        tmp.rename(path)
    return path


def text_dataset(work: Path, count: int, params: GenParams) -> Path | None:
    """A directory of ``count`` snapshot text pages (cached); None without render_snapshot."""
    path = work / f"text-{params.tag()}-{count}"
    done = path / ".complete"
    if not done.exists():
        shutil.rmtree(path, ignore_errors=True)
        _say(f"rendering {count:,} snapshot text pages -> {path.name}/")
        if write_text_files(path, count, params) == 0:
            return None
        done.touch()
    return path


def big_store(
    work: Path, count: int, params: GenParams, rebuild: bool
) -> tuple[Path, dict[str, Any]]:
    """The ``count``-snapshot store (cached), and how its build went (time, peak RSS).

    Built by importing the generator's NDJSON stream (a pipe, no file) in a fresh process,
    which is also the peak-RSS measurement of a ``count``-record import.
    """
    db = work / f"store-{params.tag()}-{count}.db"
    meta_path = db.with_suffix(".json")
    if meta_path.exists() and db.exists() and not rebuild:
        meta: dict[str, Any] = json.loads(meta_path.read_text())
        meta["cached"] = True
        return db, meta
    remove_db(db)
    meta_path.unlink(missing_ok=True)
    _say(f"building the {count:,}-snapshot store (cached for later runs) -> {db.name}")
    generator = child_python("generate", "--count", str(count), "--ndjson", "-")
    gen = subprocess.Popen([*generator, "--seed", str(params.seed)], stdout=subprocess.PIPE)
    importer = child_python("_import", "--db", str(db), "--source", "-")
    try:
        proc, timing = run_child(importer, stdin=gen.stdout)
    finally:
        assert gen.stdout is not None
        gen.stdout.close()
        gen.wait()
    result = child_json(proc)
    meta = {
        "count": count,
        "built": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "import": result,
        "generator_and_import_wall": timing.wall,
        "db_bytes": db.stat().st_size,
    }
    meta_path.write_text(json.dumps(meta, indent=2))
    meta["cached"] = False
    return db, meta


def _import_child(db: Path, source: Path, fresh: bool) -> dict[str, Any]:
    if fresh:
        remove_db(db)
    proc, _ = run_child(child_python("_import", "--db", str(db), "--source", str(source)))
    return child_json(proc)


# -- figures -------------------------------------------------------------------------------
def fig_parse(scale: float) -> Figure:
    pages = max(1_000, round(20_000 * scale))
    target = "≥ 5,000 pages/s"
    try:
        from .parse_speed import run as parse_run
    except ImportError as exc:
        return Figure(
            "parse",
            "parse snapshot text",
            None,
            "pages/s",
            target,
            None,
            note=f"skipped: bench/parse_speed.run unavailable ({exc})",
        )
    result = parse_run(pages)
    value = float(result["pages_per_second"])
    return Figure(
        "parse",
        "parse snapshot text (sample page)",
        value,
        "pages/s",
        target,
        value >= 5_000,
        ratio=value / 5_000,
        ratio_of="of target",
        note=f"{result.get('bytes_per_page', 0):,.0f}-byte page, wall clock (bench/parse_speed)",
        detail=dict(result),
    )


def fig_imports(work: Path, data: Path, count: int) -> tuple[list[Figure], dict[str, Any]]:
    """First import and re-import, each in a fresh process (also their peak RSS)."""
    db = work / "import.db"
    _say(f"import {count:,} NDJSON snapshots into a fresh store")
    first = _import_child(db, data, fresh=True)
    _say("re-import of the same file")
    again = _import_child(db, data, fresh=False)
    remove_db(db)
    first_rate = _rate(count, first["cpu"])
    again_rate = _rate(count, again["cpu"])
    figures = [
        Figure(
            "import",
            f"import {count:,} NDJSON snapshots",
            first_rate,
            "snapshots/s",
            "≥ 10,000 /s",
            first_rate >= 10_000,
            ratio=first_rate / 10_000,
            ratio_of="of target",
            note=f"wall {_rate(count, first['wall']):,.0f}/s; {first['summary']}",
            detail=first,
        ),
        Figure(
            "reimport",
            "re-import, all unchanged",
            again_rate,
            "snapshots/s",
            "≥ 2× first import",
            again_rate >= 2 * first_rate,
            ratio=again_rate / first_rate,
            ratio_of="× first import",
            note=f"wall {_rate(count, again['wall']):,.0f}/s; {again['summary']}",
            detail=again,
        ),
    ]
    return figures, first


def fig_peers(work: Path, data: Path, count: int, first: dict[str, Any]) -> list[Figure]:
    _say("peer: sqlite-utils upsert --nl --pk url (subprocess)")
    su = sqlite_utils_upsert(data, work)
    su_cpu = max(1e-9, su["cpu"] - su["startup_cpu"])
    su_rate = _rate(count, su_cpu)
    su_wall = max(1e-9, su["wall"] - su["startup_wall"])
    ours = _rate(count, first["cpu"])
    _say("peer: floor, json.loads + sqlite3 executemany")
    floor_timing, lines = floor(data, work)
    floor_rate = _rate(lines, floor_timing.cpu)
    return [
        Figure(
            "vs_sqlite_utils",
            "vs sqlite-utils upsert --nl --pk url",
            su_rate,
            "snapshots/s",
            "newsstore ≥ 1.0×",
            ours >= su_rate,
            ratio=ours / su_rate,
            ratio_of="× sqlite-utils",
            note=f"{su['rows']:,} rows; wall {_rate(count, su_wall):,.0f}/s;"
            f" start-up {su['startup_cpu']:.2f}s CPU subtracted",
            detail=su,
        ),
        Figure(
            "vs_floor",
            "vs floor: json.loads + executemany",
            floor_rate,
            "snapshots/s",
            "within 2.5× of floor",
            floor_rate / ours <= 2.5,
            ratio=floor_rate / ours,
            ratio_of="× slower than floor",
            note=f"wall {_rate(lines, floor_timing.wall):,.0f}/s",
            detail=asdict(floor_timing),
        ),
    ]


def mongo_ops(
    source: Path, batch_size: int = 1000, *, stub: bool = False
) -> tuple[Timing, int, int]:
    """NDJSON -> validated -> the bulk-write ops MongoStore would send, BSON-encoded.

    The store's own ``_write_plans`` for a first import, its bulk writes replaced by the
    driver's client-side work (``bench/mongo_client.py``; ``stub``: the fingerprint's
    signature a constant). No server.
    """
    from .mongo_client import mongo_ops as client_ops

    wall, cpu, count, size = client_ops(source, batch_size, stub=stub)
    return Timing(wall, cpu), count, size


def fig_mongo(data: Path) -> Figure:
    _say("MongoDB client-side cost: NDJSON -> validated -> BSON-encoded bulk ops")
    timing, count, size = mongo_ops(data)
    rate = _rate(count, timing.cpu)
    return Figure(
        "mongo_ops",
        "MongoDB client side: NDJSON → BSON bulk ops",
        rate,
        "snapshots/s",
        "≥ 20,000 /s",
        rate >= 20_000,
        ratio=rate / 20_000,
        ratio_of="of target",
        note=f"wall {_rate(count, timing.wall):,.0f}/s; {size / count:,.0f} BSON bytes/snapshot",
        detail={"count": count, "bson_bytes": size, **asdict(timing)},
    )


def fig_mongo_wire(data: Path, uri: str, count: int = 500) -> Figure:
    """An import into a MongoDB server over the wire, beside the client-side figure.

    The server is whatever ``NEWSSTORE_BENCH_MONGODB_URI`` names (the test server scans, so
    keep ``count`` to hundreds there); the database is dropped afterwards.
    """
    import uuid

    from newsstore import open_store

    _say(f"MongoDB over the wire: import of {count} snapshots")
    source = data.parent / f"wire-{count}.ndjson"
    with data.open("rb") as src, source.open("wb") as out:
        for _ in range(count):
            out.write(src.readline())
    name = f"newsstore_bench_{uuid.uuid4().hex[:8]}"
    with open_store(uri, database=name) as store:
        try:
            with timed() as timing:
                report = store.import_records([source])
            server = store.diagnose().server
        finally:
            store._database.client.drop_database(name)  # type: ignore[attr-defined]
    rate = _rate(count, timing.wall)
    return Figure(
        "mongo_wire",
        "MongoDB over the wire: import (first)",
        rate,
        "snapshots/s",
        "informational",
        None,
        note=f"{server}; client CPU {_rate(count, timing.cpu):,.0f}/s; {report.summary()}",
        detail={"count": count, **asdict(timing)},
    )


def fig_text_import(work: Path, params: GenParams, count: int) -> Figure | None:
    directory = text_dataset(work, count, params)
    if directory is None:
        return None
    from newsstore._store.sqlite import SQLiteStore

    db = work / "text-import.db"
    remove_db(db)
    _say(f"import {count:,} snapshot text files")
    with SQLiteStore(db) as store, timed() as timing:
        report = store.import_records([directory], glob="*.txt")
    remove_db(db)
    rate = _rate(report.total, timing.cpu)
    return Figure(
        "text_import",
        f"import {count:,} snapshot text files",
        rate,
        "pages/s",
        "(no target)",
        None,
        note=f"wall {_rate(report.total, timing.wall):,.0f}/s; {report.summary()}",
        detail={"summary": report.summary(), **asdict(timing)},
    )


def fig_store_child(db: Path, count: int) -> list[Figure]:
    """:func:`fig_store` in a fresh process, like the imports: no heap left by the others."""
    _say(f"get by URL, day lookups and export on the {count:,}-snapshot store (fresh process)")
    proc, _ = run_child(child_python("_store", "--db", str(db), "--count", str(count)))
    return [Figure(**f) for f in child_json(proc)["figures"]]


def fig_store(db: Path, params: GenParams, count: int, seed: int = 7) -> list[Figure]:
    """Get by URL, one day's lookup and export, on the big store."""
    from newsstore._export import open_output, write_snapshots
    from newsstore._query import Query
    from newsstore._store.sqlite import SQLiteStore

    rng = random.Random(seed)
    figures: list[Figure] = []
    with SQLiteStore(db) as store:
        # -- get by URL, as spelled in the data (so canonicalisation is included)
        urls: list[str] = []
        while len(urls) < 2_200:
            url = record(params, rng.randrange(count))["url"]
            if url:
                urls.append(url)
        for url in urls[:200]:  # warm-up: page cache, statement cache
            store.get(url)
        _say(f"get by URL x {len(urls) - 200:,} on the {count:,}-snapshot store")
        walls: list[float] = []
        cpus: list[float] = []
        complete = True
        for url in urls[200:]:
            w, c = time.perf_counter_ns(), time.thread_time_ns()
            snap = store.get(url)
            cpus.append((time.thread_time_ns() - c) / 1e6)
            walls.append((time.perf_counter_ns() - w) / 1e6)
            complete = complete and snap.stored is not None and bool(snap.paragraphs)
        p50, p99 = percentile(walls, 50), percentile(walls, 99)
        detail = {
            "calls": len(walls),
            "p50_ms": p50,
            "p90_ms": percentile(walls, 90),
            "p99_ms": p99,
            "max_ms": max(walls),
            "cpu_p50_ms": percentile(cpus, 50),
            "cpu_p99_ms": percentile(cpus, 99),
            "full_model": complete,
        }
        figures += [
            Figure(
                "get_p50",
                f"get by URL, {count:,} store: p50",
                p50,
                "ms",
                "≤ 0.5 ms",
                p50 <= 0.5 and complete,
                ratio=p50 / 0.5,
                ratio_of="of limit",
                note=f"CPU p50 {detail['cpu_p50_ms']:.3f} ms; full model: {complete}",
                detail=detail,
            ),
            Figure(
                "get_p99",
                f"get by URL, {count:,} store: p99",
                p99,
                "ms",
                "≤ 2 ms",
                p99 <= 2 and complete,
                ratio=p99 / 2,
                ratio_of="of limit",
                note=f"CPU p99 {detail['cpu_p99_ms']:.3f} ms; max {detail['max_ms']:.2f} ms",
                detail=detail,
            ),
        ]

        # -- one day's lookup: a Beijing calendar day and a category (README's example)
        _say("one day's lookup x 100")
        first_day, days_span = date(2019, 1, 2), (date(2025, 9, 29) - date(2019, 1, 2)).days
        times: list[float] = []
        rows: list[int] = []
        for _ in range(100):
            day = first_day + timedelta(days=rng.randrange(days_span))
            query = replace(store.on_day(day), category=rng.choice(_CATEGORIES))
            start = time.perf_counter()
            found = list(store.find(query))
            times.append((time.perf_counter() - start) * 1000)
            rows.append(len(found))
        p50 = percentile(times, 50)
        figures.append(
            Figure(
                "day_lookup",
                "one day's lookup (day + category)",
                p50,
                "ms",
                "≤ 20 ms",
                p50 <= 20 and max(rows) <= 100,
                ratio=p50 / 20,
                ratio_of="of limit",
                note=f"p50; p99 {percentile(times, 99):.1f} ms; rows {min(rows)}-{max(rows)},"
                f" mean {sum(rows) / len(rows):.0f}",
                detail={
                    "p50_ms": p50,
                    "p99_ms": percentile(times, 99),
                    "rows_max": max(rows),
                    "rows_mean": sum(rows) / len(rows),
                },
            )
        )

        # -- find --changed for one day (issue #16)
        _say("find --changed for a day x 100")
        changed = changed_per_day(db)
        figures.append(
            Figure(
                "changed_day",
                "find --changed for a day",
                changed["median_ms"],
                "ms",
                "≤ 50 ms",
                changed["median_ms"] <= 50,
                ratio=changed["median_ms"] / 50,
                ratio_of="of limit",
                note=f"p50; p99 {changed['p99_ms']:.1f} ms;"
                f" keys a day: mean {changed['keys_per_day_mean']:.1f}",
                detail=changed,
            )
        )

        # -- export: the fast path must write exactly what the model path writes
        sample = Query(limit=300)
        via_models = io.StringIO()
        write_snapshots(store.find(sample), via_models)
        via_export = io.StringIO()
        store.export(via_export, sample)
        identical = via_models.getvalue() == via_export.getvalue()
        _say(f"export the {count:,}-snapshot store to NDJSON")
        with open_output(os.devnull, io.StringIO()) as out, timed() as timing:
            exported = store.export(out)
        rate = _rate(exported, timing.cpu)
        figures.append(
            Figure(
                "export",
                f"export {exported:,} snapshots to NDJSON",
                rate,
                "snapshots/s",
                "≥ 20,000 /s",
                rate >= 20_000 and identical,
                ratio=rate / 20_000,
                ratio_of="of target",
                note=f"wall {_rate(exported, timing.wall):,.0f}/s; same bytes as model path:"
                f" {identical}",
                detail={"count": exported, "identical_to_model_path": identical, **asdict(timing)},
            )
        )
    return figures


def fig_rss(
    small: dict[str, Any], small_count: int, big: dict[str, Any], big_count: int
) -> list[Figure]:
    small_rss = float(small["maxrss_mb"])
    big_rss = float(big["import"]["maxrss_mb"])
    cached = (
        f" (cached: measured when the store was built, {big['built']})" if big.get("cached") else ""
    )
    return [
        Figure(
            "rss_small",
            f"peak RSS, import of {small_count:,}",
            small_rss,
            "MB",
            "< 200 MB",
            small_rss < 200,
            ratio=small_rss / 200,
            ratio_of="of limit",
            note="fresh process, getrusage maxrss",
        ),
        Figure(
            "rss_big",
            f"peak RSS, import of {big_count:,}",
            big_rss,
            "MB",
            "< 200 MB, flat",
            big_rss < 200 and small_rss < 200,
            ratio=big_rss / small_rss,
            ratio_of=f"× the {small_count:,} import",
            note=f"fresh process, streamed from the generator{cached}; "
            f"{_rate(big_count, big['import']['cpu']):,.0f}/s CPU",
        ),
    ]


# -- the run -------------------------------------------------------------------------------
def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit in ("ms",):
        return f"{value:.3f} ms" if value < 10 else f"{value:.1f} ms"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:,.0f} {unit}"


def table(figures: list[Figure]) -> str:
    rows = [("figure", "value", "target", "result", "ratio", "note")]
    for f in figures:
        result = "—" if f.passed is None else ("PASS" if f.passed else "FAIL")
        ratio = "" if f.ratio is None else f"{f.ratio:.2f} {f.ratio_of}"
        rows.append((f.label, _fmt(f.value, f.unit), f.target, result, ratio, f.note))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(r[:5])) + "  " + r[5])
        if n == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 4)
    return "\n".join(lines)


def run(
    scale: float = 1.0, *, rebuild: bool = False, work: Path = WORK, results: Path = RESULTS
) -> list[Figure]:
    """Run every figure at ``scale`` (1.0: import 100k, store 1M); print and save them."""
    work.mkdir(parents=True, exist_ok=True)
    params = GenParams()
    n_import = max(1_000, round(FULL_IMPORT * scale))
    n_store = max(10_000, round(FULL_STORE * scale))
    started = time.perf_counter()
    info = machine()
    load = info["load_average"]
    _say(f"scale {scale:g}: import {n_import:,}, store {n_store:,}; load average {load}")

    figures: list[Figure] = []
    figures.append(fig_parse(scale))
    data = dataset(work, n_import, params)
    import_figures, first = fig_imports(work, data, n_import)
    figures += import_figures
    figures += fig_peers(work, data, n_import, first)
    figures.append(fig_mongo(data))
    wire = os.environ.get("NEWSSTORE_BENCH_MONGODB_URI")
    if wire:
        figures.append(fig_mongo_wire(data, wire))
    text = fig_text_import(work, params, min(n_import, 2_000))
    if text is not None:
        figures.append(text)
    db, meta = big_store(work, n_store, params, rebuild)
    figures += fig_store_child(db, n_store)
    figures += fig_rss(first, n_import, meta, n_store)

    info["load_average_end"] = os.getloadavg()
    out = {
        "scale": scale,
        "import_count": n_import,
        "store_count": n_store,
        "generator": asdict(params),
        "machine": info,
        "seconds": round(time.perf_counter() - started, 1),
        "measured": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "figures": [asdict(f) for f in figures],
    }
    results.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print()
    print(table(figures))
    passed = sum(f.passed is True for f in figures)
    failed = sum(f.passed is False for f in figures)
    print(f"\n{passed} pass, {failed} fail; {out['seconds']:.0f}s; results in {results}")
    return figures
