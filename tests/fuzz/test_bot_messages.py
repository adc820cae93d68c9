"""Bad input at the bot's ``POST /api/messages`` (bot.create_app with the real CloudAdapter, auth off).

Malformed requests get a 4xx with the Bot Framework's ``{"error": {"code", "message"}}`` (see bot/inbound.py);
activities that are merely odd (unknown fields, values of other types where the schema is loose) are taken with
201. After each example a good message is still answered: 201, and the bot's reply reaches the fake channel.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.app import MAX_REQUEST_BYTES, create_app
from bot.settings import BotSettings
from devhost.addresses import free_port
from tests.bot.harness import CopyingMemoryStorage
from tests.fuzz.strategies import json_values, not_json_bodies, raw_bodies
from tests.fuzz.support import FUZZ, Http, LoopThread, Reply, assert_client_error, channel_error

JSON = {"Content-Type": "application/json"}


@dataclass
class Channel:
    """The Bot Connector side of serviceUrl: a fake at the boundary that records where the bot replied."""

    replies: list[str] = field(default_factory=list, repr=False)

    async def _send(self, request: web.Request) -> web.Response:
        await request.read()
        self.replies.append(request.match_info["cid"])
        return web.json_response({"id": f"sent-{len(self.replies)}"})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{cid}/activities", self._send)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._send)
        return app


@dataclass
class Bot:
    messages_url: str
    channel_url: str
    channel: Channel = field(repr=False)
    http: Http = field(repr=False)
    turns: int = 0

    def activity(self, **fields: Any) -> dict[str, Any]:
        self.turns += 1
        return {"type": "message", "id": f"in-{self.turns}", "text": "hi", "channelId": "directline",
                "serviceUrl": self.channel_url, "conversation": {"id": f"fuzz-{self.turns}"},
                "from": {"id": "fuzz-user"}, "recipient": {"id": "bot"}, **fields}

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> Reply:
        return self.http.request("POST", self.messages_url, body=body, headers=JSON if headers is None else headers)

    def still_serves(self) -> None:
        good = self.activity()
        reply = self.post(json.dumps(good).encode())
        assert reply.status == 201, f"a good message after bad input failed: {reply}"
        assert good["conversation"]["id"] in self.channel.replies, "the bot did not answer the good message"


@pytest.fixture(scope="module")
def bot() -> Iterator[Bot]:
    loop = LoopThread()
    http = Http(loop)
    channel = Channel()
    # Nothing listens at OperationsUrl: a generated "option 1" makes the bot say the service is unavailable.
    settings = BotSettings(signing_key="fuzz-signing-key", operations_url=f"http://127.0.0.1:{free_port()}",
                           operations_timeout=2.0)

    async def start() -> tuple[TestServer, TestServer]:
        channel_server = TestServer(channel.app(), host="127.0.0.1")
        bot_server = TestServer(create_app(settings, CopyingMemoryStorage()), host="127.0.0.1")
        await channel_server.start_server()
        await bot_server.start_server()
        return channel_server, bot_server

    channel_server, bot_server = loop.run(start())
    try:
        yield Bot(str(bot_server.make_url("/api/messages")), str(channel_server.make_url("")).rstrip("/"), channel,
                  http)
    finally:
        http.close()
        loop.run(bot_server.close())
        loop.run(channel_server.close())
        loop.close()


@FUZZ
@given(body=not_json_bodies)
def test_a_body_that_is_not_json_is_a_400(bot: Bot, body: bytes) -> None:
    reply = bot.post(body)
    assert_client_error(reply, 400)
    assert channel_error(reply)["message"].startswith("the request body is not valid JSON")
    bot.still_serves()


@FUZZ
@given(value=json_values.filter(lambda value: not isinstance(value, dict)))
def test_json_that_is_not_an_object_is_a_400(bot: Bot, value: Any) -> None:
    reply = bot.post(json.dumps(value).encode())
    assert_client_error(reply, 400)
    assert channel_error(reply)["message"].startswith("the request body must be a JSON object")
    bot.still_serves()


@FUZZ
@given(content_type=st.one_of(st.none(), st.sampled_from(["text/plain", "application/xml", "multipart/form-data",
                                                           "application/x-www-form-urlencoded", "json"])),
       body=raw_bodies)
def test_a_body_that_is_not_declared_json_is_a_415(bot: Bot, content_type: str | None, body: bytes) -> None:
    reply = bot.post(body, {} if content_type is None else {"Content-Type": content_type})
    assert_client_error(reply, 415)
    assert channel_error(reply) == {"code": "UnsupportedMediaType",
                                    "message": f"Content-Type must be application/json, got {content_type or 'none'}"}
    bot.still_serves()


# Every top-level field the bot relies on, plus a sample of the Bot Framework schema's typed ones.
_FIELDS = ["type", "channelId", "serviceUrl", "conversation", "from", "recipient", "id", "text", "timestamp",
           "localTimestamp", "attachments", "entities", "membersAdded", "channelData", "value", "name", "replyToId",
           "locale", "textFormat", "suggestedActions"]
_MISSING = object()


@FUZZ
@given(name=st.sampled_from(_FIELDS), value=st.one_of(st.just(_MISSING), json_values))
def test_a_missing_or_wrongly_typed_field_is_a_400_or_a_turn_never_a_5xx(bot: Bot, name: str, value: Any) -> None:
    activity = bot.activity()
    if value is _MISSING:
        activity.pop(name, None)
    else:
        # An http(s) serviceUrl would send the bot's reply elsewhere; "invoke" turns are answered by botbuilder's
        # ActivityHandler with 501 for names it does not know (the invoke protocol, not a server fault).
        assume(not (name == "serviceUrl" and isinstance(value, str) and value.startswith(("http://", "https://"))))
        assume(not (name == "type" and value == "invoke"))
        activity[name] = value
    reply = bot.post(json.dumps(activity).encode())
    assert reply.status in (200, 201, 400), reply
    if reply.status == 400:
        message = channel_error(reply)["message"]
        assert f"activity.{name}" in message or "does not have the Bot Framework schema" in message, reply
    bot.still_serves()


@FUZZ
@given(value=json_values)
def test_an_outcome_event_with_any_value_is_taken_and_ignored(bot: Bot, value: Any) -> None:
    # The function app's outcome event: a bad value is logged and dropped (bot/outcome_event.py), never an error
    # to the channel, which could not do anything about it.
    reply = bot.post(json.dumps(bot.activity(type="event", name="LongOperationResponse", value=value)).encode())
    assert reply.status == 201, reply
    bot.still_serves()


QUESTION_FIELDS = ("instanceId", "conversationId", "step", "text", "choices", "timeoutSeconds", "expiresAt",
                   "signature")


@FUZZ
@given(question=st.dictionaries(st.sampled_from(QUESTION_FIELDS), json_values))
def test_a_question_event_with_any_fields_is_taken_and_ignored(bot: Bot, question: dict[str, Any]) -> None:
    # A step's question in the same event (contract/question.py): whatever its fields, it is checked and dropped
    # like a bad outcome, never an error to the channel.
    value = {"channelId": "directline", "serviceUrl": "http://127.0.0.1:9/", "conversation": {"id": "conv-q"},
             "value": {**question, "kind": "LongOperationQuestion"}}
    reply = bot.post(json.dumps(bot.activity(type="event", name="LongOperationResponse", value=value)).encode())
    assert reply.status == 201, reply
    bot.still_serves()


@FUZZ
@given(extra=st.integers(min_value=1, max_value=MAX_REQUEST_BYTES))
def test_a_body_over_the_limit_is_a_413(bot: Bot, extra: int) -> None:
    reply = bot.post(json.dumps(bot.activity(text="x" * (MAX_REQUEST_BYTES + extra))).encode())
    assert_client_error(reply, 413)
    assert channel_error(reply)["code"] == "MessageSizeTooBig"
    bot.still_serves()


@FUZZ
@given(method=st.sampled_from(["GET", "PUT", "PATCH", "DELETE"]),
       path=st.sampled_from(["/api/messages", "/api/nothing", "/", "/api/messages/x"]))
def test_unknown_routes_and_wrong_methods_are_4xx(bot: Bot, method: str, path: str) -> None:
    reply = bot.http.request(method, bot.messages_url.replace("/api/messages", path))
    assert_client_error(reply, 404, 405)
    bot.still_serves()
