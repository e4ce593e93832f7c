"""The dedup and versioning rules, as a table: state + records + policy → outcomes and writes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from newsstore._rules import Incoming, KeyState, plan_key

T0 = datetime(2023, 11, 14, 7, 45, tzinfo=timezone.utc)


def rec(content: str, hours: int | None = 0) -> Incoming:
    when = None if hours is None else T0 + timedelta(hours=hours)
    return Incoming(
        "https://e.com/a", f"h-{content}", "https://e.com/a", when, content.encode(), None
    )


def state(content: str, hours: int | None = 0, *known: str) -> KeyState:
    when = None if hours is None else T0 + timedelta(hours=hours)
    hashes = frozenset({f"h-{content}", *(f"h-{k}" for k in known)})
    return KeyState("https://e.com/a", f"h-{content}", when, hashes, rev=3)


@pytest.mark.parametrize(
    ("current", "records", "policy", "outcomes", "new_current", "history", "archives"),
    [
        (None, [rec("a")], "newest", {"inserted": 1}, "a", [], False),
        (state("a"), [rec("a")], "newest", {"unchanged": 1}, None, [], False),
        (state("a"), [rec("b", 1)], "newest", {"updated": 1}, "b", [], True),
        (state("a"), [rec("b", -1)], "newest", {"versioned": 1}, None, ["b"], False),
        (state("a", 0, "b"), [rec("b", 5)], "newest", {"unchanged": 1}, None, [], False),
        (
            state("a", None),
            [rec("b", None)],
            "newest",
            {"updated": 1},
            "b",
            [],
            True,
        ),  # hash tie-break
        (state("b", None), [rec("a", None)], "newest", {"versioned": 1}, None, ["a"], False),
        (
            state("a", None),
            [rec("b", 0)],
            "newest",
            {"updated": 1},
            "b",
            [],
            True,
        ),  # a time beats none
        (state("a"), [rec("b", 1)], "keep", {"versioned": 1}, None, ["b"], False),
        (state("a"), [rec("b", -1)], "replace", {"updated": 1}, "b", [], True),
        (state("a", 0, "b"), [rec("b", -1)], "replace", {"updated": 1}, "b", [], True),
        (None, [rec("a"), rec("b", 1)], "newest", {"inserted": 1, "updated": 1}, "b", ["a"], False),
        (
            None,
            [rec("b", 1), rec("a")],
            "newest",
            {"inserted": 1, "versioned": 1},
            "b",
            ["a"],
            False,
        ),
        (
            state("a"),
            [rec("b", 1), rec("c", 2), rec("b", 1)],
            "newest",
            {"updated": 2, "unchanged": 1},
            "c",
            ["b"],
            True,
        ),
    ],
)
def test_plan(current, records, policy, outcomes, new_current, history, archives) -> None:
    plan = plan_key(current, records, policy=policy)
    assert dict(plan.outcomes) == outcomes
    assert (plan.current.content.decode() if plan.current else None) == new_current
    assert [h.content.decode() for h in plan.history] == history
    assert plan.archive_current is archives
    assert plan.seen == len(records)
    assert plan.expected_rev == (None if current is None else 3)


def test_tombstoned_keys_suppress_everything_and_write_nothing() -> None:
    plan = plan_key(state("a"), [rec("b", 1), rec("a")], tombstoned=True)
    assert dict(plan.outcomes) == {"suppressed": 2}
    assert not plan.writes and plan.current is None and plan.history == []


def test_new_hashes_and_url_spellings_are_collected_once() -> None:
    a, b = rec("a"), rec("b", 1)
    plan = plan_key(None, [a, b, a, b])
    assert plan.new_hashes == ["h-a", "h-b"]
    assert plan.urls == ["https://e.com/a"]


@pytest.mark.parametrize(
    ("current", "records", "policy", "history", "current_again"),
    [
        (state("a", 0, "old"), [rec("old", -1)], "newest", ["h-old"], False),  # history again
        (state("a", 0, "old"), [rec("a")], "newest", [], True),  # the current again
        (state("a", 0, "old"), [rec("b", 1), rec("a")], "newest", ["h-a"], False),  # archived
        (state("a", 0, "old"), [rec("old", -1)], "replace", [], False),  # current again
        (state("a"), [rec("b", 1)], "newest", [], False),  # only new content
        (None, [rec("a"), rec("a")], "newest", [], False),  # a new key: nothing stored
    ],
)
def test_stored_contents_seen_again_are_named_for_their_last_seen_time(
    current, records, policy, history, current_again
) -> None:
    plan = plan_key(current, records, policy=policy)
    assert plan.reseen_history == history
    assert plan.reseen_current is current_again


def spelled(content: str, url: str, hours: int = 0) -> Incoming:
    return Incoming("https://e.com/a", f"h-{content}", url, T0 + timedelta(hours=hours), b"", None)


def test_url_is_the_least_spelling_of_the_content_in_any_order() -> None:
    records = [spelled("a", "https://e.com/a?x"), spelled("a", "http://e.com/a")]
    for ordered in (records, records[::-1]):
        plan = plan_key(None, ordered)
        assert plan.current is not None and plan.current.url == "http://e.com/a"
        # Two spellings are two records; the same record again is not counted again.
        assert len(plan_key(None, [*ordered, ordered[0]]).records) == 2


def test_a_stored_content_seen_under_a_lesser_spelling_is_lowered() -> None:
    stored = KeyState(
        "https://e.com/a",
        "h-b",
        T0 + timedelta(hours=1),
        frozenset({"h-a", "h-b"}),
        3,
        url="https://e.com/a",
    )
    plan = plan_key(stored, [spelled("b", "http://e.com/a", 1), spelled("a", "http://a", 0)])
    assert plan.spellings == {"h-b": "http://e.com/a", "h-a": "http://a"}
    # A greater spelling of the current changes nothing.
    assert plan_key(stored, [spelled("b", "https://e.com/a?z", 1)]).spellings == {}


@pytest.mark.parametrize(
    "record",
    [
        rec("a"),
        rec("a", None),  # no snapshot time
        spelled("a", "https://e.com/a?utm=x"),  # spelled otherwise than the key
        Incoming("content:abc", "h-a", None, T0, b"", None),  # no URL: a fallback key
    ],
)
def test_a_new_keys_one_record_is_planned_as_the_full_rules_plan_it(record: Incoming) -> None:
    from newsstore._rules import _plan_in_full

    for policy in ("newest", "keep", "replace"):
        assert plan_key(None, [record], policy=policy) == _plan_in_full(
            None, [record], policy, False
        )


def test_records_on_their_way_in_cross_to_and_from_workers_whole() -> None:
    # Worker processes send these back pickled: every field and the class must survive.
    import pickle

    from newsstore._linememory import Recalled, Remembered

    plain = rec("a", 2)
    remembered = Remembered(
        plain.key,
        plain.content_hash,
        plain.url,
        plain.snapshot_at,
        plain.content,
        ("title", None, 1, "[19675]"),
        digest=b"d" * 16,
    )
    recalled = Recalled(
        plain.key,
        plain.content_hash,
        None,
        None,
        b"",
        None,
        raw=b'{"title": "t"}',
        context={"timezone": "Asia/Shanghai"},
        source="f.ndjson",
        line=7,
    )
    for value in (plain, remembered, recalled):
        back = pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        assert type(back) is type(value) and back == value
    assert pickle.loads(pickle.dumps(recalled)).record_id is None  # still counted once
