"""Fields of a snapshot named by dotted paths (``title``, ``stored.key``, ``related.title``).

One set of rules for every output that picks fields (``export --fields``, ``find
--fields``): a path names a field of :class:`~newsstore.Snapshot`, then of the model it
holds (``stored`` is :class:`~newsstore.StoredInfo`; ``related``, ``more_in_category``
and ``images`` are lists of items, whose fields apply to every item). An unknown name is
an :class:`~newsstore.InvalidQueryError` that lists the names allowed where it stands.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from ._errors import InvalidQueryError
from ._schemas import Snapshot

__all__ = ["field_values", "include_of", "parse_fields"]


def _model_of(model: type[BaseModel], name: str) -> type[BaseModel] | None:
    """The model a field holds (directly, in a list or as an optional), if any."""
    annotation = model.model_fields[name].annotation
    stack = [annotation]
    while stack:
        here = stack.pop()
        if isinstance(here, type) and issubclass(here, BaseModel):
            return here
        stack.extend(typing.get_args(here))
    return None


def parse_fields(fields: str | Iterable[str]) -> list[str]:
    """The dotted field paths in ``fields`` (a comma-separated string or names), checked.

    Blank names are dropped and repeats kept once, in order. Raises
    :class:`~newsstore.InvalidQueryError` for a name that is no field.
    """
    names = fields.split(",") if isinstance(fields, str) else list(fields)
    paths: list[str] = []
    for raw in names:
        path = raw.strip()
        if not path or path in paths:
            continue
        model: type[BaseModel] | None = Snapshot
        for depth, part in enumerate(path.split(".")):
            if model is None or part not in model.model_fields:
                where = ".".join(path.split(".")[:depth])
                allowed = ", ".join(model.model_fields) if model is not None else "none"
                inside = f" in {where}" if where else ""
                raise InvalidQueryError(f"unknown field {path!r}; fields{inside}: {allowed}"[:600])
            model = _model_of(model, part)
        paths.append(path)
    return paths


def include_of(paths: Iterable[str]) -> dict[str, Any]:
    """The pydantic ``include`` that keeps ``paths`` (parsed by :func:`parse_fields`)."""
    include: dict[str, Any] = {}
    for path in paths:
        node = include
        model: type[BaseModel] | None = Snapshot
        parts = path.split(".")
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            assert model is not None
            inner = _model_of(model, part)
            is_list = typing.get_origin(model.model_fields[part].annotation) is list or any(
                typing.get_origin(a) is list
                for a in typing.get_args(model.model_fields[part].annotation)
            )
            if last:
                node[part] = True
                break
            child = node.get(part)
            if child is True:
                break  # the whole field is already kept
            if child is None:
                child = node[part] = {}
            if is_list:
                child = child.setdefault("__all__", {})
            node, model = child, inner
    return include


def field_values(snapshot: Snapshot, paths: list[str]) -> list[Any]:
    """The values at ``paths`` in ``snapshot`` as its JSON holds them (for a field of list
    items, the list of their values); None where a part is missing."""
    data: Any = snapshot.model_dump(mode="json", include=include_of(paths))
    values = []
    for path in paths:
        value = data
        for part in path.split("."):
            if isinstance(value, list):
                value = [item.get(part) if isinstance(item, dict) else None for item in value]
            elif isinstance(value, dict):
                value = value.get(part)
            else:
                value = None
        values.append(value)
    return values
