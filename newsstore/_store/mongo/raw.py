"""Bulk-write operations spliced from BSON encoded once, when a record is prepared.

A snapshot's fields (``url`` … ``more_in_category``, times in UTC) are encoded to BSON
elements once (:func:`encode_fields`); each operation that writes them (an insert, a new
current, a history entry) is a :class:`~bson.raw_bson.RawBSONDocument` spliced from those
bytes and the few small fields around them, in the order the driver would have encoded
the equivalent dicts (``_id`` first at the top level), so the bytes on the wire are the
same as before, without encoding 11 KB of snapshot again for every operation.
"""

from __future__ import annotations

import struct
from typing import Any

import bson
from bson.codec_options import CodecOptions
from bson.errors import BSONError
from bson.raw_bson import RawBSONDocument

from ..._errors import StoreError

__all__ = ["document", "elements", "embedded", "encode_fields"]

# Decoded (by the driver's checks, or by a test double) as the collections read: aware UTC.
_OPTIONS: CodecOptions[RawBSONDocument] = CodecOptions(
    document_class=RawBSONDocument, tz_aware=True
)
_LENGTH = struct.Struct("<i")


def encode_fields(fields: dict[str, Any]) -> bytes:
    """The BSON elements of a snapshot's fields (no length, no terminator)."""
    try:
        return bson.encode(fields)[4:-1]
    except (BSONError, OverflowError, UnicodeError) as exc:
        # Refused here, this record alone is rejected; in the bulk write it failed them all.
        raise StoreError(f"MongoDB refused a document: {exc}") from exc


def elements(fields: dict[str, Any]) -> bytes:
    """The BSON elements of a small dict (``_id`` first, as the driver writes it)."""
    return bson.encode(fields)[4:-1]


def embedded(name: str, body: bytes) -> bytes:
    """The element ``name``: a document of the elements ``body``."""
    return b"\x03" + name.encode() + b"\x00" + _LENGTH.pack(len(body) + 5) + body + b"\x00"


def document(*parts: bytes) -> RawBSONDocument:
    """A document of the elements ``parts``, in order."""
    body = b"".join(parts)
    return RawBSONDocument(_LENGTH.pack(len(body) + 5) + body + b"\x00", _OPTIONS)
