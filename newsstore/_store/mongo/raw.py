"""A snapshot's document fields encoded to BSON once, and the documents spliced from them.

A record's fields are encoded by the driver's own ``bson.encode`` when the record is
prepared (:func:`encode_fields`), while its validated dict is still in the CPU cache, and
the dict is dropped. Every operation that writes them (an insert, a new current, a
history entry) is then a :class:`~bson.raw_bson.RawBSONDocument` joined from those bytes
and the few small fields around them, encoded by ``bson.encode`` too, in the order of the
dict the operation stands for (``_id`` first in a top-level document, where the driver
puts it). The driver copies a raw document to the wire as it is, so the bytes it sends are
the ones it would have encoded from the dict (``tests/store/test_mongo_ops.py``). The only
bytes written here are a document's frame: its length and its closing NUL (BSON spec:
``document ::= int32 e_list "\\x00"``).

A first import writes each record once, so this costs about the CPU that encoding the
dict in the driver did (``bench/README.md``, round two); what it saves is holding a batch
of dicts until the write, and encoding a record again when a write is retried.
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
    """A snapshot's document fields, as BSON.

    ``encoded`` is the document of the fields after ``url`` (``title`` …
    ``more_in_category``, times in UTC) as ``bson.encode`` gave it (bytes, so that it
    pickles from an import's worker processes); :attr:`body` is its elements. ``url``
    stays a value, since the rules may give a record a lesser spelling before it is
    written, and so do the fingerprint fields (``minhash``, ``bands``), which an operation
    encodes with the small fields that follow them.
    """

    url: str | None
    encoded: bytes
    fingerprint: dict[str, Any]

    @property
    def body(self) -> memoryview:
        """The fields' BSON elements (the document without its frame; no copy)."""
        return memoryview(self.encoded)[4:-1]


def _elements(fields: Mapping[str, Any]) -> bytes:
    """The BSON elements of a small dict: its encoding without the frame."""
    return bson.encode(fields)[4:-1]


def encode_fields(doc: dict[str, Any]) -> EncodedFields:
    """Encode a snapshot's dumped fields (``url`` first, no ``stored``, times in UTC) and
    its fingerprint. Takes ``doc`` over (its ``url`` is removed)."""
    url = doc.pop("url")
    try:
        body = bson.encode(doc)
    except (InvalidDocument, OverflowError, UnicodeError) as exc:
        # Not expected once validated (bounded ints, valid UTF-8). Should it happen, it is
        # a store error naming the cause (on the model path, this record's rejection).
        raise StoreError(f"MongoDB refused a document: {exc}") from exc
    return EncodedFields(url, body, fingerprint_fields(doc["paragraphs"]))


def document(*parts: bytes | memoryview | Mapping[str, Any]) -> RawBSONDocument:
    """The document of ``parts`` in order: encoded elements, or (small) dicts to encode."""
    chunks = [p if isinstance(p, bytes | memoryview) else _elements(p) for p in parts]
    size = sum(len(c) for c in chunks) + 5
    return RawBSONDocument(b"".join([size.to_bytes(4, "little"), *chunks, b"\x00"]), _RAW)
