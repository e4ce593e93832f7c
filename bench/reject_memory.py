"""Peak RSS of importing many rejected NDJSON lines: it must not grow with their number.

``python -m bench.reject_memory [--counts 100000 1000000] [--cli]`` writes files of bad
lines (a mix: not JSON, a wrong type, a missing field, an unknown field, a bad URL, an
impossible date) and imports each in a fresh process with a rejects file, printing the
peak RSS of each and the ratio of the largest to the smallest. ``--cli`` runs
``newsstore import`` instead of the library call (the CLI prints every rejection).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from .measure import child_json, max_rss_mb, remove_db, run_child

# One of each kind of rejection, cycled; each line differs (its number), as in a crawl.
_BAD = (
    '{{"url": "https://example.com/{i}", "title": 5}}',
    '{{"url": "https://example.com/{i}"}}',
    '{{"url": "https://example.com/{i}", "title": "t", "colour": "red"}}',
    '{{"url": "ftp://example.com/{i}", "title": "t"}}',
    '{{"url": "https://example.com/{i}", "title": "t", "published_at": "2023-02-30"}}',
    "not json at all {i}",
    '{{"url": "https://example.com/{i}", "title": "unterminated',
)


def write_bad_lines(path: Path, count: int) -> None:
    """``count`` rejected NDJSON lines."""
    with open(path, "w", encoding="utf-8", buffering=1 << 20) as fp:
        for i in range(count):
            fp.write(_BAD[i % len(_BAD)].format(i=i))
            fp.write("\n")


def _child(db: str, source: str, rejects: str) -> None:
    from newsstore._store.sqlite import SQLiteStore

    with SQLiteStore(db) as store:
        report = store.import_records([source], rejects=rejects)
    print(json.dumps({"maxrss_mb": max_rss_mb(), "rejected": report.rejected}))


def _rss_of_cli(db: Path, source: Path, rejects: Path) -> dict[str, float]:
    # GNU time is not everywhere: the CLI runs under a Python parent that reads its rusage.
    code = (
        "import resource, subprocess, sys, json\n"
        "p = subprocess.run([sys.argv[4], 'import', sys.argv[1],"
        " '--store', sys.argv[2], '--rejects', sys.argv[3]],"
        " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'maxrss_mb': u.ru_maxrss / 1024, 'rc': p.returncode}))\n"
    )
    cli = str(Path(sys.executable).parent / "newsstore")
    proc, _ = run_child([sys.executable, "-c", code, str(source), str(db), str(rejects), cli])
    return child_json(proc)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reject_memory")
    parser.add_argument("--counts", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--cli", action="store_true", help="run `newsstore import`")
    parser.add_argument("_child", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._child:
        _child(*args._child)
        return
    results: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for count in args.counts:
            source, db, rejects = work / f"bad-{count}.ndjson", work / "s.db", work / "r.ndjson"
            write_bad_lines(source, count)
            remove_db(db)
            if args.cli:
                out = _rss_of_cli(db, source, rejects)
            else:
                proc, _ = run_child(
                    [
                        sys.executable,
                        "-m",
                        "bench.reject_memory",
                        "--",
                        str(db),
                        str(source),
                        str(rejects),
                    ]
                )
                out = child_json(proc)
            results[count] = out["maxrss_mb"]
            print(f"{count:>10,} bad lines: peak RSS {out['maxrss_mb']:.1f} MB", flush=True)
            source.unlink()
    low, high = min(results), max(results)
    print(f"ratio {high:,} / {low:,} lines: {results[high] / results[low]:.2f}")


if __name__ == "__main__":
    main()
