"""Attachments a channel keeps for a conversation, in memory: the bytes behind the Bot Connector's attachment API
and behind the files a user uploads. One store per channel app, shared by its faces (devhost/connector_attachments.py
for the bot, devhost/directline/upload_api.py and the terminal chat's ``/file`` for the user).

Shapes are the Bot Framework schema's (botbuilder-python botbuilder-schema ``AttachmentData``: type, name,
originalBase64, thumbnailBase64; ``AttachmentInfo``: name, type, views [{viewId, size}]), as the Emulator keeps them
(BotFramework-Emulator packages/app/main/src/server/state/attachments.ts: type and originalBase64 are required).
"""

import base64
import binascii
import uuid
from dataclasses import dataclass
from typing import Any

# Direct Line takes at most 4 MB per upload request: its ASP.NET default maxRequestLength of 4096 KB. A 3.999 MB file
# goes through, a file of 4 MB minus one byte does not (BotFramework-WebChat#789, compulim's measurement; the limit is
# confirmed in BotFramework-DirectLineJS#325 and botframework-sdk#5302; the docs do not state it, MicrosoftDocs/
# bot-docs#2217). The Emulator has no limit (BotFramework-WebChat#4086); the devhost applies Direct Line's everywhere,
# so nothing that works here fails in Azure for its size.
UPLOAD_LIMIT_BYTES = 4096 * 1024

ORIGINAL = "original"
THUMBNAIL = "thumbnail"


class AttachmentRejected(Exception):
    """AttachmentData the store cannot keep; ``message`` names the field (a 400 MissingProperty/BadArgument)."""

    def __init__(self, message: str, code: str = "BadArgument") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class StoredAttachment:
    id: str
    type: str
    name: str | None
    original: bytes
    thumbnail: bytes | None = None

    def views(self) -> dict[str, bytes]:
        views = {ORIGINAL: self.original}
        if self.thumbnail is not None:
            views[THUMBNAIL] = self.thumbnail
        return views

    def info(self) -> dict[str, Any]:
        """The AttachmentInfo body of ``GET /v3/attachments/{id}``."""
        return {
            "name": self.name,
            "type": self.type,
            "views": [{"viewId": view_id, "size": len(data)} for view_id, data in self.views().items()],
        }


class AttachmentStore:
    def __init__(self) -> None:
        self._attachments: dict[str, StoredAttachment] = {}

    def add(self, content_type: str, name: str | None, original: bytes, thumbnail: bytes | None = None
            ) -> StoredAttachment:
        stored = StoredAttachment(uuid.uuid4().hex, content_type, name, original, thumbnail)
        self._attachments[stored.id] = stored
        return stored

    def add_data(self, body: dict[str, Any]) -> StoredAttachment:
        """Keep an AttachmentData body (``POST /v3/conversations/{id}/attachments``)."""
        content_type = body.get("type")
        if not isinstance(content_type, str) or not content_type:
            raise AttachmentRejected("AttachmentData.type is required: the attachment's content type",
                                     "MissingProperty")
        name = body.get("name")
        if name is not None and not isinstance(name, str):
            raise AttachmentRejected(f"AttachmentData.name must be a string, got {type(name).__name__}")
        if body.get("originalBase64") in (None, ""):
            raise AttachmentRejected("AttachmentData.originalBase64 is required: the attachment's bytes in base64",
                                     "MissingProperty")
        original = _decode(body["originalBase64"], "originalBase64")
        thumbnail = None if body.get("thumbnailBase64") in (None, "") else _decode(body["thumbnailBase64"],
                                                                                   "thumbnailBase64")
        return self.add(content_type, name, original, thumbnail)

    def get(self, attachment_id: str) -> StoredAttachment | None:
        return self._attachments.get(attachment_id)

    def __len__(self) -> int:
        return len(self._attachments)


def _decode(value: object, field: str) -> bytes:
    # msrest serializes a bytearray as standard base64 with padding (msrest serialization.serialize_bytearray).
    if not isinstance(value, str):
        raise AttachmentRejected(f"AttachmentData.{field} must be a base64 string, got {type(value).__name__}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise AttachmentRejected(f"AttachmentData.{field} is not valid base64") from None
