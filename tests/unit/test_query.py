"""Dates typed by users, day ranges in a zone, and refusals of non-literal filters."""

from __future__ import annotations

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
