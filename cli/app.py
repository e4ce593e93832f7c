"""The ``newsstore`` command: each command parses options, calls one library function, prints."""

from __future__ import annotations

import codecs
import errno
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from typer.core import TyperGroup

from newsstore import NewsstoreError, Settings, Snapshot, __version__
from newsstore._export import EXPORT_FORMATS, open_output
from newsstore._parsing import parse_snapshot_file, render_snapshot
from newsstore._query import MATCHES, SORT_ORDERS, TIME_FIELDS, Query
from newsstore._records import FORMATS
from newsstore._settings import redact_uri
from newsstore._store import Store, open_store
from newsstore._store.rules import POLICIES
from newsstore._times import day_range, parse_when

from . import output


class _Group(TyperGroup):
    """Turns every NewsstoreError into one line on stderr and exit code 1, in one place."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except NewsstoreError as exc:
            output.err.print(f"Error: {redact_uri(str(exc))}", markup=False)
            raise typer.Exit(1) from None
        except OSError as exc:
            # A file the user named cannot be written or read (disk full, permissions): one
            # line too, not a traceback. A closed pipe is left to click, which exits quietly.
            if exc.errno == errno.EPIPE:
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            output.err.print(f"Error: {where}{exc.strerror or exc}", markup=False)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_Group,
    no_args_is_help=True,
    rich_markup_mode=None,  # plain usage errors: one readable block, easy to grep
    pretty_exceptions_show_locals=False,  # a MongoDB URI in a local may hold a password
    help="Keep crawled news-page snapshots, deduplicated on their original URL.",
)

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
    str,
    typer.Option("--database", envvar="NEWSSTORE_DATABASE", help="Database name on MongoDB."),
]


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
        help="Encoding of snapshot text files. Default: UTF-8, else GB18030.",
    ),
]
UrlOpt = Annotated[str | None, typer.Option("--url", help="A URL, path prefix, host or domain.")]
MatchOpt = Annotated[str, typer.Option("--match", help="exact, prefix, host or domain.")]
OnOpt = Annotated[str | None, typer.Option("--on", help="One day, YYYY-MM-DD.")]
FromOpt = Annotated[str | None, typer.Option("--from", help="Start date or datetime.")]
ToOpt = Annotated[str | None, typer.Option("--to", help="End date (inclusive) or datetime.")]
TimeFieldOpt = Annotated[str, typer.Option("--time", help="published or snapshot.")]
CategoryOpt = Annotated[str | None, typer.Option("--category")]
SourceOpt = Annotated[str | None, typer.Option("--source")]
SortOpt = Annotated[str, typer.Option("--sort", help="newest or oldest.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON array.")]
NdjsonOpt = Annotated[bool, typer.Option("--ndjson", help="Print one JSON object a line.")]
_DEFAULTS = Settings.model_construct()


@contextmanager
def _store(uri: str | None, database: str, tz: str) -> Iterator[Store]:
    settings = Settings(store=uri, database=database, timezone=tz)
    with open_store(settings=settings) as store:
        yield store


def _version(value: bool) -> None:
    if value:
        output.echo(f"newsstore {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Keep crawled news-page snapshots, deduplicated on their original URL.

    Example: newsstore import examples/snapshot-zh-intl-2023-11-14.txt
    """


@app.command("import")
def import_(
    paths: Annotated[list[str], typer.Argument(help="Files, directories or - for stdin.")],
    format: Annotated[str, typer.Option("--format", help=f"One of {', '.join(FORMATS)}.")] = "auto",
    on_duplicate: Annotated[
        str, typer.Option("--on-duplicate", help=f"Policy: {', '.join(POLICIES)}.")
    ] = "newest",
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 1000,
    rejects: Annotated[
        Path | None, typer.Option("--rejects", help="Write rejected records here (NDJSON).")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Stop at the first bad record.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and count only.")] = False,
    glob: Annotated[str, typer.Option("--glob", help="File filter inside directories.")] = "*",
    follow_symlinks: Annotated[bool, typer.Option("--follow-symlinks")] = False,
    encoding: EncodingOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    store: StoreOpt = None,
    database: DatabaseOpt = _DEFAULTS.database,
    tz: TzOpt = _DEFAULTS.timezone,
) -> None:
    """Import snapshots from JSON, NDJSON, Extended JSON, snapshot text, .gz or directories.

    Exit code 0 when every record landed, 1 when some were rejected.

    Example: newsstore import crawl.ndjson.gz --rejects rejects.ndjson
    """
    chosen_format = _choice("--format", format, FORMATS)
    policy = _choice("--on-duplicate", on_duplicate, POLICIES)
    with _store(store, database, tz) as st, _progress(quiet) as progress:
        result = st.import_records(
            paths,
            format=chosen_format,
            policy=policy,
            batch_size=batch_size,
            rejects=rejects,
            strict=strict,
            dry_run=dry_run,
            glob=glob,
            follow_symlinks=follow_symlinks,
            encoding=encoding,
            progress=progress,
        )
    output.report(result, dry_run=dry_run)
    if result.rejected:
        raise typer.Exit(1)


@app.command()
def export(
    out: Annotated[
        str | None, typer.Option("-o", "--output", help="File (.gz compresses); default stdout.")
    ] = None,
    format: Annotated[
        str, typer.Option("--format", help=f"One of {', '.join(EXPORT_FORMATS)}.")
    ] = "ndjson",
    fields: Annotated[str | None, typer.Option("--fields", help="Comma-separated fields.")] = None,
    url: UrlOpt = None,
    match: MatchOpt = "exact",
    on: OnOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    time_field: TimeFieldOpt = "published",
    category: CategoryOpt = None,
    source: SourceOpt = None,
    sort: SortOpt = "newest",
    limit: Annotated[int | None, typer.Option("--limit", min=0)] = None,
    store: StoreOpt = None,
    database: DatabaseOpt = _DEFAULTS.database,
    tz: TzOpt = _DEFAULTS.timezone,
) -> None:
    """Export snapshots as NDJSON, a JSON array or Extended JSON, streamed.

    Example: newsstore export --on 2023-11-14 --format json -o day.json
    """
    export_format = _choice("--format", format, EXPORT_FORMATS)
    query = _query(url, match, on, from_, to, time_field, category, source, sort, limit, 0, tz)
    chosen = fields.split(",") if fields else None
    try:
        with _store(store, database, tz) as st, open_output(out, sys.stdout) as fp:
            count = st.export(fp, query, format=export_format, fields=chosen)
    except OSError as exc:
        if exc.filename is not None or out in (None, "-"):
            raise
        # A failed write (disk full) does not say which file: name the output.
        raise OSError(exc.errno, f"cannot write: {exc.strerror}", out) from exc
    if out not in (None, "-"):
        output.err.print(f"{count} snapshots written to {out}", markup=False)


@app.command()
def get(
    url: Annotated[str, typer.Argument(help="The original URL (any spelling) or a content: key.")],
    store: StoreOpt = None,
    database: DatabaseOpt = _DEFAULTS.database,
    tz: TzOpt = _DEFAULTS.timezone,
) -> None:
    """Print the stored snapshot for a URL as JSON.

    Example: newsstore get "https://news.example.com/a/1.html?utm_source=x"
    """
    with _store(store, database, tz) as st:
        output.snapshot_json(st.get(url))


@app.command()
def find(
    url: UrlOpt = None,
    match: MatchOpt = "exact",
    on: OnOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    time_field: TimeFieldOpt = "published",
    category: CategoryOpt = None,
    source: SourceOpt = None,
    sort: SortOpt = "newest",
    limit: Annotated[int, typer.Option("--limit", min=0)] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many (paging).")] = 0,
    as_json: JsonOpt = False,
    ndjson: NdjsonOpt = False,
    store: StoreOpt = None,
    database: DatabaseOpt = _DEFAULTS.database,
    tz: TzOpt = _DEFAULTS.timezone,
) -> None:
    """Find snapshots by URL, date, category or source, newest first.

    Example: newsstore find --on 2023-11-14 --category 国际
    """
    query = _query(url, match, on, from_, to, time_field, category, source, sort, limit, offset, tz)
    with _store(store, database, tz) as st:
        output.snapshots(st.find(query), as_json=as_json, ndjson=ndjson)


@app.command()
def related(
    on: Annotated[str, typer.Option("--on", help="The day the items are dated, YYYY-MM-DD.")],
    as_json: NdjsonOpt = False,
    store: StoreOpt = None,
    database: DatabaseOpt = _DEFAULTS.database,
    tz: TzOpt = _DEFAULTS.timezone,
) -> None:
    """List related and more-in-category items dated on a day, with the snapshot listing them.

    Example: newsstore related --on 2023-08-02
    """
    with _store(store, database, tz) as st:
        start, end = day_range(_day(on), st.zone)
        output.related(st.related_on(start, end), as_json=as_json)


@app.command()
def history(
    url: Annotated[str, typer.Argument(help="The original URL (any spelling) or a content: key.")],
    as_json: JsonOpt = False,
    ndjson: NdjsonOpt = False,
    store: StoreOpt = None,
    database: DatabaseOpt = _DEFAULTS.database,
    tz: TzOpt = _DEFAULTS.timezone,
) -> None:
    """List the earlier contents kept for a URL, newest first.

    Example: newsstore history https://news.example.com/a/1.html --json
    """
    with _store(store, database, tz) as st:
        output.snapshots(st.history(url), as_json=as_json, ndjson=ndjson)


@app.command()
def delete(
    url: Annotated[str, typer.Argument(help="The original URL (any spelling) or a content: key.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is taken down (kept).")],
    store: StoreOpt = None,
    database: DatabaseOpt = _DEFAULTS.database,
    tz: TzOpt = _DEFAULTS.timezone,
) -> None:
    """Take a snapshot down: remove it and its history, and skip it in later imports.

    Example: newsstore delete https://news.example.com/a/1.html --reason "takedown #42"
    """
    with _store(store, database, tz) as st:
        tomb = st.delete(url, reason=reason)
    output.echo(f"deleted {tomb.key}; later imports of it are suppressed")


@app.command()
def restore(
    url: Annotated[str, typer.Argument(help="The original URL (any spelling) or a content: key.")],
    store: StoreOpt = None,
    database: DatabaseOpt = _DEFAULTS.database,
    tz: TzOpt = _DEFAULTS.timezone,
) -> None:
    """Lift a takedown so the URL can be imported again.

    Example: newsstore restore https://news.example.com/a/1.html
    """
    with _store(store, database, tz) as st:
        st.restore(url)
    output.echo(f"restored {url}")


@app.command()
def stats(
    as_json: JsonOpt = False,
    store: StoreOpt = None,
    database: DatabaseOpt = _DEFAULTS.database,
    tz: TzOpt = _DEFAULTS.timezone,
) -> None:
    """Counts by category, source and day; keys with versions; suppressed keys.

    Example: newsstore stats --json
    """
    with _store(store, database, tz) as st:
        output.stats(st.stats(), as_json=as_json)


@app.command()
def parse(
    files: Annotated[
        list[Path], typer.Argument(help="Snapshot text files.", exists=True, dir_okay=False)
    ],
    encoding: EncodingOpt = None,
    tz: TzOpt = _DEFAULTS.timezone,
) -> None:
    """Parse snapshot text files and print JSON (NDJSON for several files).

    Example: newsstore parse examples/snapshot-zh-intl-2023-11-14.txt
    """
    for path in files:
        snapshot = parse_snapshot_file(path, encoding=encoding, timezone=tz)
        output.echo(snapshot.model_dump_json(indent=2 if len(files) == 1 else None))


@app.command()
def render(
    file: Annotated[
        Path,
        typer.Argument(help="A snapshot as JSON (as `parse` or `get` print).", exists=True),
    ],
) -> None:
    """Render a snapshot JSON back to the crawler's text form.

    Example: newsstore parse page.txt > page.json && newsstore render page.json
    """
    try:
        snapshot = Snapshot.model_validate_json(file.read_bytes())
    except ValueError as exc:
        raise typer.BadParameter(f"{file}: {exc}") from None
    sys.stdout.write(render_snapshot(snapshot))


@app.command()
def schema() -> None:
    """Print the JSON Schema of a snapshot record (what import accepts and export writes).

    Example: newsstore schema > snapshot.schema.json
    """
    output.echo(json.dumps(Snapshot.model_json_schema(), ensure_ascii=False, indent=2))


# -- helpers -------------------------------------------------------------------------------
_C = TypeVar("_C", bound=str)


def _choice(name: str, value: str, allowed: tuple[_C, ...]) -> _C:
    """``value`` as the one of ``allowed`` it names (typed as they are), else a usage error."""
    for choice in allowed:
        if value == choice:
            return choice
    raise typer.BadParameter(f"{value!r} is not one of {', '.join(allowed)}", param_hint=name)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date (YYYY-MM-DD)", param_hint="--on"
        ) from None


def _query(
    url: str | None,
    match: str,
    on: str | None,
    from_: str | None,
    to: str | None,
    time_field: str,
    category: str | None,
    source: str | None,
    sort: str,
    limit: int | None,
    offset: int,
    tz: str,
) -> Query:
    how = _choice("--match", match, MATCHES)
    field = _choice("--time", time_field, TIME_FIELDS)
    order = _choice("--sort", sort, SORT_ORDERS)
    zone = Settings(timezone=tz).zone
    start = end = None
    if on is not None:
        if from_ or to:
            raise typer.BadParameter("use --on or --from/--to, not both", param_hint="--on")
        start, end = day_range(_day(on), zone)
    if from_ is not None:
        start = parse_when(from_, zone)
    if to is not None:
        end = parse_when(to, zone, end=True)
    return Query(
        url=url,
        match=how,
        start=start,
        end=end,
        time_field=field,
        category=category,
        source=source,
        sort=order,
        offset=offset,
        limit=limit,
    )


@contextmanager
def _progress(quiet: bool) -> Iterator[Any]:
    """A progress bar on a terminal; nothing when piped or with --quiet."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (
        SpinnerColumn(),
        TextColumn("{task.completed:,} records"),
        TextColumn("{task.fields[rate]:,.0f}/s"),
        TextColumn("{task.fields[mb]:.1f} MB read"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=output.err, transient=True) as bar:
        task = bar.add_task("import", total=None, rate=0.0, mb=0.0)
        read = [0]

        def advance(records: int, nbytes: int) -> None:
            read[0] += nbytes
            elapsed = bar.tasks[0].elapsed or 1e-9
            completed = bar.tasks[0].completed + records
            bar.update(task, advance=records, rate=completed / elapsed, mb=read[0] / 1e6)

        yield advance


def main() -> None:
    """Console-script entry point."""
    app()
