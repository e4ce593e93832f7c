"""An import's records, prepared in file order, in worker processes when that pays.

The rules, all here:

* Records are taken in chunks of :data:`CHUNK`. The line memory (when the store keeps
  one) recalls what it knows of a chunk's NDJSON lines in one lookup; a recalled line is
  not prepared at all.
* With workers, the chunk's other NDJSON lines go to a pool of worker processes, which
  validate, hash, key and digest them with the store's
  :class:`~newsstore._preparing.Recipe` and send back each line's :class:`Incoming` (tagged
  with its digest) or error. Records of other formats (a JSON array's items, snapshot
  pages), already parsed by the reader, are prepared here.
* The pool starts only once an import has had :data:`START_AFTER` lines to prepare: its
  processes take about half a second to start, more than a small import or a re-import
  of known lines costs. Until then, and with one worker, records are prepared here.
* Up to :data:`AHEAD` chunks (two per worker with more workers) are in flight while the
  write loop saves the ones before them, so the workers go on through a commit; records
  come out in the order they were read, whatever the order the workers finish in, so
  batches, reports, rejects and policies are those of a single process.
* Workers ignore SIGINT: Ctrl-C reaches the importing process, which stops as it does
  without workers; the chunks in flight are dropped (they were not saved). A worker ends
  when the importing process ends, however it ends (killed, out of memory).

Worker processes are started with ``spawn`` (a fresh interpreter: no inherited driver
threads or open databases). As with any ``spawn`` pool, a script that imports with
``workers`` greater than 1 must guard its entry point with ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from itertools import islice
from types import TracebackType
from typing import Any, Literal

from ._errors import NewsstoreError, SettingsError
from ._linememory import LineMemory, digester, recalled, remembered
from ._preparing import Prepared, Recipe, RecordPreparer
from ._records import Record

__all__ = ["AHEAD", "CHUNK", "START_AFTER", "Workers", "prepared", "worker_count"]

CHUNK = 128
START_AFTER = 2_000
# Chunks in flight: a write group's commit takes a second or more on a large store, and a
# worker with only two chunks to do waits through most of it (100k bench records, one
# worker: 2,648-2,756/s with two, 3,006-3,157/s with eight; the importing process ~18 MB
# larger).
AHEAD = 8
_AUTO_MOST = 4  # beyond this the single writer is the limit
# A block goes to a worker and comes back as ~1.5 MB each way (bench records). Through a
# pipe's default 64 KiB that is ~25 writes, each waiting for the reader and, in this
# process, for the GIL (the pool's feeder and result threads share it with the writing
# thread): a worker waited ~3.4 ms a block for its next one and ~2.9 ms to send a result.
# It matters most while a full collection of the cycle collector holds the GIL (~34 ms):
# 100k bench records, collector on, 2,667 → 3,187/s; paused (newsstore import), no change
# that 6 rounds show. 1 MiB is what Linux lets any process ask for (pipe-max-size).
_PIPE_SIZE = 1 << 20

Block = list[tuple[bytes, dict[str, Any], str, int | None]]


def worker_count(workers: int | Literal["auto"]) -> int:
    """How many worker processes ``workers`` asks for, 0 for none (this process prepares):
    ``1`` is none, ``N`` is N; ``"auto"`` is one per usable core but the one the importing
    process writes on, up to four, and none on a single core.

    The importing process (the single writer) is the limit: on two cores, one worker
    validates as fast as it writes, and a second one costs ~50 MB for no speed (100k
    bench records: 3,006-3,157/s against 3,071-3,248/s; bench/README.md)."""
    if workers == "auto":
        try:
            cores = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):  # not on Linux
            cores = os.cpu_count() or 1
        return 0 if cores < 2 else min(cores - 1, _AUTO_MOST)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SettingsError(f"workers must be a whole number ≥ 1 or 'auto', not {workers!r}")
    return 0 if workers == 1 else workers


class Workers:
    """A pool of worker processes preparing NDJSON lines by a recipe, started on demand."""

    def __init__(self, recipe: Recipe, count: int) -> None:
        self._recipe = recipe
        self.count = count
        self._pool: ProcessPoolExecutor | None = None
        self.blocks = 0  # blocks sent: how much of the import the workers did

    def submit(
        self, block: Block, scope: str | None
    ) -> Future[list[tuple[bytes | None, Prepared]]]:
        """Send ``block`` to a worker; its result is each line's digest in a line memory of
        ``scope`` (None: no memory) and what it gives, in order (an :class:`Incoming`
        tagged with that digest, as :func:`~newsstore._linememory.remembered` tags it)."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.count,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start,
                initargs=(self._recipe,),
            )
            _widen_pipes(self._pool)
        self.blocks += 1
        # The pool starts its processes in submit: with SIGINT blocked here, they start
        # with it blocked (a mask survives exec), so that a Ctrl-C that comes while one
        # is still importing its modules stops it with no traceback of its own.
        with _sigint_blocked(), _worker_failures():
            return self._pool.submit(_prepare_block, block, scope)

    def __enter__(self) -> Workers:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._pool is not None:
            # Stopped early (Ctrl-C, a strict import's error): what is queued is dropped.
            self._pool.shutdown(wait=True, cancel_futures=kind is not None)
            self._pool = None


def prepared(
    records: Iterator[Record],
    prepare: RecordPreparer,
    memory: LineMemory | None,
    workers: Workers | None,
) -> Iterator[tuple[Record, Prepared]]:
    """Each record with what it gives, in the order read (see the module docstring)."""
    ahead: deque[_Chunk] = deque()
    depth = 0 if workers is None else max(AHEAD, 2 * workers.count)
    scope = None if memory is None else memory.scope
    to_prepare = 0
    while True:
        chunk: list[Record] = []
        failure: Exception | None = None
        try:
            chunk.extend(islice(records, CHUNK))
        except Exception as exc:  # the file cannot be read on: the lines before it count
            failure = exc
        sent: Future[list[tuple[bytes | None, Prepared]]] | None = None
        if workers is not None and to_prepare >= START_AFTER:
            # The workers digest the lines too; the memory is asked when they are back.
            block: Block = []
            for record in chunk:
                if (pending := record.pending_json()) is not None:
                    block.append((pending[0], pending[1], record.source, record.line))
            if block:
                sent = workers.submit(block, scope)
        if sent is None and memory is not None:
            digests, known = memory.recall(chunk)
        else:
            digests, known = [None] * len(chunk), {}
        to_prepare += len(chunk) - len(known)
        ahead.append(_Chunk(chunk, digests, known, sent))
        done = failure is not None or len(chunk) < CHUNK
        while ahead and (done or len(ahead) > depth):
            yield from ahead.popleft().results(prepare, memory)
        if failure is not None:
            raise failure
        if done:
            return


class _Chunk:
    """Records read together, what the memory knows of them, and the workers' share."""

    __slots__ = ("digests", "known", "records", "sent")

    def __init__(
        self,
        records: list[Record],
        digests: list[bytes | None],
        known: dict[bytes, tuple[str, str]],
        sent: Future[list[tuple[bytes | None, Prepared]]] | None,
    ) -> None:
        self.records = records
        self.digests = digests
        self.known = known
        self.sent = sent

    def results(
        self, prepare: RecordPreparer, memory: LineMemory | None
    ) -> Iterator[tuple[Record, Prepared]]:
        chunk, digests, known = self.records, self.digests, self.known
        done: list[Prepared] = []
        if self.sent is not None:
            with _worker_failures():
                back = self.sent.result()
            # Back in the order sent: the chunk's NDJSON lines (all of them, in a file).
            it = iter(back)
            digests = [
                next(it)[0] if record.pending_json() is not None else None for record in chunk
            ]
            if memory is not None:
                known = memory.known(digests)
            done = [prepared for _, prepared in back]
            done.reverse()
        by_worker = self.sent is not None
        # Popped, not iterated: a record holds its model once prepared, and a model freed
        # at once, still in the CPU cache, costs a fraction of a chunk freed at the end.
        chunk.reverse()
        digests.reverse()
        while chunk:
            record = chunk.pop()
            digest = digests.pop()
            theirs = done.pop() if by_worker and record.pending_json() is not None else None
            if digest is not None and (found := known.get(digest)) is not None:
                yield record, recalled(record, *found)
            elif theirs is not None:
                yield record, theirs  # remembered by the worker when it has a digest
            else:
                result = prepare(record)
                yield record, (result if digest is None else remembered(result, digest))
            del record  # the consumer's reference is the last one


def _widen_pipes(pool: ProcessPoolExecutor) -> None:
    """Give the pool's two pipes (blocks out, results back) :data:`_PIPE_SIZE` buffers
    where the system lets it (Linux); elsewhere, or refused, they stay as they are."""
    try:
        import fcntl

        set_size = fcntl.F_SETPIPE_SZ  # type: ignore[attr-defined,unused-ignore]
    except (ImportError, AttributeError):  # not Linux
        return
    # The pool's queues are not public; a Python that renames them keeps the default.
    ends = (
        getattr(getattr(pool, "_call_queue", None), "_writer", None),
        getattr(getattr(pool, "_result_queue", None), "_reader", None),
    )
    for end in ends:
        with suppress(AttributeError, OSError, ValueError):  # EPERM: over a user's quota
            fcntl.fcntl(end.fileno(), set_size, _PIPE_SIZE)  # type: ignore[union-attr]


@contextmanager
def _worker_failures() -> Iterator[None]:
    """A worker process that died (killed, out of memory) as a NewsstoreError: the pool
    says so at the next result or submit."""
    try:
        yield
    except BrokenProcessPool as exc:
        raise NewsstoreError(
            f"an import worker process stopped ({exc}); import with one worker"
            " (--workers 1) to see why"
        ) from exc


@contextmanager
def _sigint_blocked() -> Iterator[None]:
    if not hasattr(signal, "pthread_sigmask"):  # not POSIX: the initializer's SIG_IGN only
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


_PREPARE: RecordPreparer | None = None


def _start(recipe: Recipe) -> None:
    """A worker's start: its preparer; Ctrl-C is for the importing process to handle (the
    mask it started with is lifted: only SIGINT is ignored); it ends with that process."""
    global _PREPARE
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    parent = multiprocessing.parent_process()
    if parent is not None:
        # An importing process that is killed (kill -9, out of memory) never shuts the pool
        # down, and the worker would wait for its next block for ever: the pool's queues
        # give it no end of file, as it holds both ends of their pipes.
        threading.Thread(
            target=_exit_with, args=(parent.sentinel,), name="newsstore-parent", daemon=True
        ).start()
    _PREPARE = recipe.preparer()


def _exit_with(sentinel: int) -> None:
    """Wait until the importing process has ended, then end this worker at once."""
    multiprocessing.connection.wait([sentinel])
    os._exit(1)


def _prepare_block(block: Block, scope: str | None) -> list[tuple[bytes | None, Prepared]]:
    prepare = _PREPARE
    assert prepare is not None
    digest = None if scope is None else digester(scope)
    out: list[tuple[bytes | None, Prepared]] = []
    for raw, context, source, line in block:
        result = prepare(Record.pending(source, line, raw, context))
        if digest is None:
            out.append((None, result))
        else:
            # Tagged here, not by the importing process, which is the one that waits.
            value = digest(raw)
            out.append((value, remembered(result, value)))
    return out
