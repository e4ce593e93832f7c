"""Settings, read from the environment with the prefix ``NEWSSTORE_``.

=====================  ==========================================  =========================
variable               meaning                                     default
=====================  ==========================================  =========================
``NEWSSTORE_STORE``    store URI: ``mongodb://…``, ``sqlite:///…``  embedded SQLite file at
                       or a plain file path                        :func:`default_store_path`
``NEWSSTORE_DATABASE`` database name on MongoDB                    ``newsstore``
``NEWSSTORE_TIMEZONE`` zone for naive times and day boundaries     ``Asia/Shanghai``
=====================  ==========================================  =========================

The CLI's ``--store``/``--database``/``--tz`` flags read the same variables, so the
precedence is always: flag, environment, default.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_TIMEZONE", "Settings", "default_store_path", "redact_uri"]

DEFAULT_TIMEZONE = "Asia/Shanghai"
_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")


def redact_uri(text: str) -> str:
    """``text`` with the ``user:password@`` part of any URI in it replaced by ``***@``."""
    return _CREDENTIALS.sub("***@", text)


def default_store_path() -> Path:
    """The embedded store's file when no URI is set: ``$XDG_DATA_HOME/newsstore/newsstore.db``."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "newsstore" / "newsstore.db"


class Settings(BaseSettings):
    """newsstore's configuration; construct it to read the environment."""

    model_config = SettingsConfigDict(env_prefix="NEWSSTORE_", extra="ignore")

    store: str | None = None
    database: str = "newsstore"
    timezone: str = DEFAULT_TIMEZONE

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The configured zone as a :class:`~zoneinfo.ZoneInfo`."""
        return ZoneInfo(self.timezone)
