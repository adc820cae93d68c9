"""Conformance: the official Direct Line client (botframework-directlinejs, run by node) against the stand-in.

The stand-in and a real botbuilder echo bot run on loopback; ``directline_client.js`` starts or resumes a
conversation, posts and polls, and reports what it saw as JSON. Node is required (it is installed here and in CI).
"""

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

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


async def run_client(h: Harness, **options: Any) -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "node is required for the conformance tests"
    arguments = json.dumps({"domain": h.url, "timeoutMs": 20000, **options})
    process = await asyncio.create_subprocess_exec(
        node, str(DRIVER), arguments, cwd=HERE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, f"driver exited {process.returncode}: {stdout.decode()} {stderr.decode()}"
    result: dict[str, Any] = json.loads(stdout.decode().strip().splitlines()[-1])
    return result


def texts(result: dict[str, Any]) -> list[str]:
    return [activity["text"] for activity in result["activities"]]


def test_directlinejs_with_secret_starts_posts_and_receives_by_polling() -> None:
    async def scenario() -> None:
        async with running() as h:
            result = await run_client(h, secret=SECRET, say=["hello", "world"])
            assert texts(result) == ["hello", "echo: hello", "world", "echo: world"]
            echo = result["activities"][0]
            assert echo["id"] == result["postIds"][0]
            assert echo["channelData"]["clientActivityID"] == "client-hello"
            assert h.bot is not None
            # DirectLineJS starts without a user id: the bot joins at start, the user on their first post.
            updates = h.bot.received_of_type("conversationUpdate")
            assert [[m["id"] for m in u["membersAdded"]] for u in updates] == [["bot"], ["user-js"]]
            assert all(a["channelId"] == "directline" for a in h.bot.received)

    asyncio.run(scenario())


def test_directlinejs_with_generated_token() -> None:
    async def scenario() -> None:
        async with running() as h:
            status, generated = await h.call("POST", "/tokens/generate", json={})
            assert status == 200
            result = await run_client(h, token=generated["token"], say=["via token"])
            assert result["conversationId"] == generated["conversationId"]
            assert texts(result) == ["via token", "echo: via token"]

    asyncio.run(scenario())


def test_directlinejs_resumes_a_conversation_from_its_watermark() -> None:
    async def scenario() -> None:
        async with running() as h:
            first = await run_client(h, secret=SECRET, say=["first"])
            assert texts(first) == ["first", "echo: first"]
            resumed = await run_client(
                h, secret=SECRET, conversationId=first["conversationId"], watermark=first["watermark"], say=["second"]
            )
            assert resumed["conversationId"] == first["conversationId"]
            # Only what came after the watermark is delivered again.
            assert texts(resumed) == ["second", "echo: second"]
            assert h.bot is not None
            # Resuming is not a new conversation, and the user is already a member.
            assert len(h.bot.received_of_type("conversationUpdate")) == 2

    asyncio.run(scenario())


def test_directlinejs_resume_of_unknown_conversation_fails_to_connect() -> None:
    """After a stand-in restart the old conversation is gone: the client must get a clean failure, not hang."""

    async def scenario() -> None:
        async with running() as h:
            node = shutil.which("node")
            assert node
            arguments = json.dumps({"domain": h.url, "secret": SECRET, "conversationId": "gone", "say": ["x"]})
            process = await asyncio.create_subprocess_exec(
                node, str(DRIVER), arguments, cwd=HERE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            stdout, _ = await asyncio.wait_for(process.communicate(), timeout=60)
            assert process.returncode == 2
            assert json.loads(stdout.decode().strip().splitlines()[-1])["error"] == "FailedToConnect"

    asyncio.run(scenario())
