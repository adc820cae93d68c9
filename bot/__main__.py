"""``python -m bot [--port N] [--host H]``: serve the bot (settings from the environment, see bot/settings.py)."""

import argparse
import asyncio
import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from bot.errors import SettingsError
from bot.settings import BotSettings

# Threads for blocking I/O; mostly waiting on sockets, so many more than cores is right.
EXECUTOR_THREADS = 64


def io_event_loop() -> asyncio.AbstractEventLoop:
    """The bot's event loop. Its default executor carries the blocking calls run in threads: aiohttp's DNS lookups,
    AAD token fetches (bot/connector_transport.py) and whatever else botbuilder runs there. When the state store's
    calls ran there too, the stock size of cpu_count + 4 threads (6 here) queued a busy bot's state reads and saves
    behind each other's waits (bench/system.py); SqliteStorage now has its own single thread
    (bot/sqlite_storage.py), and the wide pool still keeps slow lookups from queueing behind each other."""
    loop = asyncio.new_event_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=EXECUTOR_THREADS, thread_name_prefix="bot-io"))
    return loop


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("--port", type=int, help="port to listen on (default: PORT or 3978)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    if args.port is not None:
        env["PORT"] = str(args.port)
    try:
        settings = BotSettings.from_env(env)
    except SettingsError as error:
        print(f"python -m bot: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from bot.app import create_app  # after settings: a bad setting is reported without loading botbuilder
    from bot.tracing import configure_tracing

    configure_tracing(settings)

    try:
        app = create_app(settings)  # opens the state store: an unusable SQLite path is a setting's fault
    except SettingsError as error:
        print(f"python -m bot: {error}", file=sys.stderr)
        return 2
    loop = io_event_loop()
    web.run_app(app, host=args.host, port=settings.port, print=None, loop=loop)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
