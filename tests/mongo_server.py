"""A throwaway MongoDB wire-protocol server for the tests (mongoeco, in memory).

Run it with its own interpreter (mongoeco needs CPython >= 3.13; the project stays on 3.10+)::

    /tmp/mongoeco-venv/bin/python tests/mongo_server.py [--port-file FILE] [--host 127.0.0.1]

It binds a free loopback port, and once the server accepts connections prints its URI
(``mongodb://127.0.0.1:PORT/?directConnection=true``) on stdout and, with ``--port-file``,
writes it atomically to FILE. Then it serves until SIGTERM or SIGINT, stops cleanly and
removes FILE. Point the tests at it with ``NEWSSTORE_TEST_MONGODB_URI="$(cat FILE)"``.
Exit status 2: Python too old or mongoeco not installed (``pip install "mongoeco[wire]"``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import NoReturn


def _fail(message: str) -> NoReturn:
    print(f"mongo_server: {message}", file=sys.stderr)
    raise SystemExit(2)


async def _serve(host: str, port_file: Path | None) -> None:
    from mongoeco.engines.memory import MemoryEngine
    from mongoeco.wire.proxy import AsyncMongoEcoProxyServer

    server = AsyncMongoEcoProxyServer(engine=MemoryEngine(), host=host, port=0)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    address = await server.start()
    try:
        # Announce only once a client can connect.
        _, writer = await asyncio.open_connection(address.host, address.port)
        writer.close()
        await writer.wait_closed()
        if port_file is not None:
            partial = port_file.with_name(port_file.name + ".tmp")
            partial.write_text(address.uri + "\n", encoding="utf-8")
            os.replace(partial, port_file)
        print(address.uri, flush=True)
        await stop.wait()
    finally:
        if port_file is not None:
            port_file.unlink(missing_ok=True)
        await server.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-file", type=Path, help="write the URI here once serving")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    args = parser.parse_args(argv)
    if sys.version_info < (3, 13):
        _fail(f"mongoeco needs Python >= 3.13, this is {sys.version.split()[0]}")
    try:
        import mongoeco.wire.proxy  # noqa: F401
    except ImportError as exc:
        _fail(f'mongoeco is not importable ({exc}); pip install "mongoeco[wire]==4.11.0"')
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port_file))


if __name__ == "__main__":
    main()
