"""Which stored snapshots have another copy: the pairs ``stats`` counts, for every store.

Finding the snapshots that have a near-duplicate asks, for each one, what ``similar``
asks; over a whole store that is a lookup per snapshot. The stores instead keep pairs of
near snapshots as they write: a new or changed fingerprint is compared with the stored
ones sharing its bands and keeps its :data:`KEPT` nearest within :data:`COUNTED_DISTANCE`
(in both orders); a fingerprint that goes takes its pairs with it, and the snapshots it
was paired with are compared again. ``stats`` counts the snapshots with a pair within the
threshold.

Both bounds keep the work and the pairs linear in the store, whatever the data: unrelated
pages share bands too (on the bench's 250k store, 2.5 million band-sharing pairs, 99% of
them 40 slots apart or more), and a page printed a thousand times would make half a million
pairs. A snapshot is compared with at most :data:`CANDIDATES` others: of the first
:data:`PER_BAND` stored snapshots of each of its bands, those sharing the most bands with it
(copies share several, unrelated pages mostly one). Among
more band-sharing pages than that, a copy can be missed, and is found only when it is itself
written and compares the other way.

Both stores read the candidates and pair them here (:func:`pairs_of`): SQLite at the
commit, MongoDB after each batch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from itertools import chain
from operator import itemgetter
from typing import TypeVar

from ._minhash import compiled as _fast
from ._minhash import distance

__all__ = [
    "CANDIDATES",
    "COUNTED_DISTANCE",
    "KEPT",
    "PER_BAND",
    "Pair",
    "pairs_of",
    "python_pairs_of",
]

# The largest threshold the kept pairs can count at. Copies of one story measure at most
# ~30 apart, unrelated stories sharing a band 39 or more (bench/README.md).
COUNTED_DISTANCE = 40
# How many stored snapshots of each band a fingerprint is compared with, how many of those
# in all (the ones sharing the most bands), and how many of the nearest it keeps a pair with.
PER_BAND = 4
CANDIDATES = 8
KEPT = 2

K = TypeVar("K", bound=Hashable)
_count = itemgetter(1)
# (snapshot, other snapshot, distance); both orders are kept, so a snapshot's pairs are
# found by their first member.
Pair = tuple[K, K, int]


def pairs_of(
    new: dict[K, tuple[bytes, list[int]]],
    by_band: dict[int, list[K]],
    signatures: dict[K, bytes],
) -> set[Pair[K]]:
    """The pairs of ``new`` fingerprints (id -> signature and its bands) with the snapshots
    sharing a band.

    ``by_band``: for the bands of ``new`` that two snapshots or more have, their first
    :data:`PER_BAND` stored (``new``'s own may be among them). ``signatures``: the
    signatures of those ids and of ``new``'s. Of each one's candidates, the
    :data:`CANDIDATES` sharing the most bands with it are compared (ties in the order met),
    and it keeps its :data:`KEPT` nearest within :data:`COUNTED_DISTANCE` (ties by id).
    Compiled where the fingerprint is (``newsstore/_fingerprint.c``: 6–12 µs a fingerprint
    with 21 bands of 4 snapshots, against 16–24 µs in Python); :func:`python_pairs_of` is
    the reference.
    """
    if _fast is None:
        return python_pairs_of(new, by_band, signatures)
    found = _fast.pairs(new, by_band, signatures, CANDIDATES, KEPT, COUNTED_DISTANCE)
    return set(found)


def python_pairs_of(
    new: Mapping[K, tuple[bytes, Sequence[int]]],
    by_band: Mapping[int, Sequence[K]],
    signatures: Mapping[K, bytes],
) -> set[Pair[K]]:
    """:func:`pairs_of` in Python, the reference."""
    found: set[Pair[K]] = set()
    for key, (sig, band_keys) in new.items():
        lists = [by_band[band] for band in band_keys if band in by_band]
        if not lists:
            continue
        shared = Counter(chain.from_iterable(lists))  # one count of them all, in C
        shared.pop(key, None)
        if not shared:
            continue
        compared = sorted(shared.items(), key=_count, reverse=True)[:CANDIDATES]
        near = sorted(
            (d, other)
            for other, _ in compared
            if (d := distance(sig, signatures[other])) <= COUNTED_DISTANCE
        )
        for d, other in near[:KEPT]:
            found.add((key, other, d))
            found.add((other, key, d))
    return found
