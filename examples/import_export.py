"""Import files with bad records kept aside, export the store, and import the export elsewhere.

Run: python examples/import_export.py WORKDIR
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from newsstore import Query, open_store

HERE = Path(__file__).parent


def main(workdir: Path) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    crawl = workdir / "crawl.ndjson"
    good = {
        "url": "https://news.example.com/a/1.html",
        "title": "样例",
        "published_at": "2023-11-14 09:00:00",
    }
    crawl.write_text(
        json.dumps(good, ensure_ascii=False)
        + "\n"
        + '{"url": "https://news.example.com/a/2.html"}\n',  # no title: rejected, not lost
        encoding="utf-8",
    )

    with open_store(f"sqlite:///{workdir / 'news.db'}") as store:
        report = store.import_records(
            [HERE / "snapshot-zh-intl-2023-11-14.json", crawl], rejects=workdir / "rejects.ndjson"
        )
        print(report.summary())
        for error in report.errors:
            print("rejected:", error)

        out = workdir / "export.ndjson"
        with out.open("w", encoding="utf-8") as fp:
            print("exported:", store.export(fp, Query(sort="oldest")))

    with open_store(f"sqlite:///{workdir / 'copy.db'}") as copy:
        print("re-imported:", copy.import_records([out]).summary())
        print("titles:", [s.title for s in copy.find(Query(sort="oldest"))])


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp))
