"""Conformance: the official Direct Line client (botframework-directlinejs, run by node) against the stand-in.

The stand-in and a real botbuilder echo bot run on loopback; ``directline_client.js`` starts or resumes a
conversation, posts, receives (over the WebSocket from the streamUrl, the client's default, or by polling), and
reports what it saw as JSON. Node is required (it is installed here and in CI).
"""

import asyncio
import contextlib
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from devhost.directline.attachment_links import PLACEHOLDER_URL
from tests.devhost.directline.echo_bot import poll_until
from tests.devhost.directline.harness import SECRET, Harness, running

HERE = Path(__file__).resolve().parent
DRIVER = HERE / "directline_client.js"


@pytest.fixture(scope="module", autouse=True)
def node_modules() -> None:
    """Install the pinned client once if ``make node-deps`` has not (npm ci from the lock file)."""
    if not (HERE / "node_modules" / "botframework-directlinejs").is_dir():
        npm = shutil.which("npm")
        assert npm, "npm is required for the conformance tests"
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=HERE, check=True, timeout=300)


# The client at its defaults (webSocket undefined: a WebSocket), and polling as before.
MODES = [pytest.param(None, id="websocket"), pytest.param(False, id="polling")]


def client_arguments(h: Harness, **options: Any) -> list[str]:
    node = shutil.which("node")
    assert node, "node is required for the conformance tests"
    # An option left as None is left out: JSON null is not "undefined" to DirectLineJS (webSocket: null polls).
    given = {key: value for key, value in options.items() if value is not None}
    return [node, str(DRIVER), json.dumps({"domain": h.url, "timeoutMs": 20000, **given})]


async def finished(process: asyncio.subprocess.Process, expected_code: int = 0) -> dict[str, Any]:
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == expected_code, (
        f"driver exited {process.returncode}: {stdout.decode()} {stderr.decode()}"
    )
    result: dict[str, Any] = json.loads(stdout.decode().strip().splitlines()[-1])
    return result


async def start_client(h: Harness, **options: Any) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *client_arguments(h, **options), cwd=HERE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )


async def run_client(h: Harness, expected_code: int = 0, **options: Any) -> dict[str, Any]:
    return await finished(await start_client(h, **options), expected_code)


def says(*texts: str) -> list[dict[str, str]]:
    return [{"say": text} for text in texts]


def texts(result: dict[str, Any]) -> list[str]:
    return [activity["text"] for activity in result["activities"]]


def assert_transport(h: Harness, result: dict[str, Any], web_socket: bool | None) -> None:
    """Polling opens no socket; at its defaults the client opened the streamUrl the stand-in gave it."""
    if web_socket is False:
        assert result["streamUrls"] == []
        return
    stream_root = h.directline.base_url.replace("http://", "ws://")
    assert len(result["streamUrls"]) == 1
    assert result["streamUrls"][0].startswith(
        f"{stream_root}/v3/directline/conversations/{result['conversationId']}/stream?watermark="
    )


@pytest.mark.parametrize("web_socket", MODES)
def test_directlinejs_with_secret_starts_posts_and_receives(web_socket: bool | None) -> None:
    async def scenario() -> None:
        async with running() as h:
            result = await run_client(h, secret=SECRET, webSocket=web_socket, steps=says("hello", "world"))
            assert texts(result) == ["hello", "echo: hello", "world", "echo: world"]
            assert_transport(h, result, web_socket)
            echo = result["activities"][0]
            assert echo["id"] == result["postIds"][0]
            assert echo["channelData"]["clientActivityID"] == "client-hello"
            assert h.bot is not None
            # DirectLineJS starts without a user id: the bot joins at start, the user on their first post.
            updates = h.bot.received_of_type("conversationUpdate")
            assert [[m["id"] for m in u["membersAdded"]] for u in updates] == [["bot"], ["user-js"]]
            assert all(a["channelId"] == "directline" for a in h.bot.received)

    asyncio.run(scenario())


@pytest.mark.parametrize("web_socket", MODES)
def test_directlinejs_with_generated_token(web_socket: bool | None) -> None:
    async def scenario() -> None:
        async with running() as h:
            status, generated = await h.call("POST", "/tokens/generate", json={})
            assert status == 200
            result = await run_client(h, token=generated["token"], webSocket=web_socket, steps=says("via token"))
            assert result["conversationId"] == generated["conversationId"]
            assert texts(result) == ["via token", "echo: via token"]
            assert_transport(h, result, web_socket)

    asyncio.run(scenario())


@pytest.mark.parametrize("web_socket", MODES)
def test_directlinejs_resumes_a_conversation_from_its_watermark(web_socket: bool | None) -> None:
    async def scenario() -> None:
        async with running() as h:
            first = await run_client(h, secret=SECRET, webSocket=web_socket, steps=says("first"))
            assert texts(first) == ["first", "echo: first"]
            resumed = await run_client(
                h, secret=SECRET, conversationId=first["conversationId"], watermark=first["watermark"],
                webSocket=web_socket, steps=says("second"),
            )
            assert resumed["conversationId"] == first["conversationId"]
            # Only what came after the watermark is delivered again.
            assert texts(resumed) == ["second", "echo: second"]
            assert_transport(h, resumed, web_socket)
            if web_socket is None:
                assert f"/stream?watermark={first['watermark']}&t=" in resumed["streamUrls"][0]
            assert h.bot is not None
            # Resuming is not a new conversation, and the user is already a member.
            assert len(h.bot.received_of_type("conversationUpdate")) == 2

    asyncio.run(scenario())


@pytest.mark.parametrize("web_socket", MODES)
def test_directlinejs_resume_of_unknown_conversation_fails_to_connect(web_socket: bool | None) -> None:
    """After a stand-in restart the old conversation is gone: the client must get a clean failure, not hang."""

    async def scenario() -> None:
        async with running() as h:
            result = await run_client(
                h, expected_code=2, secret=SECRET, conversationId="gone", webSocket=web_socket, steps=says("x")
            )
            assert result["error"] == "FailedToConnect"

    asyncio.run(scenario())


def test_directlinejs_reconnects_after_the_service_closes_its_socket_and_loses_nothing() -> None:
    """The service "may forcibly close the WebSocket connection" (receive-activities docs): DirectLineJS then asks
    for a new streamUrl with its watermark and resumes; what was said meanwhile arrives once, in order."""

    async def scenario() -> None:
        async with running() as h:
            assert h.bot is not None
            process = await start_client(h, secret=SECRET, fixedRetryDelay=True, steps=[
                {"say": "first"}, {"expect": "proactive 1"}, {"expect": "proactive 2"}, {"say": "second"},
            ])
            streams = h.directline.service.streams
            await poll_until(lambda: any(a.get("text") == "first" for a in h.bot.received_of_type("message")),
                             within=30)
            conversation_id = h.bot.received_of_type("message")[0]["conversation"]["id"]
            await poll_until(lambda: streams.is_open(conversation_id), within=30)

            async def replied() -> bool:
                polled = await h.activities(conversation_id)
                return "echo: first" in [a.get("text") for a in polled["activities"]]

            # The bot has answered before the socket closes, so what it sends next comes after its answer.
            await poll_until(replied, within=30)
            assert await streams.close(conversation_id)
            for text in ("proactive 1", "proactive 2"):
                activity = {"type": "message", "text": text, "from": {"id": "bot", "name": "Bot"}}
                async with h.http.post(f"{h.directline.base_url}/v3/conversations/{conversation_id}/activities",
                                       json=activity) as response:
                    assert response.status == 200
            result = await finished(process)

            assert texts(result) == ["first", "echo: first", "proactive 1", "proactive 2", "second", "echo: second"]
            ids = [activity["id"] for activity in result["activities"]]
            assert len(ids) == len(set(ids))
            # Two sockets: the first from the start, the second from a reconnect that carried the watermark.
            assert len(result["streamUrls"]) == 2
            assert "/stream?watermark=-&t=" in result["streamUrls"][0]
            assert "/stream?watermark=-&t=" not in result["streamUrls"][1]

    asyncio.run(scenario())


@contextlib.asynccontextmanager
async def serving_files(files: dict[str, tuple[str, bytes]]) -> AsyncIterator[str]:
    """The files a browser would hold as blob: URLs, served on loopback for DirectLineJS to GET (its uploads read
    each attachment's contentUrl first, src/directLine.ts postMessageWithAttachments). Yields the root URL."""

    async def serve(request: web.Request) -> web.Response:
        content_type, data = files[request.match_info["name"]]
        return web.Response(body=data, headers={"Content-Type": content_type})

    app = web.Application()
    app.router.add_get("/{name}", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def test_directlinejs_uploads_files_the_bot_fetches_from_their_private_links() -> None:
    async def scenario() -> None:
        files = {"notes.txt": ("text/plain", b"ten bytes!"), "pic.png": ("image/png", b"\x89PNG" + bytes(96))}
        async with running() as h, serving_files(files) as root:
            upload = {"text": "my files", "files": [
                {"name": name, "contentType": content_type, "url": f"{root}/{name}"}
                for name, (content_type, _) in files.items()]}
            result = await run_client(h, secret=SECRET, steps=[
                {"upload": upload}, {"expect": "echo: my files with notes.txt (10 bytes), pic.png (100 bytes)"}])
            echo = result["activities"][0]
            assert echo["id"] == result["postIds"][0]
            assert echo["text"] == "my files"
            # The client's copy hides where the files are (botbuilder-dotnet#3874).
            assert echo["attachments"] == [
                {"contentType": "text/plain", "contentUrl": PLACEHOLDER_URL, "name": "notes.txt"},
                {"contentType": "image/png", "contentUrl": PLACEHOLDER_URL, "name": "pic.png"}]
            assert h.bot is not None
            received = h.bot.received_of_type("message")[-1]
            assert received["channelData"]["clientActivityID"] == "client-upload-my files"
            assert [a["name"] for a in received["attachments"]] == ["notes.txt", "pic.png"]

    asyncio.run(scenario())
