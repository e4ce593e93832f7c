"""Commands for the other copies of a story: ``similar``, ``clusters`` and ``backfill``."""

from __future__ import annotations

from typing import Annotated

import typer

import newsstore

from . import output, output_similar
from .core import StoreArgs, app, store_options
from .options import FromOpt, JsonOpt, OnOpt, ToOpt, UrlArg

MaxDistanceOpt = Annotated[
    int | None,
    typer.Option(
        "--max-distance",
        min=0,
        max=64,
        metavar="K",
        help="How many of the 64 fingerprint slots may differ (default:"
        " NEWSSTORE_SIMILAR_DISTANCE, 32).",
    ),
]


@app.command()
@store_options
def similar(
    url: UrlArg, max_distance: MaxDistanceOpt = None, as_json: JsonOpt = False, *, store: StoreArgs
) -> None:
    """List the other stored snapshots of the same story, nearest first.

    Example: newsstore similar https://news.example.com/a/1.html --max-distance 20
    """
    with store.open() as st:
        output_similar.similar(st.similar(url, max_distance=max_distance), as_json=as_json)


@app.command()
@store_options
def clusters(
    on: OnOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    max_distance: MaxDistanceOpt = None,
    as_json: JsonOpt = False,
    *,
    store: StoreArgs,
) -> None:
    """Group the snapshots published in a window into stories, largest first.

    Example: newsstore clusters --on 2023-11-14
    """
    start, end = newsstore.time_window(on=on, start=from_, end=to, zone=store.tz)
    if start is None or end is None:
        raise typer.BadParameter("give --on DAY, or both --from and --to")
    with store.open() as st:
        output_similar.clusters(st.clusters(start, end, max_distance=max_distance), as_json=as_json)


@app.command()
@store_options
def backfill(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    *,
    store: StoreArgs,
) -> None:
    """Fingerprint the snapshots stored before fingerprints existed (resumable).

    A MongoDB store is backfilled here; a SQLite store is upgraded when first opened, so
    this opens it (with a progress bar) and has nothing left to do.

    Example: newsstore backfill --store mongodb://localhost/news
    """
    upgraded = [0]
    settings = newsstore.Settings(store=store.uri, database=store.database, timezone=store.tz)
    with output.steps(quiet, "fingerprinted") as bar:

        def upgrading(done: int, total: int) -> None:
            upgraded[0] = done
            bar(done, total)

        with newsstore.open_store(settings=settings, create=False, progress=upgrading) as st:
            done = st.backfill(progress=bar)
    output.echo(f"{upgraded[0] + done} snapshots fingerprinted")
