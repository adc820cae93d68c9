"""The private links through which the bot fetches what a user uploaded to Direct Line.

The service hands the bot a contentUrl of the shape ``https://directline.botframework.com/attachments/<conversation
id>/<activity sequence, 7 digits>/<index>/<name>?t=<token>`` (one captured in BotFramework-WebChat#5233, another in
botbuilder-js#152), pre-authorised by its ``t`` like a streamUrl: the bot's GET carries no Authorization header. The
real ``t`` is a JWT whose lifetime is not documented; here it is an opaque random string that lives as long as a
Direct Line token. Clients never see the link: "URLs for uploaded attachments are hidden with a private link"
(Direct Line 3.0 swagger description), and the echo of the upload carries a placeholder image URL instead
(botbuilder-dotnet#3874: by design, so an uploaded file is never served back to the conversation's users).
"""

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from devhost.attachment_store import AttachmentStore, StoredAttachment
from devhost.directline.errors import ActivityNotFound, Forbidden, Unauthorized

# What a client reads in place of an uploaded file's URL (botbuilder-dotnet#3874).
PLACEHOLDER_URL = "https://docs.botframework.com/static/devportal/client/images/bot-framework-default-placeholder.png"


@dataclass(frozen=True)
class _Link:
    attachment: StoredAttachment
    token: str
    expires_at: float


class AttachmentLinks:
    def __init__(self, store: AttachmentStore, ttl_seconds: float, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._clock = clock
        self._links: dict[tuple[str, int, int], _Link] = {}

    def publish(self, root: str, conversation_id: str, sequence: int, files: list[StoredAttachment]
                ) -> list[dict[str, Any]]:
        """The attachments of the activity with ``sequence``, as the bot receives them (contentUrl: a private link)."""
        token = secrets.token_urlsafe(32)
        expires_at = self._clock() + self._ttl
        attachments = []
        for index, stored in enumerate(files):
            self._links[(conversation_id, sequence, index)] = _Link(stored, token, expires_at)
            url = (f"{root.rstrip('/')}/attachments/{quote(conversation_id, safe='')}/{sequence:07d}/{index}/"
                   f"{quote(stored.name or 'file', safe='')}?t={token}")
            attachments.append({"contentType": stored.type, "contentUrl": url, "name": stored.name or "file"})
        return attachments

    def open(self, conversation_id: str, sequence: int, index: int, token: str | None) -> StoredAttachment:
        """The file behind a private link, or the error a client without its ``t`` gets."""
        if not token:
            raise Unauthorized("Missing token: an attachment URL carries its token in the t parameter")
        link = self._links.get((conversation_id, sequence, index))
        if link is None:
            raise ActivityNotFound(f"no attachment {index} on activity {sequence:07d} of conversation "
                                   f"{conversation_id!r}")
        if not secrets.compare_digest(link.token, token):
            raise Forbidden("Security token not valid for this attachment")
        if self._clock() >= link.expires_at:
            raise Forbidden("Token expired: the attachment URL is no longer valid", code="TokenExpired")
        return link.attachment


def hidden(attachments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The attachments as the conversation's clients read them: the private link replaced by the placeholder."""
    return [{**attachment, "contentUrl": PLACEHOLDER_URL} for attachment in attachments]
