"""Dates typed by users, day ranges in a zone, and refusals of non-literal filters."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from newsstore import InvalidQueryError, Query, day_range
from newsstore._times import parse_when

BEIJING = ZoneInfo("Asia/Shanghai")
PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [
        ("2023-11-14", False, datetime(2023, 11, 14, tzinfo=BEIJING)),
        ("2023-11-14", True, datetime(2023, 11, 15, tzinfo=BEIJING)),
        ("2023-11-14T11:19", False, datetime(2023, 11, 14, 11, 19, tzinfo=BEIJING)),
        ("2023-11-14 11:19:00", False, datetime(2023, 11, 14, 11, 19, tzinfo=BEIJING)),
        ("2023-11-14T03:19:00Z", False, datetime(2023, 11, 14, 3, 19, tzinfo=timezone.utc)),
        ("2023-11-14T11:19+08:00", True, datetime(2023, 11, 14, 3, 19, tzinfo=timezone.utc)),
    ],
)
def test_parse_when(text: str, end: bool, expected: datetime) -> None:
    got = parse_when(text, BEIJING, end=end)
    assert got == expected and got.tzinfo is not None


@pytest.mark.parametrize("text", ["yesterday", "2023-02-30", "14/11/2023", ""])
def test_parse_when_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(InvalidQueryError, match="cannot read"):
        parse_when(text, BEIJING)


def test_a_day_is_the_calendar_day_of_the_zone_even_across_dst() -> None:
    start, end = day_range(date(2023, 11, 14), BEIJING)
    assert start.astimezone(timezone.utc) == datetime(2023, 11, 13, 16, tzinfo=timezone.utc)
    assert end - start == timedelta(days=1)
    spring_start, spring_end = day_range(date(2024, 3, 31), PARIS)
    assert spring_end.astimezone(timezone.utc) - spring_start.astimezone(timezone.utc) == timedelta(
        hours=23
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"url": {"$where": "sleep(1000)"}},
        {"category": {"$ne": None}},
        {"source": ["a"]},
        {"start": datetime(2023, 1, 1)},  # naive: ambiguous
        {"match": "regex"},
        {"limit": -1},
    ],
)
def test_query_accepts_only_literals(fields: dict) -> None:
    with pytest.raises(InvalidQueryError):
        Query(**fields)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"url": {"$where": "sleep(1000)"}}, "url must be a string, not dict"),
        ({"category": ["国际"]}, "category must be a string, not list"),
        ({"source": 5}, "source must be a string, not int"),
        ({"start": datetime(2023, 1, 1)}, "start must be a timezone-aware datetime"),
        ({"end": "2023-11-14"}, "end must be a timezone-aware datetime"),
        ({"match": "regex"}, "match must be one of exact, prefix, host, domain, not 'regex'"),
        (
            {"time_field": {"$where": "1"}},
            "time_field must be one of published, snapshot, not dict",
        ),
        ({"sort": "random"}, "sort must be one of newest, oldest, not 'random'"),
        ({"limit": -1}, "limit must not be negative"),
        ({"offset": -5}, "offset must not be negative"),
        ({"limit": True}, "limit must be an integer"),
        ({"limit": "5"}, "limit must be an integer"),
        ({"offset": 1.0}, "offset must be an integer"),
        ({"colour": "red"}, "colour is not a query field"),
    ],
    ids=lambda v: v if isinstance(v, str) else next(iter(v)),
)
def test_a_refused_query_says_why_in_one_line(fields: dict, message: str) -> None:
    with pytest.raises(InvalidQueryError) as caught:
        Query(**fields)
    assert str(caught.value) == message


def test_a_query_is_frozen_and_another_page_is_checked_too() -> None:
    query = Query(url="https://e.com/", match="prefix", start=datetime(2023, 1, 1, tzinfo=BEIJING))
    with pytest.raises(FrozenInstanceError):
        query.url = "https://other.example.com/"  # type: ignore[misc]
    page = query.page(20, 10)
    assert (page.offset, page.limit, page.url, page.start) == (20, 10, query.url, query.start)
    assert query.offset == 0 and query.limit is None
    assert page == Query(
        url="https://e.com/", match="prefix", start=query.start, offset=20, limit=10
    )
    with pytest.raises(InvalidQueryError, match="offset must not be negative"):
        query.page(-1, None)


@pytest.mark.parametrize(
    ("field", "attribute"), [("published", "published_at"), ("snapshot", "snapshot_at")]
)
def test_time_attribute_names_the_snapshot_field(field: str, attribute: str) -> None:
    assert Query(time_field=field).time_attribute == attribute  # type: ignore[arg-type]
