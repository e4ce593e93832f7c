"""The body fingerprint in numpy: the reference of :mod:`newsstore._minhash`'s compiled
loops, and its path where they are not built or a text needs the whole-string
normalisation. Imported only then, so that an import that fingerprints in C loads no numpy.
"""

from __future__ import annotations

import functools
import unicodedata

import numpy as np
import numpy.typing as npt

__all__ = ["MIN_CHARACTERS", "SLOTS", "signature"]

# As in newsstore._minhash (a test checks): 64 slots, picked by a hash's top 6 bits.
SLOTS = 64
MIN_CHARACTERS = 30
_SHINGLE = 3
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


def signature(joined: str) -> bytes | None:
    """The signature of joined paragraphs (see :mod:`newsstore._minhash`)."""
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
