"""Near-duplicates on every store: other copies of a story are found, unrelated stories are
not, the threshold holds, fingerprints follow content changes and takedowns, clusters."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from newsstore import InvalidQueryError, NotFoundError
from newsstore._minhash import SLOTS

from ..conftest import BEIJING
from ..stories import republished, story_a, story_b, story_url, syndicated_snapshots

DAY = datetime(2023, 11, 14, tzinfo=BEIJING)


_url = story_url


@pytest.fixture
def syndicated(store, make):
    """Story A from its first publisher and two other sites; story B alone; a short page."""
    store.save_many(syndicated_snapshots(make, DAY))
    return store


def test_other_copies_are_found_and_unrelated_stories_are_not(syndicated) -> None:
    hits = syndicated.similar(_url("a0"))
    assert sorted(h.url for h in hits) == [_url("a1"), _url("a2")]
    assert all(0 < h.distance <= 32 for h in hits)
    assert hits == sorted(hits, key=lambda h: h.distance)
    by_url = {h.url: h for h in hits}
    assert by_url[_url("a1")].source == "人民网"
    assert by_url[_url("a1")].published_at == DAY + timedelta(hours=11)
    assert by_url[_url("a1")].published_at.utcoffset() == timedelta(hours=8)  # store's zone
    assert syndicated.similar(_url("b0")) == []
    # Any spelling of the URL, and the key itself.
    assert syndicated.similar("http://www.a0.example.com/news/1.html?utm_source=x") == hits


def test_the_distance_threshold_is_respected(syndicated) -> None:
    (nearest, *_) = syndicated.similar(_url("a0"))
    at = syndicated.similar(_url("a0"), max_distance=nearest.distance)
    assert nearest.url in {h.url for h in at}
    below = syndicated.similar(_url("a0"), max_distance=nearest.distance - 1)
    assert nearest.url not in {h.url for h in below}
    assert all(h.distance < nearest.distance for h in below)
    # Everything is within 64 slots, unrelated and short pages included.
    everything = {h.url for h in syndicated.similar(_url("a0"), max_distance=SLOTS)}
    assert _url("a1") in everything and _url("a2") in everything


def test_a_snapshot_not_stored_finds_the_stored_copies(syndicated, make) -> None:
    probe = make(url=_url("new"), paragraphs=republished(story_b(), 3))
    assert [h.url for h in syndicated.similar(probe)] == [_url("b0")]
    stored = syndicated.get(_url("a1"))
    # A stored snapshot leaves itself out.
    assert sorted(h.url for h in syndicated.similar(stored)) == [_url("a0"), _url("a2")]


def test_a_short_body_has_no_copies_and_an_unknown_url_is_not_found(syndicated) -> None:
    assert syndicated.similar(_url("short")) == []
    with pytest.raises(NotFoundError, match="nowhere"):
        syndicated.similar("https://nowhere.example.com/x.html")
    with pytest.raises(InvalidQueryError):
        syndicated.similar(_url("a0"), max_distance=65)
    with pytest.raises(InvalidQueryError):
        syndicated.similar(_url("a0"), max_distance=-1)


def test_a_new_version_replaces_the_fingerprint(syndicated, make, later) -> None:
    old = syndicated.get(_url("a2"))
    # a2 now carries story B: it leaves story A and joins B.
    assert (
        syndicated.save(
            make(url=_url("a2"), paragraphs=republished(story_b(), 4), snapshot_at=later(old, 5))
        )
        == "updated"
    )
    assert [h.url for h in syndicated.similar(_url("a0"))] == [_url("a1")]
    assert [h.url for h in syndicated.similar(_url("b0"))] == [_url("a2")]
    # A version older than the current one goes to history and moves nothing.
    assert (
        syndicated.save(make(url=_url("a2"), paragraphs=story_a(), snapshot_at=later(old, 1)))
        == "versioned"
    )
    assert [h.url for h in syndicated.similar(_url("b0"))] == [_url("a2")]


def test_a_takedown_removes_the_fingerprint(syndicated) -> None:
    syndicated.delete(_url("a1"), reason="test")
    assert [h.url for h in syndicated.similar(_url("a0"))] == [_url("a2")]


def test_clusters_group_a_window_largest_first(syndicated, make) -> None:
    when = DAY + timedelta(hours=20)
    syndicated.save(
        make(
            url=_url("b1"), paragraphs=republished(story_b(), 1), source="央视网", published_at=when
        )
    )
    found = syndicated.clusters(DAY, DAY + timedelta(days=1))
    assert [c.size for c in found] == [3, 2]
    a, b = found
    # Earliest publication first: who published first.
    assert [m.url for m in a.members] == [_url("a0"), _url("a2"), _url("a1")]
    assert a.first.url == _url("a0") and a.first.distance == 0
    assert a.sources == ("新华社", "环球网", "人民网")
    assert [m.url for m in b.members] == [_url("b0"), _url("b1")]
    assert b.sources == ("新华社", "央视网")
    # The window holds what was published in it.
    assert [c.size for c in syndicated.clusters(DAY, DAY + timedelta(hours=10))] == []
    assert [c.size for c in syndicated.clusters(DAY, DAY + timedelta(hours=11))] == [2]
    # A threshold no copy meets: no story.
    assert syndicated.clusters(DAY, DAY + timedelta(days=1), max_distance=0) == []


def test_backfill_fingerprints_what_has_none(syndicated) -> None:
    # Nothing is missing: every snapshot was fingerprinted as it was saved.
    assert syndicated.backfill() == 0


def test_mongodb_backfill_fingerprints_old_documents_and_resumes(mongodb, make) -> None:
    from newsstore._store.mongo import MongoStore

    with MongoStore(mongodb) as store:
        store.save_many(
            [make(url=_url(f"a{i}"), paragraphs=republished(story_a(), i)) for i in range(3)]
        )
        # Documents written before fingerprints existed have neither field.
        mongodb.snapshots.update_many({}, {"$unset": {"minhash": "", "bands": ""}})
        assert store.similar(_url("a0")) == []  # nothing indexed to find
        # An interrupted backfill: one document done by an earlier run.
        mongodb.snapshots.update_one(
            {"_id": store.key_for(_url("a1"))}, {"$set": {"minhash": None, "bands": []}}
        )
        seen: list[tuple[int, int]] = []
        assert store.backfill(progress=lambda done, total: seen.append((done, total))) == 2
        assert seen[-1] == (2, 2)
        assert [h.url for h in store.similar(_url("a0"))] == [_url("a2")]
        assert store.backfill() == 0
        # History entries carry no fingerprint.
        later = make(url=_url("a0"), paragraphs=story_b(), snapshot_at=datetime(2024, 1, 1))
        assert store.save(later) == "updated"
        assert all("minhash" not in doc for doc in mongodb.history.find())
