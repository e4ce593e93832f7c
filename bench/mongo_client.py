"""The MongoDB client-side figure: NDJSON -> validated -> the bulk ops a first import sends.

``python bench/mongo_client.py FILE [--stub-signature] [--digest]`` (or :func:`mongo_ops`)
reads FILE with ``read_records``, prepares each record as the import does (the store's fast path,
else the models), plans each batch of 1,000 as new keys, and runs the store's own
``MongoStore._write_plans`` with its ``_bulk`` replaced by the driver's client-side work:
each operation is added to a pymongo bulk (``_add_to_bulk``: the driver's validation and
its ``{q, u, multi, upsert}`` command for an update) and every document is BSON-encoded as
the driver puts it on the wire. No server. The cycle collector is paused, as imports pause it.

It imports nothing from ``bench``, so that ``python -m bench ab`` runs this one file
against another checkout's ``newsstore`` (``PYTHONPATH`` set to it): the same harness for
both trees, whatever their op builders look like. ``--stub-signature`` replaces the body
fingerprint's ``signature`` (numpy MinHash, to be compiled) by a constant, in this process
only, to show the rest of the client's cost; the bands are still computed from it.
``--digest`` prints the SHA-256 of every encoded document in order (the import's "now" is
fixed), so that two trees can be shown to send the same bytes; its time is not the figure.
"""

from __future__ import annotations

import gc
import hashlib
import json
import resource
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["mongo_ops", "stub_signature"]

# The import's "now", fixed so that two trees' operations can be compared byte for byte.
NOW = datetime(2026, 12, 1, 12, 0, 0, 123000, tzinfo=timezone.utc)


def stub_signature() -> None:
    """Make every ``newsstore`` module's ``signature`` return one constant signature."""
    from newsstore import _minhash

    original = _minhash.signature
    constant = original(["这是一段用来计算固定指纹的正文，长度超过三十个字符，足够得到一个签名。"])

    def signature(paragraphs: Any) -> bytes | None:
        return constant

    for name, module in list(sys.modules.items()):
        if name.startswith("newsstore") and getattr(module, "signature", None) is original:
            module.signature = signature  # type: ignore[attr-defined]


def _encoder(digest: Any = None) -> tuple[Callable[[Any, list[Any]], list[int]], list[int]]:
    """A ``_bulk`` that does the driver's client-side work; and the BSON byte count.
    ``digest`` (a hashlib object) takes every encoded document, in order."""
    from bson import encode
    from pymongo.synchronous.bulk import _Bulk

    size = [0]

    def bulk(collection: Any, ops: list[Any]) -> list[int]:
        if not ops:
            return []
        blk: Any = object.__new__(_Bulk)  # no collection: only the ops list is used
        blk.ops = []
        blk.uses_collation = blk.uses_array_filters = blk.uses_sort = False
        blk.is_retryable = True
        for op in ops:
            op._add_to_bulk(blk)
        encoded = [encode(doc) for _, doc in blk.ops]
        size[0] += sum(map(len, encoded))
        if digest is not None:
            for doc in encoded:
                digest.update(doc)
        return []  # no conflicts: every key is new

    return bulk, size


def mongo_ops(
    source: Path, batch_size: int = 1000, *, stub: bool = False, digest: Any = None
) -> tuple[float, float, int, int]:
    """Wall and CPU seconds, records and BSON bytes of the client-side work on ``source``.
    ``digest``: a hashlib object to feed every encoded document (then the time is not the
    figure's)."""
    from newsstore import read_records
    from newsstore._rules import Incoming, plan_key
    from newsstore._store.base import Store
    from newsstore._store.mongo import MongoStore

    if stub:
        stub_signature()
    # A MongoStore without a client: prepare and the op builders touch no database here.
    builder: Any = object.__new__(MongoStore)
    Store.__init__(builder)
    builder._snapshots = builder._history_c = None
    builder._bulk, size = _encoder(digest)
    # The near-duplicate pairing after each batch reads the stored band members from the
    # server: not client-side work, and no server here (trees without it ignore this).
    builder._refresh_copies = lambda keys, written=None: None
    now = NOW
    fast = builder._raw_preparer()

    def prepare(rec: Any) -> Incoming:
        # As the import prepares: an NDJSON line without its model when the store can.
        pending = rec.pending_json() if fast is not None else None
        if pending is not None:
            incoming = fast(*pending)
            if incoming is not None:
                return incoming  # type: ignore[no-any-return]
        assert rec.snapshot is not None
        return builder._prepare(rec.snapshot, copy=False)  # type: ignore[no-any-return]

    def flush(batch: list[Incoming]) -> None:
        groups: dict[str, list[Incoming]] = {}
        for rec in batch:
            groups.setdefault(rec.key, []).append(rec)
        builder._write_plans([plan_key(None, recs) for recs in groups.values()], now)

    count = 0
    gc.disable()
    wall, cpu = time.perf_counter(), time.process_time()
    batch: list[Incoming] = []
    for rec in read_records(source, timezone=builder.zone):
        batch.append(prepare(rec))
        count += 1
        if len(batch) >= batch_size:
            flush(batch)
            batch = []
    if batch:
        flush(batch)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    gc.enable()
    return wall, cpu, count, size[0]


if __name__ == "__main__":
    args = sys.argv[1:]
    flags = {"--stub-signature", "--digest"}
    (path,) = [a for a in args if a not in flags]
    digest = hashlib.sha256() if "--digest" in args else None
    wall, cpu, count, size = mongo_ops(Path(path), stub="--stub-signature" in args, digest=digest)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    out = {"wall": wall, "cpu": cpu, "count": count, "bson_bytes": size, "rss_mb": rss}
    if digest is not None:
        out["sha256"] = digest.hexdigest()
    print(json.dumps(out))
