"""``stats`` counts the snapshots that have a near-duplicate, kept up to date as stores change."""

from __future__ import annotations

from datetime import datetime

import pytest

from newsstore import InvalidQueryError, copy_store
from newsstore._store.sqlite import SQLiteStore

from ..conftest import BEIJING
from ..stories import republished, story_a, story_b, story_url, syndicated_snapshots

DAY = datetime(2023, 11, 14, tzinfo=BEIJING)


def _answered(store) -> int:
    """The same count asked the slow way: one ``similar`` per stored snapshot."""
    return sum(1 for snapshot in store.find() if store.similar(snapshot.url or ""))


def test_stats_count_the_snapshots_with_a_copy(store, make, later) -> None:
    store.save_many(syndicated_snapshots(make, DAY))
    # a0, a1, a2 are one story; b0 is alone and the short page has no fingerprint.
    assert store.stats().near_duplicates == store.near_duplicates() == 3 == _answered(store)
    store.save(make(url=story_url("b1"), paragraphs=republished(story_b(), 1)))
    assert store.stats().near_duplicates == 5
    # a2 now carries story B: story A keeps a0 and a1, story B has three.
    a2 = store.get(story_url("a2"))
    store.save(
        make(url=story_url("a2"), paragraphs=republished(story_b(), 4), snapshot_at=later(a2, 5))
    )
    assert store.near_duplicates() == 5 == _answered(store)
    # An older version goes to history: nothing moves.
    store.save(make(url=story_url("a2"), paragraphs=story_a(), snapshot_at=later(a2, 1)))
    assert store.near_duplicates() == 5
    store.delete(story_url("a1"), reason="test")
    assert store.near_duplicates() == 3 == _answered(store)  # a0 has no copy left
    store.delete(story_url("b0"), reason="test")
    assert store.near_duplicates() == 2 == _answered(store)


# Every band of four snapshots or more has its first four as heads (SQLite).
_FIRST_FOUR = (
    "SELECT band, snapshot_id FROM (SELECT band, snapshot_id,"
    " row_number() OVER (PARTITION BY band ORDER BY snapshot_id) AS r,"
    " count(*) OVER (PARTITION BY band) AS n FROM bands) WHERE r <= 4 AND n >= 4 ORDER BY 1, 2"
)


def _heads_in_step(store) -> None:
    if isinstance(store, SQLiteStore):
        db = store._db  # type: ignore[attr-defined]
        first = db.execute(_FIRST_FOUR).fetchall()
        heads = db.execute("SELECT band, snapshot_id FROM band_heads ORDER BY 1, 2").fetchall()
        assert set(first) <= set(heads)
        # A band left with fewer than four keeps those: they are all it has.
        crowded = {band for band, _ in first}
        assert [h for h in heads if h[0] in crowded] == first


def test_the_count_follows_the_threshold(store, make, monkeypatch) -> None:
    store.save_many(syndicated_snapshots(make, DAY))
    nearest = min(h.distance for h in store.similar(story_url("a0")))
    assert store.near_duplicates(max_distance=nearest) >= 2
    assert store.near_duplicates(max_distance=nearest - 1) < 3
    assert store.near_duplicates(max_distance=0) == 0
    with pytest.raises(InvalidQueryError, match="up to a distance of 40"):
        store.near_duplicates(max_distance=41)
    monkeypatch.setenv("NEWSSTORE_SIMILAR_DISTANCE", "0")
    assert store.stats().near_duplicates == 0
    # Beyond what the kept pairs can count, stats says it does not know.
    monkeypatch.setenv("NEWSSTORE_SIMILAR_DISTANCE", "50")
    assert store.stats().near_duplicates is None


def test_a_copied_or_restored_store_counts_the_same(store, make, tmp_path) -> None:
    store.save_many(syndicated_snapshots(make, DAY))
    with SQLiteStore(tmp_path / "copy.db") as copied:
        copy_store(store, copied)
        assert copied.near_duplicates() == 3
    archive = tmp_path / "dump.ndjson"
    with archive.open("w", encoding="utf-8") as fp:
        store.dump(fp)
    store.delete(story_url("a0"), reason="test")
    store.restore(archive)  # the takedown wins: a1 and a2 remain
    assert store.near_duplicates() == 2 == _answered(store)


def test_a_mongodb_store_paired_before_gets_its_pairs_from_backfill(mongodb, make, capsys) -> None:
    from cli.output import stats as show_stats
    from newsstore._store.mongo import MongoStore

    with MongoStore(mongodb) as store:
        store.save_many(syndicated_snapshots(make, DAY))
        # As a store of index version 3 has it: no pairs, no marker.
        mongodb.copies.drop()
        mongodb.meta.delete_one({"_id": "copies"})
        mongodb.meta.update_one({"_id": "indexes"}, {"$set": {"version": 3}})
    with MongoStore(mongodb) as store:
        assert store.stats().near_duplicates is None  # not known yet
        show_stats(store.stats(), as_json=False)
        assert "near-duplicates: not counted yet (`newsstore backfill`" in capsys.readouterr().out
        # An interrupted run that recorded the first key as done.
        first = min(doc["_id"] for doc in mongodb.snapshots.find({}, {"_id": 1}))
        mongodb.meta.replace_one({"_id": "copies"}, {"after": first}, upsert=True)
        seen: list[tuple[int, int]] = []
        assert store.backfill(progress=lambda done, total: seen.append((done, total))) == 0
        assert seen[-1] == (4, 5)  # the four keys after the first
        assert store.stats().near_duplicates == 3
        assert store.backfill() == 0
        assert store.near_duplicates() == 3


@pytest.mark.parametrize(
    "together", [False, True, "sliced"], ids=["one-by-one", "in-one-batch", "in-slices"]
)
def test_a_story_printed_many_times_stays_counted_as_copies_go(
    store, make, together, monkeypatch
) -> None:
    from newsstore._copies import KEPT
    from newsstore._store.sqlite import copies as sqlite_copies

    if together == "sliced":  # a commit of more fingerprints than SQLite pairs at once
        monkeypatch.setattr(sqlite_copies, "SLICE", 3)

    urls = [story_url(f"s{i}") for i in range(10)]
    copies = [
        make(url=url, paragraphs=republished(story_a(), i) if i else story_a())
        for i, url in enumerate(urls)
    ]
    if together:  # the ten share every band: the commit gives those bands their heads first
        store.save_many(copies)
    else:  # one at a time: each compares with those before it
        for snapshot in copies:
            store.save(snapshot)
    assert store.near_duplicates() == 10 == _answered(store)
    if isinstance(store, SQLiteStore):  # each keeps its nearest few, not every pair
        rows = store._db.execute("SELECT count(*) FROM copies").fetchone()[0]  # type: ignore[attr-defined]
        assert rows <= 2 * KEPT * 10
        # The bands they share have their first four as heads: a fifth reads four rows.
        heads = store._db.execute(  # type: ignore[attr-defined]
            "SELECT count(DISTINCT band), count(*) FROM band_heads"
        ).fetchone()
        assert heads[0] > 0 and heads[1] == 4 * heads[0]
    _heads_in_step(store)
    for n, url in enumerate(urls[:8], start=1):
        store.delete(url, reason="test")
        _heads_in_step(store)
        # Those whose partners went are compared again: the rest are still copies.
        assert store.near_duplicates() == 10 - n == _answered(store)
    store.delete(urls[8], reason="test")
    assert store.near_duplicates() == 0


class _CountingReads:
    """A SQLite connection that counts the rows the pairing's read of band members gives."""

    def __init__(self, db, sql: str) -> None:
        self._db, self._sql, self.rows = db, sql, 0

    def execute(self, sql, *args):
        cursor = self._db.execute(sql, *args)
        if sql != self._sql:
            return cursor
        rows = cursor.fetchall()
        self.rows += len(rows)
        return iter(rows)

    def __getattr__(self, name):
        return getattr(self._db, name)


def test_a_commit_of_many_copies_reads_a_few_rows_a_band_in_each_slice(
    make, tmp_path, monkeypatch
) -> None:
    from newsstore._copies import PER_BAND
    from newsstore._store.sqlite import copies as sqlite_copies

    monkeypatch.setattr(sqlite_copies, "SLICE", 3)  # ten fingerprints: four slices
    copies = [
        make(url=story_url(f"s{i}"), paragraphs=republished(story_a(), i) if i else story_a())
        for i in range(10)
    ]
    with SQLiteStore(tmp_path / "store.db") as store:
        counting = _CountingReads(store._db, sqlite_copies._SHARING)  # type: ignore[attr-defined]
        store._db = counting  # type: ignore[attr-defined,assignment]
        store.save_many(copies)
        assert store.near_duplicates() == 10
        members: dict[int, set[int]] = {}
        for band, snapshot_id in counting.execute("SELECT band, snapshot_id FROM bands"):
            members.setdefault(snapshot_id, set()).add(band)
    # Each slice (three fingerprints, in the order saved) reads at most PER_BAND rows of each
    # of its bands, the heads, never a band joined with itself: the ten copies' shared bands
    # would give 10 x 9 rows each.
    ids = sorted(members)
    slices = [set().union(*(members[i] for i in ids[at : at + 3])) for at in range(0, 10, 3)]
    assert 0 < counting.rows <= PER_BAND * sum(map(len, slices))


def test_a_body_of_few_shingles_is_stored_and_paired_with_nothing(store, make) -> None:
    from newsstore._minhash import bands, signature

    body = ["新华社北京电" * 10]  # six shingles: most slots empty, no band whole
    sig = signature(body)
    assert sig is not None and bands(sig) == []
    store.save_many([make(url=story_url("x0"), paragraphs=body), *syndicated_snapshots(make, DAY)])
    store.save(make(url=story_url("x1"), paragraphs=body))
    assert store.get(story_url("x1")) is not None
    # The two alike short bodies share no band: similar does not find them, nor does stats.
    assert store.near_duplicates() == 3 == _answered(store)


def test_a_store_moved_to_mongodb_counts_the_same(make, tmp_path, mongodb) -> None:
    from newsstore._store.mongo import MongoStore

    with SQLiteStore(tmp_path / "local.db") as local, MongoStore(mongodb) as remote:
        local.save_many(syndicated_snapshots(make, DAY))
        local.save(make(url=story_url("b1"), paragraphs=republished(story_b(), 1)))
        copy_store(local, remote)
        assert remote.stats().near_duplicates == local.stats().near_duplicates == 5


def test_a_copy_whose_every_band_has_its_heads_already_is_counted(store, make) -> None:
    # Four identical pages give every band its four heads; a fifth is in none of them and
    # is compared with them.
    for i in range(6):
        store.save(make(url=story_url(f"same{i}"), paragraphs=story_a()))
    assert store.near_duplicates() == 6 == _answered(store)


def test_takedowns_in_one_transaction_leave_no_pair_behind(store, make) -> None:
    copies = [story_url(f"t{i}") for i in range(4)]
    store.save_many(
        make(url=url, paragraphs=republished(story_a(), i) if i else story_a())
        for i, url in enumerate(copies)
    )
    with store._write_group():  # one SQLite transaction
        store.delete(copies[1], reason="test")  # its partners are to be paired again
        store.delete(copies[0], reason="test")  # and one of them goes too
    assert store.near_duplicates() == 2 == _answered(store)
