"""Uploads on the Direct Line client face, and the private links the bot fetches them from.

``POST /v3/directline/conversations/{id}/upload?userId=U`` ("Send attachment(s) by upload", Direct Line 3.0 swagger
description): either one file as the whole body (its Content-Type and Content-Disposition filename are the file's),
or ``multipart/form-data`` with one part per file plus at most one part of type
``application/vnd.microsoft.activity`` holding the activity; without one, an empty message carries the files.
DirectLineJS's postMessageWithAttachments sends the second form: a part named ``activity`` (that type, a JSON Blob)
and a part named ``file`` per attachment with the attachment's contentType and name as filename (BotFramework-
DirectLineJS src/directLine.ts). The answer is the id of the activity sent to the bot, like a post's.

Size: a request over 4 MB is refused as the service refuses it, with HTTP 500 ``{"error": {"code":
"ServiceError"}}`` (captured in BotFramework-WebChat#789 and #833: the ASP.NET request limit, not a Direct Line
check, so not a 413); the devhost adds a message naming the limit. DirectLineJS takes a 5xx as "retry" and does not
post again, so Web Chat shows the message as failed once its 20 s send timeout ends (BotFramework-WebChat#4086).

``GET /attachments/{conversation}/{sequence}/{index}/{name}?t=T`` serves an uploaded file to whoever holds its link
(devhost/directline/attachment_links.py).
"""

import mimetypes
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, hdrs, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.multipart import parse_content_disposition

from devhost.attachment_store import UPLOAD_LIMIT_BYTES, AttachmentStore, StoredAttachment
from devhost.directline.errors import BadRequest, DirectLineError
from devhost.directline.middleware import parse_json_object
from devhost.directline.service import DirectLineService
from devhost.directline.state import SERVICE, service_url

ACTIVITY_TYPE = "application/vnd.microsoft.activity"
DEFAULT_FILE_TYPE = "application/octet-stream"


class UploadTooLarge(DirectLineError):
    status = 500
    default_code = "ServiceError"


def _too_large(size: int | None) -> UploadTooLarge:
    what = "the upload" if size is None else f"the upload is {size} bytes, which"
    return UploadTooLarge(f"{what} exceeds Direct Line's request limit of {UPLOAD_LIMIT_BYTES} bytes (4 MB)")


@dataclass
class _File:
    content_type: str
    name: str | None
    data: bytes


@dataclass
class _Upload:
    activity: dict[str, Any] | None = None
    files: list[_File] = field(default_factory=list)


class _Budget:
    """Counts the bytes read against the limit, for bodies without a Content-Length (chunked)."""

    def __init__(self) -> None:
        self.used = 0

    def take(self, size: int) -> None:
        self.used += size
        if self.used > UPLOAD_LIMIT_BYTES:
            raise _too_large(None)


def _file_type(content_type: str | None, name: str | None) -> str:
    if content_type:
        return content_type
    guessed = mimetypes.guess_type(name)[0] if name else None
    return guessed or DEFAULT_FILE_TYPE


async def _read_part(part: BodyPartReader, budget: _Budget) -> bytes:
    chunks = []
    while chunk := await part.read_chunk():
        budget.take(len(chunk))
        chunks.append(chunk)
    return b"".join(chunks)


async def _read_multipart(request: web.Request, budget: _Budget) -> _Upload:
    upload = _Upload()
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise BadRequest("a nested multipart part is not a file; send one part per file")
            data = await _read_part(part, budget)
            content_type = part.headers.get(hdrs.CONTENT_TYPE)
            if content_type is not None and content_type.split(";")[0].strip().lower() == ACTIVITY_TYPE:
                if upload.activity is not None:
                    raise BadRequest(f"the upload has more than one {ACTIVITY_TYPE} part; it carries one activity")
                upload.activity = parse_json_object(data, f"{ACTIVITY_TYPE} part")
                continue
            upload.files.append(_File(_file_type(content_type, part.filename), part.filename, data))
    except HttpProcessingError as error:
        # aiohttp's header parser, on a part's malformed headers (InvalidHeader, LineTooLong).
        raise BadRequest(f"the upload is not valid multipart/form-data: {error.message.strip()}") from None
    except ValueError as error:
        # aiohttp's multipart reader, on a missing or wrong boundary and a truncated body.
        raise BadRequest(f"the upload is not valid multipart/form-data: {error}") from None
    return upload


def _filename(disposition: str | None) -> str | None:
    if not disposition:
        return None
    # The docs' own example has no disposition type ('Content-Disposition: name="file"; filename="badjokeeel.jpg"'),
    # which RFC 6266 parsers refuse: read its parameters as a form-data part's.
    if "=" in disposition.split(";", 1)[0]:
        disposition = f"form-data; {disposition}"
    _, parameters = parse_content_disposition(disposition)
    return parameters.get("filename")


async def _read_single(request: web.Request, budget: _Budget) -> _Upload:
    chunks = []
    while chunk := await request.content.readany():
        budget.take(len(chunk))
        chunks.append(chunk)
    name = _filename(request.headers.get(hdrs.CONTENT_DISPOSITION))
    if not chunks:
        return _Upload()
    content_type = request.headers.get(hdrs.CONTENT_TYPE)
    return _Upload(files=[_File(_file_type(content_type, name), name, b"".join(chunks))])


async def read_upload(request: web.Request) -> _Upload:
    if request.content_length is not None and request.content_length > UPLOAD_LIMIT_BYTES:
        raise _too_large(request.content_length)
    budget = _Budget()
    if request.content_type.lower() == "multipart/form-data":
        upload = await _read_multipart(request, budget)
    else:
        upload = await _read_single(request, budget)
    if not upload.files:
        raise BadRequest("the upload has no file: send the file as the body, or one multipart part per file")
    return upload


def _store(store: AttachmentStore, files: list[_File]) -> list[StoredAttachment]:
    return [store.add(file.content_type, file.name, file.data) for file in files]


async def upload(request: web.Request) -> web.Response:
    service: DirectLineService = request.app[SERVICE]
    grant = service.tokens.authenticate(request.headers.get("Authorization"))
    conversation_id = request.match_info["conversation_id"]
    grant.check_conversation(conversation_id)
    service.conversations.get(conversation_id)  # 404 before the body is read
    user_id = request.query.get("userId")
    if not user_id:
        raise BadRequest("the userId parameter is required: the id of the user sending the files",
                         code="MissingProperty")
    received = await read_upload(request)
    activity: dict[str, Any] = received.activity if received.activity is not None else {"type": "message"}
    activity.setdefault("type", "message")
    sender = activity.get("from")
    # The user who sends the files is the URL's userId (DirectLineJS sends the message's from.id there).
    activity["from"] = {**(sender if isinstance(sender, dict) else {}), "id": user_id}
    files = _store(service.attachments, received.files)
    activity_id = await service.post_from_client(grant, conversation_id, activity, service_url(request), files)
    return web.json_response({"id": activity_id})


async def attachment(request: web.Request) -> web.Response:
    service: DirectLineService = request.app[SERVICE]
    try:
        sequence, index = int(request.match_info["sequence"]), int(request.match_info["index"])
    except ValueError:
        raise BadRequest("an attachment URL has the activity's sequence number and the attachment's index") from None
    stored = service.attachment_links.open(request.match_info["conversation_id"], sequence, index,
                                           request.query.get("t"))
    return web.Response(body=stored.original, headers={hdrs.CONTENT_TYPE: stored.type})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v3/directline/conversations/{conversation_id:[^/]+}/upload", upload)
    app.router.add_get("/attachments/{conversation_id:[^/]+}/{sequence:[^/]+}/{index:[^/]+}/{name:[^/]+}",
                       attachment)
