"""The store contract: every adapter behaves the same (SQLite, and MongoDB over the wire)."""

from __future__ import annotations

import io
import itertools
from datetime import date, datetime, timedelta, timezone

import pytest

from newsstore import InvalidQueryError, InvalidURLError, NotFoundError
from newsstore._query import Query
from newsstore._store import Store

from ..conftest import BEIJING

URL = "https://news.example.com/world/2023/11/14/putin.html"


def test_get_finds_a_snapshot_by_any_spelling_of_its_url(store: Store, make) -> None:
    store.save(
        make(url="http://www.news.example.com/world/2023/11/14/putin.html?utm_source=wx#top")
    )

    for spelling in (
        URL,
        "HTTP://News.Example.com:80/world/2023/11/14/putin.html",
        "https://www.news.example.com/world/2023/11/14/putin.html?spm=a.b.c",
    ):
        found = store.get(spelling)
        assert found.title == "普京接过华盛顿请柬"
        assert (
            found.url == "http://www.news.example.com/world/2023/11/14/putin.html?utm_source=wx#top"
        )
        assert found.stored is not None
        assert found.stored.key == "https://news.example.com/world/2023/11/14/putin.html"


def test_get_unknown_url_raises_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no snapshot"):
        store.get(URL)


def test_saving_the_same_url_twice_keeps_one_record(store: Store, make) -> None:
    first = store.save_many([make()])
    second = store.save_many([make(url=URL + "?utm_medium=feed")])

    assert (first.inserted, second.unchanged, second.inserted) == (1, 1, 0)
    assert store.count() == 1
    stored = store.get(URL).stored
    assert stored is not None
    assert stored.seen_count == 2
    assert stored.version_count == 1
    assert stored.urls == [URL, URL + "?utm_medium=feed"]
    assert stored.first_seen is not None and stored.last_seen is not None
    assert stored.last_seen >= stored.first_seen


def test_a_newer_snapshot_with_new_content_replaces_and_archives(store: Store, make, later) -> None:
    old = make()
    new = make(paragraphs=["更新后的正文。"], snapshot_at=later(old, 2))

    store.save(old)
    assert store.save(new) == "updated"

    assert store.get(URL).paragraphs == ["更新后的正文。"]
    history = store.history(URL)
    assert [h.paragraphs for h in history] == [old.paragraphs]
    assert history[0].stored is not None and history[0].stored.archived_at is not None
    assert store.get(URL).stored.version_count == 2  # type: ignore[union-attr]


def test_an_older_snapshot_arriving_late_goes_to_history(store: Store, make, later) -> None:
    new = make(paragraphs=["新。"])
    old = make(paragraphs=["旧。"], snapshot_at=later(new, -5))

    store.save(new)
    assert store.save(old) == "versioned"
    assert store.save(old) == "unchanged"  # a known version is not new again

    assert store.get(URL).paragraphs == ["新。"]
    assert [h.paragraphs for h in store.history(URL)] == [["旧。"]]


def test_newest_converges_whatever_the_arrival_order(store: Store, make, later) -> None:
    base = make()
    versions = [make(paragraphs=[f"第{i}版。"], snapshot_at=later(base, i)) for i in range(3)]

    outcomes = set()
    for order in itertools.permutations(versions):
        for snapshot in order:
            store.save(snapshot)
        current = store.get(URL)
        outcomes.add((current.paragraphs[0], tuple(h.paragraphs[0] for h in store.history(URL))))
        store.delete(URL, reason="reset between orders")
        store.lift_takedown(URL)
    assert outcomes == {("第2版。", ("第1版。", "第0版。"))}


def test_policy_keep_leaves_the_first_content_current(store: Store, make, later) -> None:
    first = make()
    store.save(first)
    assert (
        store.save(make(title="新标题", snapshot_at=later(first, 1)), policy="keep") == "versioned"
    )
    assert store.get(URL).title == first.title
    assert [h.title for h in store.history(URL)] == ["新标题"]


def test_policy_replace_makes_the_last_import_current(store: Store, make, later) -> None:
    first = make()
    store.save(first)
    older = make(title="更早的版本", snapshot_at=later(first, -1))
    assert store.save(older, policy="replace") == "updated"
    assert store.get(URL).title == "更早的版本"
    assert [h.title for h in store.history(URL)] == [first.title]


def test_a_content_made_current_again_leaves_history(store: Store, make, later) -> None:
    a = make()
    b = make(paragraphs=["改。"], snapshot_at=later(a, 1))
    store.save(a)
    assert store.save(b) == "updated"
    assert store.save(a, policy="replace") == "updated"
    assert store.get(URL).paragraphs == a.paragraphs
    # History is every other content, and what stats count is what history() lists.
    assert [h.paragraphs for h in store.history(URL)] == [b.paragraphs]
    stats = store.stats()
    assert (stats.history, stats.keys_with_versions) == (1, 1)
    # Within one batch too: b, then a again, both by replace.
    assert store.save_many([b, a], policy="replace").updated == 2
    assert [h.paragraphs for h in store.history(URL)] == [b.paragraphs]
    assert store.stats().history == 1


def test_repeats_inside_one_batch_are_deduplicated(store: Store, make, later) -> None:
    a = make()
    b = make(paragraphs=["改。"], snapshot_at=later(a, 1))
    report = store.save_many([a, a, b, a])
    assert (report.inserted, report.unchanged, report.updated) == (1, 2, 1)
    assert store.count() == 1
    assert store.get(URL).paragraphs == ["改。"]
    # Distinct input records: a, b (a read three times is one record).
    assert store.get(URL).stored.seen_count == 2  # type: ignore[union-attr]
    assert len(store.history(URL)) == 1


def test_snapshots_without_url_are_keyed_by_content(store: Store, make) -> None:
    snapshot = make(url=None)
    assert store.save_many([snapshot, snapshot]).inserted == 1
    assert store.count() == 1
    key = store.find().__next__().stored.key  # type: ignore[union-attr]
    assert key.startswith("content:")
    assert store.get(key).title == snapshot.title
    assert store.save(make(url=None, title="另一篇")) == "inserted"
    assert store.count() == 2


def test_a_bad_url_is_refused_with_a_clear_error(store: Store, make) -> None:
    with pytest.raises(InvalidURLError):
        store.save(make(url="javascript:alert(1)"))
    assert store.count() == 0


def test_takedown_removes_and_suppresses_until_restored(store: Store, make, later) -> None:
    old = make()
    store.save(old)
    store.save(make(title="新", snapshot_at=later(old, 1)))

    tomb = store.delete(URL + "?utm_source=x", reason="takedown request #42")
    assert tomb.key == "https://news.example.com/world/2023/11/14/putin.html"
    with pytest.raises(NotFoundError):
        store.get(URL)
    assert store.history(URL) == []
    assert store.save_many([old, old]).suppressed == 2
    assert store.count() == 0
    assert [t.reason for t in store.tombstones()] == ["takedown request #42"]
    # A second request for the key leaves the first as it was: its reason, its date.
    again = store.delete(URL, reason="another request")
    assert again.earlier and not again.removed
    assert (again.reason, again.deleted_at) == (tomb.reason, tomb.deleted_at)
    assert store.tombstones() == [tomb]
    # And so does a takedown another writer records meanwhile (an archive's, a race).
    assert store._delete(tomb.key, URL, "raced", later(old, 5)).reason == "raced"
    assert [t.reason for t in store.tombstones()] == ["takedown request #42"]

    store.lift_takedown(URL)
    assert store.save(old) == "inserted"
    with pytest.raises(NotFoundError):
        store.lift_takedown(URL)


def test_times_come_back_as_the_same_instants_in_the_store_zone(store: Store, make) -> None:
    paris = datetime(2023, 11, 14, 4, 19, tzinfo=timezone(timedelta(hours=1)))
    store.save(make(published_at=paris))
    got = store.get(URL).published_at
    assert got == paris
    assert got is not None and got.utcoffset() == timedelta(hours=8)


def test_find_by_day_uses_the_calendar_day_of_the_zone(store: Store, make) -> None:
    # 00:30 in Beijing is still the previous day in UTC.
    early = datetime(2023, 11, 14, 0, 30, tzinfo=BEIJING)
    late = datetime(2023, 11, 14, 23, 59, tzinfo=BEIJING)
    store.save_many(
        [
            make(url="https://a.example.com/1", published_at=early),
            make(url="https://a.example.com/2", published_at=late),
            make(url="https://a.example.com/3", published_at=late + timedelta(minutes=1)),
        ]
    )
    beijing_day = [s.url for s in store.find(store.on_day(date(2023, 11, 14)))]
    assert beijing_day == ["https://a.example.com/2", "https://a.example.com/1"]
    utc_day = [s.url for s in store.find(store.on_day(date(2023, 11, 14), zone=timezone.utc))]
    assert utc_day == ["https://a.example.com/3", "https://a.example.com/2"]


def test_find_by_snapshot_time(store: Store, make) -> None:
    store.save(make(snapshot_at=datetime(2024, 1, 1, 12, tzinfo=BEIJING)))
    assert store.count(store.on_day(date(2024, 1, 1), time_field="snapshot")) == 1
    assert store.count(store.on_day(date(2023, 11, 14), time_field="snapshot")) == 0


def test_find_by_prefix_host_and_domain(store: Store, make) -> None:
    urls = [
        "https://news.example.com/world/1.html",
        "https://news.example.com/world/2.html",
        "https://news.example.com/sport/1.html",
        "https://www.example.com/about",
        "https://video.news.example.com/v/1",
        "https://examples.com/world/1.html",
    ]
    store.save_many([make(url=u, title=f"t{i}") for i, u in enumerate(urls)])

    def urls_of(**q: str) -> set[str | None]:
        return {s.url for s in store.find(Query(**q))}  # type: ignore[arg-type]

    assert urls_of(url="http://news.example.com/world/", match="prefix") == set(urls[:2])
    assert urls_of(url="news.example.com", match="host") == set(urls[:3])
    assert urls_of(url="example.com", match="domain") == set(urls[:5])
    assert urls_of(url="https://www.example.com/", match="host") == {urls[3]}


def test_www_before_a_bare_suffix_is_a_host_of_its_own(store: Store, make) -> None:
    # "www." goes only before a registrable domain: www.com is not a spelling of "com",
    # so a domain lookup for it must not match every .com host.
    urls = ["https://www.com/a", "https://com/a", "https://example.com/a", "https://www.co.uk/a"]
    report = store.save_many([make(url=u, title=f"t{i}") for i, u in enumerate(urls)])
    assert report.inserted == 4
    assert store.get("http://WWW.com/a").url == "https://www.com/a"

    def urls_of(**q: str) -> set[str | None]:
        return {s.url for s in store.find(Query(**q))}  # type: ignore[arg-type]

    assert urls_of(url="www.com", match="domain") == {urls[0]}
    assert urls_of(url="com", match="domain") == set(urls[:3])
    assert urls_of(url="https://www.co.uk/", match="host") == {urls[3]}


def test_find_filters_sorts_and_pages(store: Store, make) -> None:
    start = datetime(2023, 1, 1, tzinfo=BEIJING)
    store.save_many(
        [
            make(
                url=f"https://n.example.com/{i}",
                published_at=start + timedelta(days=i),
                category="国际" if i % 2 else "国内",
                source=f"来源{i % 3}",
            )
            for i in range(10)
        ]
    )
    newest = [s.url for s in store.find(Query(limit=3))]
    assert newest == [f"https://n.example.com/{i}" for i in (9, 8, 7)]
    page2 = [s.url for s in store.find(Query(offset=3, limit=3))]
    assert page2 == [f"https://n.example.com/{i}" for i in (6, 5, 4)]
    oldest = [s.url for s in store.find(Query(sort="oldest", limit=2))]
    assert oldest == ["https://n.example.com/0", "https://n.example.com/1"]
    assert store.count(Query(category="国际")) == 5
    assert store.count(Query(category="国际", source="来源0")) == 2  # 3 and 9
    assert store.count(Query(category="国际'; DROP TABLE snapshots; --")) == 0
    assert store.count(Query(limit=1)) == 10


def test_related_items_by_day_link_to_stored_snapshots(store: Store, make) -> None:
    day = datetime(2023, 8, 2, 18, 16, tzinfo=BEIJING)
    target = make(
        url="https://n.example.com/target", title="美方请柬", published_at=day, related=[]
    )
    lister = make(
        related=[
            {"title": "美方请柬", "excerpt": "...", "published_at": day},
            {
                "title": "别的",
                "url": "https://n.example.com/target?utm_source=x",
                "published_at": day,
            },
            {"title": "不相关", "published_at": day + timedelta(days=1)},
        ],
        more_in_category=[{"excerpt": "只有摘要", "published_at": day}],
    )
    store.save_many([target, lister])
    start = datetime(2023, 8, 2, tzinfo=BEIJING)
    hits = list(store.related_on(start, start + timedelta(days=1)))
    seen = sorted((h.kind, h.item.title or h.item.excerpt, h.links_to) for h in hits)
    assert seen == [
        ("more_in_category", "只有摘要", None),
        ("related", "别的", "https://n.example.com/target"),
        ("related", "美方请柬", "https://n.example.com/target"),
    ]
    assert {h.listed_by.url for h in hits} == {URL}
    # The widest windows there are: from year 1 in Beijing (before UTC's year 1 began) to
    # 9999's last day at -08:00 (after UTC's ended); a naive time is refused, not compared.
    west = timezone(timedelta(hours=-8))
    everything = store.related_on(
        datetime(1, 1, 1, tzinfo=BEIJING), datetime(9999, 12, 31, 20, tzinfo=west)
    )
    assert len(list(everything)) == 4
    with pytest.raises(InvalidQueryError, match="start must be a timezone-aware datetime"):
        list(store.related_on(datetime(2023, 8, 2), datetime(2023, 8, 3)))


_EDGE_TIMES = [
    datetime(2023, 8, 1, 15, 59, 59, 999000, tzinfo=timezone.utc),  # 23:59:59.999 in Beijing
    datetime(2023, 8, 1, 16, 0, tzinfo=timezone.utc),  # midnight in Beijing
    datetime(2023, 8, 2, 0, 0, tzinfo=timezone.utc),
    datetime(2023, 8, 2, 3, 59, tzinfo=timezone.utc),  # midnight in New York (EDT)
    datetime(2023, 8, 2, 4, 0, tzinfo=timezone.utc),
    datetime(1969, 12, 31, 15, 59, 59, 999000, tzinfo=timezone.utc),  # before the epoch
    datetime(1969, 12, 31, 16, 0, tzinfo=timezone.utc),
]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime(2023, 8, 2, tzinfo=BEIJING), datetime(2023, 8, 3, tzinfo=BEIJING)),
        (datetime(2023, 8, 2, tzinfo=timezone.utc), datetime(2023, 8, 3, tzinfo=timezone.utc)),
        (
            datetime(2023, 8, 2, tzinfo=timezone(timedelta(hours=-4))),
            datetime(2023, 8, 3, tzinfo=timezone(timedelta(hours=-4))),
        ),
        (_EDGE_TIMES[0], _EDGE_TIMES[1]),  # one millisecond
        (_EDGE_TIMES[1], _EDGE_TIMES[4]),
        (datetime(1969, 12, 31, tzinfo=BEIJING), datetime(1970, 1, 2, tzinfo=BEIJING)),
    ],
)
def test_related_items_are_found_exactly_in_any_range_and_zone(
    store: Store, make, start: datetime, end: datetime
) -> None:
    items = [{"title": f"t{i}", "published_at": t} for i, t in enumerate(_EDGE_TIMES)]
    store.save_many([make(related=items[:4], more_in_category=items[4:])])
    found = sorted(h.item.title or "" for h in store.related_on(start, end))
    expected = sorted(f"t{i}" for i, t in enumerate(_EDGE_TIMES) if start <= t < end)
    assert found == expected


def test_stats_count_categories_sources_days_versions_and_takedowns(
    store: Store, make, later
) -> None:
    a = make()
    store.save_many(
        [
            a,
            make(paragraphs=["新。"], snapshot_at=later(a, 1)),
            make(url="https://n.example.com/2", category="国内", source="新华社"),
            make(url="https://n.example.com/3"),
        ]
    )
    store.delete("https://n.example.com/3", reason="request")
    stats = store.stats()
    assert stats.snapshots == 2
    assert stats.history == 1
    assert stats.keys_with_versions == 1
    assert stats.suppressed == 1
    assert stats.by_category == {"国际": 1, "国内": 1}
    assert stats.by_source == {"河南广播电视台": 1, "新华社": 1}
    assert stats.by_day == {"2023-11-14": 2}


def test_stored_snapshot_is_what_was_saved(store: Store, make) -> None:
    snapshot = make(images=[{"position": 1, "caption": "奥维尔丘克"}])
    store.save(snapshot)
    got = store.get(URL)
    assert got.model_dump(exclude={"stored"}) == snapshot.model_dump(exclude={"stored"})


def test_export_of_one_store_imports_identically_into_another(
    store: Store, make, tmp_path, later
) -> None:
    from newsstore._store.sqlite import SQLiteStore

    a = make()
    store.save_many(
        [a, make(url="https://n.example.com/2", title="二"), make(url=None, title="无")]
    )
    path = tmp_path / "out.ndjson"
    with path.open("w", encoding="utf-8") as fp:
        assert store.export(fp) == 3
    with SQLiteStore(tmp_path / "copy.db") as copy:
        assert copy.import_records([path]).inserted == 3
        original = [s.model_dump(exclude={"stored"}) for s in store.find()]
        copied = [s.model_dump(exclude={"stored"}) for s in copy.find()]
    assert copied == original


def test_dry_run_counts_without_writing(store: Store, make, tmp_path) -> None:
    path = tmp_path / "in.ndjson"
    path.write_text(make().model_dump_json() + "\n", encoding="utf-8")
    report = store.import_records([path], dry_run=True)
    assert report.inserted == 1
    assert store.count() == 0


def test_the_tracking_parameter_list_is_configurable(make, tmp_path, monkeypatch) -> None:
    from newsstore import open_store

    monkeypatch.setenv("NEWSSTORE_TRACKING_PARAMS", "utm_*,ref")
    with open_store(f"sqlite:///{tmp_path / 'custom.db'}") as custom:
        custom.save_many([make(url=URL + "?ref=home"), make(url=URL + "?spm=1.2")])
        # "ref" is dropped by this store's list; "spm" (a default) is kept, so it is another page.
        assert custom.count() == 2
        assert custom.get(URL + "?utm_source=x&ref=feed").url == URL + "?ref=home"


@pytest.mark.parametrize("zone_name", ["Asia/Shanghai", "America/New_York", "Asia/Kathmandu"])
def test_stats_days_are_the_calendar_days_of_the_zone(store: Store, make, zone_name) -> None:
    # Days are counted on the server by quarter hour; each count must land on the day the
    # zone gives every single time, including before 1970, around midnight, and in 1890,
    # when Beijing's offset was local mean time (+08:05:43), not whole quarter hours.
    from collections import Counter
    from datetime import timezone as tz
    from zoneinfo import ZoneInfo

    times = [
        datetime(2023, 11, 14, 15, 59, 59, 999000, tzinfo=tz.utc),
        datetime(2023, 11, 14, 16, 0, tzinfo=tz.utc),
        datetime(2024, 3, 10, 4, 59, tzinfo=tz.utc),
        datetime(2024, 3, 10, 7, 10, tzinfo=tz.utc),  # New York's offset changed at 07:00
        datetime(2024, 11, 3, 5, 30, tzinfo=tz.utc),  # 01:30, the first of the two
        datetime(2024, 11, 3, 18, 14, tzinfo=tz.utc),  # Kathmandu's midnight is 18:15
        datetime(2024, 11, 3, 18, 15, tzinfo=tz.utc),
        datetime(1969, 12, 31, 23, 59, tzinfo=tz.utc),
        datetime(1890, 5, 1, 15, 50, tzinfo=tz.utc),
        datetime(1890, 5, 1, 15, 58, tzinfo=tz.utc),
        datetime(1890, 5, 1, 15, 52, 30, tzinfo=tz.utc),
    ]
    store.save_many(
        [make(url=f"https://n.example.com/{i}", published_at=t) for i, t in enumerate(times)]
        + [make(url="https://n.example.com/none", published_at=None)]
    )
    zone = ZoneInfo(zone_name)
    expected = Counter(t.astimezone(zone).date().isoformat() for t in times)
    expected[""] += 1
    assert store.stats(zone=zone).by_day == dict(sorted(expected.items(), reverse=True))


def test_a_password_in_a_crawled_url_is_never_stored(store: Store, make) -> None:
    secret = "https://alice:s3cret@news.example.com/world/2023/11/14/putin.html?utm_source=x"
    store.save(make(url=secret))
    got = store.get(URL)
    assert got.url == "https://news.example.com/world/2023/11/14/putin.html?utm_source=x"
    assert got.stored is not None and all("s3cret" not in u for u in got.stored.urls)
    buf = io.StringIO()
    store.export(buf)
    assert "s3cret" not in buf.getvalue() and "alice" not in buf.getvalue()
