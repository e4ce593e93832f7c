"""diff_snapshots and apply_diff: what they report, and that a diff applied gives the target."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsstore import (
    DiffConflictError,
    Snapshot,
    TextEdit,
    apply_diff,
    diff_snapshots,
    diff_text,
)
from newsstore._schemas import with_zone
from newsstore._times import UTC

from ..reliability.test_properties import snapshots

CONTENT = {"url", "stored"}


def _content(snapshot: Snapshot) -> dict[str, Any]:
    # In UTC: Python never finds a time in a zone's gap or fold equal to one in another zone.
    return with_zone(snapshot, UTC).model_dump(exclude=CONTENT)


# Paragraphs from a small alphabet, so that generated versions share, repeat, move and
# edit paragraphs (independent random text would only ever insert and delete).
paragraph = st.text(st.sampled_from("甲乙丙丁戊ab 。"), max_size=8)


@st.composite
def edited(draw: st.DrawFn, paragraphs: list[str]) -> list[str]:
    """``paragraphs`` after random deletes, inserts, character edits and moves."""
    out = list(paragraphs)
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["delete", "insert", "edit", "move"]))
        if kind == "insert" or not out:
            out.insert(draw(st.integers(0, len(out))), draw(paragraph))
            continue
        i = draw(st.integers(0, len(out) - 1))
        if kind == "delete":
            del out[i]
        elif kind == "edit":
            j = draw(st.integers(0, len(out[i])))
            out[i] = out[i][:j] + draw(paragraph) + out[i][j + 1 :]
        else:
            out.insert(draw(st.integers(0, len(out) - 1)), out.pop(i))
    return out


@st.composite
def pairs(draw: st.DrawFn) -> tuple[Snapshot, Snapshot]:
    a: dict[str, Any] = draw(snapshots())
    a["paragraphs"] = draw(st.lists(paragraph, max_size=8))
    if draw(st.booleans()):
        b: dict[str, Any] = draw(snapshots())  # an unrelated snapshot
        b["paragraphs"] = draw(st.lists(paragraph, max_size=8))
    else:
        b = dict(a, paragraphs=draw(edited(a["paragraphs"])))
        for name, value in draw(snapshots()).items():  # some fields changed
            if name not in ("paragraphs", "url") and draw(st.booleans()):
                b[name] = value
    return Snapshot.model_validate(a), Snapshot.model_validate(b)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs())
def test_applying_the_diff_of_a_and_b_to_a_gives_b(pair: tuple[Snapshot, Snapshot]) -> None:
    a, b = pair
    diff = diff_snapshots(a, b)
    assert _content(apply_diff(a, diff)) == _content(b)
    assert not diff_snapshots(a, a)
    assert bool(diff) == (_content(a) != _content(b))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30), st.text(max_size=30))
def test_a_character_diff_spells_both_texts(old: str, new: str) -> None:
    edits = diff_text(old, new)
    assert "".join(e.text for e in edits if e.op != "insert") == old
    assert "".join(e.text for e in edits if e.op != "delete") == new


def test_a_chinese_edit_of_a_few_characters_is_those_characters() -> None:
    edits = diff_text("普京下令接过美方递来的请帖", "普京下令接过华盛顿递来的请帖")
    assert edits == (
        TextEdit("equal", "普京下令接过"),
        TextEdit("delete", "美方"),
        TextEdit("insert", "华盛顿"),
        TextEdit("equal", "递来的请帖"),
    )


def test_a_paragraph_moved_is_a_move_not_a_delete_and_an_insert() -> None:
    a = Snapshot(title="t", paragraphs=["一", "二", "三", "四"])
    b = Snapshot(title="t", paragraphs=["二", "三", "四", "一"])
    diff = diff_snapshots(a, b)
    assert [(p.kind, p.old_index, p.new_index, p.new) for p in diff.paragraphs] == [
        ("move", 0, 3, "一")
    ]
    assert diff.changed_fields == ("paragraphs",)


def test_times_in_another_zone_are_not_a_change(make) -> None:
    a = make()
    b = Snapshot.model_validate(a.model_dump(mode="json") | {"published_at": "2023-11-14T03:19Z"})
    assert not diff_snapshots(a, b)


def test_a_diff_applied_to_another_snapshot_is_refused() -> None:
    a = Snapshot(title="t", paragraphs=["一", "二"])
    b = Snapshot(title="t", paragraphs=["一", "三"])
    diff = diff_snapshots(a, b)
    with pytest.raises(DiffConflictError):
        apply_diff(Snapshot(title="t", paragraphs=["一", "四"]), diff)
    with pytest.raises(DiffConflictError):
        apply_diff(Snapshot(title="t", paragraphs=["一"]), diff)


def test_the_json_form_holds_every_change() -> None:
    a = Snapshot(title="旧", paragraphs=["甲乙", "丙"])
    b = Snapshot(title="新", paragraphs=["甲丁", "丙", "戊"])
    data = diff_snapshots(a, b).to_json()
    assert data["fields"] == [{"field": "title", "old": "旧", "new": "新"}]
    assert [(p["kind"], p["old_index"], p["new_index"]) for p in data["paragraphs"]] == [
        ("change", 0, 0),
        ("insert", None, 2),
    ]
    assert data["counts"] == {"added": 1, "removed": 0, "changed": 1, "moved": 0}


def test_a_time_in_a_zone_gap_is_the_same_instant_in_another_zone() -> None:
    # 02:00 on 2000-03-26 does not exist in Kaliningrad (clocks went to 03:00); Python's ==
    # never finds such a time equal to another zone's, at any instant.
    from datetime import datetime
    from zoneinfo import ZoneInfo

    gap = datetime(2000, 3, 26, 2, 0, tzinfo=ZoneInfo("Europe/Kaliningrad"))
    a = Snapshot(title="t", snapshot_at=gap)
    b = Snapshot(title="t", snapshot_at=gap.astimezone(UTC))
    assert not diff_snapshots(a, b)
    assert _content(
        apply_diff(Snapshot(title="t"), diff_snapshots(Snapshot(title="t"), a))
    ) == _content(a)
