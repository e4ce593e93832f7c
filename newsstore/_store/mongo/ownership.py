"""Whether a MongoDB database is a newsstore store this version may use (:func:`claim`)."""

from __future__ import annotations

from typing import Any

from pymongo.collection import Collection

from ..._archive import STORE_FORMAT
from ..._errors import StoreUnavailableError
from .doctor import INDEX_VERSION

__all__ = ["claim"]

# The documents a store keeps in ``meta``: its indexes' version, its metadata, the progress
# of pairing its fingerprints (.similar).
_OWN = ["copies", "indexes", "store"]


def claim(
    meta: Collection[dict[str, Any]],
    snapshots: Collection[dict[str, Any]],
    name: str,
    *,
    create: bool,
) -> dict[str, Any] | None:
    """Refuse, before anything in it changes, a database that holds another program's
    documents where a store keeps its own, or a store of a newer newsstore; and with
    ``create=False`` (a command that only reads) one that holds no store yet, as the SQLite
    store refuses a missing file. Other collections beside a store's are fine: a database
    may be shared. ``name``: the store, as messages name it. Returns the indexes' marker
    (None: none yet), read in the same round trip, for the caller's index check."""
    docs = {d["_id"]: d for d in meta.find({"_id": {"$in": ["indexes", "store"]}})}
    marker, stored = docs.get("indexes") or {}, docs.get("store") or {}
    version, form = int(marker.get("version", 0)), int(stored.get("format", 0))
    if version > INDEX_VERSION or form > STORE_FORMAT:
        raise StoreUnavailableError(
            f"{name} is a store of a newer newsstore (store format {form}, indexes"
            f" {version}; this one knows {STORE_FORMAT} and {INDEX_VERSION}); left"
            " untouched: upgrade newsstore to use it"
        )
    if marker or stored or meta.find_one({"_id": {"$in": _OWN}}) is not None:
        return marker or None  # (another process making the store may not have written all)
    # No marker: an empty database, a store older than the marker, or not a store.
    if meta.find_one({}) is not None:
        raise StoreUnavailableError(
            f"{name} is not a newsstore store (its meta collection holds other documents);"
            " left untouched"
        )
    sample = snapshots.find_one({})
    if sample is not None and not {"content_hash", "first_seen"} <= sample.keys():
        raise StoreUnavailableError(
            f"{name} is not a newsstore store (its snapshots collection holds other"
            " documents); left untouched"
        )
    if sample is None and not create:
        raise StoreUnavailableError(f"no newsstore store in {name}: it holds no snapshots")
    return None
