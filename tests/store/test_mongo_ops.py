"""MongoDB operations spliced from BSON encoded once at prepare time (``_store/mongo/raw.py``).

They must put on the wire the very bytes the dict operations they replaced did (``_id``
first), whichever path prepared the record (the models, or the derived validator), for
every kind of write: a new key, a new current of a stored key, a content seen again, a
version set aside within a batch, a lesser spelling, a takedown, a restore's merge. The
reference below is the dict code the store used before (kept here, frozen).
"""

from __future__ import annotations

import json
import pickle
from contextlib import nullcontext
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import bson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo import DeleteOne, InsertOne, UpdateOne

from newsstore import Snapshot
from newsstore._archive import Merge
from newsstore._fastprepare import preparer
from newsstore._records import validate_json
from newsstore._rules import Incoming, KeyPlan, KeyState, StoredKey, plan_key
from newsstore._store.base import Store
from newsstore._store.mongo import MongoStore, versions
from newsstore._store.mongo.archive import MongoArchive, merged_fields
from newsstore._store.mongo.raw import EncodedFields, document
from newsstore._store.mongo.similar import FINGERPRINT_FIELDS, fingerprint_fields
from newsstore._store.mongo.writes import (
    current_op,
    history_id,
    record_history_op,
    spelling_ops,
    touch_of,
)
from newsstore._urls import host_of, reversed_host

from ..unit.test_fastprepare import CONTEXTS, records

NOW = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=timezone.utc)
FIRST = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
PARAGRAPHS = [
    "国务院新闻办公室十四日举行新闻发布会，介绍今年前十个月国民经济运行情况。",
    "国家统计局新闻发言人表示，生产需求持续改善，就业物价总体稳定。",
]


# -- the dict operations as the store built them (the reference) ----------------------
def ref_payload(doc: dict[str, Any]) -> dict[str, Any]:
    doc.update(fingerprint_fields(doc["paragraphs"]))
    return doc


def ref_fields_of(rec: Incoming) -> dict[str, Any]:
    fields: dict[str, Any] = dict(rec.payload)
    fields["url"] = rec.url
    return fields


def ref_history_op(key: str, content_hash: str, fields: dict[str, Any], now: datetime) -> Any:
    kept = {k: v for k, v in fields.items() if k not in FINGERPRINT_FIELDS}
    doc = dict({"first_seen": now, "last_seen": now}, **kept)
    doc.update(key=key, content_hash=content_hash, archived_at=now)
    return UpdateOne({"_id": history_id(key, content_hash)}, {"$setOnInsert": doc}, upsert=True)


def ref_current_op(plan: KeyPlan, now: datetime, first: datetime | None) -> Any:
    touch = touch_of(plan, now)  # unchanged: no snapshot fields in it
    if plan.current is None:
        return UpdateOne({"_id": plan.key}, touch)
    fields = ref_fields_of(plan.current)
    fields["content_hash"] = plan.current.content_hash
    fields |= {"version_first_seen": first, "version_last_seen": now}
    if plan.expected_rev is None:
        host = None if plan.key.startswith("content:") else reversed_host(host_of(plan.key))
        return InsertOne(
            dict(
                fields,
                _id=plan.key,
                host=host,
                urls=plan.urls,
                hashes=plan.new_hashes,
                first_seen=now,
                last_seen=now,
                seen_count=0,
                records=plan.records,
                rev=1,
            )
        )
    fields["rev"] = plan.expected_rev + 1
    update = dict(touch, **{"$set": fields, "$setOnInsert": {"first_seen": now}})
    return UpdateOne({"_id": plan.key, "rev": plan.expected_rev}, update, upsert=True)


def ref_merge_op(m: Merge) -> Any:
    assert m.state is not None
    fields = merged_fields(m.state)  # unchanged: no snapshot fields in it
    if m.current is not None:
        fields |= dict(m.current.payload, content_hash=m.current.content_hash)
    if m.expected_rev is None:
        host = None if m.key.startswith("content:") else reversed_host(host_of(m.key))
        return InsertOne(dict(fields, _id=m.key, host=host, rev=1))
    fields["rev"] = m.expected_rev + 1
    return UpdateOne({"_id": m.key, "rev": m.expected_rev}, {"$set": fields}, upsert=True)


# -- helpers ------------------------------------------------------------------------
def _builder(cls: type[MongoStore] = MongoStore) -> Any:
    # A MongoStore without a database: preparing and building operations touch none.
    store: Any = object.__new__(cls)
    Store.__init__(store)
    return store


class _DictStore(MongoStore):
    """The store as it was: the dumped dict (with its fingerprint) is the payload."""

    def _payload(self, snapshot: Snapshot) -> Any:
        return ref_payload(snapshot.model_dump(exclude={"stored"}))

    def _raw_preparer(self) -> Any:
        return preparer(self.tracking_params, ref_payload)


NEW, OLD = _builder(), _builder(_DictStore)


def wire(op: Any) -> bytes:
    """The bytes the driver sends for ``op``: the document, or its update statement."""
    if isinstance(op, InsertOne):
        return bson.encode(op._doc)
    if isinstance(op, DeleteOne):
        return bson.encode({"q": op._filter, "limit": 1})
    return bson.encode({"q": op._filter, "u": op._doc, "multi": False, "upsert": op._upsert})


def same_wire(new: list[Any], old: list[Any]) -> None:
    assert [type(o) for o in new] == [type(o) for o in old]
    for a, b in zip(new, old, strict=True):
        assert wire(a) == wire(b), (bson.decode(wire(a)), bson.decode(wire(b)))
    # What the server reads: for an insert, _id first.
    for op in new:
        if isinstance(op, InsertOne):
            assert next(iter(bson.decode(wire(op)))) == "_id"


def prepared(raw: bytes, context: dict[str, Any]) -> list[tuple[Incoming, Incoming]]:
    """(new, old) Incoming pairs of ``raw`` by each path that takes it."""
    pairs = []
    new_fast, old_fast = NEW._raw_preparer()(raw, context), OLD._raw_preparer()(raw, context)
    assert (new_fast is None) == (old_fast is None)
    if new_fast is not None:
        pairs.append((new_fast, old_fast))
    snapshot = validate_json(raw, context, "x.ndjson", 1, None).snapshot
    if snapshot is not None:
        try:
            new = NEW._prepare(snapshot)
        except Exception:  # a bad URL, a record over the size limit
            return pairs
        pairs.append((new, OLD._prepare(snapshot)))
    for new, old in pairs:
        assert isinstance(new.payload, EncodedFields)
        assert replace(new, payload=None) == replace(old, payload=None)
        assert plain_fields(new.payload) == old.payload
    return pairs


def plain_fields(fields: EncodedFields) -> dict[str, Any]:
    """The dict the fields were encoded from."""
    raw = document({"url": fields.url}, fields.body, fields.fingerprint).raw
    decoded: dict[str, Any] = bson.decode(raw, bson.CodecOptions(tz_aware=True))
    return decoded


def _spellings(plan: KeyPlan) -> list[Any]:
    current, archived = spelling_ops([plan])
    return current + archived


def states(key: str, content_hash: str) -> list[tuple[KeyState | None, bool]]:
    """A new key; a stored key with another content; one with this content; a takedown."""
    other = KeyState(key, "other", FIRST, frozenset({"other"}), rev=3, url="https://x/y")
    same = KeyState(key, content_hash, FIRST, frozenset({content_hash}), rev=7, url=None)
    return [(None, False), (other, False), (same, False), (None, True)]


def check_plans(new_recs: list[Incoming], old_recs: list[Incoming]) -> None:
    """Every kind of write for these records of one key: the same bytes as the dict path."""
    for state, tombstoned in states(new_recs[0].key, new_recs[0].content_hash):
        new_plan = plan_key(state, new_recs, tombstoned=tombstoned)
        old_plan = plan_key(state, old_recs, tombstoned=tombstoned)
        for first in (NOW, FIRST, None):
            same_wire([current_op(new_plan, NOW, first)], [ref_current_op(old_plan, NOW, first)])
        same_wire(
            [record_history_op(new_plan.key, r.content_hash, r.url, r.payload, NOW) for r in new_plan.history],
            [ref_history_op(old_plan.key, r.content_hash, ref_fields_of(r), NOW) for r in old_plan.history],
        )  # fmt: skip
        same_wire(_spellings(new_plan), _spellings(old_plan))


def line(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode()


def odd_records() -> list[dict[str, Any]]:
    """Records whose times, URLs and shapes are unlike the common ones."""
    item = {"title": "相关", "excerpt": "摘要", "url": "https://a.example.com/r"}
    base: dict[str, Any] = {
        "url": "https://www.news.example.com/2023/11/14/a.html?utm_source=x&id=1#top",
        "title": "标题",
        "category": "国际",
        "published_at": "2023-11-14T10:00:00+08:00",
        "source": "新华社",
        "breadcrumbs": ["首页", "国际"],
        "paragraphs": PARAGRAPHS,
        "images": [{"position": 1, "caption": "图"}, {"position": 2**63 - 1}],
        "crawler": "c",
        "snapshot_at": "2023-11-14T12:00:00.123456+08:00",
        "related": [dict(item, published_at="2023-11-13T09:00:00+05:45")],
        "more_in_category_name": "更多",
        "more_in_category": [dict(item, published_at="2023-11-12T09:00:00")],
    }
    return [
        base,
        dict(base, published_at="2023-11-14T10:00:00", snapshot_at="2023-11-14 12:00:00.9999"),
        dict(base, published_at="2023-11-14T10:00:00-03:30", snapshot_at="2023-11-14T02:00:00Z"),
        dict(base, published_at="1900-01-01T00:00:00+08:05", snapshot_at=None),
        dict(base, url=None),
        dict(base, url=""),
        dict(base, url="https://user:pw@news.example.com/a"),
        dict(base, paragraphs=["短"]),  # too short to fingerprint: minhash null, no bands
        dict(base, paragraphs=[], related=[], more_in_category=[], images=[]),
        {"title": "只有标题"},
        {"title": "t", "published_at": 1700000000, "url": "http://a.example.com:8080/x"},
    ]


@pytest.mark.parametrize("record", odd_records(), ids=lambda r: str(sorted(r))[:40])
@pytest.mark.parametrize("context", CONTEXTS[:3])
def test_operations_are_the_bytes_the_dict_operations_were(
    record: dict[str, Any], context: dict[str, Any]
) -> None:
    pairs = prepared(line(record), context)
    assert pairs  # the models take every one; the fast path most
    for new, old in pairs:
        check_plans([new], [old])


@pytest.mark.parametrize("context", CONTEXTS[:2])
def test_versions_and_spellings_in_one_batch_are_the_same_bytes(context: dict[str, Any]) -> None:
    # An updated version (later), an older one (to history), the first again under a
    # lesser spelling (http, no www: the rules give the current that URL), re-seen.
    base = odd_records()[0]
    later = dict(base, paragraphs=[*PARAGRAPHS, "更正。"], snapshot_at="2023-11-15T08:00:00Z")
    older = dict(base, paragraphs=PARAGRAPHS[:1] * 2, snapshot_at="2023-11-13T08:00:00Z")
    lesser = dict(base, url="http://news.example.com/2023/11/14/a.html?id=1")
    batch = [base, later, older, lesser, base]
    for path in (0, 1):  # the fast path, then the models
        pairs = [prepared(line(r), context)[path] for r in batch]
        new_recs, old_recs = [p[0] for p in pairs], [p[1] for p in pairs]
        assert len({r.key for r in new_recs}) == 1
        check_plans(new_recs, old_recs)
        plan = plan_key(None, new_recs)
        assert plan.current is not None and plan.history  # a version was set aside
        # Some written record took a lesser spelling than the one its fields were encoded with.
        written = [plan.current, *plan.history]
        assert any(r.url != r.payload.url for r in written)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=records(), context=st.sampled_from(CONTEXTS))
def test_generated_records_give_the_same_bytes(
    record: dict[str, Any], context: dict[str, Any]
) -> None:
    raw = json.dumps(record).encode("utf-8", "surrogatepass")
    for new, old in prepared(raw, context):
        check_plans([new], [old])


def test_a_batch_writes_the_same_operations(monkeypatch: pytest.MonkeyPatch) -> None:
    """``_write_plans`` of a first import: every bulk, in order, the same bytes."""
    from bench.generate import GenParams, record

    params = GenParams()
    raws = [line(record(params, i)) for i in range(60)]
    context = CONTEXTS[0]
    recs = [prepared(raw, context)[0] for raw in raws]  # the fast path, as an import
    sent: list[list[Any]] = []
    store = _builder()
    store._snapshots = store._history_c = None
    monkeypatch.setattr(store, "_bulk", lambda coll, ops: sent.append(ops) or [])
    paired: list[list[str]] = []
    fingerprints: list[dict[str, Any]] = []

    def refresh(keys: list[str], written: dict[str, Any]) -> None:
        paired.append(keys)
        fingerprints.append(written)

    monkeypatch.setattr(store, "_refresh_copies", refresh)

    def plans(which: int) -> list[KeyPlan]:
        groups: dict[str, list[Incoming]] = {}
        for pair in recs:
            groups.setdefault(pair[which].key, []).append(pair[which])
        return [plan_key(None, g) for g in groups.values()]

    store._write_plans(plans(0), NOW)
    old = plans(1)
    expected = [
        [ref_history_op(p.key, r.content_hash, ref_fields_of(r), NOW) for p in old for r in p.history],
        versions.reseen_ops(old, NOW),
        [ref_current_op(p, NOW, NOW) for p in old],
        [],
        *spelling_ops(old),
    ]  # fmt: skip
    assert len(sent) == len(expected)
    for new_ops, old_ops in zip(sent, expected, strict=True):
        same_wire(new_ops, old_ops)
    # And the keys written are paired (the pairs stats counts), from what was written.
    assert paired == [[p.key for p in old]]
    assert fingerprints == [
        {p.key: (p.current.payload["minhash"], p.current.payload["bands"]) for p in old}
    ]
    assert len(sent[2]) == len(old) and sum(map(len, sent)) > len(old)  # inserts and more


def test_a_restore_merges_the_same_operations() -> None:
    """MongoArchive.apply: history entries and merged currents, the same bytes."""
    base = odd_records()[0]
    later = dict(base, paragraphs=[*PARAGRAPHS, "更正。"], snapshot_at="2023-11-15T08:00:00Z")
    (new, old), _ = prepared(line(base), CONTEXTS[0])
    (new2, old2), _ = prepared(line(later), CONTEXTS[0])
    # One of the four sightings is a record id, which the document keeps apart.
    state = StoredKey(new.content_hash, FIRST, ("https://x/y",), ("a", "b"), FIRST, NOW, 4, ("r1",))
    at = NOW - timedelta(days=1)
    sent: list[list[Any]] = []
    archive: Any = MongoArchive(
        *(None,) * 4,  # type: ignore[arg-type]  # no database: apply touches none here
        nullcontext,
        lambda coll, ops: sent.append(ops) or [],
        lambda keys, written: None,  # the pairs stats counts: not these tests'
    )
    for rev, current in [(None, (new, old)), (5, (new2, old2)), (None, None), (2, None)]:
        sent.clear()
        merge = Merge(new.key, rev, state, current and current[0], history=[(new2, at)])
        ref = Merge(new.key, rev, state, current and current[1], history=[(old2, at)])
        archive.apply([merge], NOW)
        history = [ref_history_op(ref.key, old2.content_hash, dict(old2.payload), at)]
        same_wire(sent[0], history)
        same_wire(sent[1], [ref_merge_op(ref)])


def test_prepared_records_pickle_as_they_come_from_worker_processes() -> None:
    """An import's workers send each Incoming back pickled: the encoded fields with it."""
    for new, _ in prepared(line(odd_records()[0]), CONTEXTS[0]):
        again = pickle.loads(pickle.dumps(new))
        assert again == new and wire(current_op(plan_key(None, [again]), NOW, NOW)) == wire(
            current_op(plan_key(None, [new]), NOW, NOW)
        )
