# The compiled loops of newsstore/_fingerprint.c (see newsstore._minhash).

from collections.abc import Sequence
from typing import Any

def signature(text: str, table: bytes, /) -> bytes | None: ...
def bands(sig: bytes, /) -> list[int]: ...
def distance(a: bytes, b: bytes, /) -> int: ...
def band_index(signatures: Sequence[bytes], crowd: int, /) -> tuple[str, list[int]]: ...
def pairs(
    new: dict[Any, tuple[bytes, list[int]]],
    by_band: dict[int, list[Any]],
    signatures: dict[Any, bytes],
    compared: int,
    kept: int,
    max_distance: int,
    /,
) -> list[tuple[Any, Any, int]]: ...
