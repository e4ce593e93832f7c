"""A/B runs: this tree against another checkout of newsstore, side by side, in one run.

``python -m bench ab --against DIR [--count N] [--runs 3] [--what import,mongo,mongo-stub,peer]``
runs, in each round and in turn, the same work with this tree's code and with ``DIR``'s
(a checkout of another branch, e.g. ``git worktree add --detach /tmp/main main``), each in
a fresh process started in that tree (``PYTHONPATH`` set to it), and
``sqlite-utils upsert --nl --pk url`` on the same file. It prints medians of the rounds:
CPU µs per record (user + system of the process doing the work) and wall-clock records/s,
and the ratios. On a shared machine the ratios within one run are the figures to trust.
``mongo`` is the MongoDB client-side work (``bench/mongo_client.py``, this tree's file run
against each tree's ``newsstore``); ``mongo-stub`` the same with the body fingerprint's
``signature`` replaced by a constant in that process.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from .generate import GenParams
from .measure import ROOT, remove_db, run_child
from .peers import sqlite_utils_upsert
from .suite import WORK, dataset

__all__ = ["main"]

# This tree's harness runs in both trees (a file importing only newsstore), so both are
# measured by the same code whatever their op builders look like.
_MONGO = ROOT / "bench" / "mongo_client.py"


def _child(tree: Path, argv: list[str]) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    proc, _ = run_child([sys.executable, *argv], cwd=tree, env=env)
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _import(tree: Path, data: Path, db: Path, extra: list[str]) -> dict[str, Any]:
    remove_db(db)
    try:
        return _child(
            tree, ["-m", "bench", "_import", "--db", str(db), "--source", str(data), *extra]
        )
    finally:
        remove_db(db)


def _mongo(tree: Path, data: Path, stub: bool) -> dict[str, Any]:
    return _child(tree, [str(_MONGO), str(data), *(["--stub-signature"] if stub else [])])


def _summary(name: str, runs: list[dict[str, Any]], count: int) -> dict[str, float]:
    cpu = statistics.median(r["cpu"] for r in runs) / count * 1e6
    wall = count / statistics.median(r["wall"] for r in runs)
    rss = [r["rss_mb"] for r in runs if "rss_mb" in r]
    peak = f"   peak RSS {statistics.median(rss):5.0f} MB" if rss else ""
    print(
        f"  {name:40s} CPU {cpu:7.1f} µs/record ({1e6 / cpu:7,.0f}/s per core)"
        f"   wall {wall:8,.0f} records/s{peak}",
        flush=True,
    )
    return {"cpu_us": cpu, "wall_rate": wall}


def main(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench ab")
    parser.add_argument("--against", required=True, type=Path, help="the other checkout")
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--source", type=Path, help="an NDJSON file (default: generated)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--what", default="import,mongo,peer")
    parser.add_argument("--import-args", default="", help="extra arguments for this tree")
    parser.add_argument("--other-args", default="", help="extra arguments for the other tree")
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    data = args.source or dataset(WORK, args.count, GenParams())
    count = sum(1 for _ in data.open("rb"))
    what = set(args.what.split(","))
    trees = {"this": ROOT, "other": args.against.resolve()}
    results: dict[str, list[dict[str, Any]]] = {}
    for round_ in range(args.runs):
        print(f"round {round_ + 1}/{args.runs}", flush=True)
        for name, tree in trees.items():
            if "import" in what:
                extra = (args.import_args if name == "this" else args.other_args).split()
                results.setdefault(f"import {name}", []).append(
                    _import(tree, data, WORK / f"ab-{name}.db", extra)
                )
            if "mongo" in what:
                results.setdefault(f"mongo client side {name}", []).append(
                    _mongo(tree, data, False)
                )
            if "mongo-stub" in what:
                results.setdefault(f"mongo, signature stubbed {name}", []).append(
                    _mongo(tree, data, True)
                )
        if "peer" in what:
            su = sqlite_utils_upsert(data, WORK)
            results.setdefault("sqlite-utils upsert --nl --pk url", []).append(
                {"cpu": su["cpu"] - su["startup_cpu"], "wall": su["wall"] - su["startup_wall"]}
            )
    print(f"medians of {args.runs} runs, {count:,} records of {data.name}:")
    summary = {name: _summary(name, runs, count) for name, runs in results.items()}
    for kind in ("import", "mongo client side", "mongo, signature stubbed"):
        this, other = summary.get(f"{kind} this"), summary.get(f"{kind} other")
        if this and other:
            print(
                f"  {kind}: CPU {other['cpu_us'] / this['cpu_us']:.2f}× less,"
                f" wall {this['wall_rate'] / other['wall_rate']:.2f}× faster than the other tree"
            )
    peer = summary.get("sqlite-utils upsert --nl --pk url")
    if peer:
        for name in ("import this", "import other"):
            if name in summary:
                ratio = summary[name]["wall_rate"] / peer["wall_rate"]
                print(f"  {name}: wall {ratio:.2f}× sqlite-utils")
    out = WORK / "ab.json"
    out.write_text(json.dumps({"count": count, "runs": results, "summary": summary}, indent=2))
    subprocess.run(["uptime"], check=False)
