"""``python -m devhost dashboard``: a web page of a functions host's orchestrations, their progress and history.

It reads only the Durable HTTP API, so it works against ``devhost functions``, ``func start`` and Azure alike. The
page calls this server, which passes on only the API calls the page makes and adds the key itself: ``--key`` or
``DurableApiKey`` in the environment (the durabletask system key or the master key), or for a host on this machine
the system key from ``--data-dir``'s keys.json; none for a host that checks no keys (``func start``). It binds to
loopback only.
"""

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from aiohttp import web

from devhost.addresses import port_number
from devhost.dashboard.app import create_app
from devhost.dashboard.settings import DashboardError, DashboardSettings
from devhost.durable_key import DurableKeyError, durable_key
from devhost.functions.keys import KEYS_FILE
from devhost.part_identity import PART_NONCE_ENV

PROG = "devhost dashboard"
DEFAULT_FUNCTIONS_URL = "http://127.0.0.1:7071"
DEFAULT_DATA_DIR = Path(".devhost")
DEFAULT_PORT = 7072
KEY_SETTING = "DurableApiKey"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devhost dashboard", description=__doc__)
    parser.add_argument("--functions-url", default=DEFAULT_FUNCTIONS_URL,
                        help=f"base URL of the functions host (default {DEFAULT_FUNCTIONS_URL})")
    parser.add_argument("--key", default="",
                        help=f"the host's durabletask system key or master key (default: ${KEY_SETTING}, else read "
                             "from --data-dir for a host on this machine; none otherwise)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help=f"data directory of `devhost functions` or `devhost up` whose {KEYS_FILE} holds the "
                             f"system key (default {DEFAULT_DATA_DIR})")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=port_number, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    return parser.parse_args(argv)


def settings_of(args: argparse.Namespace, environ: Mapping[str, str]) -> DashboardSettings:
    """The settings, or DashboardError naming what is wrong."""
    # The environment keeps the key out of argv, which every user of the machine sees in `ps`.
    given = str(args.key) or environ.get(KEY_SETTING, "")
    try:
        key = durable_key(given, str(args.functions_url), Path(args.data_dir))
    except DurableKeyError as error:
        raise DashboardError(str(error)) from None
    if args.key:
        source = "the key given with --key"
    elif given:
        source = f"the key in {KEY_SETTING}"
    elif key:
        source = f"the system key from {Path(args.data_dir).resolve()}"
    else:
        source = "no key"
    return DashboardSettings(str(args.functions_url), key, source, str(args.host), int(args.port),
                             environ.get(PART_NONCE_ENV, ""))


async def serve(settings: DashboardSettings) -> None:
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.host, settings.port).start()
        print(f"{PROG}: http://{settings.host}:{settings.port}/ reading {settings.functions_url} with "
              f"{settings.key_source}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # SIGTERM from `devhost up` ends it as cleanly as Ctrl-C.
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        settings = settings_of(args, os.environ)
    except DashboardError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(serve(settings))
    except OSError as error:
        print(f"{PROG}: cannot listen on {settings.host}:{settings.port}: {error}", file=sys.stderr)
        return 1
    return 0
