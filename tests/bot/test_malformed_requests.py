"""``POST /api/messages`` refuses malformed requests with a 4xx JSON error naming the problem (not botbuilder's 500).

Regression tests for what tests/fuzz/test_bot_messages.py found: CloudAdapter.process answered 500 for a body that
is not JSON or not an object and for fields of the wrong type, 404 for a request without Content-Type, and 201 for
activities it could not answer (no serviceUrl / conversation).
"""

import json
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.app import MAX_REQUEST_BYTES
from tests.bot.test_app import FakeBotConnector, message, run

JSON = {"Content-Type": "application/json"}


async def post(client: TestClient[web.Request, web.Application], body: bytes,
               headers: dict[str, str] | None = None) -> tuple[int, Any]:
    # skip_auto_headers: aiohttp would otherwise add Content-Type: application/octet-stream to a bytes body.
    response = await client.post("/api/messages", data=body, headers=headers if headers is not None else JSON,
                                 skip_auto_headers=["Content-Type"])
    return response.status, await response.json()


@pytest.mark.parametrize(("body", "named"), [
    (b"{", "not valid JSON"),
    (b'{"type": "\xff"}', "not valid JSON"),
    (b"[1, 2]", "must be a JSON object (an activity), got an array"),
    (b"null", "must be a JSON object (an activity), got nothing"),
    (b"{}", "activity.type must be a non-empty string"),
])
def test_a_body_that_is_not_an_activity_is_a_400_naming_the_problem(body: bytes, named: str) -> None:
    async def test(client: TestClient[web.Request, web.Application], connector: FakeBotConnector, *_: object) -> None:
        status, error = await post(client, body)
        assert status == 400
        assert error["error"]["code"] == "BadArgument"
        assert named in error["error"]["message"]
        assert connector.sent == []

    run(test)


@pytest.mark.parametrize(("change", "named"), [
    ({"type": 5}, "activity.type must be a non-empty string, got a number"),
    ({"channelId": ""}, "activity.channelId must be a non-empty string, got an empty string"),
    ({"serviceUrl": None}, "activity.serviceUrl must be a non-empty string, got nothing"),
    ({"serviceUrl": "ftp://x"}, "activity.serviceUrl must be an http(s) URL"),
    ({"conversation": "c"}, "activity.conversation must be an object, got a string"),
    ({"conversation": {"id": 7}}, "activity.conversation.id must be a non-empty string, got a number"),
    ({"from": [1]}, "activity.from must be an object, got an array"),
    ({"recipient": "bot"}, "activity.recipient must be an object, got a string"),
    ({"timestamp": "yesterday"}, "does not have the Bot Framework schema"),
    ({"attachments": 5}, "does not have the Bot Framework schema"),
])
def test_an_activity_with_a_wrong_field_is_a_400_naming_the_field(change: dict[str, Any], named: str) -> None:
    async def test(client: TestClient[web.Request, web.Application], connector: FakeBotConnector, *_: object) -> None:
        status, error = await post(client, json.dumps({**message(connector, "hi"), **change}).encode())
        assert status == 400
        assert named in error["error"]["message"]
        assert connector.sent == []

    run(test)


def test_a_request_without_content_type_is_a_415_not_a_404() -> None:
    async def test(client: TestClient[web.Request, web.Application], connector: FakeBotConnector, *_: object) -> None:
        status, error = await post(client, json.dumps(message(connector, "hi")).encode(), headers={})
        assert status == 415
        assert error["error"] == {"code": "UnsupportedMediaType",
                                  "message": "Content-Type must be application/json, got none"}

    run(test)


def test_a_body_over_the_limit_is_a_413_in_json() -> None:
    async def test(client: TestClient[web.Request, web.Application], *_: object) -> None:
        status, error = await post(client, b'{"type": "message", "text": "' + b"a" * MAX_REQUEST_BYTES + b'"}')
        assert status == 413
        assert error["error"]["code"] == "MessageSizeTooBig"
        assert str(MAX_REQUEST_BYTES) in error["error"]["message"]

    run(test)


def test_after_a_malformed_request_the_next_good_message_is_answered() -> None:
    async def test(client: TestClient[web.Request, web.Application], connector: FakeBotConnector, *_: object) -> None:
        assert (await post(client, b"{"))[0] == 400
        response = await client.post("/api/messages", json=message(connector, "hi"))
        assert response.status == 201
        assert connector.texts() == ["Please select a long operation test option."]

    run(test)
