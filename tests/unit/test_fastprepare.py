"""The fast path (newsstore._fastprepare) against the models: the same verdicts, the same bytes.

For generated records (times as offsets, naive, sub-millisecond, seconds offsets, Unix
numbers, end years, ``$date``; URLs with user info, bad, blank; wrong types, extra keys,
blank titles, a ``stored`` part) and for every line of every bad-input case, the fast path
either declines (the model path then decides) or gives exactly what ``Store._prepare`` gives
for the validated model: key, content hash, URL, snapshot time, content JSON bytes, and the
adapter's payload. It never accepts a line the models reject.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import AfterValidator, ConfigDict, Field, field_validator

from newsstore import Snapshot
from newsstore._fastprepare import (
    VALIDATOR,
    FastPreparer,
    SchemaNotUnderstood,
    fast_validator,
    preparer,
)
from newsstore._records import validate_json
from newsstore._rules import Incoming
from newsstore._schemas import Image, RelatedItem, Timestamp
from newsstore._store.sqlite import SQLiteStore

from ..conftest import SAMPLE
from ..reliability.test_bad_inputs import CASES

CONTEXTS = [
    {"timezone": "Asia/Shanghai"},
    {"timezone": "UTC"},
    {"timezone": "America/St_Johns"},
    {"timezone": ZoneInfo("Africa/Monrovia")},
    {},
]


@pytest.fixture(scope="module")
def store() -> SQLiteStore:
    return SQLiteStore(":memory:")


def _model(store: SQLiteStore, raw: bytes, context: dict[str, Any]) -> Incoming | None:
    record = validate_json(raw, context, "x.ndjson", 1, None)
    if record.snapshot is None:
        return None
    try:
        return store._prepare(record.snapshot, copy=False)
    except Exception:  # a bad URL or a record over the size limit: rejected too
        return None


def _fast(store: SQLiteStore, raw: bytes, context: dict[str, Any]) -> Incoming | None:
    fast = store._raw_preparer()
    assert isinstance(fast, FastPreparer)
    return fast(raw, context)


def check_same(store: SQLiteStore, raw: bytes, context: dict[str, Any]) -> Incoming | None:
    """Assert the fast path agrees with the models on ``raw``; what it gave."""
    fast = _fast(store, raw, context)
    model = _model(store, raw, context)
    if fast is not None:
        assert model is not None, f"the fast path accepted what the models reject: {raw!r}"
        assert fast == model, raw
    return fast


# -- generated records -------------------------------------------------------------------
zones = st.one_of(
    st.timezones(),
    st.sampled_from([ZoneInfo("Asia/Shanghai"), ZoneInfo("Africa/Monrovia"), timezone.utc]),
    st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m))),
)
aware = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=zones)
naive = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31))


def _iso(value: datetime, sep: str, z: bool) -> str:
    text = value.isoformat(sep=sep)
    return text.replace("+00:00", "Z") if z else text


def mostly(valid: st.SearchStrategy[Any], invalid: st.SearchStrategy[Any]) -> Any:
    """``valid`` nine times in ten, else ``invalid``: most records are valid, many are not."""
    return st.integers(0, 9).flatmap(lambda n: invalid if n == 0 else valid)


odd = st.sampled_from([None, 1, 1.5, True, [], {}, "  ", ""])
valid_times = st.one_of(
    st.builds(_iso, aware | naive, st.sampled_from(["T", " "]), st.booleans()),
    st.integers(-(2**34), 2**34),
    st.floats(-1e10, 1e10, allow_nan=False),
    st.sampled_from(
        [
            "2023-11-14T10:00:00.123456+08:00",
            "2023-11-14T10:00:00.9999999+08:00",
            "2023-11-14T10:00:00+08:05:43",
            "1900-01-01T00:00:00",
            "0001-01-02T00:00:00Z",
            "9999-12-30T23:59:59Z",
            "2023-11-14",
            "2023-11-14T10:00",
            "1700000000",
        ]
    ),
)
bad_times = st.one_of(
    st.sampled_from(
        [
            "0001-01-01T00:00:00Z",
            "0001-01-02T00:00:00",
            "9999-12-31T23:00:00-05:00",
            "not a time",
            "",
            None,
            True,
            {"$date": "2023-11-14T10:00:00Z"},
            [],
        ]
    ),
    st.integers(-(2**40), 2**40),
)
time_values = mostly(valid_times, bad_times)
text = st.text(st.characters(codec="utf-8"), max_size=8)
good_urls = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}/{path}",
    st.sampled_from(["https", "http", "HTTPS"]),
    st.sampled_from(
        ["a.example.com", "www.b.example.com", "u:p@c.example.com", "d.example.com:8080"]
    ),
    st.text(st.characters(codec="utf-8"), max_size=8),
) | st.sampled_from(["", "   ", None, "https://a.example.com/?utm_source=x&b=1#f"])
urls = mostly(good_urls, st.sampled_from(["not a url", "https://", "ftp://x/y", "x"]) | odd)
items = st.fixed_dictionaries(
    {"published_at": time_values},
    optional={
        "title": mostly(text | st.none(), odd),
        "excerpt": text,
        "url": urls,
        "extra": mostly(st.nothing(), text),
    },
)
images = st.fixed_dictionaries(
    {
        "position": mostly(
            st.integers(0, 2**63 - 1),
            st.integers(-2, 2**64) | st.sampled_from([True, "3", 3.0, None, "３"]),
        )
    },
    optional={"caption": mostly(text | st.none(), odd)},
)
stored = st.fixed_dictionaries(
    {"key": text, "content_hash": text}, optional={"first_seen": time_values}
)


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    record: dict[str, Any] = {}
    if draw(st.integers(0, 19)):
        record["title"] = draw(
            mostly(text.filter(str.strip), st.sampled_from([" ", "\t\n", ""]) | odd)
        )
    optional = {
        "url": urls,
        "category": mostly(text | st.none(), odd),
        "published_at": time_values | st.none(),
        "source": text,
        "breadcrumbs": mostly(st.lists(text, max_size=2), odd),
        "paragraphs": mostly(st.lists(text, max_size=3), odd),
        "images": st.lists(images, max_size=2),
        "crawler": text,
        "snapshot_at": time_values | st.none(),
        "related": st.lists(items, max_size=3),
        "more_in_category_name": text,
        "more_in_category": st.lists(items, max_size=3),
    }
    for name, strategy in optional.items():
        if draw(st.integers(0, 2)):  # most fields present, any may be missing
            record[name] = draw(strategy)
    if not draw(st.integers(0, 19)):
        record["stored"] = draw(stored | st.none())
    if not draw(st.integers(0, 19)):
        record["unknown"] = draw(text)
    return record


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=records(), context=st.sampled_from(CONTEXTS), ascii=st.booleans())
def test_fast_path_agrees_with_the_models_on_generated_records(
    store: SQLiteStore, record: dict[str, Any], context: dict[str, Any], ascii: bool
) -> None:
    raw = json.dumps(record, ensure_ascii=ascii).encode("utf-8", "surrogatepass")
    check_same(store, raw, context)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"title": "a", "title": "b", "url": "https://a.example.com/1"}',  # last wins
        b'{"title": "a", "published_at": 1e400}',
        b'{"title": "a", "images": [{"position": 18446744073709551616}]}',
        b'{"title": "a", "images": [{"position": 9223372036854775807}]}',
        b'{"title": "a", "published_at": NaN}',
        b'{"title": "a"} trailing',
        b'{"title": "\\ud800"}',
        b'{"title": "\xff"}',
        b'\xef\xbb\xbf{"title": "a"}',
        b'{"title": "a\\u0000\\u001f\\u2028\\u007f\\"/"}',
        b'  {"title": "a"}  ',
        b'{"title": "a", "published_at": {"$date": {"$numberLong": "0"}}}',
        b'{"source": "s", "error": "e", "record": {"title": "a"}}',
        b"[]",
        b"null",
        b"",
    ],
)
@pytest.mark.parametrize("context", CONTEXTS[:2])
def test_fast_path_agrees_on_odd_lines(
    store: SQLiteStore, raw: bytes, context: dict[str, Any]
) -> None:
    check_same(store, raw, context)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fast_path_agrees_on_every_bad_input_line(store: SQLiteStore, case: Any) -> None:
    for raw in case.content().splitlines():
        check_same(store, raw, CONTEXTS[0])


def test_fast_path_serves_plain_records(store: SQLiteStore, tmp_path: Path) -> None:
    # Not only declines: the records an import is made of take the fast path.
    from bench.generate import GenParams, record

    params = GenParams()
    served = 0
    for i in range(300):
        raw = json.dumps(record(params, i), ensure_ascii=False).encode()
        served += check_same(store, raw, CONTEXTS[0]) is not None
    assert served == 300


# -- the content hash, pinned ----------------------------------------------------------
PINNED = (
    b'{"url":"https://u:p@news.example.com/a?utm_source=x","title":"\xe6\xa0\x87\xe9\xa2\x98",'
    b'"published_at":"2023-11-14T10:00:00.123456+08:00","snapshot_at":"2023-11-14 03:00:00",'
    b'"paragraphs":["\xe6\xae\xb5\\n","b"],"images":[{"position":1}],'
    b'"related":[{"title":"r","published_at":1700000000}],'
    b'"more_in_category":[{"published_at":"2023-11-14T10:00:00Z","url":null}]}'
)
PINNED_CONTENT = (
    b'{"title":"\xe6\xa0\x87\xe9\xa2\x98","category":null,"published_at":"2023-11-14T02:00:00.123000Z",'
    b'"source":null,"breadcrumbs":[],"paragraphs":["\xe6\xae\xb5\\n","b"],'
    b'"images":[{"position":1,"caption":null}],"crawler":null,'
    b'"snapshot_at":"2023-11-13T19:00:00Z",'
    b'"related":[{"title":"r","excerpt":null,"published_at":"2023-11-14T22:13:20Z","url":null}],'
    b'"more_in_category_name":null,'
    b'"more_in_category":[{"title":null,"excerpt":null,"published_at":"2023-11-14T10:00:00Z",'
    b'"url":null}]}'
)


def test_the_content_hash_bytes_are_pinned(store: SQLiteStore) -> None:
    # Stored hashes and line digests rely on these bytes: a change of either path (or of
    # pydantic's or orjson's output) that moves them would make every stored record "new".
    for got in (_fast(store, PINNED, CONTEXTS[0]), _model(store, PINNED, CONTEXTS[0])):
        assert got is not None
        assert got.content == PINNED_CONTENT
        assert got.content_hash == hashlib.sha256(PINNED_CONTENT).hexdigest()
        assert got.key == "https://news.example.com/a"
        assert got.url == "https://news.example.com/a?utm_source=x"


def test_the_sample_takes_the_fast_path(store: SQLiteStore) -> None:
    from newsstore import parse_snapshot

    snapshot = parse_snapshot(SAMPLE.read_text(encoding="utf-8"))
    raw = snapshot.model_dump_json().encode()
    assert check_same(store, raw, CONTEXTS[0]) is not None


# -- derived from the models, refusing what it does not know --------------------------
def test_the_validator_is_derived_from_the_models() -> None:
    assert VALIDATOR is not None
    assert preparer(None, lambda doc: None) is not None
    derived = fast_validator().validate_json(b'{"title": "t"}')
    assert list(derived) == list(Snapshot.model_fields)


def _not_upper(value: str) -> str:
    return value


class _ExtraValidator(Snapshot):
    crawler: Annotated[str | None, AfterValidator(_not_upper)] = None


class _FieldValidator(Snapshot):
    @field_validator("source")
    @classmethod
    def _check(cls, value: str | None) -> str | None:
        return value


class _TimedImage(Image):
    taken_at: Timestamp | None = None


class _NewTime(Snapshot):
    images: list[_TimedImage] = Field(default_factory=list)  # type: ignore[assignment]


class _LooseItem(RelatedItem):
    model_config = ConfigDict(**{**RelatedItem.model_config, "extra": "ignore"})


class _LooseItems(Snapshot):
    related: list[_LooseItem] = Field(default_factory=list)  # type: ignore[assignment]


@pytest.mark.parametrize("model", [_ExtraValidator, _FieldValidator, _NewTime, _LooseItems])
def test_a_model_with_a_validator_it_does_not_know_is_refused(model: type[Snapshot]) -> None:
    with pytest.raises(SchemaNotUnderstood):
        fast_validator(model)
