"""Bad input at the Direct Line stand-in: both faces (/v3/directline for clients, /v3/conversations for the bot).

Every refusal is a 4xx with Direct Line's ``{"error": {"code", "message"}}``; after each example a client still
posts to and reads its conversation. The bot behind the stand-in is a fake at that boundary (it accepts every
activity with 200, as a healthy bot does), so any 5xx here is the stand-in's own.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from hypothesis import assume, given
from hypothesis import strategies as st

from devhost.directline import DirectLineConfig, RunningDirectLine, serve
from tests.fuzz.strategies import json_values, not_json_bodies, query_values
from tests.fuzz.support import FUZZ, Http, LoopThread, Reply, assert_client_error, channel_error, segment, url

SECRET = "fuzz-directline-secret"
MAX_ACTIVITY_BYTES = 16 * 1024  # small, so "too big" bodies stay cheap to send
AUTH = {"Authorization": f"Bearer {SECRET}"}
JSON = {"Content-Type": "application/json"}
GOOD_ACTIVITY = {"type": "message", "text": "hello", "from": {"id": "fuzz-user"}}


async def _accepting_bot() -> tuple[web.AppRunner, str]:
    async def messages(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages"


@dataclass
class DirectLine:
    base_url: str
    http: Http
    conversation_id: str

    @property
    def conversation(self) -> str:
        return f"/v3/directline/conversations/{segment(self.conversation_id)}"

    def call(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> Reply:
        headers = {**(AUTH if auth else {}), **kwargs.pop("headers", {})}
        return self.http.request(method, url(self.base_url, path), headers=headers, **kwargs)

    def still_serves(self) -> None:
        posted = self.call("POST", f"{self.conversation}/activities", json_body=GOOD_ACTIVITY)
        assert posted.status == 200, f"a good post after bad input failed: {posted}"
        read = self.call("GET", f"{self.conversation}/activities")
        assert read.status == 200 and posted.json()["id"] in [a["id"] for a in read.json()["activities"]], read


@pytest.fixture(scope="module")
def directline() -> Iterator[DirectLine]:
    loop = LoopThread()
    http = Http(loop)

    async def start() -> tuple[web.AppRunner, RunningDirectLine]:
        runner, bot_url = await _accepting_bot()
        served = await serve(DirectLineConfig(bot_url=bot_url, secret=SECRET, port=0,
                                              max_activity_bytes=MAX_ACTIVITY_BYTES, bot_timeout_seconds=10))
        return runner, served

    bot, served = loop.run(start())
    try:
        started = http.request("POST", served.directline_url + "/conversations", headers=AUTH)
        assert started.status == 201, started
        yield DirectLine(served.base_url, http, started.json()["conversationId"])
    finally:
        http.close()
        loop.run(_close(served, bot))
        loop.close()


async def _close(served: RunningDirectLine, bot: web.AppRunner) -> None:
    await served.close()
    await bot.cleanup()


# Printable only: no HTTP client sends control characters in a header (aiohttp refuses them as header injection).
_HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=40)


@FUZZ
@given(header=st.one_of(st.none(), _HEADER_TEXT, _HEADER_TEXT.map(lambda t: "Bearer " + t)))
def test_a_missing_or_wrong_credential_is_a_401_or_403(directline: DirectLine, header: str | None) -> None:
    assume(header is None or SECRET not in header)
    headers = {} if header is None else {"Authorization": header}
    reply = directline.call("GET", f"{directline.conversation}/activities", auth=False, headers=headers)
    assert_client_error(reply, 401, 403)
    channel_error(reply)
    directline.still_serves()


@FUZZ
@given(body=not_json_bodies)
def test_posting_a_body_that_is_not_json_is_a_400(directline: DirectLine, body: bytes) -> None:
    reply = directline.call("POST", f"{directline.conversation}/activities", body=body, headers=JSON)
    assert_client_error(reply, 400)
    assert "not valid JSON" in channel_error(reply)["message"]
    directline.still_serves()


@FUZZ
@given(value=json_values.filter(lambda value: not isinstance(value, dict)))
def test_posting_json_that_is_not_an_object_is_a_400(directline: DirectLine, value: Any) -> None:
    reply = directline.call("POST", f"{directline.conversation}/activities", json_body=value)
    assert_client_error(reply, 400)
    message = channel_error(reply)["message"]
    assert "must be a JSON object" in message or "empty" in message, reply
    directline.still_serves()


@FUZZ
@given(field=st.sampled_from(["type", "from", "from.id"]), value=st.one_of(st.just(None), json_values))
def test_an_activity_without_type_or_sender_is_a_400_naming_it(directline: DirectLine, field: str,
                                                               value: Any) -> None:
    assume(not (isinstance(value, str) and value))
    assume(not (field == "from" and isinstance(value, dict) and isinstance(value.get("id"), str) and value["id"]))
    activity: dict[str, Any] = json.loads(json.dumps(GOOD_ACTIVITY))
    if field == "from.id":
        activity["from"]["id"] = value
    else:
        activity[field] = value
    reply = directline.call("POST", f"{directline.conversation}/activities", json_body=activity)
    assert_client_error(reply, 400)
    error = channel_error(reply)
    assert error["code"] == "MissingProperty"
    assert error["message"] == ("activity.type is required" if field == "type" else "activity.from.id is required")
    directline.still_serves()


@FUZZ
@given(extra=st.dictionaries(st.text(max_size=10), json_values, max_size=5))
def test_an_activity_with_extra_fields_of_any_type_is_forwarded(directline: DirectLine, extra: dict[str, Any]) -> None:
    # Direct Line passes fields it does not know through to the bot; the ones it owns it overwrites.
    reply = directline.call("POST", f"{directline.conversation}/activities", json_body={**extra, **GOOD_ACTIVITY})
    assert reply.status == 200, reply
    directline.still_serves()


@FUZZ
@given(extra=st.integers(min_value=1, max_value=3 * MAX_ACTIVITY_BYTES))
def test_an_activity_over_the_limit_is_a_413(directline: DirectLine, extra: int) -> None:
    activity = {**GOOD_ACTIVITY, "text": "x" * (MAX_ACTIVITY_BYTES + extra)}
    reply = directline.call("POST", f"{directline.conversation}/activities", json_body=activity)
    assert_client_error(reply, 413)
    assert channel_error(reply)["code"] == "MessageSizeTooBig"
    directline.still_serves()


@FUZZ
@given(conversation_id=st.text(min_size=1, max_size=80), operation=st.sampled_from(["get", "post", "reconnect"]))
def test_an_unknown_conversation_is_a_404(directline: DirectLine, conversation_id: str, operation: str) -> None:
    assume(conversation_id != directline.conversation_id)
    base = f"/v3/directline/conversations/{segment(conversation_id)}"
    if operation == "get":
        reply = directline.call("GET", f"{base}/activities")
    elif operation == "post":
        reply = directline.call("POST", f"{base}/activities", json_body=GOOD_ACTIVITY)
    else:
        reply = directline.call("GET", base)
    assert_client_error(reply, 404)
    assert repr(conversation_id) in channel_error(reply)["message"]
    directline.still_serves()


@FUZZ
@given(watermark=query_values)
def test_a_bad_watermark_is_a_400_naming_it(directline: DirectLine, watermark: str) -> None:
    reply = directline.call("GET", f"{directline.conversation}/activities", params={"watermark": watermark})
    # Some generated values are good watermarks ("", "0", "12"): those read the transcript.
    assert reply.status in (200, 400), reply
    if reply.status == 400:
        assert "watermark" in channel_error(reply)["message"]
    directline.still_serves()


@FUZZ
@given(body=st.one_of(json_values.map(lambda value: json.dumps(value).encode()), not_json_bodies),
       path=st.sampled_from(["/v3/directline/tokens/generate", "/v3/directline/conversations"]))
def test_token_and_start_parameters_of_the_wrong_shape_are_a_400(directline: DirectLine, body: bytes,
                                                                 path: str) -> None:
    reply = directline.call("POST", path, body=body, headers=JSON)
    # An object whose "user" is absent, null or {"id": "<text>"} is valid and starts/issues (200/201).
    assert reply.status in (200, 201, 400), reply
    if reply.status == 400:
        channel_error(reply)
    directline.still_serves()


@FUZZ
@given(body=st.one_of(json_values.map(lambda value: json.dumps(value).encode()), not_json_bodies),
       conversation_id=st.one_of(st.none(), st.text(min_size=1, max_size=40)))
def test_the_bot_face_refuses_bad_activities_and_unknown_conversations(directline: DirectLine, body: bytes,
                                                                       conversation_id: str | None) -> None:
    target = directline.conversation_id if conversation_id is None else conversation_id
    assume(conversation_id is None or conversation_id != directline.conversation_id)
    reply = directline.call("POST", f"/v3/conversations/{segment(target)}/activities", auth=False, body=body,
                            headers=JSON)
    if conversation_id is not None:
        assert_client_error(reply, 400, 404)
    else:
        # The bot may send any activity with a type; everything else is a 400.
        assert reply.status in (200, 400), reply
    if reply.status != 200:
        channel_error(reply)
    directline.still_serves()


_SEGMENTS = st.text(min_size=1, max_size=20).map(segment)


@FUZZ
@given(method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]),
       path=st.lists(_SEGMENTS, min_size=1, max_size=4).map("/".join))
def test_unknown_routes_are_a_404_and_wrong_methods_a_405(directline: DirectLine, method: str, path: str) -> None:
    reply = directline.call(method, f"/zz-{path}")
    assert_client_error(reply, 404)
    assert channel_error(reply)["code"] == "NotFound"
    reply = directline.call(method if method != "GET" else "PUT", f"{directline.conversation}/activities")
    if method not in ("GET", "POST"):
        assert_client_error(reply, 405)
        assert channel_error(reply)["code"] == "MethodNotAllowed"
    directline.still_serves()


_MULTIPART_STARTS = st.sampled_from([
    b"", b"--x\r\n", b"--x\r\nContent-Type: application/vnd.microsoft.activity\r\n\r\n",
    b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\n",
])
_MULTIPART_ENDS = st.sampled_from([b"", b"\r\n--x--\r\n", b"\r\n--x\r\n"])


@FUZZ
@given(start=_MULTIPART_STARTS, middle=st.binary(max_size=300), end=_MULTIPART_ENDS)
def test_a_malformed_upload_is_a_400_and_a_wellformed_one_reaches_the_bot(directline: DirectLine, start: bytes,
                                                                          middle: bytes, end: bytes) -> None:
    reply = directline.call("POST", f"{directline.conversation}/upload", body=start + middle + end,
                            params={"userId": "fuzz-user"}, headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert reply.status in (200, 400), reply
    if reply.status == 400:
        channel_error(reply)
    directline.still_serves()


@FUZZ
@given(data=st.dictionaries(st.sampled_from(["type", "name", "originalBase64", "thumbnailBase64"]), json_values))
def test_the_bot_face_refuses_attachment_data_it_cannot_keep(directline: DirectLine, data: dict[str, Any]) -> None:
    reply = directline.call("POST", f"/v3/conversations/{segment(directline.conversation_id)}/attachments",
                            auth=False, json_body=data)
    assert reply.status in (200, 400), reply
    if reply.status == 400:
        channel_error(reply)
    directline.still_serves()
