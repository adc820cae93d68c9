"""The official Web Chat (botframework-webchat, in headless Debian Chromium driven by playwright-core) against the
Direct Line stand-in and a real botbuilder bot, all on loopback.

``webchat_driver.js`` loads ``/webchat``, types into the send box and waits for the bot's replies on the page; this
test asserts what it reports. Needs ``make webchat`` (the bundle; fetched here if missing), playwright-core (npm ci
here; done here if missing) and ``make chromium`` (/usr/bin/chromium from Debian): a missing browser is a failure
naming the fix, never a skip.
"""

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from devhost.attachment_store import UPLOAD_LIMIT_BYTES
from devhost.directline.config import WEBCHAT_BUNDLE
from devhost.webchat import fetch
from tests.devhost.chat.chat_bot import PROACTIVE_TEXT, ChatTestBot
from tests.devhost.directline.echo_bot import make_adapter, poll_until
from tests.devhost.directline.harness import SECRET, Harness, running

# Slow (whole-system runs, headless Chromium, several processes): `make pytest-slow`, which CI runs too.
pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
DRIVER = HERE / "webchat_driver.js"
NPM_DIR = HERE  # playwright-core, test-only
CHROMIUM = "/usr/bin/chromium"
WAIT_MS = 15000


@pytest.fixture(scope="module", autouse=True)
def webchat_installed() -> None:
    """Fetch the pinned Web Chat bundle and install playwright-core (npm ci from the lock) once if make has not."""
    if not WEBCHAT_BUNDLE.is_file():
        fetch.fetch()
    if not (NPM_DIR / "node_modules" / "playwright-core").is_dir():
        npm = shutil.which("npm")
        assert npm, "npm is required for the Web Chat browser test"
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=NPM_DIR, check=True, timeout=600)
    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium)"


async def start_driver(page_url: str, say: list[dict[str, Any]], wait_ms: int = WAIT_MS) -> asyncio.subprocess.Process:
    node = shutil.which("node")
    assert node, "node is required for the Web Chat browser test"
    arguments = json.dumps({
        "pageUrl": page_url, "modulesDir": str(NPM_DIR / "node_modules"), "chromium": CHROMIUM,
        "say": say, "timeoutMs": wait_ms,
    })
    return await asyncio.create_subprocess_exec(
        node, str(DRIVER), arguments, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )


async def drive(page_url: str, say: list[dict[str, Any]]) -> dict[str, Any]:
    return await finished(await start_driver(page_url, say))


async def finished(process: asyncio.subprocess.Process) -> dict[str, Any]:
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=90)
    assert process.returncode == 0, f"driver exited {process.returncode}: {stdout.decode()} {stderr.decode()}"
    result: dict[str, Any] = json.loads(stdout.decode().strip().splitlines()[-1])
    return result


def said_conversation_id(h: Harness) -> str:
    assert h.bot is not None
    conversation_id: str = h.bot.received_of_type("message")[0]["conversation"]["id"]
    return conversation_id


def test_web_chat_page_talks_to_the_bot_and_shows_a_proactive_message() -> None:
    async def scenario() -> None:
        adapter = make_adapter()
        async with running(ChatTestBot(adapter, proactive_delay=0.5), adapter=adapter) as h:
            result = await drive(f"{h.directline.base_url}/webchat", [
                {"text": "hello", "expect": ["echo: hello"]},
                {"text": "later", "expect": ["I will tell you later", PROACTIVE_TEXT]},
            ])

            messages = [(a["role"], a["text"]) for a in result["activities"] if a["type"] == "message"]
            assert messages == [
                ("bot", "Welcome to the test bot"),
                ("user", "hello"),
                ("bot", "echo: hello"),
                ("user", "later"),
                ("bot", "I will tell you later"),
                ("bot", PROACTIVE_TEXT),
            ]
            # Each message counted as sent: the stand-in echoed it back with channelData.clientActivityID and an id.
            users = [a for a in result["activities"] if a["role"] == "user"]
            assert [a["state"] for a in users] == ["sent", "sent"]
            assert all(a["id"] for a in users)

            # Nothing left loopback, nothing failed, and the page never saw the secret.
            assert result["offLoopback"] == []
            assert result["failedResponses"] == []
            assert result["consoleErrors"] == []
            requests = result["requests"]
            assert requests[:3] == [
                f"GET {h.directline.base_url}/webchat",
                f"GET {h.directline.base_url}/webchat/webchat.js",
                f"POST {h.directline.base_url}/webchat/token",
            ]
            assert f"POST {h.directline.directline_url}/conversations" in requests
            assert all(SECRET not in request for request in requests)

            # At Web Chat's defaults the replies came over one WebSocket from the streamUrl; nothing polled.
            conversation_id = said_conversation_id(h)
            stream_root = h.directline.base_url.replace("http://", "ws://")
            [socket] = result["webSockets"]
            assert socket["url"].startswith(
                f"{stream_root}/v3/directline/conversations/{conversation_id}/stream?watermark=-&t="
            )
            assert socket["framesReceived"] >= 1 and not socket["closed"]
            assert not [request for request in requests if "/activities?" in request]

            # The bot heard the browser's user over channel directline, token-authenticated (no user embedded).
            assert h.bot is not None
            said = [a for a in h.bot.received if a.get("type") == "message"]
            assert [a["text"] for a in said] == ["hello", "later"]
            assert all(a["channelId"] == "directline" and a["from"]["id"].startswith("r_") for a in said)

    asyncio.run(scenario())


def test_web_chat_reconnects_after_the_service_closes_its_socket_and_shows_what_came_meanwhile() -> None:
    """Web Chat's own DirectLineJS waits 3-15 s after a close, asks for a new streamUrl with its watermark and
    resumes: the message the bot sent while no socket was open is shown once, in its place."""

    async def scenario() -> None:
        adapter = make_adapter()
        async with running(ChatTestBot(adapter), adapter=adapter) as h:
            assert h.bot is not None
            # Up to 15 s of Web Chat's retry delay, then the reconnect.
            process = await start_driver(f"{h.directline.base_url}/webchat", [
                {"text": "hello", "expect": ["echo: hello"]},
                {"expect": ["sent while you were away"]},
                {"text": "back", "expect": ["echo: back"]},
            ], wait_ms=40000)
            streams = h.directline.service.streams
            await poll_until(lambda: bool(h.bot and h.bot.received_of_type("message")), within=60)
            conversation_id = said_conversation_id(h)
            await poll_until(lambda: streams.is_open(conversation_id), within=60)

            async def replied() -> bool:
                polled = await h.activities(conversation_id)
                return "echo: hello" in [a.get("text") for a in polled["activities"]]

            # The bot has answered before the socket closes, so what it sends next comes after its answer.
            await poll_until(replied, within=30)
            assert await streams.close(conversation_id)
            activity = {"type": "message", "text": "sent while you were away", "from": {"id": "bot", "name": "Bot"}}
            async with h.http.post(f"{h.directline.base_url}/v3/conversations/{conversation_id}/activities",
                                   json=activity) as response:
                assert response.status == 200
            result = await finished(process)

            messages = [(a["role"], a["text"]) for a in result["activities"] if a["type"] == "message"]
            assert messages == [
                ("bot", "Welcome to the test bot"),
                ("user", "hello"),
                ("bot", "echo: hello"),
                ("bot", "sent while you were away"),
                ("user", "back"),
                ("bot", "echo: back"),
            ]
            first, second = result["webSockets"]
            assert first["closed"] and not second["closed"]
            assert "/stream?watermark=-&t=" in first["url"]
            assert "/stream?watermark=-&t=" not in second["url"]
            assert f"/v3/directline/conversations/{conversation_id}?watermark=" in " ".join(result["requests"])
            assert result["offLoopback"] == []
            assert result["failedResponses"] == []

    asyncio.run(scenario())


def test_web_chats_upload_button_sends_files_the_bot_fetches() -> None:
    """The paperclip in Web Chat at its defaults: DirectLineJS uploads the picked files to the stand-in, the bot
    fetches them from their private links, and the page shows the bot's answer."""

    async def scenario() -> None:
        adapter = make_adapter()
        async with running(ChatTestBot(adapter), adapter=adapter) as h:
            result = await drive(f"{h.directline.base_url}/webchat", [
                {"upload": [{"name": "notes.txt", "mimeType": "text/plain", "text": "ten bytes!"}],
                 "expect": ["got notes.txt (10 bytes, text/plain)"]},
            ])
            messages = [(a["role"], a.get("text")) for a in result["activities"] if a["type"] == "message"]
            # The user's message has no text: the file went alone.
            assert messages == [("bot", "Welcome to the test bot"), ("user", None),
                                ("bot", "got notes.txt (10 bytes, text/plain)")]
            [upload] = [a for a in result["activities"] if a["role"] == "user"]
            assert upload["state"] == "sent"
            conversation_id = said_conversation_id(h)
            assert f"POST {h.directline.directline_url}/conversations/{conversation_id}/upload?userId=" in " ".join(
                result["requests"])
            assert result["offLoopback"] == []
            assert result["failedResponses"] == []

    asyncio.run(scenario())


def test_web_chat_shows_a_file_over_4_mb_as_not_sent_when_its_send_timeout_ends() -> None:
    """Over Direct Line's 4 MB the stand-in answers 500 ServiceError as the service does. DirectLineJS yields "retry"
    for a 5xx (catchPostError) and does not post again, so Web Chat keeps the message "sending" until its send
    timeout (styleOptions.sendTimeout, 20 s) marks it failed: the "timeout" users report for big files in
    BotFramework-WebChat#4086. The bot never sees it."""

    async def scenario() -> None:
        adapter = make_adapter()
        async with running(ChatTestBot(adapter), adapter=adapter) as h:
            process = await start_driver(f"{h.directline.base_url}/webchat", [
                {"upload": [{"name": "big.txt", "mimeType": "text/plain", "size": UPLOAD_LIMIT_BYTES + 1}],
                 "expect": []},
            ], wait_ms=40000)
            result = await finished(process)
            [upload] = [a for a in result["activities"] if a["role"] == "user"]
            assert upload["state"] == "send failed"
            uploads = [r for r in result["requests"] if "/upload?userId=" in r]
            assert len(uploads) == 1
            assert result["failedResponses"] == [uploads[0].replace("POST ", "500 ", 1)]
            assert h.bot is not None and h.bot.received_of_type("message") == []

    asyncio.run(scenario())
