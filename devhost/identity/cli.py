"""``python -m devhost identity``: the local Bot Framework identity service, until interrupted.

It serves https with the data directory's local CA (``<data dir>/tls``), signs with the data directory's key
(``<data dir>/identity-key.json``) and knows one app registration, from ``MicrosoftAppId``, ``MicrosoftAppPassword``
and ``MicrosoftAppTenantId`` (the bot's settings; by environment, as a command line is visible to everyone in ps).
"""

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path

from devhost.addresses import port_number
from devhost.identity.keys import KeyFileError, load_or_create_key
from devhost.identity.service import AppRegistration, start
from devhost.identity.tls import load_or_create as load_tls
from devhost.part_identity import PART_NONCE_ENV

KEY_FILE = "identity-key.json"
TLS_DIR = "tls"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devhost identity", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=port_number, default=8182, help="port to bind (default 8182; 0: a free one)")
    parser.add_argument("--data-dir", type=Path, default=Path(".devhost"),
                        help="where the signing key and the local CA live (default .devhost)")
    return parser.parse_args(argv)


def registration_from(environ: dict[str, str]) -> AppRegistration:
    app_id = environ.get("MicrosoftAppId", "")
    password = environ.get("MicrosoftAppPassword", "")
    if not app_id or not password:
        raise ValueError("an app registration is required: set MicrosoftAppId and MicrosoftAppPassword")
    return AppRegistration(app_id, password, environ.get("MicrosoftAppTenantId", ""))


async def run(args: argparse.Namespace, app: AppRegistration) -> int:
    data_dir = args.data_dir.resolve()
    try:
        key = load_or_create_key(data_dir / KEY_FILE)
    except KeyFileError as error:
        print(f"devhost identity: {error}", file=sys.stderr)
        return 2
    tls = load_tls(data_dir / TLS_DIR)
    try:
        running = await start(key, {app.app_id: app}, args.host, port=args.port, tls=tls.server_context(),
                              part_nonce=os.environ.get(PART_NONCE_ENV, ""))
    except OSError as error:
        print(f"devhost identity: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(f"Bot Framework identity service on {running.service.origin} (app {app.app_id}; CA {tls.ca})", flush=True)
    try:
        await stop.wait()
    finally:
        await running.close()
    return 0


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        app = registration_from(dict(os.environ))
    except ValueError as error:
        print(f"devhost identity: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(run(args, app))
    return 0
