"""A faster way from an NDJSON line to what a store writes, derived from the models.

:func:`derived_schema` turns the models' own core schema into one of plain typed dicts:
the same fields, types, constraints, defaults and ``extra="forbid"``, and the same
validators, except the per-time ``_aware_ms``, whose work (naive times in the context
zone, millisecond truncation, the end-year range check) :func:`_utc` does in the pass that
also moves every time to UTC, without a Python call per time from inside pydantic. A
validator it does not know makes it refuse to build (:class:`SchemaNotUnderstood`), and
then every line takes the model path: the models stay the one definition of the schema.

:class:`FastPreparer` parses a line with orjson, validates the dict, and gives the
:class:`~newsstore._rules.Incoming` that ``Store._prepare`` gives for the model of the same
line, with the same key, content hash and content JSON bytes (orjson writes what pydantic's
serializer writes for these types; a test pins it). Whenever the line is anything but a
plain valid record (bad JSON, Extended JSON, a rejects-file line, an invalid field, a
``stored`` part, an end-year time, a bad URL, a huge record), it returns None and the
caller takes the model path, so every error message and every edge stays the model's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from pydantic_core import SchemaValidator

from ._identity import MAX_RECORD_BYTES, fingerprint_of
from ._rules import Incoming
from ._schemas import Snapshot, _aware_ms, _not_blank, zone_from_context
from ._times import UTC
from ._urls import canonical_url, without_userinfo

try:  # orjson is a dependency; without it (a broken install) the model path serves alone
    import orjson
except ImportError:  # pragma: no cover
    orjson = None  # type: ignore[assignment]

__all__ = ["FastPreparer", "SchemaNotUnderstood", "derived_schema", "fast_validator"]

# Validators the derivation knows: the time validator is done by the pass; the others
# are kept in the derived schema as they are (called by pydantic, as for the models).
_KEPT_FUNCTIONS: tuple[Callable[..., Any], ...] = (_not_blank,)
# Where the models validate times with _aware_ms: the pass below handles exactly these.
_TIME_PATHS = frozenset(
    {
        ("published_at",),
        ("snapshot_at",),
        ("related", "*", "published_at"),
        ("more_in_category", "*", "published_at"),
    }
)
_LEAVES = frozenset({"str", "int", "datetime", "definition-ref"})
# Above this much content JSON the size check needs the BSON size: the model path does it.
_SIZE_LIMIT = MAX_RECORD_BYTES // 5
_JSON_OPTIONS = orjson.OPT_UTC_Z if orjson is not None else 0


class SchemaNotUnderstood(Exception):
    """The models' core schema has a part the fast path cannot reproduce."""


def derived_schema(model: type[Snapshot] = Snapshot) -> tuple[dict[str, Any], set[tuple[str, ...]]]:
    """The typed-dict core schema of ``model``, and the paths of the times it leaves to the
    pass (``"*"`` for a list item). Raises :class:`SchemaNotUnderstood`."""
    times: set[tuple[str, ...]] = set()
    refs: dict[str, list[tuple[str, ...]]] = {}

    def walk(schema: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
        kind = schema["type"]
        if kind == "definitions":
            for definition in schema["definitions"]:
                refs.setdefault(definition["ref"], [])
            return {
                "type": "definitions",
                "schema": walk(schema["schema"], path),
                "definitions": [walk(d, ("<ref>", d["ref"])) for d in schema["definitions"]],
            }
        if kind == "model":
            return model_schema(schema, path)
        if kind == "function-after":
            function = schema["function"]["function"]
            if function is _aware_ms and schema["schema"]["type"] == "datetime":
                times.add(path)
                return dict(schema["schema"])
            if function in _KEPT_FUNCTIONS:
                return dict(schema, schema=walk(schema["schema"], path))
            raise SchemaNotUnderstood(f"validator {function!r} at {'.'.join(path)}")
        if kind in ("default", "nullable"):
            return dict(schema, schema=walk(schema["schema"], path))
        if kind == "list":
            return dict(schema, items_schema=walk(schema["items_schema"], (*path, "*")))
        if kind in _LEAVES:
            if kind == "definition-ref":
                refs.setdefault(schema["schema_ref"], []).append(path)
            return schema
        raise SchemaNotUnderstood(f"{kind} schema at {'.'.join(path) or 'the top'}")

    def model_schema(schema: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
        inner = schema["schema"]
        if (
            schema.get("custom_init")
            or schema.get("root_model")
            or schema.get("post_init")
            or inner.get("type") != "model-fields"
            or inner.get("computed_fields")
            or inner.get("extras_schema") is not None
            or schema.get("config", {}).get("extra_fields_behavior") != "forbid"
        ):
            raise SchemaNotUnderstood(f"model {schema.get('cls')!r}")
        fields = {}
        for name, field in inner["fields"].items():
            if field["type"] != "model-field" or field.get("validation_alias") is not None:
                raise SchemaNotUnderstood(f"field {name} of {schema.get('cls')!r}")
            fields[name] = {
                "type": "typed-dict-field",
                "schema": walk(field["schema"], (*path, name)),
                "required": field["schema"]["type"] != "default",
            }
        derived: dict[str, Any] = {
            "type": "typed-dict",
            "fields": fields,
            "extra_behavior": "forbid",
            "config": schema["config"],
        }
        if "ref" in schema:
            derived["ref"] = schema["ref"]
        return derived

    derived = walk(dict(model.__pydantic_core_schema__), ())
    # A time inside a definition counts at every place that definition is used.
    resolved: set[tuple[str, ...]] = set()
    for path in times:
        if path[0] == "<ref>":
            for used_at in refs.get(path[1], ()):
                resolved.add((*used_at, *path[2:]))
        else:
            resolved.add(path)
    return derived, resolved


def fast_validator(model: type[Snapshot] = Snapshot) -> SchemaValidator:
    """The derived validator of ``model``; refuses a model whose times are not the ones
    the pass moves to UTC (:data:`_TIME_PATHS`, ``stored`` aside: it takes the model path)."""
    schema, times = derived_schema(model)
    times = {t for t in times if t[0] != "stored"}
    if times != _TIME_PATHS:
        raise SchemaNotUnderstood(f"times at {sorted(times)}, the pass knows {sorted(_TIME_PATHS)}")
    return SchemaValidator(schema)


class _Fallback(Exception):
    """The line takes the model path."""


def _utc(value: datetime, context: Any) -> datetime:
    """What ``_aware_ms`` and then the move to UTC make of a validated time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone_from_context(context))
        if value.utcoffset() is None:
            raise _Fallback  # a zone without an offset: the model decides
    if value.year in (1, 9999):
        raise _Fallback  # the range check: the model decides, with its message
    extra = value.microsecond % 1000
    if extra:
        value = value.replace(microsecond=value.microsecond - extra)
    return value.astimezone(UTC)


class FastPreparer:
    """``preparer(raw, context)``: the :class:`Incoming` of an NDJSON line, or None when
    the line must take the model path. ``payload`` is the adapter's ``_payload`` for the
    validated dict (times in UTC, the URL without user info, no ``stored``)."""

    def __init__(
        self,
        validator: SchemaValidator,
        tracking_params: Collection[str] | None,
        payload: Callable[[dict[str, Any]], Any],
    ) -> None:
        self._validate = validator.validate_python
        self._tracking = tracking_params
        self._payload = payload

    def __call__(self, raw: bytes, context: dict[str, Any]) -> Incoming | None:
        if orjson is None:
            return None
        try:
            doc = self._validate(orjson.loads(raw))
            if doc["stored"] is not None:
                return None
            del doc["stored"]
            published, snapshot_at = doc["published_at"], doc["snapshot_at"]
            if published is not None:
                doc["published_at"] = published = _utc(published, context)
            if snapshot_at is not None:
                doc["snapshot_at"] = snapshot_at = _utc(snapshot_at, context)
            for items in (doc["related"], doc["more_in_category"]):
                for item in items:
                    # Inlined for the common time (aware, whole ms, not an end year): some
                    # twenty a record.
                    t = item["published_at"]
                    if t.tzinfo is None or t.year in (1, 9999) or t.microsecond % 1000:
                        item["published_at"] = _utc(t, context)
                    else:
                        item["published_at"] = t.astimezone(UTC)
            url = doc.pop("url")
            content = orjson.dumps(doc, option=_JSON_OPTIONS)
            if len(content) > _SIZE_LIMIT:
                return None
            if url is None or not url.strip():
                key = fingerprint_of(doc["title"], published, doc["source"], doc["paragraphs"])
            else:
                key = canonical_url(url, tracking_params=self._tracking)
                if "@" in url:
                    url = without_userinfo(url)
        except Exception:
            # Whatever went wrong, the model path gives the verdict and its message.
            return None
        # The document as the model dumps it: "url" first, as the model has it.
        doc = {"url": url, **doc}
        return Incoming(
            key,
            hashlib.sha256(content).hexdigest(),
            url,
            snapshot_at,
            content,
            self._payload(doc),
        )


def _build() -> SchemaValidator | None:
    try:
        return fast_validator()
    except SchemaNotUnderstood:
        return None


VALIDATOR: SchemaValidator | None = _build()
"""The derived validator of :class:`Snapshot`, None when the models have outgrown it."""


def preparer(
    tracking_params: Collection[str] | None, payload: Callable[[dict[str, Any]], Any]
) -> FastPreparer | None:
    """A :class:`FastPreparer` for a store, or None when the fast path cannot serve."""
    if VALIDATOR is None or orjson is None:
        return None
    return FastPreparer(VALIDATOR, tracking_params, payload)
