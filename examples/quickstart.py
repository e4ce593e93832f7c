"""Parse the bundled snapshot page, keep it in an embedded store, and look it up.

Run: python examples/quickstart.py [STORE_FILE]
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date
from pathlib import Path

from newsstore import open_store, parse_snapshot_file

HERE = Path(__file__).parent


def main(store_path: Path) -> None:
    snapshot = parse_snapshot_file(HERE / "snapshot-zh-intl-2023-11-14.txt")
    print(f"parsed: {snapshot.title} ({len(snapshot.paragraphs)} paragraphs)")

    with open_store(f"sqlite:///{store_path}") as store:
        print("first save:", store.save(snapshot))
        print("second save:", store.save(snapshot))  # the same page again is deduplicated

        # The sample has no original URL, so its key is a fingerprint of its content.
        key = store.key_of(snapshot)
        stored = store.get(key)
        # seen_count counts distinct input records: the same page saved twice is one.
        print(f"got {key}: {stored.stored.seen_count if stored.stored else 0} record(s) seen")

        # A day is a calendar day in the store's zone (Beijing time by default).
        for found in store.find(store.on_day(date(2023, 11, 14))):
            print("published on 2023-11-14:", found.published_at, found.source)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp) / "news.db")
