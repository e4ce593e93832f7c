"""Versions on every store: numbered oldest first, their seen times, diffs, keys changed."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from newsstore import NotFoundError, Snapshot, TextEdit
from newsstore._store import Store

from ..conftest import DELETED, EDITED, EDITED_2, INSERTED, MOVED

URL = "https://news.example.com/world/2023/11/14/putin.html"


def _kinds(diff) -> list[tuple[str, int | None, int | None]]:
    return [(p.kind, p.old_index, p.new_index) for p in diff.paragraphs]


def test_versions_are_numbered_oldest_first_whatever_the_arrival_order(
    store: Store, three_versions: list[Snapshot]
) -> None:
    v1, v2, v3 = three_versions
    for snapshot in (v3, v1, v2):  # the newest arrives first, the others go to history
        store.save(snapshot)
    versions = store.versions(URL)
    assert [v.number for v in versions] == [1, 2, 3]
    assert [v.snapshot_at for v in versions] == [v1.snapshot_at, v2.snapshot_at, v3.snapshot_at]
    assert [v.current for v in versions] == [False, False, True]
    assert [v.snapshot.title for v in versions] == [v1.title, v2.title, v3.title]
    hashes = [v.content_hash for v in versions]
    assert len(set(hashes)) == 3
    assert hashes[2] == store.get(URL).stored.content_hash  # type: ignore[union-attr]
    assert versions[0].changed == ()
    assert versions[1].changed == ("title", "snapshot_at", "paragraphs")
    assert versions[2].changed == ("snapshot_at", "images", "paragraphs")
    assert store.version(URL, -1).content_hash == hashes[2]
    assert store.version(URL, 1).snapshot.paragraphs == v1.paragraphs


def test_the_diff_names_exactly_the_changes(store: Store, three_versions: list[Snapshot]) -> None:
    for snapshot in three_versions:
        store.save(snapshot)

    first = store.diff(URL, 1, 2).diff
    assert [(f.field, f.old, f.new) for f in first.fields] == [
        ("title", "普京接过请柬", "普京接过华盛顿请柬"),
        ("snapshot_at", "2023-11-14T15:45:17+08:00", "2023-11-14T16:45:17+08:00"),
    ]
    assert _kinds(first) == [("delete", 1, None), ("change", 0, 0), ("insert", None, 3)]
    deleted, changed, inserted = first.paragraphs
    assert (deleted.old, inserted.new) == (DELETED, INSERTED)
    assert (changed.old, changed.new) == (EDITED, EDITED_2)
    edits = [e for e in changed.edits if e.op != "equal"]
    assert edits == [TextEdit("delete", "美方"), TextEdit("insert", "华盛顿")]

    second = store.diff(URL)  # the last two by default
    assert (second.old.number, second.new.number) == (2, 3)
    assert [f.field for f in second.diff.fields] == ["snapshot_at", "images"]
    images = second.diff.fields[1]
    assert images.old[1] == {"position": 2, "caption": "旧的说明"}
    assert images.new[1] == {"position": 2, "caption": "新的说明"}
    assert _kinds(second.diff) == [("move", 1, 4)]
    assert second.diff.paragraphs[0].new == MOVED
    assert second.diff.counts() == {"added": 0, "removed": 0, "changed": 0, "moved": 1}


def test_a_version_diffed_with_itself_is_empty(store: Store, three_versions) -> None:
    for snapshot in three_versions:
        store.save(snapshot)
    for n in (1, 2, 3):
        same = store.diff(URL, n, n)
        assert not same.diff
        assert same.diff.fields == () and same.diff.paragraphs == ()


@pytest.mark.parametrize(("old", "new"), [(4, None), (1, 4), (0, 2), (None, 9)])
def test_a_version_out_of_range_is_a_clear_error(store: Store, three_versions, old, new) -> None:
    for snapshot in three_versions:
        store.save(snapshot)
    with pytest.raises(NotFoundError, match=r"has 3 versions \(1–3\): there is no version"):
        store.diff(URL, old, new)


def test_a_key_with_one_version_has_its_own_seen_times(store: Store, make) -> None:
    store.save(make())
    (only,) = store.versions(URL)
    stored = store.get(URL).stored
    assert stored is not None
    assert (only.number, only.current, only.diff) == (1, True, None)
    assert (only.first_seen, only.last_seen) == (stored.first_seen, stored.last_seen)
    assert store.diff(URL).diff.paragraphs == ()
    with pytest.raises(NotFoundError, match="no snapshot"):
        store.versions("https://news.example.com/nothing.html")


def test_each_version_keeps_when_it_was_first_and_last_seen(store: Store, three_versions) -> None:
    v1, _, v3 = three_versions
    for snapshot in three_versions:
        store.save(snapshot)
        time.sleep(0.005)  # each save a later millisecond
    before = store.versions(URL)
    firsts = [v.first_seen for v in before]
    assert all(t is not None for t in firsts)
    assert firsts == sorted(firsts) and len(set(firsts)) == 3  # type: ignore[type-var]
    assert [v.first_seen for v in before] == [v.last_seen for v in before]

    assert store.save(v1) == "unchanged"  # an old content crawled again
    after = store.versions(URL)
    assert after[0].first_seen == before[0].first_seen
    assert after[0].last_seen is not None and after[0].last_seen > after[2].last_seen  # type: ignore[operator]
    assert [(v.first_seen, v.last_seen) for v in after[1:]] == [
        (v.first_seen, v.last_seen) for v in before[1:]
    ]
    time.sleep(0.005)
    store.save(v3)  # the current one again
    latest = store.versions(URL)
    assert latest[2].last_seen > after[0].last_seen  # type: ignore[operator]
    assert latest[2].first_seen == before[2].first_seen


def test_changed_lists_the_keys_that_got_a_new_version_in_a_window(
    store: Store, three_versions, make, later
) -> None:
    v1, v2, v3 = three_versions
    for snapshot in three_versions:
        store.save(snapshot)
    other = make(url="https://news.example.com/other.html", title="只有一个版本")
    store.save(other)
    assert v1.snapshot_at is not None and v3.snapshot_at is not None
    start = v1.snapshot_at
    day = store.changed(start, start + timedelta(days=1))
    assert [(c.key, c.versions, c.changed_at) for c in day] == [(URL, 3, v3.snapshot_at)]
    assert day[0].changed_at.utcoffset() == timedelta(hours=8)  # in the store's zone
    # The window of version 1 alone: the first version is not a change.
    assert store.changed(start, start + timedelta(minutes=1)) == []
    just_v2 = store.changed(start + timedelta(minutes=30), start + timedelta(minutes=90))
    assert [(c.key, c.changed_at) for c in just_v2] == [(URL, v2.snapshot_at)]
    assert store.changed(v3.snapshot_at + timedelta(seconds=1)) == []
    assert [c.key for c in store.changed()] == [URL]
