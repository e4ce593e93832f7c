"""The ``newsstore`` commands: each parses options, calls one library function, prints.

The shared pieces (the ``app``, ``@store_options``) are in :mod:`.core`, the option
definitions in :mod:`.options`; everything shown to the user goes through :mod:`.output`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, get_args

import typer

# Only the light names at start-up (--help starts in a fraction of a second); the rest of
# the library loads when a command uses it, through ``newsstore.…``.
import newsstore
from newsstore import ExportFormat, Format, Policy, __version__

from . import output, output_versions
from .core import StoreArgs, app, paused_gc, store_options
from .options import (
    EncodingOpt,
    FieldsOpt,
    GlobalDatabaseOpt,
    GlobalStoreOpt,
    GlobalTzOpt,
    JsonObjectOpt,
    JsonOpt,
    NdjsonOpt,
    OutputOpt,
    TzOpt,
    UrlArg,
    WorkersOpt,
    filter_options,
    readable_as,
)

if TYPE_CHECKING:
    from newsstore import Query as QueryType
else:
    # What a command's ``query`` parameter is annotated with. @filter_options replaces the
    # parameter, and its decorators evaluate every annotation at start-up: a placeholder
    # there keeps ``--help`` from loading the query model (pydantic, ~70 ms).
    QueryType = object


# -- commands ------------------------------------------------------------------------------
def _version(value: bool) -> None:
    if value:
        output.echo(f"newsstore {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    store: GlobalStoreOpt = None,
    database: GlobalDatabaseOpt = None,
    tz: GlobalTzOpt = None,
) -> None:
    """Keep crawled news-page snapshots, deduplicated on their original URL.

    --store, --database and --tz go before the command or after it (after it wins).

    Example: newsstore import examples/snapshot-zh-intl-2023-11-14.txt
    """


@app.command("import")
@store_options
def import_(
    paths: Annotated[
        list[str], typer.Argument(metavar="PATH", help="Files, directories or - for stdin.")
    ],
    format: Annotated[
        Format,
        typer.Option(
            "--format",
            help="auto (detected), json (an array or object), ndjson, ejson (Extended JSON,"
            " one object a line) or text (snapshot pages).",
        ),
    ] = "auto",
    on_duplicate: Annotated[
        Policy, typer.Option("--on-duplicate", help=f"Policy: {', '.join(get_args(Policy))}.")
    ] = "newest",
    batch_size: Annotated[
        int,
        typer.Option(
            "--batch-size", min=1, max=1_000_000, metavar="N", help="Records written at a time."
        ),
    ] = 1000,
    rejects: Annotated[
        Path | None,
        typer.Option("--rejects", metavar="FILE", help="Write rejected records here (NDJSON)."),
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Stop at the first bad record.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and count only.")] = False,
    glob: Annotated[
        str | None,
        typer.Option(
            "--glob",
            metavar="PATTERN",
            help="Files to read inside directories. Default: the known formats (*.json,"
            " *.ndjson, *.jsonl, *.txt and their .gz).",
        ),
    ] = None,
    follow_symlinks: Annotated[
        bool,
        typer.Option(
            "--follow-symlinks", help="In directories, follow links that lead out of them."
        ),
    ] = False,
    encoding: EncodingOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    workers: WorkersOpt = "auto",
    *,
    store: StoreArgs,
) -> None:
    """Import snapshots from JSON, NDJSON, Extended JSON, snapshot text, .gz or directories.

    Exit code 0 when every record landed, 1 when some were rejected.

    Example: newsstore import crawl.ndjson.gz --rejects rejects.ndjson
    """
    # The CLI owns its process, so it may pause the cycle collector: an import allocates
    # millions of short-lived acyclic objects, and the collector's scans of them cost about a
    # sixth of the import time. A library called inside someone else's program must not.
    with store.open(create=not dry_run) as st, output.progress(quiet) as progress, paused_gc():
        try:
            result = st.import_records(
                paths,
                format=format,
                policy=on_duplicate,
                batch_size=batch_size,
                rejects=rejects,
                strict=strict,
                dry_run=dry_run,
                glob=glob,
                follow_symlinks=follow_symlinks,
                encoding=encoding,
                progress=progress,
                workers="auto" if workers == "auto" else int(workers),
            )
        except newsstore.ImportInterrupted as stop:
            # Interrupted: say what landed (it is committed), then exit as shells expect.
            progress.close()
            output.report(stop.report, dry_run=dry_run, as_json=as_json, stopped="interrupted")
            raise typer.Exit(130) from None
        except newsstore.InvalidRecordError as stop:
            if stop.report is None:
                raise
            progress.close()
            output.report(stop.report, dry_run=dry_run, as_json=as_json, stopped="--strict")
            raise typer.Exit(1) from None
    output.report(result, dry_run=dry_run, as_json=as_json)
    if result.rejected:
        raise typer.Exit(1)


@app.command()
@filter_options(limit=None)
@store_options
def export(
    out: OutputOpt = None,
    format: Annotated[
        ExportFormat,
        typer.Option("--format", help=f"One of {', '.join(get_args(ExportFormat))}."),
    ] = "ndjson",
    fields: FieldsOpt = None,
    *,
    query: QueryType,
    store: StoreArgs,
) -> None:
    """Export snapshots as NDJSON, a JSON array or Extended JSON, streamed.

    Example: newsstore export --on 2023-11-14 --format json -o day.json
    """
    with (
        store.open() as st,
        output.destination(out, protect=st.files()) as fp,
        output.export_progress(out, lambda: _matching(st, query)) as progress,
    ):
        count = st.export(fp, query, format=format, fields=fields, progress=progress)
    output.written(count, out)


def _matching(st: newsstore.Store, query: newsstore.Query) -> int:
    """How many snapshots a query gives: those matching, after its offset, up to its limit."""
    left = max(0, st.count(query) - query.offset)
    return left if query.limit is None else min(left, query.limit)


@app.command()
@store_options
def get(
    url: UrlArg,
    version: Annotated[
        int | None,
        typer.Option(
            "--version",
            metavar="N",
            help="That version (1 = oldest; see history), not the current.",
        ),
    ] = None,
    *,
    store: StoreArgs,
) -> None:
    """Print the stored snapshot for a URL as JSON (| newsstore render - for its text).

    Example: newsstore get "https://news.example.com/a/1.html?utm_source=x" --version 1
    """
    with store.open() as st:
        output.snapshot_json(st.get(url) if version is None else st.version(url, version).snapshot)


@app.command()
@filter_options(limit=50, offset=True)
@store_options
def find(
    *,
    query: QueryType,
    format: Annotated[
        output.ListFormat,
        typer.Option("--format", help="table (default), tsv, csv, json (an array) or ndjson."),
    ] = "table",
    fields: FieldsOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON array (--format json).")
    ] = False,
    ndjson: Annotated[
        bool, typer.Option("--ndjson", help="One JSON object a line (--format ndjson).")
    ] = False,
    count: Annotated[bool, typer.Option("--count", help="Print only how many match.")] = False,
    changed: Annotated[
        bool,
        typer.Option(
            "--changed",
            help="Keys that got a new version in the window (--on, --from/--to), by snapshot"
            " time, with their version counts.",
        ),
    ] = False,
    store: StoreArgs,
) -> None:
    """Find snapshots by URL, date, category or source, newest first; or keys that changed.

    A table says how many matched when it shows fewer (--limit 0 shows all). --fields picks
    the columns (dotted: stored.key), as export --fields picks fields.

    Example: newsstore find --on 2023-11-14 --category 国际 --format tsv
    (or: newsstore find --changed --on 2023-11-14)
    """
    if as_json + ndjson + (format != "table") > 1:
        raise typer.BadParameter("--json, --ndjson and --format each name a format: give one")
    extra = query.url or query.category or query.source or count or ndjson or fields
    if changed and (extra or format != "table"):
        raise typer.BadParameter("--changed takes only --on, --from/--to and --json")
    with store.open() as st:
        if changed:
            output_versions.changed_keys(st.changed(query.start, query.end), as_json=as_json)
            return
        if count:
            output.echo(str(st.count(query)))
            return
        shown = output.snapshots(
            st.find(query),
            as_json=as_json,
            ndjson=ndjson,
            time_field=query.time_field,
            format=format,
            fields=fields,
        )
        # The note goes to stderr: a TSV or CSV cut at --limit says so too, its rows intact.
        listing = format in ("table", "tsv", "csv") and not (as_json or ndjson)
        if listing and shown and shown == query.limit:
            output.shown_of(shown, query.offset, st.count(query))


@app.command()
@store_options
def related(
    on: Annotated[
        str,
        typer.Option(
            "--on",
            metavar="DATE",
            callback=readable_as("on"),
            help="The day the items are dated, YYYY-MM-DD.",
        ),
    ],
    as_json: JsonOpt = False,
    ndjson: NdjsonOpt = False,
    *,
    store: StoreArgs,
) -> None:
    """List related and more-in-category items dated on a day, with the snapshot listing them.

    Example: newsstore related --on 2023-08-02
    """
    if as_json and ndjson:
        raise typer.BadParameter("--json and --ndjson each name a format: give one")
    start, end = newsstore.time_window(on=on, zone=store.tz)
    assert start is not None  # a day has both ends
    assert end is not None
    with store.open() as st:
        output.related(st.related_on(start, end), as_json=as_json, ndjson=ndjson)


@app.command()
@store_options
def delete(
    url: UrlArg,
    reason: Annotated[
        str, typer.Option("--reason", metavar="TEXT", help="Why it is taken down (kept).")
    ],
    *,
    store: StoreArgs,
) -> None:
    """Take a snapshot down: remove it and its history, and skip it in later imports.

    Example: newsstore delete https://news.example.com/a/1.html --reason "takedown #42"
    """
    with store.open(create=True) as st:
        tomb = st.delete(url, reason=reason)
    output.taken_down(tomb)


@app.command("lift-takedown")
@store_options
def lift_takedown(url: UrlArg, *, store: StoreArgs) -> None:
    """Lift a takedown so the URL can be imported again (nothing comes back by itself).

    Example: newsstore lift-takedown https://news.example.com/a/1.html
    """
    with store.open() as st:
        tomb = st.lift_takedown(url)
    output.lifted(tomb)


@app.command()
@store_options
def takedowns(as_json: JsonOpt = False, *, store: StoreArgs) -> None:
    """List the takedowns: key, URL, reason and date, newest first.

    Example: newsstore takedowns --json
    """
    with store.open() as st:
        output.tombstones(st.tombstones(), as_json=as_json)


@app.command()
@store_options
def stats(as_json: JsonObjectOpt = False, *, store: StoreArgs) -> None:
    """Counts by category, source and day; keys with versions; suppressed keys.

    Example: newsstore stats --json
    """
    with store.open() as st:
        output.stats(st.stats(), as_json=as_json)


@app.command()
@store_options
def doctor(as_json: JsonObjectOpt = False, *, store: StoreArgs) -> None:
    """Report what the store runs on: server version, topology, write durability, indexes.

    Exit code 1 when an index that lookups need is missing.

    Example: newsstore doctor --store mongodb://db1,db2/news?replicaSet=rs0
    """
    with store.open() as st:
        diagnosis = st.diagnose()
    output.diagnosis(diagnosis, as_json=as_json)
    if diagnosis.missing:
        raise typer.Exit(1)


def _readable(names: list[str]) -> list[str]:
    """Files to read, or - for stdin: a missing one is a usage error, as for Path arguments."""
    for name in names:
        if name != "-" and not Path(name).is_file():
            raise typer.BadParameter(f"{name!r} is not a file")
    return names


@app.command()
def parse(
    files: Annotated[
        list[str],
        typer.Argument(
            help="Snapshot text files, or - for stdin.", metavar="FILE", callback=_readable
        ),
    ],
    encoding: EncodingOpt = None,
    tz: TzOpt = newsstore.DEFAULT_TIMEZONE,
) -> None:
    """Parse snapshot text files and print JSON (NDJSON for several files).

    Example: newsstore parse examples/snapshot-zh-intl-2023-11-14.txt
    """
    for name in files:
        if name == "-":
            data = sys.stdin.buffer.read()
            snapshot = newsstore.parse_snapshot_bytes(
                data, encoding=encoding, source="<stdin>", timezone=tz
            )
        else:
            snapshot = newsstore.parse_snapshot_file(name, encoding=encoding, timezone=tz)
        output.emit(snapshot.model_dump_json(indent=2 if len(files) == 1 else None))


@app.command()
def render(
    file: Annotated[
        str,
        typer.Argument(
            help="Snapshots as JSON: one object, an array or NDJSON (what parse, get, find"
            " --json and export print), or - for stdin.",
            metavar="FILE",
            callback=lambda name: _readable([name])[0],
        ),
    ],
    tz: TzOpt = newsstore.DEFAULT_TIMEZONE,
) -> None:
    """Render snapshots back to the crawler's text form, in a zone (blank line between).

    Example: newsstore parse page.txt | newsstore render -
    """
    for i, record in enumerate(newsstore.read_records(file, format="auto", timezone=tz)):
        if record.error is not None:
            raise record.error
        assert record.snapshot is not None
        output.snapshot_text(newsstore.render_snapshot(record.snapshot, timezone=tz), first=i == 0)


@app.command()
def schema() -> None:
    """Print the JSON Schema of a snapshot record (what import accepts and export writes).

    Example: newsstore schema > snapshot.schema.json
    """
    output.emit(json.dumps(newsstore.Snapshot.model_json_schema(), ensure_ascii=False, indent=2))


from . import archive as _archive  # noqa: F401, E402  (registers its commands)
from . import similar as _similar  # noqa: F401, E402  (registers its commands)
from . import versions as _versions  # noqa: F401, E402  (registers its commands)


def main() -> None:
    """Console-script entry point."""
    app()
