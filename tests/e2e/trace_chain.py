"""``python -m tests.e2e.trace_chain [OPERATION]``: one operation ("option 1", or "tidy files", which asks a question
that the user answers) through the whole path in this one process, with every span kept in memory, printed as JSON
lines (``SPAN {...}``) once the outcome's delivery has ended.

The real bot (bot/app.py) on a loopback port, the devhost's Direct Line stand-in in front of it, the project's
function_app.py on the devhost functions host (its own event-loop thread), and a user talking to Direct Line as
Web Chat does. A process has one global tracer provider, so tests/e2e/test_trace.py runs this in a fresh
interpreter rather than installing one into the test session.
"""

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

SECRET = "trace-chain-directline-secret"
SIGNING_KEY = "trace-chain-signing-key"
CHOOSE = "Please select a long operation test option."
RESULT_1 = "Thanks for waiting. (Result for long operation one!)"
# What the user says, and what the bot answers to it, for each operation the chain can run.
CONVERSATIONS = {
    "option 1": (("hi", CHOOSE), ("option 1", RESULT_1)),
    "tidy files": (("hi", CHOOSE), ("tidy files", "The long operation: tidy files asks: Delete the 60 duplicates?"),
                   ("Yes", "Thanks for waiting. The long operation: tidy files has finished. Here is its result.")),
}
WAIT_SECONDS = 60.0


def span_json(span: ReadableSpan) -> dict[str, Any]:
    context = span.get_span_context()
    assert context is not None
    return {
        "name": span.name,
        "trace_id": f"{context.trace_id:032x}",
        "span_id": f"{context.span_id:016x}",
        "parent_id": None if span.parent is None else f"{span.parent.span_id:016x}",
        "service": span.resource.attributes.get("service.name"),
        "attributes": dict(span.attributes or {}),
    }


async def wait_for_text(http: aiohttp.ClientSession, url: str, conversation_id: str, text: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    seen: list[str] = []
    while asyncio.get_running_loop().time() < deadline:
        async with http.get(f"{url}/conversations/{conversation_id}/activities",
                            headers={"Authorization": f"Bearer {SECRET}"}) as response:
            body = await response.json()
        seen = [a.get("text", "") for a in body["activities"] if a.get("from", {}).get("id") != "user-1"]
        if text in seen:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the bot never said {text!r}; it said {seen}")


async def wait_for_span(exporter: InMemorySpanExporter, name: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while not any(span.name == name for span in exporter.get_finished_spans()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no {name!r} span ended")
        await asyncio.sleep(0.05)


async def run(exporter: InMemorySpanExporter, data_dir: Path, operation: str) -> None:
    from bot.app import create_app
    from bot.settings import BotSettings
    from devhost.directline import DirectLineConfig, serve
    from tests.orchestrator.devhost_thread import ProjectHost

    # The app reads its settings when the starter first needs them, after Direct Line has its port (below).
    host = ProjectHost(data_dir)
    settings = BotSettings(signing_key=SIGNING_KEY, operations_url=host.base_url,
                           operations_key=host.keys.function_key("start_operation"))
    bot_runner = web.AppRunner(create_app(settings), access_log=None)
    await bot_runner.setup()
    await web.TCPSite(bot_runner, "127.0.0.1", 0).start()
    bot_port = bot_runner.addresses[0][1]
    directline = await serve(DirectLineConfig(bot_url=f"http://127.0.0.1:{bot_port}/api/messages", secret=SECRET,
                                              port=0))
    os.environ.update({"DirectLineSecret": SECRET, "OperationSigningKey": SIGNING_KEY,
                       "DirectLineEndpoint": directline.directline_url, "OperationSeconds": "0.2",
                       "OperationSteps": "2"})
    try:
        async with aiohttp.ClientSession() as http:
            url = directline.directline_url
            auth = {"Authorization": f"Bearer {SECRET}"}
            async with http.post(f"{url}/conversations", headers=auth, json={"user": {"id": "user-1"}}) as response:
                conversation_id = (await response.json())["conversationId"]
            for text, answer in CONVERSATIONS[operation]:
                async with http.post(f"{url}/conversations/{conversation_id}/activities", headers=auth,
                                     json={"type": "message", "text": text, "from": {"id": "user-1"}}) as response:
                    assert response.status == 200, await response.text()
                await wait_for_text(http, url, conversation_id, answer)
        await wait_for_span(exporter, "deliver outcome")
    finally:
        host.close()
        await directline.close()
        await bot_runner.cleanup()


def main() -> int:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "one-process"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    with tempfile.TemporaryDirectory() as data_dir:
        asyncio.run(run(exporter, Path(data_dir), sys.argv[1] if len(sys.argv) > 1 else "option 1"))
    for span in exporter.get_finished_spans():
        print("SPAN", json.dumps(span_json(span)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
