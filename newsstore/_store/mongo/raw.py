"""A snapshot's document fields encoded to BSON once, and the documents spliced from them.

A record's fields are encoded by the driver's own ``bson.encode`` when the record is
prepared (:func:`encode_fields`), while its validated dict is still in the CPU cache, and
the dict is dropped. Every operation that writes them (an insert, a new current, a
history entry) is then a :class:`~bson.raw_bson.RawBSONDocument` joined from those bytes
and the few small fields around them, encoded by ``bson.encode`` too, in the order of the
dict the operation stands for (``_id`` first in a top-level document, where the driver
puts it). The driver copies a raw document to the wire as it is, so the bytes it sends are
the ones it would have encoded from the dict, without encoding 11 KB of snapshot again
for each operation. The only bytes written here are a document's frame: its length and
its closing NUL (BSON spec: ``document ::= int32 e_list "\\x00"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import bson
from bson.codec_options import CodecOptions
from bson.errors import InvalidDocument
from bson.raw_bson import RawBSONDocument

from ..._errors import StoreError
from .similar import fingerprint_fields

__all__ = ["EncodedFields", "document", "encode_fields"]

# How a spliced document reads back, should anything read it: as the collections read
# (aware UTC times).
_RAW: CodecOptions[RawBSONDocument] = CodecOptions(document_class=RawBSONDocument, tz_aware=True)


@dataclass(frozen=True, slots=True)
class EncodedFields:
    """A snapshot's document fields, as BSON elements (no frame).

    ``body`` holds the fields after ``url`` (``title`` … ``more_in_category``, times in
    UTC), ``fingerprint`` the fingerprint fields (``minhash``, ``bands``); ``url`` stays a
    value, since the rules may give a record a lesser spelling before it is written.
    """

    url: str | None
    body: memoryview
    fingerprint: memoryview


def _elements(fields: Mapping[str, Any]) -> memoryview:
    """The BSON elements of a dict: its encoding without the frame (no copy)."""
    return memoryview(bson.encode(fields))[4:-1]


def encode_fields(doc: dict[str, Any]) -> EncodedFields:
    """Encode a snapshot's dumped fields (``url`` first, no ``stored``, times in UTC) and
    its fingerprint. Takes ``doc`` over (its ``url`` is removed)."""
    url = doc.pop("url")
    try:
        body = bson.encode(doc)
        fingerprint = bson.encode(fingerprint_fields(doc["paragraphs"]))
    except (InvalidDocument, OverflowError, UnicodeError) as exc:
        # Refused here, this record alone is rejected; in the bulk write it failed them all.
        raise StoreError(f"MongoDB refused a document: {exc}") from exc
    return EncodedFields(url, memoryview(body)[4:-1], memoryview(fingerprint)[4:-1])


def document(*parts: bytes | memoryview | Mapping[str, Any]) -> RawBSONDocument:
    """The document of ``parts`` in order: encoded elements, or dicts to encode."""
    chunks = [p if isinstance(p, bytes | memoryview) else _elements(p) for p in parts]
    size = sum(len(c) for c in chunks) + 5
    return RawBSONDocument(b"".join([size.to_bytes(4, "little"), *chunks, b"\x00"]), _RAW)
