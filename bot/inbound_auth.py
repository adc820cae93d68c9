"""Authenticate an incoming activity before its turn runs, so that every bad token is a 401.

botbuilder 4.17 raises PermissionError only for some bad tokens: a token signed by a key the metadata does not list
fails with an IndexError (``jwt_token_extractor._OpenIdMetadata._find`` takes ``[0]`` of an empty match), an expired
or malformed one with PyJWT's errors, and ``CloudAdapter``'s ``aiohttp_error_middleware`` turns those into 500. A 500
tells the channel to try again; the request is the sender's fault, so it is refused here with 401 and a JSON body. Only
an unreachable metadata endpoint (this side's outage) is a 503: the channel may retry it.
"""

import logging

import requests
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult, BotFrameworkAuthentication

from bot.errors import BotError

logger = logging.getLogger(__name__)


class Unauthenticated(BotError):
    """The request's token is missing or not valid for this bot. ``status`` is 401, or 503 when the keys to check it
    against cannot be fetched."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status

    def body(self) -> dict[str, dict[str, str]]:
        code = "Unauthorized" if self.status == 401 else "ServiceUnavailable"
        return {"error": {"code": code, "message": str(self)}}


async def authenticate(authentication: BotFrameworkAuthentication, activity: Activity,
                       auth_header: str | None) -> AuthenticateRequestResult:
    try:
        result: AuthenticateRequestResult = await authentication.authenticate_request(activity, auth_header)
    except requests.RequestException as error:
        logger.error("cannot fetch the token signing keys: %s", type(error).__name__)
        raise Unauthenticated(503, "the bot cannot check tokens right now") from None
    except Exception as error:
        # Never the token itself in a log line: it is a credential until it expires.
        logger.info("refused an activity: %s: %s channel_id=%s", type(error).__name__, error, activity.channel_id)
        raise Unauthenticated(401, "the request is not authorized for this bot") from None
    return result
