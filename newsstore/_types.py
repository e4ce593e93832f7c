"""The literal types users pass as choices, in a module that loads nothing else.

Each comes with the tuple of its values, which a test keeps equal to the type's arguments.
The command line reads them at start-up, before anything heavier is needed.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "EXPORT_FORMATS",
    "FORMATS",
    "MATCHES",
    "POLICIES",
    "SORT_ORDERS",
    "TIME_FIELDS",
    "ExportFormat",
    "Format",
    "Match",
    "Policy",
    "SortOrder",
    "TimeField",
]

Format = Literal["auto", "json", "ndjson", "ejson", "text"]
"""Input formats: detected (``auto``), a JSON array or object, NDJSON, MongoDB Extended JSON
(one object a line or an array; every JSON format reads its values), snapshot text."""
FORMATS: tuple[Format, ...] = ("auto", "json", "ndjson", "ejson", "text")

ExportFormat = Literal["ndjson", "json", "ejson", "ejson-canonical"]
"""Output formats: NDJSON, a JSON array, MongoDB Extended JSON (relaxed or canonical)."""
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("ndjson", "json", "ejson", "ejson-canonical")

Policy = Literal["newest", "keep", "replace"]
"""What a new content for a stored key does (see :mod:`newsstore._rules`)."""
POLICIES: tuple[Policy, ...] = ("newest", "keep", "replace")

Match = Literal["exact", "prefix", "host", "domain"]
"""How a query's URL matches: one URL, a path prefix, one host, a domain and subdomains."""
MATCHES: tuple[Match, ...] = ("exact", "prefix", "host", "domain")

TimeField = Literal["published", "snapshot"]
"""Which time a query's range bounds: the published time or the snapshot time."""
TIME_FIELDS: tuple[TimeField, ...] = ("published", "snapshot")

SortOrder = Literal["newest", "oldest"]
"""The order of results."""
SORT_ORDERS: tuple[SortOrder, ...] = ("newest", "oldest")
