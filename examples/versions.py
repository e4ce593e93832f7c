"""Save three crawls of one article, list its versions and show what changed.

Run: python examples/versions.py [STORE.db] (without one: a store in a temporary directory)
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date, datetime, timedelta, timezone

from newsstore import Snapshot, day_range, open_store

URL = "https://news.example.com/a/1.html"
BEIJING = timezone(timedelta(hours=8))


def crawl(hour: int, title: str, paragraphs: list[str]) -> Snapshot:
    when = datetime(2023, 11, 14, hour, tzinfo=BEIJING)
    return Snapshot(url=URL, title=title, snapshot_at=when, paragraphs=paragraphs)


def main(path: str) -> None:
    with open_store(path) as store:
        store.save_many(
            [
                crawl(9, "普京接过请柬", ["美方邀请俄方出席峰会。", "克里姆林宫回应。"]),
                crawl(12, "普京接过华盛顿请柬", ["华盛顿邀请俄方出席峰会。", "克里姆林宫回应。"]),
                crawl(18, "普京接过华盛顿请柬", ["克里姆林宫回应。", "华盛顿邀请俄方出席峰会。"]),
            ]
        )
        for version in store.versions(URL):
            print(f"version {version.number}: {version.snapshot_at:%H:%M} {version.changed}")
        first = store.diff(URL, 1, 2).diff
        (edit,) = first.paragraphs
        print("edit:", [(e.op, e.text) for e in edit.edits if e.op != "equal"])
        last = store.diff(URL).diff
        print("then:", [(p.kind, p.old_index, p.new_index) for p in last.paragraphs])
        day = day_range(date(2023, 11, 14), store.zone)
        print("changed that day:", [(c.key, c.versions) for c in store.changed(*day)])


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(f"{tmp}/versions.db")
