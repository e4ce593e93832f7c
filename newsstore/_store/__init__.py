"""Where snapshots are kept: :func:`open_store` picks the adapter from a URI.

* ``mongodb://…`` or ``mongodb+srv://…`` → :class:`~newsstore._store.mongo.MongoStore`
  (production: replica sets and sharded clusters keep dedup correct, see that module);
* ``sqlite:///relative/file.db``, ``sqlite:////absolute/file.db``, ``file:`` URIs
  (``file:///absolute/file.db``, ``file:relative.db``), a plain path, or nothing (the
  default file, :func:`newsstore._settings.default_store_path`) →
  :class:`~newsstore._store.sqlite.SQLiteStore`, embedded, no server. Percent-escapes in
  both URI forms are decoded, and a path starting with ``~`` is the user's home.

Schemes are case-insensitive. Everything else that looks like a URI is refused, never taken
for a file name: an unknown ``scheme://`` or ``scheme:/…`` (``mongdb://``, ``postgres://``),
a known scheme written wrong (``mongodb:/host``, ``sqlite://relative.db``, ``sqlite:x.db``),
``file:`` URIs with a remote host, ``sqlite:`` and ``file:`` URIs with options; and so are
stores that keep nothing (``:memory:``, ``sqlite:///``, ``file:…?mode=memory``) and an
empty URI given (``--to ""``), which never means the default store. A scheme has two
letters or more: a path may start with a drive letter (``C:``), and ``name:part.db`` (no
slash after the colon) is a file name; a ``PathLike`` is always a path. The refusals are
:class:`~newsstore.StoreUnavailableError`, one line, with any user info of the URI hidden.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import tzinfo
from urllib.parse import parse_qsl, unquote, urlsplit

from .._errors import StoreUnavailableError
from .._rules import Policy
from .._settings import DEFAULT_DATABASE, Settings, default_store_path, redact_uri
from .base import Diagnosis, RelatedHit, Stats, Store, Tombstone

__all__ = ["Diagnosis", "Policy", "RelatedHit", "Stats", "Store", "Tombstone", "open_store"]


# A URI's scheme (RFC 3986), of two characters or more so that "C:\\x" stays a path.
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+):(.*)", re.DOTALL)
_MONGODB = ("mongodb", "mongodb+srv")
_SQLITE_FORM = "a SQLite URI is sqlite:///relative/path or sqlite:////absolute/path"


def open_store(
    uri: str | os.PathLike[str] | None = None,
    *,
    database: str | None = None,
    timezone: str | tzinfo | None = None,
    settings: Settings | None = None,
    create: bool = True,
    rekey: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Store:
    """Open the store a URI or a path names; unset arguments come from :class:`Settings`.

    ``create=False`` (for commands that only read) refuses a SQLite store that does not
    exist yet instead of creating it; a MongoDB database is opened either way. Raises
    :class:`~newsstore.StoreUnavailableError` when the store cannot be reached or opened,
    or the URI is not one of the forms above, and :class:`~newsstore.KeySettingsError` when
    the store's keys were made with another tracking-parameter list (``rekey=True`` opens
    it for :meth:`Store.rekey`). ``progress(done, total)`` is called while
    a SQLite store written by an earlier version is upgraded (fingerprinting its snapshots).
    """
    settings = settings or Settings()
    zone = timezone or settings.timezone
    params = settings.tracking_param_list
    if isinstance(uri, os.PathLike):  # a path, whatever it looks like
        kind, target = "sqlite", _kept(os.fspath(uri), os.fspath(uri))
    elif uri is not None:  # given, even empty ("--to $UNSET"): never the default store
        kind, target = _parse(uri)
    elif settings.store:
        kind, target = _parse(settings.store)
    else:
        kind, target = "sqlite", os.fspath(default_store_path())
    if kind == "mongodb":
        # Imported here so that users of the embedded store never load the driver.
        from .mongo import MongoStore, connect, database_of

        client = connect(target)
        # A name given wins; else the database the URI's path names, as pymongo reads it.
        name = database if database is not None else settings.database
        return MongoStore(
            database_of(client, name, DEFAULT_DATABASE),
            timezone=zone,
            close_client=True,
            tracking_params=params,
            create=create,
            rekey=rekey,
        )
    from .sqlite import SQLiteStore

    return SQLiteStore(
        target,
        timezone=zone,
        timeout=settings.sqlite_timeout,
        tracking_params=params,
        create=create,
        rekey=rekey,
        progress=progress,
    )


def _parse(uri: str) -> tuple[str, str]:
    """``("mongodb", uri)`` with its scheme in lower case, or ``("sqlite", path)``."""
    match = _SCHEME.fullmatch(uri)
    if match is None:
        path = uri
    else:
        scheme, rest = match[1].lower(), match[2]
        if scheme in _MONGODB:
            if not rest.startswith("//"):
                raise _refused(uri, f"a MongoDB URI starts with {scheme}://")
            return "mongodb", f"{scheme}:{rest}"
        if scheme == "sqlite":
            if not rest.startswith("///"):
                raise _refused(uri, _SQLITE_FORM)
            if "?" in rest or "#" in rest:  # else a part of the file's name
                raise _refused(uri, "sqlite: URI options are not supported; give the file's path")
            path = unquote(rest[3:])
        elif scheme == "file":
            path = _file_path(uri, rest)
        elif rest.startswith("/"):
            raise _refused(
                uri,
                f"unknown store URI scheme {scheme!r}; use mongodb://, mongodb+srv://,"
                " sqlite:/// or a file path",
            )
        else:
            path = uri  # "name:part.db" is a file name
    return "sqlite", _kept(uri, path)


def _kept(uri: str, path: str) -> str:
    """``path`` with a leading ``~`` expanded (a value from a settings file or a quoted
    one, which no shell expanded), unless the store it names would keep nothing."""
    if not path:
        raise _refused(uri, "empty path: name the SQLite file")
    if path == ":memory:":
        raise _refused(uri, "an in-memory store keeps nothing")
    return os.path.expanduser(path)


def _file_path(uri: str, rest: str) -> str:
    """The path of a ``file:`` URI (SQLite's own form, without its options)."""
    parts = urlsplit(f"file:{rest}")
    if parts.netloc.lower() not in ("", "localhost"):
        raise _refused(uri, "a file: URI names a local file (file:///path)")
    options = parse_qsl(parts.query, keep_blank_values=True)
    if any(k.lower() == "mode" and v.lower() == "memory" for k, v in options):
        raise _refused(uri, "an in-memory store keeps nothing")
    if options or parts.query or parts.fragment:
        raise _refused(uri, "file: URI options are not supported; give the file's path")
    return unquote(parts.path)


def _refused(uri: str, why: str) -> StoreUnavailableError:
    # Whatever precedes the last "@" may be user info, however malformed the rest (a
    # password may hold "/", "@" or spaces): none of it is shown.
    scheme, colon, rest = uri.partition(":")
    shown = f"{scheme}:***@{rest.rsplit('@', 1)[1]}" if colon and "@" in rest else uri
    return StoreUnavailableError(f"not a store URI: {redact_uri(shown)!r}: {why}")
