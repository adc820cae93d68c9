"""``/file PATH`` in the chat: sent as the Emulator sends an upload, fetched by the bot from the chat's Bot Connector
face; a file that cannot be sent is a clear line in the chat and nothing reaches the bot."""

import asyncio
import io
import os
import sys
from pathlib import Path

from devhost.attachment_store import UPLOAD_LIMIT_BYTES
from devhost.chat import ChatConfig
from devhost.chat.cli import run_interactive
from tests.devhost.chat.chat_bot import serve_chat_bot
from tests.devhost.chat.harness import chatting
from tests.devhost.directline.echo_bot import poll_until

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_a_sent_file_reaches_the_bot_as_an_emulator_upload_it_can_fetch(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"ten bytes!")

    async def scenario() -> None:
        async with chatting() as h:
            conversation = await h.client.start_conversation(h.view)
            sent = await conversation.send_file(notes)
            assert (sent.name, sent.content_type, sent.data) == ("notes.txt", "text/plain", b"ten bytes!")
            reply = await conversation.wait_for_text("got", timeout=10)
            assert reply["text"] == "got notes.txt (10 bytes, text/plain)"
            message = h.served.received_of_type("message")[-1]
            [attachment] = message["attachments"]
            assert (attachment["name"], attachment["contentType"]) == ("notes.txt", "text/plain")
            assert attachment["contentUrl"].startswith(f"{h.client.service_url}/v3/attachments/")
            assert attachment["contentUrl"].endswith("/views/original")
            assert h.lines()[-2:] == ["user: [file notes.txt]", "bot: got notes.txt (10 bytes, text/plain)"]

    asyncio.run(scenario())


def test_interactive_file_command_sends_or_says_why_not(tmp_path: Path) -> None:
    chart = tmp_path / "chart.png"
    chart.write_bytes(b"\x89PNG" + bytes(16))
    big = tmp_path / "big.bin"
    with big.open("wb") as sparse:
        sparse.truncate(UPLOAD_LIMIT_BYTES + 1)

    async def scenario() -> None:
        _, served = await serve_chat_bot()
        out = io.StringIO()
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        try:
            chat = asyncio.create_task(run_interactive(served.url, config=ChatConfig(bot_url=served.url),
                                                       lines=lines, out=out))
            await poll_until(lambda: "Welcome" in out.getvalue())
            for line in ["/file", f"/file {tmp_path / 'missing.txt'}", f"/file {tmp_path}", f"/file {big}",
                         f"/file {chart}"]:
                lines.put_nowait(line)
            await poll_until(lambda: "bot: got" in out.getvalue())
            lines.put_nowait(None)
            assert await asyncio.wait_for(chat, timeout=10) == 0
        finally:
            await served.close()
        assert out.getvalue().splitlines()[2:] == [
            "(usage: /file PATH)",
            f"(file not sent: {tmp_path / 'missing.txt'} does not exist)",
            f"(file not sent: {tmp_path} is a directory, not a file)",
            f"(file not sent: {big} is {UPLOAD_LIMIT_BYTES + 1} bytes; Direct Line takes uploads of up to "
            f"{UPLOAD_LIMIT_BYTES} bytes (4 MB))",
            "user: [file chart.png: image/png, 20 bytes]",
            "bot: got chart.png (20 bytes, image/png)",
        ]
        # Only the file that could be sent reached the bot.
        assert len(served.received_of_type("message")) == 1

    asyncio.run(scenario())


def test_a_script_sends_files_and_stops_at_one_it_cannot_send(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_bytes(b"ten bytes!")
    script = tmp_path / "files.chat"
    script.write_text("file notes.txt\nfile missing.txt\nhi\n")

    async def scenario() -> None:
        _, served = await serve_chat_bot()
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "devhost", "chat", "--bot-url", served.url, "--script", str(script),
                cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
        finally:
            await served.close()
        assert process.returncode == 1
        assert stdout.decode().splitlines() == [
            "bot: Welcome to the test bot",
            "user: [file notes.txt]", "bot: got notes.txt (10 bytes, text/plain)",
        ]
        assert stderr.decode() == "devhost chat: line 2: file not sent: missing.txt does not exist\n"
        assert len(served.received_of_type("message")) == 1

    asyncio.run(scenario())
