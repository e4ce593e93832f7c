"""Reading an archive (see :mod:`newsstore._archive` for its lines): its header, checked,
and its records, streamed."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from ._archive import (
    ARCHIVE_FORMAT,
    ArchiveLine,
    Current,
    StoreMeta,
    Version,
    check_meta,
    effective_params,
    parse_time,
)
from ._errors import InvalidQueryError, InvalidRecordError, StoreError
from ._rules import StoredKey
from ._settings import Settings
from ._store.values import Tombstone

__all__ = ["archive_header", "read_archive"]


def _time_or_none(text: Any) -> datetime | None:
    return None if text is None else parse_time(text)


def _open_archive(path: str) -> IO[bytes]:
    if not os.path.exists(path):
        looks_like_key = "://" in path or path.startswith("content:")
        hint = (
            f"; to lift a takedown, run `newsstore lift-takedown {path}`" if looks_like_key else ""
        )
        raise InvalidQueryError(f"restore reads an archive file: {path} does not exist{hint}")
    fp: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by the caller
    if fp.read(2) == b"\x1f\x8b":
        # gzip.open owns its file: closing it closes the file (a GzipFile given one does not).
        fp.close()
        return gzip.open(path, "rb")  # type: ignore[return-value]
    fp.seek(0)
    return fp


def _header(fp: IO[bytes], path: str) -> dict[str, Any]:
    first = fp.readline()
    try:
        header = json.loads(first)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("newsstore") != "archive":
        raise InvalidRecordError(
            "not a newsstore archive (the first line is not its header); to lift a"
            " takedown run `newsstore lift-takedown URL`, to import snapshots"
            " `newsstore import`",
            source=path,
            line=1,
        )
    if header.get("format") != ARCHIVE_FORMAT:
        raise InvalidRecordError(
            f"archive format {header.get('format')!r}; this newsstore reads {ARCHIVE_FORMAT}",
            source=path,
            line=1,
        )
    return header


def archive_header(
    path: str | os.PathLike[str], *, settings: Settings | None = None
) -> dict[str, Any]:
    """The header of the archive at ``path`` (store metadata, when it was written), after
    checking that it is an archive :meth:`Store.dump` wrote in a format this version reads;
    with ``settings``, that its keys were made with the tracking list they give (checked
    before a store is opened for it, no store is created for an archive it would refuse).

    Raises :class:`~newsstore.InvalidQueryError` when there is no such file,
    :class:`~newsstore.InvalidRecordError` when it is not an archive and
    :class:`~newsstore.KeySettingsError` when the tracking lists differ.
    """
    name = os.fspath(path)
    with _open_archive(name) as fp:
        header = _header(fp, name)
    if settings is not None:
        try:
            meta = StoreMeta.from_json(header.get("store"))
        except StoreError as exc:
            raise InvalidRecordError(str(exc), source=name, line=1) from None
        params = effective_params(settings.tracking_param_list)
        check_meta(meta, params, f"the archive {name}")
    return header


def read_archive(path: str) -> tuple[dict[str, Any], Iterator[ArchiveLine]]:
    """The header of the archive at ``path`` and its records, streamed (gzip or not)."""
    fp = _open_archive(path)
    try:
        header = _header(fp, path)
    except BaseException:
        fp.close()
        raise

    def lines() -> Iterator[ArchiveLine]:
        with fp:
            for number, raw in enumerate(fp, 2):
                if raw.strip():
                    yield _parse_line(number, raw)

    return header, lines()


def _parse_line(number: int, raw: bytes) -> ArchiveLine:
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        if "tombstone" in data:
            t = data["tombstone"]
            url = t.get("url")
            return ArchiveLine(
                number,
                Tombstone(str(t["key"]), url, str(t["reason"]), parse_time(t["deleted_at"])),
            )
        stored = data["stored"]
        if "snapshot" in data:
            content = data["snapshot"]
            state = StoredKey(
                str(stored["content_hash"]),
                None,  # read from the content when it is prepared
                tuple(map(str, stored["urls"])),
                tuple(map(str, stored["hashes"])),
                parse_time(stored["first_seen"]),
                parse_time(stored["last_seen"]),
                int(stored["seen_count"]),
                # An archive written before these were kept has none.
                tuple(map(str, stored.get("records", ()))),
                (
                    _time_or_none(stored.get("version_first_seen")),
                    _time_or_none(stored.get("version_last_seen")),
                ),
            )
            return ArchiveLine(
                number, Current(str(stored["key"]), stored.get("url"), state, content)
            )
        if "history" in data:
            content = data["history"]
            return ArchiveLine(
                number,
                Version(
                    str(stored["key"]),
                    stored.get("url"),
                    str(stored["content_hash"]),
                    parse_time(stored["archived_at"]),
                    content,
                    _time_or_none(stored.get("first_seen")),
                    _time_or_none(stored.get("last_seen")),
                ),
            )
        raise ValueError("neither a snapshot, a history version nor a takedown")
    except (KeyError, TypeError, ValueError, RecursionError) as exc:
        why = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        return ArchiveLine(number, None, why)
