"""``python -m devhost chat`` as a real process: --script transcripts, interactive stdin, failures and exit codes."""

import asyncio
import io
import socket
import sys
from pathlib import Path

import pytest

from devhost.chat import ChatConfig, ScriptError, parse_script
from devhost.chat.cli import run_interactive
from devhost.chat.script import Pause, Say, SendFile, WaitFor
from tests.devhost.chat.chat_bot import PROACTIVE_TEXT, serve_chat_bot
from tests.devhost.directline.echo_bot import poll_until
from tests.devhost.directline.harness import closed_port

REPO_ROOT = Path(__file__).resolve().parents[3]


async def run_chat(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "devhost", "chat", *args, cwd=REPO_ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(stdin or b""), timeout=60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


def test_script_prints_the_transcript_with_choices_and_the_proactive_message(tmp_path: Path) -> None:
    script = tmp_path / "demo.chat"
    script.write_text(
        "# a demo\n"
        "hi\n"
        "menu\n"
        "2\n"
        "\n"
        "say wait 2\n"
        "later\n"
        "wait-for Thanks for waiting\n"
        "wait 0\n"
    )

    async def scenario() -> None:
        _, served = await serve_chat_bot()
        try:
            code, out, err = await run_chat("--bot-url", served.url, "--script", str(script))
        finally:
            await served.close()
        assert (code, err) == (0, "")
        assert out.splitlines() == [
            "bot: Welcome to the test bot",
            "user: hi", "bot: echo: hi",
            "user: menu", "bot: Pick one", "  1. option 1", "  2. option 2", "  3. option 3",
            "user: option 2", "bot: You picked option 2",
            "user: wait 2", "bot: echo: wait 2",
            "user: later", "bot: I will tell you later",
            f"bot: {PROACTIVE_TEXT}",
        ]

    asyncio.run(scenario())


def test_script_wait_for_timeout_exits_1_naming_the_line_and_text(tmp_path: Path) -> None:
    script = tmp_path / "never.chat"
    script.write_text("hi\nwait-for something that never comes\n")

    async def scenario() -> None:
        _, served = await serve_chat_bot()
        try:
            code, out, err = await run_chat("--bot-url", served.url, "--script", str(script), "--wait-timeout", "0.3")
        finally:
            await served.close()
        assert code == 1
        assert "line 2" in err
        assert "'something that never comes'" in err
        assert "bot: echo: hi" in out

    asyncio.run(scenario())


def test_unreachable_bot_exits_1_with_a_clear_message(tmp_path: Path) -> None:
    script = tmp_path / "hi.chat"
    script.write_text("hi\n")
    url = f"http://127.0.0.1:{closed_port()}/api/messages"

    async def scenario() -> None:
        code, _, err = await run_chat("--bot-url", url, "--script", str(script))
        assert code == 1
        assert f"cannot reach the bot at {url}" in err
        code, _, err = await run_chat("--bot-url", url)  # interactive, too
        assert code == 1
        assert "cannot reach the bot" in err

    asyncio.run(scenario())


def test_bad_script_and_bad_arguments_exit_2(tmp_path: Path) -> None:
    async def scenario() -> None:
        code, _, err = await run_chat("--script", str(tmp_path / "missing.chat"))
        assert (code, "cannot read the script" in err) == (2, True)
        bad = tmp_path / "bad.chat"
        bad.write_text("hi\nwait soon\n")
        code, _, err = await run_chat("--script", str(bad))
        assert code == 2
        assert "bad.chat:2" in err
        code, _, err = await run_chat("--bot-url", "localhost:3978")
        assert (code, "http(s) URL" in err) == (2, True)

    asyncio.run(scenario())


def test_interactive_reads_stdin_and_quits_on_slash_quit() -> None:
    async def scenario() -> None:
        _, served = await serve_chat_bot()
        try:
            code, out, err = await run_chat("--bot-url", served.url, stdin=b"hi\nmenu\n3\n/quit\nnot sent\n")
        finally:
            await served.close()
        assert (code, err) == (0, "")
        lines = out.splitlines()
        assert lines[1:] == [
            "bot: Welcome to the test bot", "bot: echo: hi",
            "bot: Pick one", "  1. option 1", "  2. option 2", "  3. option 3",
            "user: option 3", "bot: You picked option 3",
        ]
        assert [a.get("text") for a in served.received_of_type("message")] == ["hi", "menu", "option 3"]

    asyncio.run(scenario())


def test_interactive_shows_a_proactive_message_while_waiting_for_input_and_stops_on_event() -> None:
    async def scenario() -> None:
        _, served = await serve_chat_bot()
        out = io.StringIO()
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        stop = asyncio.Event()
        try:
            chat = asyncio.create_task(
                run_interactive(served.url, stop, config=ChatConfig(bot_url=served.url), lines=lines, out=out)
            )
            lines.put_nowait("later")
            # No further input: the proactive message must still show up while the chat waits for a line.
            await poll_until(lambda: f"bot: {PROACTIVE_TEXT}" in out.getvalue())
            stop.set()
            assert await asyncio.wait_for(chat, timeout=10) == 0
        finally:
            await served.close()

    asyncio.run(scenario())


def test_interactive_keeps_running_when_a_message_is_not_delivered() -> None:
    async def scenario() -> None:
        bot, served = await serve_chat_bot()
        out = io.StringIO()
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        try:
            chat = asyncio.create_task(run_interactive(served.url, lines=lines, out=out))
            await poll_until(lambda: "Welcome" in out.getvalue())
            await served.close()  # the bot goes away mid-chat
            lines.put_nowait("hello?")
            await poll_until(lambda: "(not delivered: cannot reach the bot" in out.getvalue())
            lines.put_nowait(None)  # end of input
            assert await asyncio.wait_for(chat, timeout=10) == 0
        finally:
            await served.close()
        del bot

    asyncio.run(scenario())


def test_script_syntax() -> None:
    steps = parse_script("# comment\n\n  hello there \nsay wait 1\nwait 0.5\nwait-for Thanks for waiting\n3\n")
    assert steps == [Say("hello there", 3), Say("wait 1", 4), Pause(0.5, 5), WaitFor("Thanks for waiting", 6),
                     Say("3", 7)]
    with pytest.raises(ScriptError, match="demo:1: 'wait-for' needs the text"):
        parse_script("wait-for", "demo")
    with pytest.raises(ScriptError, match="non-negative"):
        parse_script("wait -1")
    assert parse_script("file notes.txt") == [SendFile("notes.txt", 1)]
    with pytest.raises(ScriptError, match="demo:1: 'file' needs the path of the file to send"):
        parse_script("file", "demo")


def test_a_port_in_use_exits_1_naming_it_without_a_traceback(tmp_path: Path) -> None:
    script = tmp_path / "hi.chat"
    script.write_text("hi\n")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        async def scenario() -> None:
            for args in (["--script", str(script)], []):  # scripted and interactive
                code, _, err = await run_chat("--port", str(port), *args)
                assert code == 1
                assert f"cannot listen on 127.0.0.1:{port}" in err
                assert "Traceback" not in err

        asyncio.run(scenario())


def test_an_out_of_range_port_exits_2_naming_it() -> None:
    async def scenario() -> None:
        code, _, err = await run_chat("--port", "99999")
        assert code == 2
        assert "--port" in err and "65535" in err
        assert "Traceback" not in err

    asyncio.run(scenario())


def test_the_emulators_credentials_need_the_identity_service_and_the_password_from_the_environment() -> None:
    from devhost.chat.cli import auth_from_args, parse_args

    assert auth_from_args(parse_args([]), {}) is None
    with pytest.raises(ValueError) as alone:
        auth_from_args(parse_args(["--app-id", "app"]), {"MicrosoftAppPassword": "pw"})
    assert str(alone.value) == "--app-id and --identity-url go together (Bot Framework authentication)"
    args = parse_args(["--app-id", "app", "--identity-url", "https://127.0.0.1:8182/"])
    with pytest.raises(ValueError) as no_password:
        auth_from_args(args, {})
    assert str(no_password.value) == "--app-id needs the app's password in $MicrosoftAppPassword"
    auth = auth_from_args(args, {"MicrosoftAppPassword": "pw"})
    assert auth is not None
    assert (auth.app_id, auth.endpoints.token_url()) == ("app", "https://127.0.0.1:8182/botframework.com/oauth2/v2.0/token")
    assert "pw" not in repr(auth)
