"""The C fingerprint gives the numpy path's signatures, bands and distances byte for byte.

Stored fingerprints were computed by the numpy code: any difference would make copies of a
story look unrelated. These tests compare the two paths on generated text and on every BMP
code point among neighbours that could compose with it.
"""

from __future__ import annotations

import array
import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsstore import _copies, _minhash
from newsstore._minhash_table import UNSAFE, table

from ..stories import sample_paragraphs

needs_c = pytest.mark.skipif(
    _minhash._fast is None,
    reason="newsstore._fingerprint is not built (no C compiler at install): numpy path only",
)

_ENTRIES = array.array("H")
_ENTRIES.frombytes(table())
# Whole-string treatment: what the numpy path takes the shingles over.
_LETTER_OR_DIGIT = [unicodedata.category(chr(i))[0] in "LN" for i in range(0x10000)]


def _whole(text: str) -> str:
    normal = unicodedata.normalize("NFKC", text).lower()
    return "".join(c for c in normal if ord(c) > 0xFFFF or _LETTER_OR_DIGIT[ord(c)])


def _per_code_point(text: str) -> str:
    return "".join(chr(_ENTRIES[ord(c)]) for c in text if _ENTRIES[ord(c)])


def _c(joined: str) -> bytes | None:
    assert _minhash._fast is not None
    return _minhash._fast.signature(joined, table())


def _safe(text: str) -> bool:
    return all(ord(c) <= 0xFFFF and _ENTRIES[ord(c)] != UNSAFE for c in text)


_SAFE = [chr(i) for i in range(0x10000) if _ENTRIES[i] != UNSAFE]
_UNSAFE = [chr(i) for i in range(0x10000) if _ENTRIES[i] == UNSAFE]
# Neighbours that compose with what follows them or are changed by normalisation:
# a Latin base letter, a Hangul LV syllable, kana (full and half width), a full-width
# letter, a ligature-free Greek capital, a digit.
_LEFTS = ["A", "e", "가", "か", "ｶ", "Ａ", "Ω", "7", "中"]


def test_canonical_pairs_compose_only_with_marks() -> None:
    # The table's argument: whatever composes with a preceding character is a mark (the
    # Hangul jamo aside, which are unsafe). Should Unicode add another, this fails.
    for i in range(0x110000):
        parts = unicodedata.decomposition(chr(i)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            second = chr(int(parts[1], 16))
            assert unicodedata.category(second)[0] == "M" or unicodedata.combining(second)


def test_every_bmp_code_point_among_neighbours_normalises_as_in_the_whole_string() -> None:
    assert len(_SAFE) > 55_000  # the common scripts are all on the fast path
    orders = [
        "".join(_SAFE),
        "".join(reversed(_SAFE)),
        *("".join(left + c for c in _SAFE) for left in _LEFTS),
        *("".join(c + left for c in _SAFE) for left in _LEFTS),
    ]
    for text in orders:
        got, want = _per_code_point(text), _whole(text)
        if got != want:  # name the first place they part
            at = next(i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b)
            pytest.fail(f"differs at {at}: {got[at - 5 : at + 5]!r} vs {want[at - 5 : at + 5]!r}")


@needs_c
def test_every_bmp_code_point_gives_the_numpy_signature() -> None:
    base = "新华社北京十一月十四日电记者从外交部获悉"  # 20 letters: with a chunk, over 30
    for left in ("", "A", "가"):
        text = "".join(left + c for c in _SAFE)
        for start in range(0, len(text), 40):
            joined = base + text[start : start + 40]
            got = _c(joined)
            assert got is not None
            assert (got or None) == _minhash._numpy_signature(joined), repr(joined)
    for c in _UNSAFE:  # each hands the body back to the numpy path
        for joined in (base + c + base, c + base, base + "A" + c):
            assert _c(joined) is None, hex(ord(c))
            if 0xD800 <= ord(c) <= 0xDFFF:  # a lone surrogate: an error, as before
                with pytest.raises(UnicodeEncodeError):
                    _minhash.signature([joined])
            else:
                assert _minhash.signature([joined]) == _minhash._numpy_signature(joined)


_ALPHABET = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # CJK
    st.characters(min_codepoint=0x20, max_codepoint=0x24F),  # ASCII, Latin-1, Latin
    st.characters(min_codepoint=0xFF01, max_codepoint=0xFFEE),  # full- and half-width forms
    st.characters(min_codepoint=0x3000, max_codepoint=0x30FF),  # CJK punctuation, kana
    st.characters(min_codepoint=0x2000, max_codepoint=0x33FF),  # punctuation, symbols, ㎏
    st.characters(min_codepoint=0x370, max_codepoint=0x3FF),  # Greek, Σ
    st.characters(min_codepoint=0x1100, max_codepoint=0x11FF),  # conjoining jamo
    st.characters(min_codepoint=0x3130, max_codepoint=0x318F),  # compatibility jamo
    st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3),  # Hangul syllables
    st.characters(min_codepoint=0x300, max_codepoint=0x36F),  # combining marks
    st.characters(min_codepoint=0xFB00, max_codepoint=0xFB06),  # ligatures
    st.characters(min_codepoint=0x10000, max_codepoint=0x2FFFF),  # beyond the BMP
    st.sampled_from("，。！？：；“”（）…—、《》　 \n\t0123456789"),
)
_MOSTLY_SAFE = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3),
    st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.characters(min_codepoint=0x3B1, max_codepoint=0x3C9),
    st.sampled_from("，。！？：；“”（）…—、《》"),
)


@needs_c
@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(_ALPHABET, max_size=300), max_size=6))
def test_mixed_text_gives_the_numpy_signature(paragraphs: list[str]) -> None:
    joined = _minhash._joined(paragraphs)
    want = _minhash._numpy_signature(joined)
    got = _c(joined)
    if got is None:
        assert not _safe(joined)
    else:
        assert _safe(joined) and (got or None) == want
    assert _minhash.signature(paragraphs) == want


@needs_c
@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(_MOSTLY_SAFE, min_size=20, max_size=2000), min_size=1, max_size=4))
def test_long_bodies_give_the_numpy_signature(paragraphs: list[str]) -> None:
    # Long enough for the numpy prefilter (over 1,024 shingles) and its retry.
    joined = _minhash._joined(paragraphs)
    got = _c(joined)
    assert got is not None
    assert (got or None) == _minhash._numpy_signature(joined)


@needs_c
@given(st.binary(min_size=128, max_size=128), st.binary(min_size=128, max_size=128))
def test_bands_and_distance_match_the_python_code(a: bytes, b: bytes) -> None:
    # Empty slots (0) often, so bands are left out as in short bodies.
    a = bytes(x if x % 3 else 0 for x in a)
    assert _minhash.bands(a) == _minhash._bands(a)
    assert _minhash.distance(a, b) == _minhash._distance(a, b)
    assert _minhash.distance(memoryview(a), bytearray(a)) == 0
    with pytest.raises(ValueError, match=r"shorter|different lengths"):
        _minhash.distance(a, b[:126])
    with pytest.raises(ValueError, match=r"shorter|different lengths"):
        _minhash._distance(a, b[:126])


_SLOT = st.one_of(st.just(0), st.just(7), st.integers(1, 0xFFFF))
_SIGNATURE = st.lists(_SLOT, min_size=64, max_size=64).map(lambda s: array.array("H", s).tobytes())


@needs_c
@given(st.lists(_SIGNATURE, max_size=12), st.integers(0, 6), st.integers(1, 5))
def test_a_commits_band_index_matches_the_python_code(
    sigs: list[bytes], repeats: int, crowd: int
) -> None:
    # Some signatures repeated, so that some bands are shared by `crowd` or more.
    sigs = sigs + sigs[:1] * repeats
    text, crowded = _minhash.band_index(sigs, crowd)
    assert (text, crowded) == _minhash._band_index(sigs, crowd)
    every = [key for sig in sigs for key in _minhash._bands(sig)]
    assert json.loads(text) == sorted(set(every))
    assert crowded == sorted({k for k in every if every.count(k) >= crowd})
    with pytest.raises(ValueError, match="128 bytes"):
        _minhash.band_index([b"\x01\x00" * 63], 1)


@needs_c
def test_the_sample_takes_the_c_path() -> None:
    joined = _minhash._joined(sample_paragraphs())
    assert _safe(joined)
    assert (
        _c(joined) == _minhash._numpy_signature(joined) == _minhash.signature(sample_paragraphs())
    )


def test_without_the_extension_the_numpy_path_gives_the_same() -> None:
    # A fresh interpreter in which importing the extension fails, as in an install
    # where it did not compile.
    script = """
import json, sys
sys.modules["newsstore._fingerprint"] = None
from newsstore import _copies, _minhash
from tests.stories import sample_paragraphs
sig = _minhash.signature(sample_paragraphs())
other = _minhash.signature(sample_paragraphs()[2:])
print(json.dumps({
    "fast": _minhash._fast is not None,
    "signature": sig.hex(),
    "bands": _minhash.bands(sig),
    "distance": _minhash.distance(sig, other),
    "band_index": _minhash.band_index([sig, other, sig], 2),
    "python": _minhash.bands is _minhash._bands and _minhash.distance is _minhash._distance
        and _minhash.band_index is _minhash._band_index,
    "pairs": sorted(_copies.pairs_of({1: (sig, _minhash.bands(sig))},
        {b: [1, 2] for b in _minhash.bands(sig)}, {1: sig, 2: other})),
    "copies_python": _copies._fast is None,
}))
"""
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    ).stdout
    got = json.loads(out)
    sig = _minhash._numpy_signature(_minhash._joined(sample_paragraphs()))
    other = _minhash._numpy_signature(_minhash._joined(sample_paragraphs()[2:]))
    assert sig is not None and other is not None
    assert got == {
        "fast": False,
        "signature": sig.hex(),
        "bands": _minhash._bands(sig),
        "distance": _minhash._distance(sig, other),
        "band_index": list(_minhash._band_index([sig, other, sig], 2)),
        "python": True,
        "pairs": [
            list(p)
            for p in sorted(
                _copies.python_pairs_of(
                    {1: (sig, _minhash._bands(sig))},
                    {b: [1, 2] for b in _minhash._bands(sig)},
                    {1: sig, 2: other},
                )
            )
        ],
        "copies_python": True,
    }


def test_the_numpy_reference_shares_the_signature_layout() -> None:
    from newsstore import _minhash_numpy

    assert (_minhash_numpy.SLOTS, _minhash_numpy.MIN_CHARACTERS) == (
        _minhash.SLOTS,
        _minhash.MIN_CHARACTERS,
    )


@pytest.mark.skipif(_minhash._fast is None, reason="the C extension is not built here")
def test_a_compiled_fingerprint_loads_no_numpy() -> None:
    # Each import worker process would pay numpy's ~17 MB and ~0.1 s for nothing.
    code = (
        "import sys; from newsstore import _minhash;"
        " assert _minhash.signature(['新华社北京十一月十四日电' * 5]) is not None;"
        " print('numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
