"""The Direct Line stand-in's exception tree; each error knows its HTTP status and Direct Line error code.

    DirectLineError
    ├── BadRequest            400  BadArgument / MissingProperty
    ├── Unauthorized          401  BadArgument (no or malformed Authorization)
    ├── Forbidden             403  BadArgument / TokenExpired
    ├── ConversationNotFound  404  BadArgument
    ├── ActivityNotFound      404  BadArgument
    ├── NotSupported          405  BadArgument: the channel cannot do this (updating an activity)
    ├── PayloadTooLarge       413  MessageSizeTooBig
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


class BotRejectedActivity(DirectLineError):
    status = 502
    default_code = "BotRejectedActivity"


class BotUnreachable(DirectLineError):
    status = 502
    default_code = "BotUnreachable"


class BotTimeout(DirectLineError):
    status = 504
    default_code = "GatewayTimeout"
