"""Properties (issue #7): export -> import into an empty store -> export changes nothing.

For generated snapshots — any Unicode (NUL, controls, line and paragraph separators,
astral planes), empty lists, missing optional fields, times in any zone from year 2 to
9998 (including zones whose old offsets are in seconds) — in every export format.

URL canonicalisation being idempotent and total is proven in ``tests/unit/test_urls.py``
(``test_idempotent_on_generated_urls``, ``test_total_on_any_text*``); not repeated here.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta, timezone
from io import StringIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsstore import Snapshot, write_snapshots
from newsstore._export import EXPORT_FORMATS
from newsstore._store.sqlite import SQLiteStore

# Every field but ``stored``, whose first/last-seen times are when each store saw it.
CONTENT_FIELDS = [name for name in Snapshot.model_fields if name != "stored"]
SUFFIX = {"ndjson": ".ndjson", "json": ".json", "ejson": ".ejson", "ejson-canonical": ".ndjson"}

text = st.text(st.characters(codec="utf-8"), max_size=12)  # any code point but surrogates
optional_text = st.none() | text

zones = st.one_of(
    st.timezones(),
    st.sampled_from([ZoneInfo("Asia/Shanghai"), ZoneInfo("Africa/Monrovia"), timezone.utc]),
    st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m))),
)
# Aware times in any zone. Years 2..9998 keep every instant showable in every zone.
times = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=zones)
optional_times = st.none() | times

items = st.fixed_dictionaries(
    {"published_at": times},
    optional={"title": optional_text, "excerpt": optional_text, "url": optional_text},
)
images = st.fixed_dictionaries(
    {"position": st.integers(0, 2**63 - 1)}, optional={"caption": optional_text}
)
urls = st.builds(
    lambda host, path: f"https://{host}.example.com/{path}",
    st.sampled_from(["a", "b", "news.c", "www.d"]),
    st.text(st.characters(codec="utf-8", exclude_characters="#?"), max_size=8),
)


@st.composite
def snapshots(draw: st.DrawFn) -> dict[str, Any]:
    record: dict[str, Any] = {"title": draw(text.filter(lambda s: bool(s) and not s.isspace()))}
    optional = {
        "url": st.none() | urls,
        "category": optional_text,
        "published_at": optional_times,
        "source": optional_text,
        "breadcrumbs": st.lists(text, max_size=3),
        "paragraphs": st.lists(text, max_size=4),
        "images": st.lists(images, max_size=2),
        "crawler": optional_text,
        "snapshot_at": optional_times,
        "related": st.lists(items, max_size=2),
        "more_in_category_name": optional_text,
        "more_in_category": st.lists(items, max_size=2),
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):  # a missing optional field, or a present one
            record[name] = draw(strategy)
    return record


def _export(store: SQLiteStore, fmt: str) -> str:
    out = StringIO()
    store.export(out, format=fmt, fields=CONTENT_FIELDS)  # type: ignore[arg-type]
    return out.getvalue()


def _export_all(store: SQLiteStore, path: Path, fmt: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as fp:
        store.export(fp, format=fmt)  # type: ignore[arg-type]


# Each example writes a store to disk: no deadline, and large examples are expected.
store_examples = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
store_records = st.lists(snapshots(), min_size=1, max_size=4)


@store_examples
@given(
    records=store_records,
    fmt=st.sampled_from(EXPORT_FORMATS),
    zone=st.sampled_from(["Asia/Shanghai", "UTC", "America/St_Johns", "Africa/Monrovia"]),
)
def test_export_import_export_is_identity(
    records: list[dict[str, Any]], fmt: str, zone: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with SQLiteStore(root / "a.db", timezone=zone) as first:
            first.save_many(Snapshot.model_validate(r) for r in records)
            before = _export(first, fmt)
            keys = {(s.stored.key, s.stored.content_hash) for s in first.find() if s.stored}
            dump = root / f"dump{SUFFIX[fmt]}"
            _export_all(first, dump, fmt)
        with SQLiteStore(root / "b.db", timezone=zone) as second:
            report = second.import_records([dump])
            assert report.rejected == 0, report.errors
            assert report.inserted == len(keys)
            assert _export(second, fmt) == before
            # Same keys and the same content hashes: nothing was altered on the way.
            assert {
                (s.stored.key, s.stored.content_hash) for s in second.find() if s.stored
            } == keys


@store_examples
@given(
    records=store_records,
    zone=st.sampled_from(
        [
            "Asia/Shanghai",  # +08:05:43 before 1901: written in UTC
            "UTC",
            "America/New_York",  # shifts by an hour twice a year
            "Asia/Kolkata",  # +05:30: moves minutes, not only the hour
            "Asia/Kathmandu",
            "America/St_Johns",
            "Africa/Monrovia",
            "Australia/Lord_Howe",  # a half-hour daylight-saving shift
        ]
    ),
)
def test_sqlite_ndjson_export_writes_what_the_models_write(
    records: list[dict[str, Any]], zone: str
) -> None:
    # The SQLite store writes NDJSON from its stored JSON, rewriting times by text; a user
    # must get the very bytes model_dump_json gives, in any zone.
    with (
        tempfile.TemporaryDirectory() as tmp,
        SQLiteStore(Path(tmp) / "a.db", timezone=zone) as store,
    ):
        store.save_many(Snapshot.model_validate(r) for r in records)
        # NDJSON, the JSON array and relaxed Extended JSON all take the fast path.
        for format in ("ndjson", "json", "ejson"):
            fast = StringIO()
            store.export(fast, format=format)
            models = StringIO()
            write_snapshots(store.find(), models, format=format)
            assert fast.getvalue() == models.getvalue(), format
