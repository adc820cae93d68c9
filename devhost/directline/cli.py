"""``python -m devhost directline``: run the Direct Line 3.0 stand-in until interrupted."""

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys

from devhost.addresses import port_number
from devhost.connector_faults import parse_fault
from devhost.directline.app import serve
from devhost.directline.config import DIRECTLINE_BOT_TIMEOUT_SECONDS, DirectLineConfig
from devhost.part_identity import PART_NONCE_ENV

# The same setting name the function app reads its Direct Line secret from.
SECRET_ENV = "DirectLineSecret"
DEFAULT_BOT_URL = "http://127.0.0.1:3978/api/messages"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devhost directline", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=port_number, default=8181,
                        help="port to bind (default 8181; 0 picks a free one)")
    parser.add_argument("--bot-url", default=DEFAULT_BOT_URL, help=f"the bot's messaging endpoint ({DEFAULT_BOT_URL})")
    parser.add_argument("--secret", default=None,
                        help=f"the Direct Line secret clients authenticate with (default: ${SECRET_ENV}; prefer "
                             "the variable: a command line is visible to every user in ps)")
    parser.add_argument("--bot-timeout", type=float, default=DIRECTLINE_BOT_TIMEOUT_SECONDS,
                        help="seconds to wait for the bot before answering 504 (default 15)")
    parser.add_argument("--public-url", default=None,
                        help="root URL the bot replies to, if not the bound address (e.g. behind a proxy)")
    parser.add_argument("--fault", action="append", default=[], metavar="KIND[xCOUNT][@AFTER][:RETRY_AFTER]",
                        help="the bot's next posts to any conversation fail: unavailable (503), throttled (429 with "
                             "Retry-After), hang or gone (404); e.g. 'unavailable', 'throttledx2:3'. Repeatable; at "
                             "run time: POST /devhost/faults with the secret")
    return parser.parse_args(argv)


def config_from_args(args: argparse.Namespace, environ: dict[str, str]) -> DirectLineConfig:
    secret = args.secret or environ.get(SECRET_ENV, "")
    if not secret:
        raise ValueError(f"a Direct Line secret is required: pass --secret or set {SECRET_ENV}")
    return DirectLineConfig(
        bot_url=args.bot_url, secret=secret, host=args.host, port=args.port,
        bot_timeout_seconds=args.bot_timeout, public_url=args.public_url,
        part_nonce=environ.get(PART_NONCE_ENV, ""),
        faults=tuple(parse_fault(text) for text in args.fault),
    )


async def run(config: DirectLineConfig) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        running = await serve(config)
    except OSError as error:
        print(f"devhost directline: cannot listen on {config.host}:{config.port}: {error}", file=sys.stderr)
        return 1
    async with running:
        # The secret is never printed: the banner names only where to connect.
        print(f"Direct Line 3.0 stand-in on {running.directline_url} -> bot {config.bot_url}", flush=True)
        await stop.wait()
    return 0


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        config = config_from_args(args, dict(os.environ))
    except ValueError as error:
        print(f"devhost directline: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(run(config))
    return 0
