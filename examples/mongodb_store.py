"""Use a MongoDB server: hand newsstore a pymongo database, as production does.

Run: python examples/mongodb_store.py mongodb://localhost:27017
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from newsstore import MongoStore, parse_snapshot_file

HERE = Path(__file__).parent


def main(database: Any) -> None:
    snapshot = parse_snapshot_file(HERE / "snapshot-zh-intl-2023-11-14.txt")
    with MongoStore(database) as store:  # creates its indexes; _id is the dedup key
        renamed = snapshot.model_copy(
            update={"url": "http://www.example.com/intl/1.html?utm_source=feed"}
        )
        print(store.save_many([snapshot, renamed, renamed]).summary())
        print("by URL:", store.get("https://example.com/intl/1.html").title)
        print("snapshots:", store.count())


if __name__ == "__main__":
    from pymongo import MongoClient

    with MongoClient(sys.argv[1] if len(sys.argv) > 1 else "mongodb://localhost:27017") as client:
        main(client["newsstore_example"])
