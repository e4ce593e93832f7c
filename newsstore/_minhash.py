"""A locality-sensitive fingerprint of a snapshot's body, for finding other copies of a story.

The fingerprint is a **MinHash signature** (one-permutation MinHash, Li et al. 2012) of
the body's character 3-shingles: 64 slots of 16 bits, 128 bytes. Two bodies share a slot
with probability about their Jaccard similarity, so the **distance** of two signatures,
the number of slots that differ (0–64), estimates ``64 × (1 − Jaccard)``.

Why MinHash and not a 64-bit SimHash: on the labelled syndication set of ``bench/stories.py``
(copies with another header and footer, a paragraph dropped or added, a few characters
edited), SimHash put 95% of the pairs of copies within 13 bits and unrelated stories on
the same topic words from 9 bits up, so no threshold told them apart (and 4 bands of 16
bits only find pairs within 3); MinHash put every pair of copies within 29 slots and
unrelated stories 39 and more apart. No SimHash or MinHash package fitted: those on PyPI
take tokens built one by one in Python (which costs more than this whole signature) or
need a C++ toolchain.

Two implementations give the same bytes. The compiled one (``newsstore/_fingerprint.c``,
an optional extension built at install where a C compiler is found) walks the joined
paragraphs once, looking each code point up in a table of its normalised, lower-cased
letter or digit (:mod:`newsstore._minhash_table`), and computes each slot's minimum in the
same loop: ~5 µs for the sample page's body against ~45 µs in numpy, whose ~25 calls cost
about a microsecond each whatever their size. A body holding a code point that cannot be
looked up on its own (a combining mark, a Hangul jamo, ``Σ``, one beyond the BMP, …) and
an install without the extension take the numpy code, which stays the reference: the
tests compare the two on every BMP code point. ``bands`` and ``distance`` are compiled
too (0.4 and 0.1 µs against 7 and 4–5 µs in Python).

What the shingles are taken over (:func:`body_text`):

* the paragraphs only: not the title (syndication rewrites it), breadcrumbs, captions or
  image slots (the parser keeps the lines that repeat the title as image slots, not
  paragraphs), nor the items listed under the page;
* paragraphs under 20 characters are left out when longer ones remain: they are the lines
  each site adds (``来源：…``, ``责任编辑：…``, ``（完）``);
* NFKC-normalised (full-width ``，：！`` become ``,:!``, full-width letters and digits
  ASCII), lower-cased, and with everything but letters and digits removed, so switching
  punctuation or spacing changes nothing.

A body with fewer than :data:`MIN_CHARACTERS` such characters has no fingerprint (None):
short texts would all look alike.

The index: the signature is cut into :data:`BANDS` bands of three slots; each band is an
integer (:func:`bands`) that the stores index. Two signatures at distance ≤ 20 share at
least one band (21 bands, at most 20 of them hold a differing slot), so a lookup reads the
snapshots that share a band and checks their distance exactly; farther pairs are found
with a probability that falls with the distance (≥ 0.99 at 24).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from ._minhash_table import table as _table

try:  # the compiled loops (setup.py builds them where a C compiler is found)
    import newsstore._fingerprint as _fast
except ImportError:  # pragma: no cover - an install without the extension
    _fast = None  # type: ignore[assignment]

__all__ = [
    "BANDS",
    "MIN_CHARACTERS",
    "SIGNATURE_BYTES",
    "SLOTS",
    "bands",
    "body_text",
    "distance",
    "signature",
]

SLOTS = 64
SIGNATURE_BYTES = SLOTS * 2
_BAND_SLOTS = 3
BANDS = SLOTS // _BAND_SLOTS  # 21; the last slot is in no band
MIN_CHARACTERS = 30
_SHINGLE = 3
_SHORT_PARAGRAPH = 20
_EMPTY = 0  # a slot no shingle fell in; real slot values are never 0

# splitmix64's constants: the shingle hash must spread 3 code points over 64 bits.
_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)
_S30, _S31 = np.uint64(30), np.uint64(31)
_SLOT_SHIFT = np.uint64(64 - 6)  # the top 6 bits of a hash pick its slot
_SLOT_STARTS = np.arange(SLOTS, dtype=np.uint64) << _SLOT_SHIFT
_SLOT_IDS = np.arange(SLOTS, dtype=np.uint64)
_LOW16 = np.uint64(0xFFFF)
_OFFSET = np.uint64((1 << 58) - 1)  # a hash's place within its slot


@functools.cache
def _kept() -> npt.NDArray[np.bool_]:
    """Which BMP code points are letters or digits (built on first use: ~20 ms)."""
    return np.array(
        [unicodedata.category(chr(i))[0] in "LN" for i in range(0x10000)], dtype=np.bool_
    )


def _joined(paragraphs: Sequence[str]) -> str:
    """The paragraphs the shingles are taken over, joined (see the module docstring)."""
    long = [p for p in paragraphs if len(p) >= _SHORT_PARAGRAPH]
    return "".join(long or paragraphs)


def body_text(paragraphs: Sequence[str]) -> str:
    """The text the shingles are taken over (see the module docstring)."""
    return unicodedata.normalize("NFKC", _joined(paragraphs)).lower()


def signature(paragraphs: Sequence[str]) -> bytes | None:
    """The 128-byte MinHash signature of a body, or None when it is too short."""
    joined = _joined(paragraphs)
    if _fast is not None:
        sig = _fast.signature(joined, _table())
        if sig is not None:  # None: a code point only the whole-string path treats right
            return sig or None
    return _numpy_signature(joined)


def _numpy_signature(joined: str) -> bytes | None:
    """The signature of joined paragraphs in numpy: the reference and the fallback."""
    text = unicodedata.normalize("NFKC", joined).lower()
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    if codes.size and codes.max() > 0xFFFF:
        kept = np.ones(codes.size, dtype=np.bool_)  # beyond the BMP: CJK extensions, kept
        bmp = codes <= 0xFFFF
        kept[bmp] = _kept()[codes[bmp]]
        codes = codes[kept]
    else:
        codes = codes[_kept()[codes]]
    if codes.size < MIN_CHARACTERS:
        return None
    wide = codes.astype(np.uint64)
    n = wide.size - _SHINGLE + 1
    h = wide[:n] * _M1
    for i in range(1, _SHINGLE):
        h = (h ^ wide[i : n + i]) * _M2
    h ^= h >> _S30
    h *= _M3
    h ^= h >> _S31
    # Sorted, the first hash at or after a slot's start is that slot's minimum. Only the
    # hashes low in their slot can be a minimum: sorting those alone (~8 a slot) is
    # exact unless a slot keeps none, when all are sorted.
    few = h[(h & _OFFSET) < np.uint64((1 << 58) * 8 * SLOTS // n)] if n > 16 * SLOTS else h
    mins, found = _slot_minimums(few)
    if few is not h and not found.all():
        mins, found = _slot_minimums(h)
    values = (mins & _LOW16).astype(np.uint16)
    values[values == _EMPTY] = 1
    values[~found] = _EMPTY
    packed: bytes = values.astype("<u2").tobytes()
    return packed


def _slot_minimums(
    h: npt.NDArray[np.uint64],
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.bool_]]:
    """Each slot's smallest hash among ``h``, and which slots have one."""
    if not h.size:  # a prefilter can keep none of a body that repeats one shingle
        return np.zeros(SLOTS, dtype=np.uint64), np.zeros(SLOTS, dtype=np.bool_)
    ordered = np.sort(h)
    first = np.minimum(np.searchsorted(ordered, _SLOT_STARTS), ordered.size - 1)
    mins = ordered[first]
    return mins, (mins >> _SLOT_SHIFT) == _SLOT_IDS


def _bands(sig: bytes) -> list[int]:
    """The band keys of a signature: band ``i`` and its three slots in one integer.

    Bands holding an empty slot are left out (a short body would share them with every
    other short body).
    """
    slots = memoryview(sig).cast("H")
    out = []
    for band in range(BANDS):
        a, b, c = slots[band * 3 : band * 3 + 3]
        if a and b and c:
            out.append((band << 48) | (a << 32) | (b << 16) | c)
    return out


def _distance(a: bytes, b: bytes) -> int:
    """How many of the 64 slots of two signatures differ (0: the same shingles)."""
    return sum(
        x != y for x, y in zip(memoryview(a).cast("H"), memoryview(b).cast("H"), strict=True)
    )


if _fast is not None:
    bands: Callable[[bytes], list[int]] = _fast.bands
    distance: Callable[[bytes, bytes], int] = _fast.distance
else:
    bands, distance = _bands, _distance
