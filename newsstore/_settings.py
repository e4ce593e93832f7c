"""Settings, read from the environment with the prefix ``NEWSSTORE_``.

============================  ========================================  ======================
variable                      meaning                                   default
============================  ========================================  ======================
``NEWSSTORE_STORE``           store URI: ``mongodb://…``,               embedded SQLite file
                              ``sqlite:///…`` or a plain file path      (:func:`default_store_path`)
``NEWSSTORE_DATABASE``        database name on MongoDB                  the URI's, else newsstore
``NEWSSTORE_TIMEZONE``        zone for naive times and day boundaries   ``Asia/Shanghai``
``NEWSSTORE_SQLITE_TIMEOUT``  seconds a SQLite writer waits for         ``60``
                              another writer's lock
``NEWSSTORE_TRACKING_PARAMS`` comma-separated query parameters        ``urls.DEFAULT_``
                              dropped from URL keys (``utm_*``: prefix)  ``TRACKING_PARAMS``
``NEWSSTORE_SIMILAR_DISTANCE`` how many of a body fingerprint's 64      ``32``
                              slots may differ for two snapshots to
                              be copies of one story (``similar``,
                              ``clusters``; see ``_minhash``)
============================  ========================================  ======================

The CLI's ``--store``/``--database``/``--tz`` flags read the same variables, so the
precedence is always: flag, environment, default.
"""

from __future__ import annotations

import os
import re
from datetime import tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ._errors import SettingsError
from ._times import DEFAULT_TIMEZONE, zone_of

__all__ = ["DEFAULT_DATABASE", "Settings", "default_store_path", "redact_uri"]

DEFAULT_DATABASE = "newsstore"

# The user info runs to the last "@" of the authority; in a MongoDB URI, to the last "@" of
# the URI, since an unescaped "/" or "@" in a password must not leave a piece of it behind.
# Schemes are case-insensitive (MONGODB:// is MongoDB too).
# Options that carry secrets in a query (tlsCertificateKeyFilePassword, AWS_SESSION_TOKEN).
_SECRET_OPTIONS = re.compile(
    r"(?i)((?:authMechanismProperties|\w*(?:password|secret|token)\w*)=)[^&\s]*"
)


def _hide_userinfo(text: str) -> str:
    """Every ``scheme://userinfo@`` in ``text`` as ``scheme://***@``.

    The user info runs to the last ``@`` of the authority, whitespace included (pymongo
    accepts passwords with spaces and tabs): the authority ends at the first ``/`` after
    ``://``, or for MongoDB at the end of the line. Where a URI ends is not known in free
    text, so this may hide more than the password, never less.
    """
    out: list[str] = []
    pos = 0
    while (mark := text.find("://", pos)) >= 0:
        start = mark + 3
        if text[max(0, mark - 11) : mark].lower().endswith(("mongodb", "mongodb+srv")):
            # An unescaped "/" or "@" in a MongoDB password must not leave a piece of it
            # behind: its user info runs to the last "@" of the line.
            newline = text.find("\n", start)
            authority = text[start : newline if newline >= 0 else len(text)]
        else:
            slash = text.find("/", start)
            authority = text[start : slash if slash >= 0 else len(text)]
        at = authority.rfind("@")
        out.append(text[pos:start])
        if at >= 0:
            out.append("***")
            pos = start + at
        else:
            pos = start
    out.append(text[pos:])
    return "".join(out)


def _uri_secrets(uri: str) -> list[str]:
    """The user info of ``uri`` and its password, as typed and percent-decoded, longest
    first. A MongoDB URI's user info runs to its last ``@``, whatever it holds (a newline
    too: free text is read line by line, a URI known whole need not be)."""
    mark = uri.find("://")
    if mark < 0:
        return []
    start = mark + 3
    if uri[:mark].lower() in ("mongodb", "mongodb+srv"):
        at = uri.rfind("@", start)
    else:
        slash = uri.find("/", start)
        at = uri.rfind("@", start, slash if slash >= 0 else len(uri))
    if at < 0:
        return []
    info = uri[start:at]
    parts = {info, info.partition(":")[2]}  # the user name alone is no secret
    parts |= {unquote_plus(part) for part in parts}
    return sorted((p for p in parts if len(p) >= 3), key=len, reverse=True)


def redact_uri(text: str, *, uri: str | None = None) -> str:
    """``text`` with the ``user:password@`` part of any URI in it replaced by ``***@``, and
    the values of secret-bearing query options by ``***``.

    With ``uri``, the user info of that URI and its parts are also hidden wherever they
    appear (a driver's message may quote the password alone, decoded).
    """
    for secret in _uri_secrets(uri) if uri else ():
        text = text.replace(secret, "***")
    return _SECRET_OPTIONS.sub(r"\1***", _hide_userinfo(text))


def default_store_path() -> Path:
    """The embedded store's file when no URI is set: ``$XDG_DATA_HOME/newsstore/newsstore.db``."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "newsstore" / "newsstore.db"


class Settings(BaseSettings):
    """newsstore's configuration; construct it to read the environment."""

    model_config = SettingsConfigDict(env_prefix="NEWSSTORE_", extra="ignore")

    def __init__(self, **values: Any) -> None:
        """Read the environment (and ``values``); a bad value raises SettingsError."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = str(first["loc"][0]) if first["loc"] else "settings"
            given = first["input"]
            # The store URI may hold a password: never quoted back.
            shown = "" if name == "store" else f", not {str(given)[:100]!r}"
            raise SettingsError(
                f"NEWSSTORE_{name.upper()}: {first['msg'].lower()}{shown}"
            ) from None

    store: str | None = Field(default=None, repr=False)  # a MongoDB URI may hold a password
    # Unset: the database the MongoDB URI's path names, else DEFAULT_DATABASE.
    database: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    # How long a SQLite writer waits on a lock held by another process before failing.
    sqlite_timeout: float = Field(default=60.0, ge=0)
    # Comma-separated query parameters dropped from URL keys ("utm_*" is a prefix rule);
    # unset: newsstore._urls.DEFAULT_TRACKING_PARAMS. Keys depend on it: set it once per store.
    tracking_params: str | None = None
    # Copies of one story measured 0-31 slots apart, unrelated stories 39 and up
    # (bench/stories.py); 32 is a Jaccard similarity of the bodies' shingles of 0.5.
    similar_distance: int = Field(default=32, ge=0, le=64)

    @property
    def tracking_param_list(self) -> list[str] | None:
        """``tracking_params`` as a list, or None for the documented default list."""
        if self.tracking_params is None:
            return None
        return [p.strip() for p in self.tracking_params.split(",") if p.strip()]

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone_of(value)  # raises a ValueError naming the zone
        return value

    @property
    def zone(self) -> tzinfo:
        """The configured zone as a ``tzinfo``."""
        return zone_of(self.timezone)
