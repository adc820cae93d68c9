"""The Direct Line stand-in's exception tree; each error knows its HTTP status and Direct Line error code.

    DirectLineError
    ├── BadRequest            400  BadArgument / MissingProperty
    ├── Unauthorized          401  BadArgument (no or malformed Authorization)
    ├── Forbidden             403  BadArgument / TokenExpired
    ├── ConversationNotFound  404  BadArgument
    ├── ActivityNotFound      404  BadArgument
    ├── NotSupported          405  BadArgument: the channel cannot do this (updating an activity)
    ├── PayloadTooLarge       413  MessageSizeTooBig
    ├── Throttled             429  TooManyRequests (client face) / Throttled (Bot Connector face), with Retry-After
    ├── BotRejectedActivity   502  the bot answered with a non-2xx status
    ├── BotUnreachable        502  the bot could not be reached
    └── BotTimeout            504  GatewayTimeout: the bot took longer than the configured limit

The HTTP layer turns any of them into ``{"error": {"code", "message"}}``, Direct Line's error body.
"""

from typing import ClassVar


class DirectLineError(Exception):
    status: ClassVar[int] = 500
    default_code: ClassVar[str] = "ServiceError"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code

    def body(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


class BadRequest(DirectLineError):
    status = 400
    default_code = "BadArgument"


class Unauthorized(DirectLineError):
    status = 401
    default_code = "BadArgument"


class Forbidden(DirectLineError):
    status = 403
    default_code = "BadArgument"


class ConversationNotFound(DirectLineError):
    status = 404
    default_code = "BadArgument"


class ActivityNotFound(DirectLineError):
    status = 404
    default_code = "BadArgument"


class NotSupported(DirectLineError):
    status = 405
    default_code = "BadArgument"


class PayloadTooLarge(DirectLineError):
    status = 413
    default_code = "MessageSizeTooBig"


class Throttled(DirectLineError):
    """A post past the conversation's rate (devhost/directline/throttle.py); answered with ``Retry-After``.

    The code: no source gives Direct Line's for a client's post (the Direct Line 3.0 API reference lists no 429),
    so the client face says "TooManyRequests"; Teams' Bot Connector documents "Throttled" for a bot's send
    (MicrosoftDocs/msteams-docs, bots/how-to/conversations/conversation-messages.md, its status-code table), and
    the Bot Connector face says that, as its fault mode does (devhost/connector_faults.py)."""

    status = 429
    default_code = "TooManyRequests"

    def __init__(self, message: str, retry_after_seconds: float, code: str | None = None) -> None:
        super().__init__(message, code)
        self.retry_after_seconds = retry_after_seconds


class BotRejectedActivity(DirectLineError):
    status = 502
    default_code = "BotRejectedActivity"


class BotUnreachable(DirectLineError):
    status = 502
    default_code = "BotUnreachable"


class BotTimeout(DirectLineError):
    status = 504
    default_code = "GatewayTimeout"
