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
import sys
from collections.abc import Callable
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

import newsstore
from newsstore import InvalidQueryError, Match, SortOrder, TimeField

# Not public: the zone-free readers behind ``time_window``, for checks made before the zone
# is known (see readable_as).
from newsstore._times import parse_day, read_when

Decorator = Callable[[Callable[..., None]], Callable[..., None]]


# Click's classes as Typer uses them: recent Typer carries a copy of click of its own, so
# they are taken from where Typer's own public classes live.
_click_core: Any = sys.modules[typer.Context.__mro__[1].__module__]
click_exceptions: Any = sys.modules[typer.BadParameter.__module__]
ParameterSource: Any = _click_core.ParameterSource

# -- global options ---------------------------------------------------------------------------
_GIVEN = "newsstore.global"


def global_or_own(ctx: typer.Context, param: typer.CallbackParam, value: Any) -> Any:
    """A store option's value, given before the command (``newsstore --store X find``) or
    after it (``newsstore find --store X``).

    Before the command (on the root), a value typed on the command line is kept for the
    command. On the command, the value typed after it wins; else the one typed before it;
    else the environment variable, else the default.
    """
    flag = param.opts[0]
    given: dict[str, Any] = ctx.find_root().meta.setdefault(_GIVEN, {})
    source = ctx.get_parameter_source(param.name or "")
    if ctx.parent is None:
        if source is ParameterSource.COMMANDLINE:
            given[flag] = value
        return value
    if source is not ParameterSource.COMMANDLINE and flag in given:
        return given[flag]
    return value


def _zone(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> str | None:
    return None if value is None else _zone_name(global_or_own(ctx, param, value))


# -- checks ----------------------------------------------------------------------------------
def _zone_name(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        raise typer.BadParameter(
            f"unknown time zone {value[:100]!r} (try Asia/Shanghai or UTC)"
        ) from None
    return value


def _encoding_name(value: str | None) -> str | None:
    if value is not None:
        try:
            codecs.lookup(value)
        except (LookupError, ValueError):  # ValueError: a NUL in the name
            raise typer.BadParameter(f"unknown encoding {value!r} (try gb18030)") from None
        if _text_round_trip(value) != _TEXT:
            raise typer.BadParameter(f"{value!r} is not a text encoding (try gb18030)")
    return value


_TEXT = "x\n"


def _text_round_trip(encoding: str) -> str | None:
    """``_TEXT`` encoded in ``encoding`` and decoded back a piece at a time, as imports
    read files; None if the codec cannot. A codec lookup finds bytes-to-bytes codecs
    (rot13, base64, zlib), ``undefined``, and punycode, which decodes only whole inputs:
    each would fail mid-import, with a traceback."""
    try:
        data = _TEXT.encode(encoding)
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        return decoder.decode(data[:1]) + decoder.decode(data[1:], final=True)
    except (LookupError, UnicodeError, TypeError, ValueError):
        return None


_MOST_WORKERS = 64


def _worker_count(value: str) -> str:
    if value != "auto" and not (
        value.isascii() and value.isdigit() and 1 <= int(value) <= _MOST_WORKERS
    ):
        raise typer.BadParameter(
            f"expected auto or a number of processes from 1 to {_MOST_WORKERS}, not {value[:100]!r}"
        )
    return value


def readable_as(keyword: str) -> Callable[[str | None], str | None]:
    """A check that the library can read a value as ``time_window``'s ``keyword`` at all:
    a usage error naming the option.

    Only the text is checked, in no zone: ``--tz`` may not be read yet when this runs (it
    may follow, or come from the environment), and whether a day is in range depends on it.
    The range is checked where the zone is known (``time_window``)."""
    read = parse_day if keyword == "on" else read_when

    def check(value: str | None) -> str | None:
        if value is not None:
            try:
                read(value)
            except InvalidQueryError as exc:
                raise typer.BadParameter(str(exc)) from None
        return value

    return check


# -- options -------------------------------------------------------------------------------
def _store_option(flag: str, metavar: str, variable: str, help: str, *, before: bool) -> Any:
    """One of the store options, after the command (read from ``NEWSSTORE_<variable>``
    too) or ``before`` it (no environment variable there: the command reads it, so that a
    value typed before the command wins over the environment, as one typed after it)."""
    callback = _zone if flag == "--tz" else global_or_own
    if before:
        help += f" Also after the command, which wins; else NEWSSTORE_{variable}."
        return typer.Option(flag, metavar=metavar, callback=callback, help=help)
    return typer.Option(
        flag,
        envvar=f"NEWSSTORE_{variable}",
        show_envvar=variable != "TIMEZONE",
        metavar=metavar,
        callback=callback,
        help=help,
    )


_STORE = (
    "--store",
    "URI",
    "STORE",
    "Store URI: mongodb://…, sqlite:///file.db or a path. Default: embedded SQLite file.",
)
_DATABASE = (
    "--database",
    "NAME",
    "DATABASE",
    "Database name on MongoDB. Default: the URI's (mongodb://host/NAME), else newsstore.",
)
_TZ = ("--tz", "ZONE", "TIMEZONE", "Zone for naive input times, day boundaries and output.")
StoreOpt = Annotated[str | None, _store_option(*_STORE, before=False)]
DatabaseOpt = Annotated[str | None, _store_option(*_DATABASE, before=False)]
TzOpt = Annotated[str, _store_option(*_TZ, before=False)]
GlobalStoreOpt = Annotated[str | None, _store_option(*_STORE, before=True)]
GlobalDatabaseOpt = Annotated[str | None, _store_option(*_DATABASE, before=True)]
GlobalTzOpt = Annotated[str | None, _store_option(*_TZ, before=True)]
EncodingOpt = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        metavar="ENCODING",
        callback=_encoding_name,
        help="Encoding of the input, text, NDJSON or JSON alike. Default: UTF-8 (snapshot"
        " text: else GB18030). A file that looks like another encoding is refused.",
    ),
]
WorkersOpt = Annotated[
    str,
    typer.Option(
        "--workers",
        metavar="N",
        callback=_worker_count,
        help="Processes that validate NDJSON lines while this one writes: auto (one per"
        " core but this one's, once 2,000 lines are to validate) or N; 1 validates here.",
    ),
]
UrlOpt = Annotated[
    str | None,
    typer.Option(
        "--url",
        metavar="URL",
        help="A URL (the scheme may be left out), path prefix, host or domain.",
    ),
]
MatchOpt = Annotated[Match, typer.Option("--match", help="exact, prefix, host or domain.")]
OnOpt = Annotated[
    str | None,
    typer.Option("--on", metavar="DATE", callback=readable_as("on"), help="One day, YYYY-MM-DD."),
]
FromOpt = Annotated[
    str | None,
    typer.Option(
        "--from",
        metavar="WHEN",
        callback=readable_as("start"),
        help="Start: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][±HH:MM].",
    ),
]
ToOpt = Annotated[
    str | None,
    typer.Option(
        "--to",
        metavar="WHEN",
        callback=readable_as("end"),
        help="End: a date (that day included) or a datetime, as --from.",
    ),
]
TimeFieldOpt = Annotated[TimeField, typer.Option("--time", help="published or snapshot.")]
CategoryOpt = Annotated[
    str | None, typer.Option("--category", metavar="NAME", help="Only this category (exact).")
]
SourceOpt = Annotated[
    str | None, typer.Option("--source", metavar="NAME", help="Only this source (exact).")
]
SortOpt = Annotated[SortOrder, typer.Option("--sort", help="newest or oldest.")]
# Stores page with signed 64-bit numbers.
_MAX_COUNT = 2**63 - 1
LimitOpt = Annotated[
    int | None,
    typer.Option(
        "--limit", min=0, max=_MAX_COUNT, metavar="N", help="How many at most (0: no limit)."
    ),
]
OffsetOpt = Annotated[
    int,
    typer.Option("--offset", min=0, max=_MAX_COUNT, metavar="N", help="Skip this many (paging)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON array.")]
JsonObjectOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
NdjsonOpt = Annotated[bool, typer.Option("--ndjson", help="Print one JSON object a line.")]


def _fields(value: list[str] | None) -> list[str] | None:
    if not value:
        return None
    try:
        # Each --fields given is a comma-separated list; the library reads the names.
        return newsstore.parse_fields(",".join(value))
    except InvalidQueryError as exc:
        raise typer.BadParameter(str(exc)) from None


FieldsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--fields",
        metavar="FIELD,...",
        callback=_fields,
        help="Comma-separated fields, dotted for nested ones (title,stored.key). Default: all.",
    ),
]
OutputOpt = Annotated[
    str | None,
    typer.Option("-o", "--output", metavar="FILE", help="File (.gz compresses); default stdout."),
]
UrlArg = Annotated[
    str,
    typer.Argument(
        metavar="URL",
        help="The original URL (any spelling, the scheme may be left out) or a content: key.",
    ),
]


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


# The filter options of a time window: parameter, time_window keyword, flag.
_WINDOW = (("on", "on", "--on"), ("from_", "start", "--from"), ("to", "end", "--to"))


def _query(values: dict[str, Any]) -> newsstore.Query:
    """The query the filter options ask for; the library applies the rules of time windows."""
    window = {keyword: values[name] for name, keyword, _ in _WINDOW}
    try:
        start, end = newsstore.time_window(**window, zone=values["tz"])
    except InvalidQueryError as exc:
        raise typer.BadParameter(str(exc), param_hint=_blamed(window, values["tz"])) from None
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


def _blamed(window: dict[str, str | None], zone: str) -> str:
    """The option a refused window is blamed on: the first the library refuses alone (out
    of range in the zone), quoted as click names an option; else ``--on``, given with
    ``--from`` or ``--to``."""
    for _, keyword, flag in _WINDOW:
        if window[keyword] is not None:
            try:
                newsstore.time_window(**{keyword: window[keyword]}, zone=zone)
            except InvalidQueryError:
                return f"'{flag}'"
    return "--on"
