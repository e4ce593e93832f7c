"""``dump``, ``restore``, ``copy`` and ``rekey``: whole stores, moved and re-keyed."""

from __future__ import annotations

from typing import Annotated

import typer

import newsstore

from . import output
from .core import StoreArgs, app, paused_gc, store_options
from .options import OutputOpt

QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


@app.command()
@store_options
def dump(
    out: OutputOpt = None,
    quiet: QuietOpt = False,
    *,
    store: StoreArgs,
) -> None:
    """Write the whole store as one NDJSON archive: metadata, takedowns, snapshots, history.

    Everything a store holds comes back with `newsstore restore`, in any store.

    Example: newsstore dump -o store.ndjson.gz
    """
    with (
        store.open() as st,
        output.destination(out, protect=st.files()) as fp,
        output.counting(quiet, "records") as progress,
    ):
        counts = st.dump(fp, progress=progress)
    output.dumped(counts, out)


@app.command()
@store_options
def restore(
    archive: Annotated[
        str,
        typer.Argument(metavar="ARCHIVE", help="An archive `newsstore dump` wrote (.gz too)."),
    ],
    quiet: QuietOpt = False,
    *,
    store: StoreArgs,
) -> None:
    """Rebuild a dump in this store, merging with what it holds.

    Takedowns win over content, history is a union, the newer snapshot is current; running
    it again converges. To lift a takedown, use `newsstore lift-takedown`.

    Example: newsstore --store mongodb://db1/news restore store.ndjson.gz
    """
    # Before the store is opened, so that a typo or an archive of other keys creates nothing.
    newsstore.archive_header(archive, settings=newsstore.Settings())
    with (
        store.open(create=True) as st,
        output.counting(quiet, "records") as progress,
        paused_gc(),
    ):
        report = st.restore(archive, progress=progress)
    output.restored(report)
    if report.rejected:
        raise typer.Exit(1)


@app.command()
@store_options
def copy(
    to: Annotated[
        str, typer.Option("--to", metavar="URI", help="The store to copy into (a URI or path).")
    ],
    quiet: QuietOpt = False,
    *,
    store: StoreArgs,
) -> None:
    """Copy everything from --store into another store, in batches, then check the counts.

    --to names the target whole: a MongoDB URI's database is the one its path names (else
    newsstore), never --database or NEWSSTORE_DATABASE, which name --store's. Exit code 1
    when records were rejected or the counts differ (named). Re-running it converges.

    Example: newsstore copy --to mongodb://db1,db2,db3/news?replicaSet=rs0
    """
    with (
        store.open() as source,
        store.open(create=True, uri=to) as target,
        output.counting(quiet, "records") as progress,
        paused_gc(),
    ):
        report = newsstore.copy_store(source, target, progress=progress)
    output.copied(report)
    if report.written.rejected or report.differences:
        raise typer.Exit(1)


@app.command()
@store_options
def rekey(
    quiet: QuietOpt = False,
    *,
    store: StoreArgs,
) -> None:
    """Re-key the store under the tracking parameters now set (NEWSSTORE_TRACKING_PARAMS).

    Records whose keys now coincide are merged (history kept, takedowns applied); the store
    then records the new list. Resumable: run it again if it was stopped.

    Example: NEWSSTORE_TRACKING_PARAMS='utm_*,fbclid,ref' newsstore rekey
    """
    with (
        store.open(rekey=True) as st,
        output.counting(quiet, "keys") as progress,
        paused_gc(),
    ):
        report = st.rekey(progress=progress)
        params = st.meta.tracking_params
    output.rekeyed(report, params)
    if report.rejected:
        raise typer.Exit(1)
