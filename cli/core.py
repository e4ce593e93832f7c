"""What every command module shares: the ``app``, its error handling and the store options.

Options several commands share are decorators, as in sqlite-utils: ``@store_options`` (here)
turns a command's ``store: StoreArgs`` parameter into ``--store``, ``--database`` and ``--tz``;
``@filter_options`` (in :mod:`.options`) turns its ``query: Query`` parameter into the lookup
filters (``--url``, ``--on``, ``--from``, …), read by the library into one ``Query``.
Commands live in :mod:`.app` and in one module per feature, each registering on ``app``.
"""

from __future__ import annotations

import errno
import gc
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

# Only the light names at start-up (--help starts in a fraction of a second); the rest of
# the library loads when a command uses it, through ``newsstore.…``.
import newsstore
from newsstore import InvalidQueryError, InvalidURLError, NewsstoreError

if TYPE_CHECKING:
    from newsstore import Store

from . import output
from .options import DatabaseOpt, StoreOpt, TzOpt, click_exceptions, option, replacing

__all__ = ["StoreArgs", "app", "paused_gc", "store_options"]


class _UsageError(click_exceptions.UsageError):  # type: ignore[misc]
    """A usage error shown as one line: ``Error: …`` and where to find help."""

    def __init__(self, message: str, ctx: Any, command: str | None = None) -> None:
        super().__init__(message, ctx)
        self.command_path = ctx.command_path if ctx is not None else None
        if command and self.command_path:
            self.command_path += f" {command}"

    @classmethod
    def of(cls, cause: Any) -> _UsageError:
        return cls(cause.format_message(), cause.ctx)

    def show(self, file: Any = None) -> None:
        hint = f" (see '{self.command_path} -h')" if self.command_path else ""
        output.error(newsstore.redact_uri(self.format_message()) + hint)


class _Group(TyperGroup):
    """Turns every NewsstoreError into one line on stderr and exit code 1, and every usage
    error (click's, or a query or URL the library refuses) into one line and exit code 2,
    in one place, for every command."""

    def get_command(self, ctx: Any, name: str) -> Any:
        command = super().get_command(ctx, name)
        for param in getattr(command, "params", ()):
            if param.param_type_name == "argument" and param.metavar is not None:
                # The metavar is the word to show (PATH, URL): Typer would add the Python
                # type after it (PATH <list[str]>).
                param.display_type_rich = lambda ctx: None
        return command

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except click_exceptions.NoArgsIsHelpError:
            raise
        except click_exceptions.UsageError as exc:
            raise _UsageError.of(exc) from None

    def invoke(self, ctx: Any) -> Any:
        if sys.stderr is None:  # closed (2>&-): errors are lost, the exit code still tells
            sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the process's life
        if sys.stdout is None:  # closed (>&-): what a command prints would be lost
            output.error("standard output is closed")
            raise typer.Exit(1)
        try:
            return super().invoke(ctx)
        except click_exceptions.NoArgsIsHelpError:
            raise
        except _UsageError:
            raise
        except click_exceptions.UsageError as exc:
            raise _UsageError.of(exc) from None
        except (InvalidQueryError, InvalidURLError) as exc:
            # Values the user typed that the library refuses (a --url that is no URL, an
            # unknown field): usage errors, whichever library call found them.
            raise _UsageError(str(exc), ctx, ctx.invoked_subcommand) from None
        except NewsstoreError as exc:
            output.error(newsstore.redact_uri(str(exc)))
            raise typer.Exit(1) from None
        except OSError as exc:
            # A file the user named cannot be written or read (disk full, permissions): one
            # line too, not a traceback. A closed pipe is left to click, which exits quietly.
            if exc.errno == errno.EPIPE:
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            output.error(f"{where}{exc.strerror or exc}")
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_Group,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,  # plain usage errors: one readable block, easy to grep
    pretty_exceptions_show_locals=False,  # a MongoDB URI in a local may hold a password
    help="Keep crawled news-page snapshots, deduplicated on their original URL.",
)


@dataclass(frozen=True)
class StoreArgs:
    """The store a command names with ``--store``, ``--database`` and ``--tz``."""

    uri: str | None
    database: str | None
    tz: str

    @contextmanager
    def open(
        self, *, create: bool = False, rekey: bool = False, uri: str | None = None
    ) -> Iterator[Store]:
        """The store, open for the ``with`` block; only commands that write may create it
        (a mistyped path is then an error naming it, as in sqlite-utils). ``rekey``: open
        it to be re-keyed; ``uri``: open that store instead, with the same zone. ``uri`` names
        its store whole: its database is the URI's, never --database or NEWSSTORE_DATABASE,
        which name this one's."""
        # Given, even empty (--store "", --to "$UNSET"), a URI is passed on as given: an
        # empty one is refused, never taken for the default store.
        target, database = (self.uri, self.database) if uri is None else (uri, None)
        settings = newsstore.Settings(database=database, timezone=self.tz)
        with newsstore.open_store(uri=target, settings=settings, create=create, rekey=rekey) as st:
            yield st


store_options = replacing(
    "store",
    [
        option("store_uri", StoreOpt, None),
        option("database", DatabaseOpt, None),
        option("tz", TzOpt, newsstore.DEFAULT_TIMEZONE),
    ],
    lambda values: StoreArgs(values["store_uri"], values["database"], values["tz"]),
)
"""``--store``, ``--database`` and ``--tz`` in place of a command's ``store: StoreArgs``."""


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cycle collector off for the block, and back on after if it was on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
