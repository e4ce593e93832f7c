"""How many sample-sized snapshot pages per second :func:`parse_snapshot` reads on one core.

Run ``python bench/parse_speed.py [--pages N]``; the benchmark suite imports :func:`run`.
The page is the real crawl in ``tests/data``; the target is at least 5,000 pages/s.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from newsstore import parse_snapshot, render_snapshot

SAMPLE = (
    Path(__file__).resolve().parent.parent / "tests" / "data" / "snapshot-zh-intl-2023-11-14.txt"
)
TARGET_PAGES_PER_SECOND = 5_000


def run(pages: int) -> dict[str, float]:
    """Parse the sample ``pages`` times (after one warm-up parse) and time it.

    Returns ``pages``, ``seconds``, ``pages_per_second``, ``bytes_per_page`` and
    ``render_pages_per_second`` (rendering the parsed page as many times).
    """
    if pages < 1:
        raise ValueError("pages must be at least 1")
    text = SAMPLE.read_text(encoding="utf-8")
    snapshot = parse_snapshot(text)  # warm-up: imports, regex and zone caches
    start = time.perf_counter()
    for _ in range(pages):
        parse_snapshot(text)
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(pages):
        render_snapshot(snapshot)
    render_seconds = time.perf_counter() - start
    return {
        "pages": pages,
        "seconds": seconds,
        "pages_per_second": pages / seconds,
        "bytes_per_page": len(text.encode("utf-8")),
        "render_pages_per_second": pages / render_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20_000, help="pages to parse (20000)")
    result = run(parser.parse_args().pages)
    verdict = "ok" if result["pages_per_second"] >= TARGET_PAGES_PER_SECOND else "BELOW TARGET"
    print(
        f"parsed {result['pages']:.0f} pages of {result['bytes_per_page']:.0f} bytes "
        f"in {result['seconds']:.2f}s: {result['pages_per_second']:,.0f} pages/s "
        f"({verdict}, target {TARGET_PAGES_PER_SECOND:,}); "
        f"render {result['render_pages_per_second']:,.0f} pages/s"
    )


if __name__ == "__main__":
    main()
