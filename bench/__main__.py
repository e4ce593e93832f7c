"""``python -m bench run [--scale N] [--rebuild]`` — see bench/README.md.

Other commands: ``generate`` (write the generated data set), ``profile`` (one figure's work
under pyinstrument), ``versions`` (the diff engines compared, a whole diff, ``find
--changed``; see bench/versions.py), ``similar`` (the near-duplicate figures,
bench/similar.py), and ``_import`` (internal: one import in a fresh process, for peak RSS).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Literal


def _import(db: str, source: str, format: str, workers: str) -> None:
    import resource

    from newsstore._store.sqlite import SQLiteStore
    from newsstore_cli.core import paused_gc

    from .measure import max_rss_mb, timed, worker_peaks

    count: int | Literal["auto"] = "auto" if workers == "auto" else int(workers)
    # The cycle collector paused as `newsstore import` pauses it: the import measured is
    # the command's (its modules add ~3 MB to the peak RSS, as they do to the command's).
    with (
        paused_gc(),
        SQLiteStore(db) as store,
        timed() as timing,
        worker_peaks() as peaks,
    ):
        report = store.import_records([source], format=format, workers=count)
    # The workers have been joined: their CPU is in RUSAGE_CHILDREN. (Not their memory:
    # a child's ru_maxrss counts this process's pages it shared between fork and exec.)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        json.dumps(
            {
                "wall": timing.wall,
                "cpu": timing.cpu + children.ru_utime + children.ru_stime,
                "main_cpu": timing.cpu,
                "maxrss_mb": max_rss_mb(),
                "worker_peak_mb": sorted(peaks.values()),
                "all_processes_mb": max_rss_mb() + sum(peaks.values()),
                "summary": report.summary(),
                "counts": report.model_dump(exclude={"errors", "warnings"}),
                "errors": report.errors[:5],
            }
        )
    )


def _store(db: str, count: int) -> None:
    from dataclasses import asdict

    from .generate import GenParams
    from .suite import fig_store

    figures = fig_store(Path(db), GenParams(), count)
    print(json.dumps({"figures": [asdict(f) for f in figures]}, ensure_ascii=False))


def _generate(count: int, ndjson: str | None, text_dir: str | None, seed: int) -> None:
    from .generate import GenParams, write_ndjson, write_text_files

    params = GenParams(seed=seed)
    if ndjson == "-":
        stdout = sys.stdout.fileno()
        try:
            with open(stdout, "w", encoding="utf-8", closefd=False, buffering=1 << 20) as out:
                write_ndjson(out, count, params)
        except BrokenPipeError:
            pass
    elif ndjson:
        with open(ndjson, "w", encoding="utf-8") as fp:
            write_ndjson(fp, count, params)
    if text_dir:
        write_text_files(Path(text_dir), count, params)


def _profile(what: str, scale: float, out: str | None, stub: bool = False) -> None:
    from pyinstrument import Profiler

    from .generate import GenParams
    from .measure import remove_db
    from .suite import FULL_IMPORT, FULL_STORE, WORK, big_store, dataset, mongo_ops

    params = GenParams()
    WORK.mkdir(parents=True, exist_ok=True)
    data = dataset(WORK, max(1_000, round(FULL_IMPORT * scale)), params)
    profiler = Profiler()
    if what in ("import", "reimport"):
        from newsstore._store.sqlite import SQLiteStore

        db = WORK / "profile.db"
        remove_db(db)
        with SQLiteStore(db) as store:
            if what == "reimport":
                store.import_records([data])
            profiler.start()
            store.import_records([data])
            profiler.stop()
        remove_db(db)
    elif what == "mongo":
        if stub:
            from .mongo_client import stub_signature

            stub_signature()
        profiler.start()
        mongo_ops(data)
        profiler.stop()
    else:
        import os

        from newsstore._export import open_output
        from newsstore._store.sqlite import SQLiteStore

        db, _ = big_store(WORK, max(10_000, round(FULL_STORE * scale)), params, False)
        with SQLiteStore(db) as store:
            profiler.start()
            if what == "export":
                with open_output(os.devnull, sys.stdout) as fp:
                    store.export(fp)
            else:  # get
                from .generate import record

                for i in range(0, 20_000, 7):
                    url = record(params, i)["url"]
                    if url:
                        store.get(url)
            profiler.stop()
    text = profiler.output_text(unicode=True, color=False)
    if out:
        Path(out).write_text(text, encoding="utf-8")
    print(text)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["ab"]:
        from .ab import main as ab

        ab(argv[1:])
        return
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run every figure, print the table, write bench/results.json")
    sub.add_parser("ab", help="this tree against another checkout (see bench/ab.py)")
    run.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="1 = import 100k, store 1M (default); 0.05 is a quick check",
    )
    run.add_argument("--rebuild", action="store_true", help="rebuild the cached big store")
    gen = sub.add_parser("generate", help="write the generated data set")
    gen.add_argument("--count", type=int, required=True)
    gen.add_argument("--ndjson", help="NDJSON output file, - for standard output")
    gen.add_argument("--text-dir", help="directory for snapshot text pages")
    gen.add_argument("--seed", type=int, default=20231114)
    prof = sub.add_parser("profile", help="profile one figure's work with pyinstrument")
    prof.add_argument("what", choices=["import", "reimport", "mongo", "export", "get"])
    prof.add_argument("--scale", type=float, default=0.2)
    prof.add_argument("-o", "--output", help="also write the profile to this file")
    prof.add_argument(
        "--stub-signature",
        action="store_true",
        help="mongo: the fingerprint's signature a constant (what the rest costs)",
    )
    imp = sub.add_parser("_import", help=argparse.SUPPRESS)
    imp.add_argument("--db", required=True)
    imp.add_argument("--source", required=True)
    # Named, not detected: detection of standard input can see a partial first line.
    imp.add_argument("--format", default="ndjson")
    imp.add_argument("--workers", default="1", help="as import's --workers (default 1)")
    versions = sub.add_parser("versions", help="diff engines, a whole diff, find --changed")
    versions.add_argument("--store", type=int, help="also find --changed on an N-snapshot store")
    near = sub.add_parser("similar", help="the near-duplicate figures (bench/similar.py)")
    near.add_argument("--stories", type=int, default=1_000, help="labelled stories (default 1000)")
    near.add_argument(
        "--store", type=int, default=100_000, help="snapshots in the large store (default 100k)"
    )
    near.add_argument(
        "--only",
        default="accuracy,fingerprint,import,store",
        help="the parts to measure, comma-separated (the file keeps the others' figures)",
    )
    near.add_argument(
        "--filler-days",
        type=int,
        default=None,
        help="days the filler spans (default 2190, 2019-2025; fewer keep a smaller store's"
        " days as full as the 1M store's: 541 for 250k)",
    )
    store = sub.add_parser("_store", help=argparse.SUPPRESS)
    store.add_argument("--db", required=True)
    store.add_argument("--count", type=int, required=True)
    args = parser.parse_args(argv)

    if args.command == "run":
        from .suite import run as run_suite

        run_suite(args.scale, rebuild=args.rebuild)
    elif args.command == "generate":
        _generate(args.count, args.ndjson, args.text_dir, args.seed)
    elif args.command == "profile":
        _profile(args.what, args.scale, args.output, args.stub_signature)
    elif args.command == "versions":
        from .versions import run as run_versions

        run_versions(args.store)
    elif args.command == "similar":
        from .similar import run as run_similar

        run_similar(args.stories, args.store, tuple(args.only.split(",")), args.filler_days)
    elif args.command == "_store":
        _store(args.db, args.count)
    else:
        _import(args.db, args.source, args.format, args.workers)


if __name__ == "__main__":
    main()
