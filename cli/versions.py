"""Versions: ``history`` (a key's versions) and ``diff`` (what changed between two).

``find --changed`` and ``get --version`` are options of their commands in :mod:`.app`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from . import output_versions
from .core import StoreArgs, app, store_options
from .options import JsonOpt, UrlArg

VersionOpt = Annotated[int | None, typer.Option(min=1, help="A version number (see history).")]


@app.command()
@store_options
def history(url: UrlArg, as_json: JsonOpt = False, *, store: StoreArgs) -> None:
    """List a URL's versions, oldest first: snapshot time, hash, what changed from the one before.

    Example: newsstore history https://news.example.com/a/1.html --json
    """
    with store.open() as st:
        output_versions.versions(st.versions(url), as_json=as_json)


@app.command()
@store_options
def diff(
    url: UrlArg,
    old: Annotated[
        int | None,
        typer.Option("--from", min=1, metavar="N", help="Older version (default: the one before)."),
    ] = None,
    new: Annotated[
        int | None,
        typer.Option("--to", min=1, metavar="M", help="The newer version (default: the current)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON.")] = False,
    color: Annotated[
        bool | None,
        typer.Option("--color/--no-color", help="Colour it (default: on a terminal only)."),
    ] = None,
    *,
    store: StoreArgs,
) -> None:
    """Show what changed between two versions of a URL: fields, paragraphs, characters.

    Coloured on a terminal, a unified diff when piped, structured with --json.

    Example: newsstore diff https://news.example.com/a/1.html --from 1 --to 3
    """
    with store.open() as st:
        result = st.diff(url, old, new)
    output_versions.version_diff(result, as_json=as_json, color=color)
