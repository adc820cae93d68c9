"""``python -m devhost directline``: run the Direct Line 3.0 stand-in until interrupted."""

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path

from devhost.addresses import port_number
from devhost.connector_faults import parse_fault
from devhost.directline.app import serve
from devhost.directline.config import DIRECTLINE_BOT_TIMEOUT_SECONDS, DirectLineConfig
from devhost.directline.throttle import parse_throttle
from devhost.identity.channel import DirectLineAuth
from devhost.identity.keys import KeyFileError
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
                             "Retry-After), hang, gone (404) or lost (stored, then 504); e.g. 'unavailable', "
                             "'throttledx2:3'. Repeatable; at run time: POST /devhost/faults with the secret")
    parser.add_argument("--throttle", default=None, metavar="COUNT/SECONDS[,COUNT/SECONDS...]",
                        help="throttle as Direct Line does: a post to a conversation past COUNT posts in any SECONDS "
                             "(every rule applies) is refused with 429 and Retry-After, on the client face and the "
                             "bot's; e.g. 1/1, or Teams' published 7/1,8/2,60/30,1800/3600 (default: off)")
    auth = parser.add_argument_group("Bot Framework authentication (what devhost up --auth passes)")
    auth.add_argument("--identity-url", default=None,
                      help="the devhost identity service (https://127.0.0.1:8182): sign a channel token for the bot "
                           "on every activity, and check the bot's token on what it sends")
    auth.add_argument("--identity-key-file", type=Path, default=None,
                      help="the identity service's signing key (<data dir>/identity/identity-key.json)")
    auth.add_argument("--bot-app-id", default=None, help="the bot's app id: the audience of the channel tokens")
    auth.add_argument("--ca-file", type=Path, default=None, help="the local CA that signed the identity service's "
                                                                "certificate (<data dir>/identity/tls/ca.pem)")
    return parser.parse_args(argv)


def auth_from_args(args: argparse.Namespace) -> DirectLineAuth | None:
    given = {"--identity-url": args.identity_url, "--identity-key-file": args.identity_key_file,
             "--bot-app-id": args.bot_app_id}
    if not any(given.values()):
        return None
    missing = [name for name, value in given.items() if not value]
    if missing:
        raise ValueError(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} required with "
                         f"{', '.join(name for name in given if name not in missing)} (Bot Framework authentication)")
    if not args.identity_key_file.exists():
        raise ValueError(f"--identity-key-file {args.identity_key_file} does not exist (start devhost identity first)")
    try:
        return DirectLineAuth.load(args.identity_key_file, args.identity_url.rstrip("/"), args.bot_app_id,
                                   args.ca_file)
    except KeyFileError as error:
        raise ValueError(str(error)) from None


def config_from_args(args: argparse.Namespace, environ: dict[str, str]) -> DirectLineConfig:
    secret = args.secret or environ.get(SECRET_ENV, "")
    if not secret:
        raise ValueError(f"a Direct Line secret is required: pass --secret or set {SECRET_ENV}")
    return DirectLineConfig(
        bot_url=args.bot_url, secret=secret, host=args.host, port=args.port,
        bot_timeout_seconds=args.bot_timeout, public_url=args.public_url,
        part_nonce=environ.get(PART_NONCE_ENV, ""),
        faults=tuple(parse_fault(text) for text in args.fault),
        auth=auth_from_args(args),
        throttle=() if args.throttle is None else parse_throttle(args.throttle),
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
