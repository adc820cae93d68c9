"""``python -m devhost up``: the functions host, the Direct Line stand-in and the bot, wired together.

With ``--chat`` the terminal chat runs in the foreground and the parts' logs go to ``<data dir>/logs``.

Exit status: 0 after Ctrl-C (or SIGTERM, or the chat's /quit); 1 when a port is busy, a part fails to start, or a
part dies while running (the message names it). The parts die with this process, however it ends.
"""

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path

from devhost.addresses import port_number
from devhost.directline.throttle import parse_throttle
from devhost.functions.keys import KEYS_FILE
from devhost.secrets import SecretsError
from devhost.stack import Stack, StackConfig, StackError

WATCH_SECONDS = 0.5


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devhost up", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface every part binds to (default 127.0.0.1)")
    parser.add_argument("--functions-port", type=port_number, default=7071)
    parser.add_argument("--bot-port", type=port_number, default=3978)
    parser.add_argument("--directline-port", type=port_number, default=8181)
    parser.add_argument("--dashboard-port", type=port_number, default=7072,
                        help="the dashboard's port, on 127.0.0.1 (default 7072)")
    parser.add_argument("--data-dir", type=Path, default=Path(".devhost"),
                        help="durable history, bot state, secrets and logs (default .devhost)")
    parser.add_argument("--chat", action="store_true", help="open the terminal chat in the foreground")
    parser.add_argument("--auth", action="store_true",
                        help="Bot Framework authentication end to end: a local identity service, the bot with an app "
                             "id and password (kept in <data dir>/secrets.json), channel tokens to the bot, the bot's "
                             "tokens to the channels, the chat authenticating as the Emulator does")
    parser.add_argument("--single-tenant", action="store_true",
                        help="with --auth: the app registration is SingleTenant (MicrosoftAppTenantId)")
    parser.add_argument("--identity-port", type=port_number, default=8182,
                        help="port of the identity service with --auth (default 8182; always on 127.0.0.1)")
    parser.add_argument("--no-key-check", action="store_true",
                        help="run the functions host without key checks, as `func start` does (default: keys are "
                             "checked as on Azure, and the bot holds the starter's function key)")
    parser.add_argument("--throttle", default=None, metavar="COUNT/SECONDS[,COUNT/SECONDS...]",
                        help="the Direct Line stand-in throttles as Direct Line does: 429 with Retry-After past COUNT "
                             "posts per conversation in any SECONDS (see python -m devhost directline --help)")
    args = parser.parse_args(argv)
    if args.throttle is not None:
        try:
            parse_throttle(args.throttle)  # checked now, so a bad flag is a usage error before anything starts
        except ValueError as error:
            parser.error(str(error))
    if args.single_tenant and not args.auth:
        parser.error("--single-tenant needs --auth (it is the kind of app registration the bot authenticates with)")
    for option in ("--functions-port", "--bot-port", "--directline-port", "--identity-port"):
        if getattr(args, option[2:].replace("-", "_")) == 0:
            # Each part is told the others' addresses before it starts, so none can pick a free port itself.
            parser.error(f"{option} 0: devhost up needs a fixed port for every part (the parts dial each other)")
    return args


def banner(config: StackConfig) -> str:
    return "\n".join([
        "devhost up: the long-operation bot, offline",
        f"  functions host  {config.functions_url}/api/operations   (Durable API: "
        f"{config.functions_url}/runtime/webhooks/durabletask/instances/)",
        f"  Direct Line     {config.directline_url}",
        f"  Web Chat        http://{config.host}:{config.directline_port}/webchat   (in a browser; `make webchat`)",
        f"  bot             {config.messages_url}   (Bot Framework Emulator: open this URL, "
        + ("with the app id and password in secrets.json)" if config.identity_port is not None else "no app id)"),
        *([f"  identity        https://127.0.0.1:{config.identity_port}   (Bot Framework auth: "
           f"{'SingleTenant' if config.single_tenant else 'MultiTenant'} app; CA in "
           f"{config.data_dir / 'identity' / 'tls' / 'ca.pem'})"] if config.identity_port is not None else []),
        *([f"  dashboard       {config.dashboard_url}   (orchestrations, progress, history; in a browser)"]
          if config.dashboard_url else []),
        f"  data            {config.data_dir.resolve()}",
        f"  keys            {config.functions_data_dir / KEYS_FILE}   (checked as on Azure)" if config.check_keys
        else "  keys            not checked (--no-key-check)",
        f"  logs            {config.log_dir.resolve()}" if config.log_dir else "  logs            this terminal",
    ])


async def watch(stack: Stack, stop: asyncio.Event) -> str | None:
    """Until ``stop``: None; or, as soon as a part has died, what happened to it (and ``stop`` is set)."""
    while not stop.is_set():
        dead = stack.dead_parts()
        if dead:
            stop.set()
            return "; ".join(stack.describe_death(name) for name in dead)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=WATCH_SECONDS)
    return None


async def run(config: StackConfig, chat: bool) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with Stack(config) as stack:
            print(banner(config), flush=True)
            watcher = asyncio.ensure_future(watch(stack, stop))
            if chat:
                from devhost.chat.cli import run_interactive
                from devhost.chat.config import ChatConfig

                # The watcher sets ``stop`` when a part dies, which ends the chat too.
                chat_config = ChatConfig(bot_url=config.messages_url,
                                         auth=None if stack.auth is None else stack.auth.emulator_auth())
                status = await run_interactive(config.messages_url, stop, config=chat_config)
                stop.set()
            else:
                print("Press Ctrl-C to stop.", flush=True)
                status = 0
            death = await watcher
            if death is not None:
                print(f"devhost up: {death}; stopping the other parts", file=sys.stderr)
                return 1
            return status
    except (StackError, SecretsError) as error:
        print(f"devhost up: {error}", file=sys.stderr)
        return 1


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    config = StackConfig(
        data_dir=args.data_dir,
        host=args.host,
        functions_port=args.functions_port,
        bot_port=args.bot_port,
        directline_port=args.directline_port,
        log_dir=args.data_dir / "logs" if args.chat else None,
        check_keys=not args.no_key_check,
        dashboard_port=args.dashboard_port,
        identity_port=args.identity_port if args.auth else None,
        single_tenant=args.single_tenant,
        throttle=args.throttle,
    )
    return asyncio.run(run(config, args.chat))
