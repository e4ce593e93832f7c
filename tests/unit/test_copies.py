"""The compiled pairing gives the Python reference's pairs, for keys of either store."""

from __future__ import annotations

import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsstore import _copies

needs_c = pytest.mark.skipif(
    _copies._fast is None, reason="newsstore._fingerprint is not built: Python path only"
)

_BASE = list(range(1, 65))


def _signature(changed: list[int]) -> bytes:
    """The base signature with the slots ``changed`` set apart: distances of 0 to 64."""
    slots = list(_BASE)
    for i in changed:
        slots[i] = 0xFFFF - i
    return array.array("H", slots).tobytes()


_SIGNATURE = st.lists(st.integers(0, 63), max_size=50, unique=True).map(_signature)


@st.composite
def batches(draw: st.DrawFn, keys: st.SearchStrategy) -> tuple[dict, dict, dict]:
    ids = draw(st.lists(keys, min_size=1, max_size=12, unique=True))
    signatures = {i: draw(_SIGNATURE) for i in ids}
    new_ids = draw(st.lists(st.sampled_from(ids), min_size=1, unique=True))
    band_keys = draw(st.lists(st.integers(0, 30), min_size=1, max_size=8, unique=True))
    by_band = {
        b: draw(st.lists(st.sampled_from(ids), min_size=1, max_size=_copies.PER_BAND, unique=True))
        for b in band_keys
    }
    new = {
        i: (signatures[i], draw(st.lists(st.integers(0, 40), max_size=21, unique=True)))
        for i in new_ids
    }
    return new, by_band, signatures


@needs_c
@settings(max_examples=400, deadline=None)
@given(st.one_of(batches(st.integers(0, 50)), batches(st.text("abcde", min_size=1, max_size=3))))
def test_compiled_pairs_are_the_reference_pairs(batch: tuple[dict, dict, dict]) -> None:
    new, by_band, signatures = batch
    assert _copies.pairs_of(new, by_band, signatures) == _copies.python_pairs_of(
        new, by_band, signatures
    )


@needs_c
def test_a_candidate_without_a_signature_is_an_error_not_a_guess() -> None:
    sig = bytes(128)
    with pytest.raises(KeyError):
        _copies.pairs_of({1: (sig, [5])}, {5: [1, 2]}, {1: sig})
