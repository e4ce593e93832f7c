"""Where snapshots are kept: :func:`open_store` picks the adapter from a URI.

* ``mongodb://…`` or ``mongodb+srv://…`` → :class:`~newsstore._store.mongo.MongoStore`
  (production: replica sets and sharded clusters keep dedup correct, see that module);
* ``sqlite:///relative/file.db``, ``sqlite:////absolute/file.db``, a plain path, or nothing
  (the default file, :func:`newsstore._settings.default_store_path`) →
  :class:`~newsstore._store.sqlite.SQLiteStore`, embedded, no server.
"""

from __future__ import annotations

import os
from datetime import tzinfo

from .._rules import Policy
from .._settings import DEFAULT_DATABASE, Settings, default_store_path
from .base import Diagnosis, RelatedHit, Stats, Store, Tombstone

__all__ = ["Diagnosis", "Policy", "RelatedHit", "Stats", "Store", "Tombstone", "open_store"]


def open_store(
    uri: str | os.PathLike[str] | None = None,
    *,
    database: str | None = None,
    timezone: str | tzinfo | None = None,
    settings: Settings | None = None,
) -> Store:
    """Open the store a URI or a path names; unset arguments come from :class:`Settings`.

    Raises :class:`~newsstore.StoreUnavailableError` when it cannot be reached or opened.
    """
    settings = settings or Settings()
    uri = (os.fspath(uri) if uri is not None else None) or settings.store
    zone = timezone or settings.timezone
    params = settings.tracking_param_list
    if uri and uri.startswith(("mongodb://", "mongodb+srv://")):
        # Imported here so that users of the embedded store never load the driver.
        from .mongo import MongoStore, connect

        client = connect(uri)
        # A name given wins; else the database the URI's path names, as pymongo reads it.
        name = database or settings.database
        return MongoStore(
            client[name] if name else client.get_default_database(DEFAULT_DATABASE),
            timezone=zone,
            close_client=True,
            tracking_params=params,
        )
    from .sqlite import SQLiteStore

    timeout = settings.sqlite_timeout
    if not uri:
        return SQLiteStore(
            default_store_path(), timezone=zone, timeout=timeout, tracking_params=params
        )
    return SQLiteStore(
        uri.removeprefix("sqlite:///") if uri.startswith("sqlite:") else uri,
        timezone=zone,
        timeout=timeout,
        tracking_params=params,
    )
