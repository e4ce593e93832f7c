"""The per-code-point table the C fingerprint (``newsstore/_fingerprint.c``) walks a body with.

:func:`newsstore._minhash.body_text` normalises the whole joined body
(``unicodedata.normalize("NFKC", text).lower()``) and then keeps its letters and digits.
The C code instead looks each code point up on its own, in :func:`table`: entry ``c`` is
the one letter or digit that ``c`` becomes (``NFKC(c).lower()``, filtered), 0 when it
becomes none, or :data:`UNSAFE` when treating ``c`` on its own may give another result
than treating the whole string. The C code hands a body holding an UNSAFE code point (or
one beyond the BMP) back to the numpy path, so both paths give the same signature.

Why the per-code-point result is the whole string's for every other code point:

* NFKC is decomposition, canonical reordering, then composition. Reordering moves only
  non-starters (canonical combining class ≠ 0), and composition joins a starter with a
  later character only when that character is a non-starter or a starter that is the
  second half of a canonical pair. In the Unicode data every such second half is a
  combining mark, except the Hangul vowel and trailing jamo (composed by algorithm). So
  when the decomposition of ``c`` starts with a starter that is neither a mark nor such a
  jamo, nothing before ``c`` can reorder or compose with it: ``NFKC(s + c) == NFKC(s) +
  NFKC(c)``. A code point whose decomposition starts otherwise is UNSAFE.
* ``str.lower`` maps each character on its own, except capital sigma (U+03A3), whose
  lower case depends on its neighbours (σ or final ς): a code point normalising to one is
  UNSAFE.
* Conservatively also UNSAFE: marks and non-starters themselves, every Hangul jamo
  (conjoining, compatibility and half-width), surrogates (the numpy path cannot encode
  them and must raise as before), a code point whose normalised or lower-cased form holds
  a mark, a jamo or a code point beyond the BMP, and one that becomes more than one letter
  or digit (``ﬁ``, ``㎏``: rare; one output per code point keeps the C loop simple).

The exhaustive test in ``tests/unit/test_fingerprint.py`` checks every BMP code point
between neighbours against the whole-string treatment. Building the table takes ~50 ms,
once, on the first signature.
"""

from __future__ import annotations

import functools
import unicodedata

__all__ = ["UNSAFE", "table"]

UNSAFE = 0xFFFF  # a noncharacter: never a letter or digit itself
_JAMO_RANGES = ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xD7B0, 0xD7FF))
_JAMO = frozenset(chr(c) for a, b in (*_JAMO_RANGES, (0xFFA0, 0xFFDC)) for c in range(a, b + 1))
# The Hangul jamo that compose with what precedes them (vowels after a leading consonant,
# trailing consonants after a syllable).
_SECOND_JAMO = frozenset(chr(c) for c in (*range(0x1160, 0x1200), *range(0xD7B0, 0xD800)))
_SEP = "\x00"  # a control character: a starter that composes with nothing
_BLOCK = 4096


def _plain(ch: str) -> bool:
    """Whether a character of a normalised form may stand in the per-code-point result."""
    return (
        ord(ch) <= 0xFFFF
        and unicodedata.category(ch)[0] != "M"
        and not unicodedata.combining(ch)
        and ch not in _JAMO
        and ch != "Σ"
    )


def _starts_fresh(decomposed: str) -> bool:
    """Whether nothing before a code point with this decomposition can compose with it."""
    first = decomposed[0]
    return (
        unicodedata.category(first)[0] != "M"
        and not unicodedata.combining(first)
        and first not in _SECOND_JAMO
    )


def _entry(ch: str, decomposed: str) -> int:
    """The table entry of a code point whose decomposition is not itself."""
    if not (_plain(ch) and _starts_fresh(decomposed)):
        return UNSAFE
    normal = unicodedata.normalize("NFKC", ch)
    lower = normal.lower()
    if not (all(map(_plain, normal)) and all(map(_plain, lower))):
        return UNSAFE
    kept = [c for c in lower if unicodedata.category(c)[0] in "LN"]
    if len(kept) > 1:
        return UNSAFE
    return ord(kept[0]) if kept else 0


@functools.cache
def table() -> bytes:
    """65,536 native uint16: each BMP code point's letter or digit, 0, or UNSAFE."""
    import array

    # Hangul syllables (U+AC00–U+D7A3) are letters, their own NFKC form and lower case, and
    # decompose to a leading consonant, which composes with nothing before it.
    syllables, surrogates = range(0xAC00, 0xD7A4), range(0xD800, 0xE000)
    out = array.array("H", [UNSAFE]) * 0x10000
    out[0] = 0
    out[0xAC00:0xD7A4] = array.array("H", range(0xAC00, 0xD7A4))
    category, combining = unicodedata.category, unicodedata.combining
    # A block at a time: the strings of all 65,536 at once would cost an import worker
    # ~14 MB of peak memory for a table of 128 KB.
    for start in range(1, 0x10000, _BLOCK):
        chars = [
            chr(i)
            for i in range(start, min(start + _BLOCK, 0x10000))
            if i not in syllables and i not in surrogates
        ]
        if not chars:
            continue
        # One call for the block's decompositions: the separator keeps them apart (it is a
        # starter that composes with nothing, and NFKD never produces it).
        decomposed = unicodedata.normalize("NFKD", _SEP.join(chars)).split(_SEP)
        lowered = _SEP.join(chars).lower().split(_SEP)
        for ch, dec, low in zip(chars, decomposed, lowered, strict=True):
            code = ord(ch)
            if ch == dec == low:  # its own NFKC form and lower case: most code points
                cat = category(ch)[0]
                if cat != "M" and not combining(ch) and ch not in _JAMO:
                    out[code] = code if cat in "LN" else 0
            else:
                out[code] = _entry(ch, dec)
    return out.tobytes()
