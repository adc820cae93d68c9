"""Checks on what arrives at ``POST /api/messages`` before botbuilder sees it.

CloudAdapter.process answers 500 for a body that is not JSON, not an object or has fields of the wrong type (its
``request.json()`` and msrest's deserializer raise, and ``aiohttp_error_middleware`` turns that into 500), and 404
for a request without Content-Type (a KeyError). A malformed request is the sender's fault, so it gets a 4xx here
with a JSON body naming the problem, in the Bot Framework's ``ErrorResponse`` shape ``{"error": {"code",
"message"}}``. Activities the bot could not answer (no serviceUrl to reply to, no conversation to keep state for)
are refused too: otherwise the turn fails inside the bot and the sender sees a 201 for a message nobody got.
"""

import json
from typing import Any

# msrest re-exports this same class; azure.core is where it is defined (and typed).
from azure.core.exceptions import DeserializationError
from botbuilder.schema import Activity

from bot.errors import BotError


class MalformedRequest(BotError):
    """The request cannot be a Bot Framework activity. ``status`` is 400, 413 or 415; the message names the field."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status

    @property
    def code(self) -> str:
        return {413: "MessageSizeTooBig", 415: "UnsupportedMediaType"}.get(self.status, "BadArgument")

    def body(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": str(self)}}


def check_content_type(content_type: str | None) -> None:
    # The same test CloudAdapter.process applies (a substring match), so nothing it accepts is refused here.
    if content_type is None or "application/json" not in content_type:
        raise MalformedRequest(415, f"Content-Type must be application/json, got {content_type or 'none'}")


def parse_activity(body: bytes) -> Activity:
    """The activity, checked for what every turn needs; MalformedRequest names what is wrong."""
    try:
        data: Any = json.loads(body)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError alike
        raise MalformedRequest(400, f"the request body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise MalformedRequest(400, f"the request body must be a JSON object (an activity), got {_kind(data)}")
    _require_text(data, "type")
    _require_text(data, "channelId")
    service_url = _require_text(data, "serviceUrl")
    if not service_url.startswith(("http://", "https://")):
        raise MalformedRequest(400, f"activity.serviceUrl must be an http(s) URL, got {service_url!r}")
    conversation = data.get("conversation")
    if not isinstance(conversation, dict):
        raise MalformedRequest(400, f"activity.conversation must be an object, got {_kind(conversation)}")
    _require_text(conversation, "id", "activity.conversation.")
    for name in ("from", "recipient"):
        if name in data and data[name] is not None and not isinstance(data[name], dict):
            raise MalformedRequest(400, f"activity.{name} must be an object, got {_kind(data[name])}")
    try:
        # What CloudAdapter.process would do next; done here so a field of the wrong type is a 400, not a 500.
        activity: Activity = Activity().deserialize(data)
    except DeserializationError as error:
        raise MalformedRequest(400, f"the activity does not have the Bot Framework schema: {error}") from None
    return activity


def _require_text(data: dict[str, Any], name: str, prefix: str = "activity.") -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise MalformedRequest(400, f"{prefix}{name} must be a non-empty string, got {_kind(value)}")
    return value


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "an empty string" if not value else "a string"
    return {dict: "an object", list: "an array", int: "a number", float: "a number"}.get(type(value), "a value")
