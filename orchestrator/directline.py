"""A small Direct Line 3.0 client: start a conversation with the secret, then post one activity.

There is no official Python Direct Line client; this speaks the REST API (reference directline.md §1.3)
with aiohttp. The endpoint is the full prefix including ``/v3/directline``, as DirectLineJS takes it, so
global, regional and local stand-in hosts all work. Neither the secret nor the token is ever logged.
"""

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from contract import retry_after_seconds
from orchestrator.errors import BotTurnFailed, DirectLineError

logger = logging.getLogger(__name__)

# Generous for one HTTP exchange, short enough that a hung service fails the attempt and the retry policy acts.
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=30)
# Pages read of one conversation's activities at most (Direct Line answers GET activities in batches).
MAX_ACTIVITY_PAGES = 20


@dataclass(frozen=True)
class DirectLineConversation:
    conversation_id: str
    # The conversation-bound token; None when the service sent none (then the secret is used).
    token: str | None


class DirectLineClient:
    """Direct Line 3.0 calls over a caller-owned ClientSession (one shared session per process)."""

    def __init__(self, session: aiohttp.ClientSession, endpoint: str, secret: str) -> None:
        if not secret:
            raise ValueError("a Direct Line secret is required")
        self._session = session
        self._endpoint = endpoint.rstrip("/")
        self._secret = secret

    @property
    def owner(self) -> tuple[str, str]:
        """Whose conversations this client starts: the endpoint and a digest of the secret (never the secret)."""
        return self._endpoint, hashlib.sha256(self._secret.encode("utf-8")).hexdigest()

    async def start_conversation(self, user: Mapping[str, str] | None = None) -> DirectLineConversation:
        """POST {endpoint}/conversations with the secret; Direct Line answers 201 (or 200 for an existing one).

        ``user`` goes in the body's TokenParameters, as DirectLineJS sends it: Direct Line then adds that user to
        the conversation at once, so the bot gets ONE conversationUpdate (bot and user) instead of a second one,
        a full bot turn awaited in front of the first post, when the user posts for the first time.
        """
        payload = None if user is None else {"user": dict(user)}
        status, body = await self._call("start conversation", "/conversations", self._secret, payload, {200, 201})
        conversation_id = body.get("conversationId")
        if not isinstance(conversation_id, str) or not conversation_id:
            raise DirectLineError("start conversation", status, detail="the response has no conversationId")
        token = body.get("token")
        return DirectLineConversation(conversation_id, token if isinstance(token, str) and token else None)

    async def post_activity(self, conversation: DirectLineConversation, activity: dict[str, Any]) -> str:
        """POST the activity into the conversation; returns the id Direct Line gave it.

        Direct Line answers only after the bot's turn for the activity has finished; 502 (BotTurnFailed) when that
        turn failed."""
        path = f"/conversations/{conversation.conversation_id}/activities"
        credential = conversation.token or self._secret
        try:
            _, body = await self._call("post activity", path, credential, activity, {200, 201, 204})
        except DirectLineError as error:
            if error.status == 502:
                raise BotTurnFailed(error, conversation) from error
            raise
        activity_id = body.get("id")
        return activity_id if isinstance(activity_id, str) else ""

    async def activities(self, conversation: DirectLineConversation) -> list[dict[str, Any]]:
        """Every activity of the conversation so far (GET .../activities, page by page by watermark)."""
        path = f"/conversations/{conversation.conversation_id}/activities"
        credential = conversation.token or self._secret
        found: list[dict[str, Any]] = []
        watermark: str | None = None
        for _ in range(MAX_ACTIVITY_PAGES):
            query = "" if watermark is None else f"?watermark={watermark}"
            _, body = await self._call("get activities", path + query, credential, None, {200}, method="GET")
            page = body.get("activities")
            next_watermark = body.get("watermark")
            if not isinstance(page, list) or not page:
                break
            found.extend(item for item in page if isinstance(item, dict))
            if not isinstance(next_watermark, str) or not next_watermark or next_watermark == watermark:
                break
            watermark = next_watermark
        return found

    async def _call(
        self, operation: str, path: str, credential: str, payload: dict[str, Any] | None, ok: set[int],
        *, method: str = "POST",
    ) -> tuple[int, dict[str, Any]]:
        """The status and JSON object body ({} when there is none) of an answer whose status is in ``ok``."""
        url = self._endpoint + path
        headers = {"Authorization": f"Bearer {credential}"}
        try:
            async with self._session.request(method, url, json=payload, headers=headers,
                                             timeout=REQUEST_TIMEOUT) as response:
                text = await response.text()
                status = response.status
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as error:
            # The URL is not secret; the credential lives only in the header.
            raise DirectLineError(operation, None, detail=f"{type(error).__name__} calling {url}") from error
        body = _json_object(text)
        if status not in ok:
            error_body = body.get("error")
            if not isinstance(error_body, dict):
                error_body = {}
            raise DirectLineError(
                operation, status, code=str(error_body.get("code") or ""), detail=str(error_body.get("message") or ""),
                retry_after=retry_after,
            )
        logger.debug("direct line %s answered %d", operation, status)
        return status, body


def _json_object(text: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
