"""Dump, restore, copy and re-key on every store: nothing a store holds is lost on the way.

What a user relies on when moving a store: every URL spelling, seen count, first-seen time,
history version and takedown comes back; restoring onto a store that holds data merges by
its rules (a takedown wins over content, history is a union, the newer snapshot is current);
running a restore or copy again converges; the keys' settings travel with the store.
"""

from __future__ import annotations

import gzip
import io
import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from newsstore import KeySettingsError, Snapshot, TakenDownError, copy_store
from newsstore._store import Store
from newsstore._store.sqlite import SQLiteStore

URL = "https://news.example.com/world/1.html"
SPELLINGS = (URL, "http://www.news.example.com/world/1.html?utm_source=feed", URL + "#top")


def _dump(store: Store) -> list[str]:
    fp = io.StringIO()
    store.dump(fp)
    return fp.getvalue().splitlines()


def _body(lines: list[str]) -> tuple[dict[str, Any], list[str]]:
    """The header without its own timestamp, and the records."""
    header = json.loads(lines[0])
    del header["archived_at"]
    return header, lines[1:]


def _fill(store: Store, make: Callable[..., Snapshot], later: Callable[..., datetime]) -> None:
    """A key seen under three spellings with three contents, another key, two takedowns."""
    first = make(url=SPELLINGS[0])
    store.save(first)
    store.save(make(url=SPELLINGS[1], paragraphs=["新的"], snapshot_at=later(first, 2)))
    store.save(make(url=SPELLINGS[2], paragraphs=["旧的"], snapshot_at=later(first, -2)))
    store.save(make(url=SPELLINGS[0]))  # seen again
    store.save(make(url="https://news.example.com/world/2.html", title="二"))
    store.save(make(url="https://news.example.com/world/3.html", title="三"))
    store.delete("https://news.example.com/world/3.html", reason="court order")
    store.delete("https://news.example.com/world/4.html", reason="pre-emptive")


def test_dump_then_restore_rebuilds_the_store_exactly(
    store: Store, make: Callable[..., Snapshot], later: Callable[..., datetime], tmp_path: Path
) -> None:
    _fill(store, make, later)
    archive = tmp_path / "store.ndjson.gz"
    with gzip.open(archive, "wt", encoding="utf-8") as fp:
        assert store.dump(fp) == (2, 2, 2)
    with SQLiteStore(tmp_path / "copy.db") as restored:
        report = restored.restore(archive)
        assert (report.snapshots, report.history, report.tombstones) == (2, 2, 2)
        assert report.rejected == 0
        assert _body(_dump(restored)) == _body(_dump(store))
        got = restored.get(URL)
        assert got.stored is not None
        assert got.stored.urls == list(SPELLINGS)
        assert got.stored.seen_count == 3  # distinct records: the one seen again counts once
        original = store.get(URL).stored
        assert original is not None
        assert got.stored.first_seen == original.first_seen
        assert got.paragraphs == ["新的"]
        assert [h.paragraphs for h in restored.history(URL)] == [["第一段。", "第二段。"], ["旧的"]]
        with pytest.raises(TakenDownError, match="court order"):
            restored.get("https://news.example.com/world/3.html")
        # A taken-down URL still cannot be imported again.
        assert restored.save(make(url="https://news.example.com/world/4.html")) == "suppressed"


def test_restore_onto_a_store_with_data_merges_by_its_rules(
    store: Store, make: Callable[..., Snapshot], later: Callable[..., datetime], tmp_path: Path
) -> None:
    old = make(url=URL)
    store.save(old)
    store.save(make(url="https://news.example.com/world/9.html", title="九"))
    with SQLiteStore(tmp_path / "other.db") as other:
        other.save(
            make(
                url="http://www.news.example.com/world/1.html",
                paragraphs=["新"],
                snapshot_at=later(old, 1),
            )
        )
        other.save(make(url="https://news.example.com/world/9.html", title="九", paragraphs=["x"]))
        other.delete("https://news.example.com/world/9.html", reason="legal")
        archive = tmp_path / "other.ndjson"
        with archive.open("w", encoding="utf-8") as fp:
            other.dump(fp)
    store.restore(archive)
    merged = store.get(URL)
    assert merged.paragraphs == ["新"]  # the newer snapshot wins
    assert merged.stored is not None
    assert set(merged.stored.urls) == {URL, "http://www.news.example.com/world/1.html"}
    assert [h.paragraphs for h in store.history(URL)] == [["第一段。", "第二段。"]]
    with pytest.raises(TakenDownError):  # the takedown wins over the content here
        store.get("https://news.example.com/world/9.html")
    once = _body(_dump(store))
    report = store.restore(archive)
    assert report.rejected == 0
    assert _body(_dump(store)) == once  # restoring again changes nothing


def test_a_restore_killed_half_way_converges_when_run_again(
    store: Store, make: Callable[..., Snapshot], later: Callable[..., datetime], tmp_path: Path
) -> None:
    with SQLiteStore(tmp_path / "source.db") as source:
        _fill(source, make, later)
        lines = _dump(source)
    whole = tmp_path / "whole.ndjson"
    whole.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cut = tmp_path / "cut.ndjson"
    cut.write_text("\n".join(lines[:4]) + "\n", encoding="utf-8")
    store.restore(cut)
    store.restore(whole)
    assert _body(_dump(store))[1] == lines[1:]


def test_a_bad_archive_line_is_rejected_with_file_and_line_and_the_rest_lands(
    store: Store, make: Callable[..., Snapshot], tmp_path: Path
) -> None:
    with SQLiteStore(tmp_path / "source.db") as source:
        source.save(make(url=URL))
        source.save(make(url="https://news.example.com/world/2.html", title="二"))
        lines = _dump(source)
    record = json.loads(lines[1])
    record["snapshot"]["title"] = "改过"  # the content no longer has its hash
    lines[1] = json.dumps(record, ensure_ascii=False)
    archive = tmp_path / "bad.ndjson"
    archive.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = store.restore(archive)
    assert report.rejected == 1
    assert report.errors[0].startswith(f"{archive}:2: content hash")
    assert store.count() == 1


def test_restore_refuses_an_archive_keyed_with_another_list(
    make: Callable[..., Snapshot], tmp_path: Path
) -> None:
    with SQLiteStore(tmp_path / "a.db", tracking_params=["ref"]) as source:
        source.save(make(url=URL + "?ref=x"))
        archive = tmp_path / "a.ndjson"
        with archive.open("w", encoding="utf-8") as fp:
            source.dump(fp)
    with SQLiteStore(tmp_path / "b.db") as target, pytest.raises(KeySettingsError) as caught:
        target.restore(archive)
    assert "keys its snapshots with the tracking parameters ref, not with _hsenc," in str(
        caught.value
    )


def test_restore_of_a_url_says_to_lift_the_takedown(store: Store) -> None:
    with pytest.raises(Exception, match="lift-takedown"):
        store.restore(URL)


def test_the_tracking_list_is_saved_and_another_one_is_refused(
    make: Callable[..., Snapshot], tmp_path: Path
) -> None:
    path = tmp_path / "s.db"
    with SQLiteStore(path, tracking_params=["utm_*"]) as st:
        st.save(make(url=URL))
        assert st.meta.tracking_params == ("utm_*",)
    with pytest.raises(KeySettingsError) as caught:
        SQLiteStore(path, tracking_params=["utm_*", "ref"])
    assert "the tracking parameters utm_*, not with ref,utm_* as set now" in str(caught.value)
    with SQLiteStore(path, tracking_params=["utm_*"]) as st:
        assert st.count() == 1


def test_a_store_without_metadata_gets_it_from_its_first_writer(tmp_path: Path, make) -> None:
    path = tmp_path / "v4.db"
    with SQLiteStore(path) as st:
        st.save(make(url=URL))
    with closing(sqlite3.connect(path)) as conn:  # as a version 4 store was
        conn.execute("DROP TABLE meta")
        conn.execute("PRAGMA user_version = 4")
        conn.commit()
    with SQLiteStore(path, create=False) as reader:
        assert reader._archive_backend().read_meta() is None  # a reader writes nothing
    with SQLiteStore(path, tracking_params=["fbclid"]) as writer:
        assert writer._archive_backend().read_meta() == writer.meta
    with pytest.raises(KeySettingsError):
        SQLiteStore(path)


def test_rekey_merges_keys_that_now_coincide_and_applies_takedowns(
    store: Store, make: Callable[..., Snapshot], later: Callable[..., datetime], tmp_path: Path
) -> None:
    store.tracking_params = frozenset(["utm_*"])
    store._archive_backend().write_meta(store._archive_target().meta)
    first = make(url=URL + "?ref=a")
    store.save(first)
    store.save(make(url=URL + "?ref=b", paragraphs=["新"], snapshot_at=later(first, 1)))
    store.save(make(url="https://news.example.com/x.html?ref=c", title="x"))
    store.delete("https://news.example.com/x.html?ref=d", reason="legal")
    assert store.count() == 3
    store.tracking_params = frozenset(["utm_*", "ref"])
    report = store.rekey()
    assert report.rejected == 0
    assert store.count() == 1
    merged = store.get(URL)
    assert merged.paragraphs == ["新"]
    assert merged.stored is not None
    assert set(merged.stored.urls) == {URL + "?ref=a", URL + "?ref=b"}
    assert [h.paragraphs for h in store.history(URL)] == [["第一段。", "第二段。"]]
    with pytest.raises(TakenDownError):
        store.get("https://news.example.com/x.html")
    assert store.meta.tracking_params == ("ref", "utm_*")
    once = _body(_dump(store))
    store.rekey()  # nothing left to move
    assert _body(_dump(store)) == once


def test_copy_moves_everything_and_checks_the_counts(
    store: Store, make: Callable[..., Snapshot], later: Callable[..., datetime], tmp_path: Path
) -> None:
    with SQLiteStore(tmp_path / "source.db") as source:
        _fill(source, make, later)
        report = copy_store(source, store)
        assert report.equal
        assert report.source == report.target == (2, 2, 2)
        assert _body(_dump(store)) == _body(_dump(source))
        again = copy_store(source, store)
        assert again.equal
        with SQLiteStore(tmp_path / "back.db") as back:
            assert copy_store(store, back).equal
            assert _body(_dump(back)) == _body(_dump(source))
        store.save(make(url="https://news.example.com/extra.html"))
        onto = copy_store(source, store)  # a target with data of its own lacks nothing
        assert onto.equal and onto.target == (3, 2, 2)
        # A row the source holds damaged is rejected, and the check names what is missing.
        with closing(sqlite3.connect(tmp_path / "source.db")) as db, db:
            db.execute(
                "UPDATE snapshots SET content = replace(content, '二', '贰') WHERE key LIKE '%/2.html'"
            )
        with SQLiteStore(tmp_path / "fresh.db") as fresh:
            partial = copy_store(source, fresh)
            assert partial.written.rejected == 1
            assert partial.differences == [
                f"snapshots: 1 of {source} not in {fresh}"
                " (the first: https://news.example.com/world/2.html)"
            ]


def _seen(store: Store) -> list[tuple[str, Any, Any]]:
    return [(v.content_hash, v.first_seen, v.last_seen) for v in store.versions(URL)]


def test_a_move_keeps_each_versions_seen_times_and_the_records_counted(
    store: Store, make: Callable[..., Snapshot], later: Callable[..., datetime], tmp_path: Path
) -> None:
    with SQLiteStore(tmp_path / "source.db") as source:
        _fill(source, make, later)
        seen = _seen(source)
        assert len(seen) == 3 and all(first and last for _, first, last in seen)
        assert copy_store(source, store).equal
        assert _seen(store) == seen
        archive = tmp_path / "moved.ndjson"
        with archive.open("w", encoding="utf-8") as fp:
            store.dump(fp)
        with SQLiteStore(tmp_path / "back.db") as back:
            back.restore(archive)
            assert _seen(back) == seen
            assert _body(_dump(back)) == _body(_dump(store)) == _body(_dump(source))
            # The records counted moved with the key: one counted before is not again.
            again = make(url=SPELLINGS[1], paragraphs=["新的"], snapshot_at=later(make(), 2))
            for moved in (store, back):
                assert moved.save(again) == "unchanged"
                got = moved.get(URL).stored
                assert got is not None and got.seen_count == 3


def test_an_archive_from_before_the_seen_times_still_restores(
    make: Callable[..., Snapshot], later: Callable[..., datetime], tmp_path: Path
) -> None:
    with SQLiteStore(tmp_path / "source.db") as source:
        _fill(source, make, later)
        lines = _dump(source)
    old = [lines[0]]
    for text in lines[1:]:  # the stored fields an archive of format 1 had at first
        data = json.loads(text)
        for name in ("records", "version_first_seen", "version_last_seen"):
            data.get("stored", {}).pop(name, None)
        if "history" in data:
            data["stored"].pop("first_seen")
            data["stored"].pop("last_seen")
        old.append(json.dumps(data, ensure_ascii=False))
    archive = tmp_path / "old.ndjson"
    archive.write_text("\n".join(old) + "\n", encoding="utf-8")
    with SQLiteStore(tmp_path / "restored.db") as restored:
        report = restored.restore(archive)
        assert (report.snapshots, report.history, report.rejected) == (2, 2, 0)
        assert [(first, last) for _, first, last in _seen(restored)] == [(None, None)] * 3
        got = restored.get(URL).stored
        assert got is not None and got.seen_count == 3
