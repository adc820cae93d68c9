"""Uploads on the stand-in's client face: the multipart and single-file forms, the private links the bot fetches
the files from, what clients see instead, the 4 MB limit and malformed uploads."""

import asyncio
import json
from typing import Any

import aiohttp

from devhost.attachment_store import UPLOAD_LIMIT_BYTES
from devhost.directline.attachment_links import PLACEHOLDER_URL
from devhost.directline.throttle import ThrottleRule
from tests.devhost.directline.echo_bot import poll_until
from tests.devhost.directline.harness import Harness, running

ACTIVITY_TYPE = "application/vnd.microsoft.activity"


def upload_form(activity: dict[str, Any] | None, *files: tuple[str, str, bytes]) -> aiohttp.FormData:
    """The form DirectLineJS's postMessageWithAttachments builds: an ``activity`` part, a ``file`` part per file."""
    form = aiohttp.FormData()
    if activity is not None:
        form.add_field("activity", json.dumps(activity), content_type=ACTIVITY_TYPE, filename="blob")
    for name, content_type, data in files:
        form.add_field("file", data, content_type=content_type, filename=name)
    return form


async def post_upload(h: Harness, conversation_id: str, body: Any, user_id: str | None = "user-1",
                      **kwargs: Any) -> tuple[int, Any]:
    params = {} if user_id is None else {"userId": user_id}
    return await h.call("POST", f"/conversations/{conversation_id}/upload", params=params, data=body, **kwargs)


def last_message(h: Harness) -> dict[str, Any]:
    assert h.bot is not None
    return h.bot.received_of_type("message")[-1]


def test_a_multipart_upload_reaches_the_bot_with_private_links_it_can_fetch() -> None:
    async def scenario() -> None:
        async with running() as h:
            conversation_id = (await h.start())["conversationId"]
            activity = {"type": "message", "text": "two files", "from": {"id": "user-1"},
                        "attachments": [{"contentType": "text/plain", "name": "notes.txt"},
                                        {"contentType": "image/png", "name": "pic.png"}]}
            form = upload_form(activity, ("notes.txt", "text/plain", b"some notes"),
                               ("pic.png", "image/png", b"\x89PNG fake"))
            status, body = await post_upload(h, conversation_id, form)
            assert status == 200, body
            assert h.bot is not None
            await poll_until(lambda: bool(h.bot and h.bot.received_of_type("message")))
            received = last_message(h)
            assert received["id"] == body["id"]
            assert received["text"] == "two files"
            assert received["from"]["id"] == "user-1"
            attachments = received["attachments"]
            assert [(a["name"], a["contentType"]) for a in attachments] == [
                ("notes.txt", "text/plain"), ("pic.png", "image/png")]
            sequence = body["id"].split("|")[1]
            root = h.directline.base_url
            assert attachments[0]["contentUrl"].startswith(
                f"{root}/attachments/{conversation_id}/{sequence}/0/notes.txt?t=")
            # Pre-authorised: the bot's GET carries no Authorization header.
            for attachment, expected in zip(attachments, [b"some notes", b"\x89PNG fake"], strict=True):
                async with h.http.get(attachment["contentUrl"]) as response:
                    assert response.status == 200
                    assert response.headers["Content-Type"] == attachment["contentType"]
                    assert await response.read() == expected

    asyncio.run(scenario())


def test_clients_see_the_upload_with_a_placeholder_instead_of_the_private_link() -> None:
    async def scenario() -> None:
        async with running() as h:
            conversation_id = (await h.start())["conversationId"]
            form = upload_form({"type": "message", "from": {"id": "user-1"}}, ("a.txt", "text/plain", b"a"))
            status, body = await post_upload(h, conversation_id, form)
            assert status == 200, body
            echo = (await h.activities(conversation_id))["activities"][0]
            assert echo["id"] == body["id"]
            assert echo["attachments"] == [{"contentType": "text/plain", "contentUrl": PLACEHOLDER_URL,
                                            "name": "a.txt"}]

    asyncio.run(scenario())


def test_a_private_link_without_or_with_a_wrong_token_is_refused() -> None:
    async def scenario() -> None:
        async with running() as h:
            conversation_id = (await h.start())["conversationId"]
            await post_upload(h, conversation_id, upload_form(None, ("a.txt", "text/plain", b"secret")))
            url = last_message(h)["attachments"][0]["contentUrl"]
            bare = url.split("?")[0]
            async with h.http.get(bare) as response:
                assert response.status == 401
                assert await response.json() == {"error": {
                    "code": "BadArgument",
                    "message": "Missing token: an attachment URL carries its token in the t parameter"}}
            async with h.http.get(f"{bare}?t=forged") as response:
                assert response.status == 403
                assert await response.json() == {"error": {
                    "code": "BadArgument", "message": "Security token not valid for this attachment"}}

    asyncio.run(scenario())


def test_an_upload_without_an_activity_part_is_an_empty_message_from_the_user() -> None:
    async def scenario() -> None:
        async with running() as h:
            conversation_id = (await h.start())["conversationId"]
            status, _ = await post_upload(h, conversation_id, upload_form(None, ("a.csv", "text/csv", b"1,2")))
            assert status == 200
            received = last_message(h)
            assert received["type"] == "message"
            assert received["from"]["id"] == "user-1"
            assert "text" not in received
            assert [a["name"] for a in received["attachments"]] == ["a.csv"]

    asyncio.run(scenario())


def test_a_single_file_body_takes_its_type_and_name_from_the_headers() -> None:
    async def scenario() -> None:
        async with running() as h:
            conversation_id = (await h.start())["conversationId"]
            headers = {**h.auth(), "Content-Type": "image/jpeg",
                       "Content-Disposition": 'name="file"; filename="badjokeeel.jpg"'}
            url = f"{h.url}/conversations/{conversation_id}/upload?userId=user-1"
            async with h.http.post(url, data=b"\xff\xd8jpeg", headers=headers) as response:
                assert response.status == 200
            attachment = last_message(h)["attachments"][0]
            assert (attachment["name"], attachment["contentType"]) == ("badjokeeel.jpg", "image/jpeg")
            async with h.http.get(attachment["contentUrl"]) as response:
                assert await response.read() == b"\xff\xd8jpeg"

    asyncio.run(scenario())


def test_an_upload_over_4_mb_is_refused_as_the_service_refuses_it() -> None:
    async def scenario() -> None:
        async with running() as h:
            conversation_id = (await h.start())["conversationId"]
            form = upload_form(None, ("big.bin", "application/octet-stream", b"x" * UPLOAD_LIMIT_BYTES))
            status, body = await post_upload(h, conversation_id, form)
            assert status == 500
            assert body["error"]["code"] == "ServiceError"
            assert body["error"]["message"].endswith(
                f"exceeds Direct Line's request limit of {UPLOAD_LIMIT_BYTES} bytes (4 MB)")
            assert h.bot is not None and h.bot.received_of_type("message") == []
            # Just under the limit, with the multipart framing, goes through.
            form = upload_form(None, ("fits.bin", "application/octet-stream", b"x" * (UPLOAD_LIMIT_BYTES - 1024)))
            status, _ = await post_upload(h, conversation_id, form)
            assert status == 200

    asyncio.run(scenario())


def test_malformed_uploads_are_400_naming_the_problem() -> None:
    async def scenario() -> None:
        async with running() as h:
            conversation_id = (await h.start())["conversationId"]
            form = upload_form(None, ("a.txt", "text/plain", b"a"))
            status, body = await post_upload(h, conversation_id, form, user_id=None)
            assert (status, body) == (400, {"error": {
                "code": "MissingProperty",
                "message": "the userId parameter is required: the id of the user sending the files"}})
            status, body = await post_upload(h, conversation_id, upload_form({"type": "message"}))
            assert (status, body["error"]["message"]) == (
                400, "the upload has no file: send the file as the body, or one multipart part per file")
            bad_activity = aiohttp.FormData()
            bad_activity.add_field("activity", "{oops", content_type=ACTIVITY_TYPE)
            bad_activity.add_field("file", b"a", content_type="text/plain", filename="a.txt")
            status, body = await post_upload(h, conversation_id, bad_activity)
            assert status == 400
            assert body["error"]["message"].startswith(f"the {ACTIVITY_TYPE} part is not valid JSON: ")
            headers = {**h.auth(), "Content-Type": "multipart/form-data; boundary=nothere"}
            url = f"{h.url}/conversations/{conversation_id}/upload?userId=user-1"
            async with h.http.post(url, data=b"not multipart at all", headers=headers) as response:
                assert response.status == 400
                message = (await response.json())["error"]["message"]
            assert message.startswith("the upload is not valid multipart/form-data: ")
            assert h.bot is not None and h.bot.received_of_type("message") == []

    asyncio.run(scenario())


def test_an_upload_needs_the_conversations_credential() -> None:
    async def scenario() -> None:
        async with running() as h:
            conversation_id = (await h.start())["conversationId"]
            other = await h.start()
            form = upload_form(None, ("a.txt", "text/plain", b"a"))
            status, _ = await post_upload(h, conversation_id, form, credential=other["token"])
            assert status == 403
            status, _ = await post_upload(h, "unknown", upload_form(None, ("a.txt", "text/plain", b"a")))
            assert status == 404

    asyncio.run(scenario())


def test_an_upload_counts_as_a_post_against_the_throttle() -> None:
    async def scenario() -> None:
        async with running(throttle=(ThrottleRule(1, 60),)) as h:
            conversation_id = (await h.start())["conversationId"]
            assert (await h.say(conversation_id, "one"))[0] == 200
            status, body = await post_upload(h, conversation_id, upload_form(None, ("a.txt", "text/plain", b"a")))
            assert status == 429
            assert body["error"]["code"] == "TooManyRequests"
            assert h.bot is not None
            assert [a.get("text") for a in h.bot.received_of_type("message")] == ["one"]

    asyncio.run(scenario())
