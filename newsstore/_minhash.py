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

import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import chain

from ._minhash_table import table as _table

try:  # the compiled loops (setup.py builds them where a C compiler is found)
    import newsstore._fingerprint as _fast
except ImportError:  # pragma: no cover - an install without the extension
    _fast = None  # type: ignore[assignment]
# The same, for the modules that have loops of their own in it (newsstore._copies).
compiled = _fast

__all__ = [
    "BANDS",
    "MIN_CHARACTERS",
    "SIGNATURE_BYTES",
    "SLOTS",
    "band_index",
    "bands",
    "body_text",
    "compiled",
    "distance",
    "signature",
]

SLOTS = 64
SIGNATURE_BYTES = SLOTS * 2
_BAND_SLOTS = 3
BANDS = SLOTS // _BAND_SLOTS  # 21; the last slot is in no band
MIN_CHARACTERS = 30
_SHORT_PARAGRAPH = 20


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
    """The signature of joined paragraphs in numpy: the reference and the fallback
    (imported on first use: the compiled path needs no numpy)."""
    from ._minhash_numpy import signature as numpy_signature

    return numpy_signature(joined)


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


def _band_index(signatures: Sequence[bytes], crowd: int) -> tuple[str, list[int]]:
    """The distinct band keys of ``signatures`` as a sorted JSON array, and those that
    ``crowd`` of them or more have (sorted)."""
    count = Counter(chain.from_iterable(map(_bands, signatures)))
    text = "[" + ",".join(map(str, sorted(count))) + "]"
    return text, sorted(b for b, n in count.items() if n >= crowd)


if _fast is not None:
    bands: Callable[[bytes], list[int]] = _fast.bands
    distance: Callable[[bytes, bytes], int] = _fast.distance
    band_index: Callable[[Sequence[bytes], int], tuple[str, list[int]]] = _fast.band_index
else:
    bands, distance, band_index = _bands, _distance, _band_index
