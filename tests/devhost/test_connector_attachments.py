"""The Bot Connector attachment routes on both faces (the Direct Line stand-in and the chat), called through
botbuilder's own ConnectorClient: upload, AttachmentInfo, the views, and the errors."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import aiohttp
import pytest
from botbuilder.schema import AttachmentData
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials
from botframework.connector.models import ErrorResponseException

from devhost.attachment_store import UPLOAD_LIMIT_BYTES
from tests.devhost.chat.harness import chatting
from tests.devhost.directline.harness import running


@dataclass
class Face:
    service_url: str
    conversation_id: str


@contextlib.asynccontextmanager
async def directline_face() -> AsyncIterator[Face]:
    async with running() as h:
        yield Face(h.directline.service_url, (await h.start())["conversationId"])


@contextlib.asynccontextmanager
async def chat_face() -> AsyncIterator[Face]:
    async with chatting() as h:
        conversation = await h.client.start_conversation(h.view)
        yield Face(h.client.service_url, conversation.id)


FACES = [pytest.param(directline_face, id="directline"), pytest.param(chat_face, id="chat")]
FaceFactory = Callable[[], contextlib.AbstractAsyncContextManager[Face]]


def connector(face: Face) -> ConnectorClient:
    return ConnectorClient(MicrosoftAppCredentials("", ""), base_url=face.service_url.rstrip("/"))


async def view_bytes(client: ConnectorClient, attachment_id: str, view_id: str) -> bytes:
    chunks = await client.attachments.get_attachment(attachment_id, view_id)
    return b"".join([chunk async for chunk in chunks])


def error_of(raised: pytest.ExceptionInfo[ErrorResponseException]) -> tuple[int, dict[str, str]]:
    response = raised.value.response
    return response.status_code, json.loads(response.text)["error"]


@pytest.mark.parametrize("face_factory", FACES)
def test_the_bot_uploads_an_attachment_and_reads_its_info_and_views(face_factory: FaceFactory) -> None:
    async def scenario() -> None:
        async with face_factory() as face:
            client = connector(face)
            data = AttachmentData(type="image/png", name="chart.png", original_base64=bytearray(b"\x89PNG original"),
                                  thumbnail_base64=bytearray(b"thumb"))
            uploaded = await client.conversations.upload_attachment(face.conversation_id, data)
            assert uploaded.id
            info = await client.attachments.get_attachment_info(uploaded.id)
            assert (info.name, info.type) == ("chart.png", "image/png")
            assert [(view.view_id, view.size) for view in info.views] == [("original", 13), ("thumbnail", 5)]
            assert await view_bytes(client, uploaded.id, "original") == b"\x89PNG original"
            assert await view_bytes(client, uploaded.id, "thumbnail") == b"thumb"

    asyncio.run(scenario())


@pytest.mark.parametrize("face_factory", FACES)
def test_missing_attachments_and_views_are_404_with_the_error_body(face_factory: FaceFactory) -> None:
    async def scenario() -> None:
        async with face_factory() as face:
            client = connector(face)
            data = AttachmentData(type="text/plain", name="a.txt", original_base64=bytearray(b"a"))
            uploaded = await client.conversations.upload_attachment(face.conversation_id, data)
            with pytest.raises(ErrorResponseException) as raised:
                await view_bytes(client, uploaded.id, "thumbnail")
            assert error_of(raised) == (404, {"code": "BadArgument", "message":
                                              f"attachment {uploaded.id!r} has no 'thumbnail' view; its views: "
                                              "original"})
            with pytest.raises(ErrorResponseException) as raised:
                await client.attachments.get_attachment_info("nope")
            assert error_of(raised) == (404, {"code": "BadArgument", "message": "attachment 'nope' not found"})
            with pytest.raises(ErrorResponseException) as raised:
                await view_bytes(client, "nope", "original")
            assert error_of(raised)[0] == 404
            with pytest.raises(ErrorResponseException) as raised:
                await client.conversations.upload_attachment("unknown-conversation", data)
            assert error_of(raised)[0] == 404

    asyncio.run(scenario())


@pytest.mark.parametrize("face_factory", FACES)
def test_bad_attachment_data_is_400_naming_the_field(face_factory: FaceFactory) -> None:
    async def scenario() -> None:
        async with face_factory() as face:
            client = connector(face)
            with pytest.raises(ErrorResponseException) as raised:
                await client.conversations.upload_attachment(
                    face.conversation_id, AttachmentData(name="a.txt", original_base64=bytearray(b"a")))
            assert error_of(raised) == (400, {"code": "MissingProperty", "message":
                                              "AttachmentData.type is required: the attachment's content type"})
            with pytest.raises(ErrorResponseException) as raised:
                await client.conversations.upload_attachment(face.conversation_id, AttachmentData(type="text/plain"))
            assert error_of(raised) == (400, {"code": "MissingProperty", "message":
                                              "AttachmentData.originalBase64 is required: the attachment's bytes "
                                              "in base64"})
            url = f"{face.service_url.rstrip('/')}/v3/conversations/{face.conversation_id}/attachments"
            body = {"type": "text/plain", "originalBase64": "not base64!"}
            async with aiohttp.ClientSession() as http, http.post(url, json=body) as response:
                assert response.status == 400
                assert (await response.json())["error"] == {
                    "code": "BadArgument", "message": "AttachmentData.originalBase64 is not valid base64"}

    asyncio.run(scenario())


@pytest.mark.parametrize("face_factory", FACES)
def test_an_attachment_larger_than_any_activity_is_taken_up_to_the_limit(face_factory: FaceFactory) -> None:
    async def scenario() -> None:
        async with face_factory() as face:
            client = connector(face)
            # 2.5 MB of bytes is a body of about 3.3 MB in base64: over the activity limits, under the upload limit.
            original = bytes(range(256)) * (10 * 1024)
            data = AttachmentData(type="application/octet-stream", name="big.bin", original_base64=bytearray(original))
            uploaded = await client.conversations.upload_attachment(face.conversation_id, data)
            assert await view_bytes(client, uploaded.id, "original") == original

    asyncio.run(scenario())


@pytest.mark.parametrize("face_factory", FACES)
def test_an_attachment_over_the_upload_limit_is_refused(face_factory: FaceFactory) -> None:
    async def scenario() -> None:
        async with face_factory() as face:
            client = connector(face)
            # Base64 grows the bytes by a third: 3.2 MB of bytes is a request body over 4 MB.
            data = AttachmentData(type="application/octet-stream", name="big.bin",
                                  original_base64=bytearray(b"x" * (UPLOAD_LIMIT_BYTES * 4 // 5)))
            with pytest.raises(ErrorResponseException) as raised:
                await client.conversations.upload_attachment(face.conversation_id, data)
            status, error = error_of(raised)
            assert (status, error["code"]) == (413, "MessageSizeTooBig")
            assert error["message"].endswith(f"bytes; the limit is {UPLOAD_LIMIT_BYTES}")

    asyncio.run(scenario())
