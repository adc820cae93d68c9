"""``python -m devhost chat``: chat with a bot from the terminal, as the Bot Framework Emulator would.

Interactive: type lines; a number picks one of the bot's numbered choices; ``/file PATH`` sends a file (as the
Emulator's upload, up to Direct Line's 4 MB); ``/quit`` or end of input exits.
With ``--script FILE`` the lines come from a file (see ``devhost.chat.script``) and the transcript is printed.
"""

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TextIO

from devhost.addresses import port_number
from devhost.chat.choices import pick
from devhost.chat.client import ChatClient
from devhost.chat.config import DEFAULT_BOT_URL, ChatConfig
from devhost.chat.conversation import Conversation
from devhost.chat.errors import ChatError, FileRejected, ScriptError
from devhost.chat.files import read_local_file
from devhost.chat.script import Pause, Say, SendFile, Step, WaitFor, parse_script
from devhost.chat.view import TerminalView
from devhost.connector_faults import parse_fault
from devhost.identity.channel import EmulatorAuth
from devhost.identity.service import IdentityEndpoints

PROG = "devhost chat"
DEFAULT_WAIT_TIMEOUT = 30.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devhost chat", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bot-url", default=DEFAULT_BOT_URL, help=f"the bot's messaging endpoint ({DEFAULT_BOT_URL})")
    parser.add_argument("--script", type=Path, help="send the lines of FILE instead of reading the terminal")
    parser.add_argument("--wait-timeout", type=float, default=DEFAULT_WAIT_TIMEOUT,
                        help="seconds a 'wait-for' line waits (default 30)")
    parser.add_argument("--host", default="127.0.0.1", help="interface for the routes the bot replies to")
    parser.add_argument("--port", type=port_number, default=0,
                        help="port for the routes the bot replies to (0: free port)")
    parser.add_argument("--channel-id", default="emulator", help="channelId to send (default emulator)")
    parser.add_argument("--debug", action="store_true", help="also show trace and other non-message activities")
    parser.add_argument("--fault", action="append", default=[], metavar="KIND[xCOUNT][@AFTER][:RETRY_AFTER]",
                        help="the bot's next posts to the chat fail: unavailable (503), throttled (429 with "
                             "Retry-After), hang, gone (404) or lost (stored, then 504); e.g. 'unavailable', "
                             "'throttledx2:3'. Repeatable")
    auth = parser.add_argument_group("Bot Framework authentication, as the Emulator with an app id and password")
    auth.add_argument("--app-id", default=None,
                      help="the bot's app id; its password comes from $MicrosoftAppPassword (a command line is "
                           "visible to every user in ps)")
    auth.add_argument("--identity-url", default=None,
                      help="where the token comes from: the devhost identity service (https://127.0.0.1:8182)")
    auth.add_argument("--ca-file", type=Path, default=None,
                      help="the local CA of the identity service (<data dir>/identity/tls/ca.pem)")
    return parser.parse_args(argv)


def auth_from_args(args: argparse.Namespace, environ: dict[str, str]) -> EmulatorAuth | None:
    if not args.app_id and not args.identity_url:
        return None
    if not args.app_id or not args.identity_url:
        raise ValueError("--app-id and --identity-url go together (Bot Framework authentication)")
    password = environ.get("MicrosoftAppPassword", "")
    if not password:
        raise ValueError("--app-id needs the app's password in $MicrosoftAppPassword")
    return EmulatorAuth(IdentityEndpoints(args.identity_url.rstrip("/")), args.app_id, password, args.ca_file)


async def run_script(config: ChatConfig, steps: list[Step], wait_timeout: float, out: TextIO,
                     *, debug: bool = False) -> int:
    """Play ``steps`` against the bot, printing the transcript; 0 on success, 1 with a message on failure."""
    view = TerminalView(out, show_user=True, debug=debug)
    try:
        async with ChatClient(config) as client:
            conversation = await client.start_conversation(view)
            for step in steps:
                if isinstance(step, Say):
                    await conversation.send_line(step.text)
                elif isinstance(step, Pause):
                    await asyncio.sleep(step.seconds)
                elif isinstance(step, WaitFor):
                    try:
                        await conversation.wait_for_text(step.text, wait_timeout)
                    except ChatError as error:
                        raise ScriptError(f"line {step.line}: {error}") from None
                elif isinstance(step, SendFile):
                    try:
                        await conversation.send_file(Path(step.path))
                    except FileRejected as rejected:
                        raise ScriptError(f"line {step.line}: file not sent: {rejected}") from None
    except ChatError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 1
    return 0


def _read_stdin_into(queue: "asyncio.Queue[str | None]", loop: asyncio.AbstractEventLoop) -> None:
    """Blocking stdin reads live in a daemon thread, so the loop keeps showing bot messages while the user types."""

    def put(item: str | None) -> bool:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the loop has closed: the chat is over
            return False
        return True

    def read() -> None:
        for line in sys.stdin:
            if not put(line.rstrip("\n")):
                return
        put(None)

    threading.Thread(target=read, name="chat-stdin", daemon=True).start()


async def run_interactive(messages_url: str, stop: asyncio.Event | None = None, *, config: ChatConfig | None = None,
                          lines: "asyncio.Queue[str | None] | None" = None, out: TextIO | None = None,
                          debug: bool = False) -> int:
    """Chat until ``/quit``, end of input or ``stop``. ``lines`` replaces stdin (None items mean end of input)."""
    config = config or ChatConfig(bot_url=messages_url)
    stream = out or sys.stdout
    view = TerminalView(stream, show_user=False, debug=debug)
    stop = stop or asyncio.Event()
    if lines is None:
        lines = asyncio.Queue()
        _read_stdin_into(lines, asyncio.get_running_loop())
    try:
        async with ChatClient(config) as client:
            view.write([f"Chatting with {config.bot_url}. Type a message, a choice's number, /file PATH, or /quit."])
            conversation = await client.start_conversation(view)
            return await _converse(conversation, lines, stop, view)
    except ChatError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 1


async def _converse(conversation: Conversation, lines: "asyncio.Queue[str | None]", stop: asyncio.Event,
                    view: TerminalView) -> int:
    stopped = asyncio.ensure_future(stop.wait())
    try:
        while True:
            next_line = asyncio.ensure_future(lines.get())
            await asyncio.wait({next_line, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not next_line.done():
                next_line.cancel()
                return 0
            line = next_line.result()
            if line is None or line.strip() == "/quit":
                return 0
            if not line.strip():
                continue
            command, _, argument = line.strip().partition(" ")
            if command == "/file":
                await _send_file(conversation, argument.strip(), view)
                continue
            choice = pick(conversation.choices, line)
            if choice is not None:
                # The user typed a number; show what it stands for before the bot's answer arrives.
                view.write([f"user: {choice.as_message()['text']}"])
            try:
                await conversation.send_line(line)
            except ChatError as error:
                # The bot may be restarting; the chat stays open so the user can try again.
                view.write([f"(not delivered: {error})"])
    finally:
        stopped.cancel()


async def _send_file(conversation: Conversation, path: str, view: TerminalView) -> None:
    if not path:
        view.write(["(usage: /file PATH)"])
        return
    try:
        local = await asyncio.to_thread(read_local_file, Path(path))
    except FileRejected as rejected:
        view.write([f"(file not sent: {rejected})"])
        return
    # Before the bot's answer arrives, as for a picked choice.
    view.write([f"user: [file {local.name}: {local.content_type}, {len(local.data)} bytes]"])
    try:
        await conversation.send_local_file(local)
    except ChatError as error:
        view.write([f"(not delivered: {error})"])


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        faults = tuple(parse_fault(text) for text in args.fault)
        config = ChatConfig(bot_url=args.bot_url, host=args.host, port=args.port, channel_id=args.channel_id,
                            faults=faults, auth=auth_from_args(args, dict(os.environ)))
    except ValueError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2
    if args.script is not None:
        try:
            steps = parse_script(args.script.read_text(encoding="utf-8"), str(args.script))
        except OSError as error:
            print(f"{PROG}: cannot read the script: {error}", file=sys.stderr)
            return 2
        except ScriptError as error:
            print(f"{PROG}: {error}", file=sys.stderr)
            return 2
        return asyncio.run(run_script(config, steps, args.wait_timeout, sys.stdout, debug=args.debug))
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(_interactive_main(config, args.debug))
    return 0


async def _interactive_main(config: ChatConfig, debug: bool) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return await run_interactive(config.bot_url, stop, config=config, debug=debug)
