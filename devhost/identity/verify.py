"""Checking the bot's token on what it sends a channel, as the Bot Connector service and the Emulator do.

The bot's token is an Azure AD client-credentials token for ``https://api.botframework.com``: signed by one of the
keys AAD publishes, audience ``https://api.botframework.com``, the bot's app id in ``appid`` (v1) or ``azp`` (v2),
an AAD issuer for the token's version (BotFramework-Emulator ``routes/handlers/botFrameworkAuthentication.ts``
verifies exactly these, with a five-minute clock tolerance). Here the keys come from the identity service's key set.
"""

import json
import logging
import ssl
from typing import Any

import aiohttp
import jwt
from jwt.algorithms import RSAAlgorithm

from devhost.identity.tokens import BOT_FRAMEWORK_SCOPE

log = logging.getLogger(__name__)

CLOCK_TOLERANCE_SECONDS = 300
_ISSUER_PREFIXES = ("https://sts.windows.net/", "https://login.microsoftonline.com/")


class InvalidBotToken(Exception):
    """The request carries no valid token for the registered bot; the message says what is wrong (never the token)."""


class BotTokenVerifier:
    """Verifies ``Authorization: Bearer <token>`` for one registered app id against the keys at ``jwks_url``."""

    def __init__(self, jwks_url: str, app_id: str, ssl_context: ssl.SSLContext | None = None) -> None:
        self._jwks_url = jwks_url
        self._app_id = app_id
        self._ssl = ssl_context
        self._keys: dict[str, Any] = {}

    async def verify(self, authorization: str | None) -> dict[str, Any]:
        """The token's claims, or InvalidBotToken."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise InvalidBotToken("the request has no bearer token")
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise InvalidBotToken("the bearer token is not a JWT") from None
        key = await self._key(str(kid))
        try:
            claims: dict[str, Any] = jwt.decode(token, key, algorithms=["RS256"], audience=BOT_FRAMEWORK_SCOPE,
                                                leeway=CLOCK_TOLERANCE_SECONDS)
        except jwt.PyJWTError as error:
            raise InvalidBotToken(f"the bearer token is not valid: {error}") from None
        if not str(claims.get("iss", "")).startswith(_ISSUER_PREFIXES):
            raise InvalidBotToken("the bearer token was not issued by Azure AD")
        app_id = claims.get("appid") if claims.get("ver") != "2.0" else claims.get("azp")
        if app_id != self._app_id:
            raise InvalidBotToken(f"the bearer token is for app {app_id!r}, not the registered bot")
        return claims

    async def _key(self, kid: str) -> Any:
        if kid not in self._keys:
            # Refreshed when a token names a key not seen yet: keys roll over.
            await self._refresh()
        if kid not in self._keys:
            raise InvalidBotToken("the bearer token is signed by an unknown key")
        return self._keys[kid]

    async def _refresh(self) -> None:
        try:
            async with aiohttp.ClientSession() as session, session.get(
                self._jwks_url, ssl=self._ssl if self._ssl is not None else True
            ) as response:
                response.raise_for_status()
                published = (await response.json())["keys"]
        except (aiohttp.ClientError, ValueError, KeyError) as error:
            log.error("cannot fetch the token signing keys from %s: %s", self._jwks_url, error)
            raise InvalidBotToken("the token signing keys are not available") from None
        self._keys = {str(jwk["kid"]): RSAAlgorithm.from_jwk(json.dumps(jwk)) for jwk in published}
