"""MongoDB bulk operations spliced from BSON encoded at prepare time (``_store/mongo/raw.py``).

They must put on the wire the very bytes the plain-dict operations they replace did
(``_id`` first), whichever path (the models, or the derived validator) prepared the record.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import bson
import pytest
from bson.codec_options import CodecOptions
from pymongo import InsertOne, UpdateOne

from newsstore import Snapshot
from newsstore._records import validate_json
from newsstore._rules import Incoming, KeyState, plan_key
from newsstore._store.base import Store
from newsstore._store.mongo import MongoStore
from newsstore._store.mongo.raw import document

NOW = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=timezone.utc)
CONTEXT = {"timezone": "Asia/Shanghai"}


@pytest.fixture
def builder() -> MongoStore:
    # A MongoStore without a database: preparing and building operations touch none.
    store: Any = object.__new__(MongoStore)
    Store.__init__(store)
    return store  # type: ignore[no-any-return]


def _lines() -> list[bytes]:
    from bench.generate import GenParams, record

    params = GenParams()
    return [json.dumps(record(params, i), ensure_ascii=False).encode() for i in range(40)]


def _prepared(builder: MongoStore, raw: bytes) -> tuple[Incoming, Incoming]:
    fast = builder._raw_preparer()
    assert fast is not None
    quick = fast(raw, CONTEXT)
    snapshot = validate_json(raw, CONTEXT, "x", 1, None).snapshot
    assert quick is not None and snapshot is not None
    return quick, builder._prepare(snapshot, copy=False)


def _plain(fields: bytes) -> dict[str, Any]:
    return bson.decode(document(fields).raw, CodecOptions(tz_aware=True))


def _wire(op: Any) -> bytes:
    """The bytes the driver sends for ``op`` (the document, or ``{q, u, upsert}``)."""
    if isinstance(op, InsertOne):
        return bson.encode(op._doc)
    return bson.encode({"q": op._filter, "u": op._doc, "upsert": op._upsert})


def _dict_ops(plan: Any, fields: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """What the operations were as plain dicts, before they were spliced from raw BSON."""
    fields = dict(fields, content_hash=plan.current.content_hash)
    lists = (("urls", plan.urls), ("hashes", plan.new_hashes))
    add = {name: {"$each": values} for name, values in lists if values}
    touch = {"$inc": {"seen_count": plan.seen}, "$max": {"last_seen": NOW}}
    touch.update({"$addToSet": add} if add else {})
    if plan.expected_rev is None:
        host = None if key.startswith("content:") else key.split("/")[2]
        doc = dict(
            fields,
            _id=key,
            host=".".join(reversed(host.split("."))) + "." if host else None,
            urls=plan.urls,
            hashes=plan.new_hashes,
            first_seen=NOW,
            last_seen=NOW,
            seen_count=plan.seen,
            rev=1,
        )
        return [{"_id": key, **doc}]
    fields["rev"] = plan.expected_rev + 1
    update = dict(touch, **{"$set": fields, "$setOnInsert": {"first_seen": NOW}})
    return [{"q": {"_id": key, "rev": plan.expected_rev}, "u": update, "upsert": True}]


@pytest.mark.parametrize("stored", [False, True])
def test_spliced_operations_are_the_bytes_the_dict_operations_were(
    builder: MongoStore, stored: bool
) -> None:
    for raw in _lines():
        quick, model = _prepared(builder, raw)
        assert quick == model  # the same BSON fields from either path
        fields = Snapshot.model_validate_json(raw, context=CONTEXT)
        dumped = builder._prepare(fields, copy=False)
        assert dumped.payload == model.payload
        plain = _plain(model.payload)
        state = KeyState(model.key, "other", None, frozenset({"other"}), rev=3) if stored else None
        plan = plan_key(state, [model])
        op = builder._current_op(plan, NOW)
        (expected,) = _dict_ops(plan, plain, model.key)
        assert _wire(op) == bson.encode(expected)
        assert next(iter(bson.decode(_wire(op)))) == ("q" if stored else "_id")


def test_history_operations_are_the_bytes_the_dict_operations_were(builder: MongoStore) -> None:
    raw = _lines()[0]
    _, model = _prepared(builder, raw)
    plain = _plain(model.payload)
    op = builder._history_op(model.key, model.content_hash, model.payload, NOW)
    from_dict = builder._history_op(model.key, model.content_hash, plain, NOW)
    doc = dict(plain, key=model.key, content_hash=model.content_hash, archived_at=NOW)
    expected = {
        "q": {"_id": f"{model.key} {model.content_hash}"},
        "u": {"$setOnInsert": doc},
        "upsert": True,
    }
    assert _wire(op) == _wire(from_dict) == bson.encode(expected)
    assert isinstance(op, UpdateOne)
