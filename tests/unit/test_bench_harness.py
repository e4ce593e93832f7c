"""The MongoDB client-side bench harness runs against the store as it is.

It builds a ``MongoStore`` without a server and runs its own ``_write_plans``; a write path
that starts to need the server breaks the figure silently unless this runs it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from bench.mongo_client import mongo_ops


def test_the_client_side_harness_encodes_every_record_the_same_each_run(
    tmp_path: Path, make
) -> None:
    source = tmp_path / "crawl.ndjson"
    pages = [
        make(url=f"https://n.example.com/{n}", title=f"第{n}篇", paragraphs=[f"第{n}段。" * 40])
        for n in range(30)
    ]
    source.write_text("".join(p.model_dump_json() + "\n" for p in pages), encoding="utf-8")
    digests = []
    for _ in range(2):
        digest = hashlib.sha256()
        _, _, count, size = mongo_ops(source, batch_size=8, digest=digest)
        assert count == 30 and size > 30 * 100
        digests.append(digest.hexdigest())
    assert digests[0] == digests[1]
