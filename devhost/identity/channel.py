"""Bot Framework authentication for the devhost's channels: the tokens they present to the bot and the check of the
bot's tokens on what it sends them.

- ``DirectLineAuth``: the Direct Line stand-in plays the Bot Framework's channel service. It signs a channel token
  (issuer the identity service, audience the bot's app id, ``serviceurl`` its own service URL) with the identity
  service's key, which the parts on Microsoft's side share (``<data dir>/identity/identity-key.json``), as the real
  channel service signs with the keys ``login.botframework.com`` publishes.
- ``EmulatorAuth``: the chat plays the Emulator. It gets a token for the bot's app id from the identity service's
  Azure AD token endpoint with the bot's app id and password, as the Emulator does (BotFramework-Emulator
  ``packages/app/main/src/server/state/botEndpoint.ts``: ``getAccessToken``, client credentials, scope
  ``<app id>/.default``; a 401 or 403 from the bot makes it fetch a fresh token and try once more).
Both check the bot's replies with ``BotTokenVerifier`` (``verify.py``).
"""

import logging
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from devhost.identity.keys import SigningKey, load_or_create_key
from devhost.identity.service import IdentityEndpoints
from devhost.identity.tokens import TOKEN_LIFETIME_SECONDS, channel_token_claims
from devhost.identity.verify import BotTokenVerifier

log = logging.getLogger(__name__)

# A token is replaced once half its life is gone, as the Emulator refreshes its own.
REFRESH_AFTER_SECONDS = TOKEN_LIFETIME_SECONDS / 2


class AuthError(Exception):
    """A channel could not get a token to present to the bot; the message says why (never a secret)."""


def client_ssl_context(ca_file: Path | None) -> ssl.SSLContext:
    """Python's default verifying context, trusting ``ca_file`` too (the local CA; None: the environment's)."""
    context = ssl.create_default_context()
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    return context


@dataclass
class DirectLineAuth:
    key: SigningKey
    endpoints: IdentityEndpoints
    app_id: str
    ca_file: Path | None = None
    _tokens: dict[str, tuple[float, str]] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, key_file: Path, origin: str, app_id: str, ca_file: Path | None = None) -> "DirectLineAuth":
        return cls(load_or_create_key(key_file), IdentityEndpoints(origin), app_id, ca_file)

    def authorization(self, service_url: str) -> str:
        """``Bearer <channel token>`` for activities this channel sends with ``service_url``."""
        now = time.time()
        cached = self._tokens.get(service_url)
        if cached is None or now - cached[0] > REFRESH_AFTER_SECONDS:
            token = self.key.sign(channel_token_claims(self.endpoints.channel_issuer, self.app_id, service_url, now))
            cached = (now, token)
            self._tokens[service_url] = cached
        return f"Bearer {cached[1]}"

    def verifier(self) -> BotTokenVerifier:
        return BotTokenVerifier(self.endpoints.keys_url(), self.app_id, client_ssl_context(self.ca_file))


@dataclass
class EmulatorAuth:
    """``tenant_id``: a SingleTenant app's tenant, whose token endpoint the Emulator then uses (its
    ``tokenEndpointSingleTenant``); "" for the Bot Framework's own tenant."""

    endpoints: IdentityEndpoints
    app_id: str
    password: str = field(repr=False)
    ca_file: Path | None = None
    tenant_id: str = ""
    _token: tuple[float, str] | None = field(default=None, repr=False)

    async def authorization(self, session: aiohttp.ClientSession, force_refresh: bool = False) -> str:
        now = time.time()
        if force_refresh or self._token is None or now - self._token[0] > REFRESH_AFTER_SECONDS:
            self._token = (now, await self._fetch(session))
        return f"Bearer {self._token[1]}"

    async def _fetch(self, session: aiohttp.ClientSession) -> str:
        form = {"grant_type": "client_credentials", "client_id": self.app_id, "client_secret": self.password,
                "scope": f"{self.app_id}/.default"}
        url = self.endpoints.token_url(self.tenant_id) if self.tenant_id else self.endpoints.token_url()
        try:
            async with session.post(url, data=form, ssl=client_ssl_context(self.ca_file)) as response:
                body = await response.json(content_type=None)
                if response.status != 200 or not isinstance(body, dict) or "access_token" not in body:
                    detail = body.get("error_description") if isinstance(body, dict) else None
                    raise AuthError(f"the identity service at {url} refused a token for app {self.app_id} "
                                    f"({response.status}: {detail or 'no detail'})")
                return str(body["access_token"])
        except (aiohttp.ClientError, ValueError) as error:
            raise AuthError(f"cannot get a token from {url}: {error}") from None

    def verifier(self) -> BotTokenVerifier:
        return BotTokenVerifier(self.endpoints.keys_url(), self.app_id, client_ssl_context(self.ca_file))
