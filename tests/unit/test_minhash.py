"""The body fingerprint: what counts, what does not, and its edge cases."""

from __future__ import annotations

from newsstore._minhash import BANDS, SIGNATURE_BYTES, bands, distance, signature

from ..stories import republished, story_a, story_b


def test_only_the_letters_and_digits_of_the_long_paragraphs_count() -> None:
    body = story_a()
    sig = signature(body)
    assert sig is not None and len(sig) == SIGNATURE_BYTES
    # Full- or half-width punctuation, spacing and case change nothing.
    switched = [p.replace(",", "，").replace("。", ". ") for p in body]
    assert signature(switched) == sig
    # Nor do the short lines each site adds.
    assert signature(["来源：新华社", *body, "责任编辑：王伟", "（完）"]) == sig
    assert distance(sig, signature(story_b()) or b"") > 32


def test_a_copy_is_near_and_shares_a_band() -> None:
    a, copy = signature(story_a()), signature(republished(story_a(), 2))
    assert a is not None and copy is not None
    assert 0 < distance(a, copy) <= 32
    assert set(bands(a)) & set(bands(copy))
    assert len(bands(a)) == BANDS


def test_short_and_degenerate_bodies() -> None:
    assert signature([]) is None
    assert signature(["短讯。"]) is None
    assert signature(["，。！" * 50]) is None  # no letters at all
    # One character repeated: one shingle, most slots empty, and no band of empty slots.
    same = signature(["啊" * 3000])
    assert same is not None and bands(same) == []
    # Characters beyond the BMP are letters too.
    rare = "𠀀𠀁𠀂𠀃" * 20
    assert signature([rare]) is not None
