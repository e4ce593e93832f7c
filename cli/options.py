"""The options several commands share, and the decorators that share them (as in sqlite-utils).

A decorator made by :func:`replacing` shows Typer a group of options in place of one
parameter of the command, and calls the command with that parameter built from their values:
:func:`filter_options` turns ``query: Query`` into ``--url``, ``--match``, ``--on``, ``--from``,
``--to``, ``--time``, ``--category``, ``--source``, ``--sort`` and ``--limit`` (and ``--offset``),
read by the library (:func:`newsstore.time_window`, :class:`newsstore.Query`). The app's
``store_options`` does the same for ``--store``, ``--database`` and ``--tz``.
"""

from __future__ import annotations

import codecs
import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

import newsstore
from newsstore import InvalidQueryError, Match, SortOrder, TimeField

Decorator = Callable[[Callable[..., None]], Callable[..., None]]


# -- checks ----------------------------------------------------------------------------------
def _zone_name(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise typer.BadParameter(
            f"unknown time zone {value!r} (try Asia/Shanghai or UTC)"
        ) from None
    return value


def _encoding_name(value: str | None) -> str | None:
    if value is not None:
        try:
            codecs.lookup(value)
        except LookupError:
            raise typer.BadParameter(f"unknown encoding {value!r} (try gb18030)") from None
    return value


def readable_as(keyword: str) -> Callable[[str | None], str | None]:
    """A check that the library reads a value as ``time_window``'s ``keyword``: a usage error."""

    def check(value: str | None) -> str | None:
        if value is not None:
            try:
                newsstore.time_window(**{keyword: value})
            except InvalidQueryError as exc:
                raise typer.BadParameter(str(exc)) from None
        return value

    return check


# -- options -------------------------------------------------------------------------------
StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="NEWSSTORE_STORE",
        show_envvar=True,
        help="Store URI: mongodb://…, sqlite:///file.db or a path. Default: embedded SQLite file.",
    ),
]
DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        envvar="NEWSSTORE_DATABASE",
        help="Database name on MongoDB. Default: the URI's (mongodb://host/NAME), else newsstore.",
    ),
]
TzOpt = Annotated[
    str,
    typer.Option(
        "--tz",
        envvar="NEWSSTORE_TIMEZONE",
        callback=_zone_name,
        help="Zone for naive input times, day boundaries and output.",
    ),
]
EncodingOpt = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        callback=_encoding_name,
        help="Encoding of the input, text, NDJSON or JSON alike. Default: UTF-8 (snapshot"
        " text: else GB18030). A file that looks like another encoding is refused.",
    ),
]
UrlOpt = Annotated[str | None, typer.Option("--url", help="A URL, path prefix, host or domain.")]
MatchOpt = Annotated[Match, typer.Option("--match", help="exact, prefix, host or domain.")]
OnOpt = Annotated[
    str | None, typer.Option("--on", callback=readable_as("on"), help="One day, YYYY-MM-DD.")
]
FromOpt = Annotated[
    str | None,
    typer.Option("--from", callback=readable_as("start"), help="Start date or datetime."),
]
ToOpt = Annotated[
    str | None,
    typer.Option("--to", callback=readable_as("end"), help="End date (inclusive) or datetime."),
]
TimeFieldOpt = Annotated[TimeField, typer.Option("--time", help="published or snapshot.")]
CategoryOpt = Annotated[str | None, typer.Option("--category")]
SourceOpt = Annotated[str | None, typer.Option("--source")]
SortOpt = Annotated[SortOrder, typer.Option("--sort", help="newest or oldest.")]
LimitOpt = Annotated[
    int | None, typer.Option("--limit", min=0, help="How many at most (0: no limit).")
]
OffsetOpt = Annotated[int, typer.Option("--offset", min=0, help="Skip this many (paging).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON array.")]
NdjsonOpt = Annotated[bool, typer.Option("--ndjson", help="Print one JSON object a line.")]
UrlArg = Annotated[str, typer.Argument(help="The original URL (any spelling) or a content: key.")]


# -- decorators ------------------------------------------------------------------------------
def option(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    """A keyword parameter ``name``, typed (and so declared to Typer) by ``annotation``."""
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


def replacing(
    name: str, options: list[inspect.Parameter], build: Callable[[dict[str, Any]], Any]
) -> Decorator:
    """A decorator that shows Typer ``options`` in place of the command's parameter ``name``.

    The command is called with ``name`` set to ``build(values)``, ``values`` being the
    options' values by parameter name. A value ``build`` reads but leaves in place (the zone)
    still reaches the command, or an inner decorator that replaces it.
    """

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        signature = inspect.signature(command, eval_str=True)
        if name not in signature.parameters:
            raise TypeError(f"{command.__name__} has no parameter {name!r} to replace")
        params: list[inspect.Parameter] = []
        for param in signature.parameters.values():
            if param.name == name:
                params.extend(options)
            else:
                params.append(param.replace(kind=inspect.Parameter.KEYWORD_ONLY))

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> None:
            values = {param.name: kwargs.pop(param.name) for param in options}
            command(**kwargs, **{name: build({**kwargs, **values})})

        wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        # Typer reads the signature; the annotations are kept in step with it.
        typed = {p.name: p.annotation for p in params if p.annotation is not p.empty}
        wrapper.__annotations__ = typed | {"return": None}
        return wrapper

    return decorate


def filter_options(*, limit: int | None, offset: bool = False) -> Decorator:
    """The lookup filters in place of a ``query: Query`` parameter; ``--offset`` if ``offset``.

    Goes above the app's ``store_options``: naive times are read in the zone ``--tz`` names.
    A bad ``--on``, ``--from`` or ``--to`` is a usage error naming the option.
    """
    options = [
        option("url", UrlOpt, None),
        option("match", MatchOpt, "exact"),
        option("on", OnOpt, None),
        option("from_", FromOpt, None),
        option("to", ToOpt, None),
        option("time_field", TimeFieldOpt, "published"),
        option("category", CategoryOpt, None),
        option("source", SourceOpt, None),
        option("sort", SortOpt, "newest"),
        option("limit", LimitOpt, limit),
        *([option("offset", OffsetOpt, 0)] if offset else []),
    ]
    return replacing("query", options, _query)


def _query(values: dict[str, Any]) -> newsstore.Query:
    """The query the filter options ask for; the library applies the rules of time windows."""
    try:
        start, end = newsstore.time_window(
            on=values["on"], start=values["from_"], end=values["to"], zone=values["tz"]
        )
    except InvalidQueryError as exc:
        raise typer.BadParameter(str(exc), param_hint="--on") from None
    return newsstore.Query(
        url=values["url"],
        match=values["match"],
        start=start,
        end=end,
        time_field=values["time_field"],
        category=values["category"],
        source=values["source"],
        sort=values["sort"],
        offset=values.get("offset", 0),
        limit=values["limit"] or None,  # 0 is no limit, as in MongoDB
    )
