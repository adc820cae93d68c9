"""The identity service's HTTP face: the OpenID metadata and key sets botbuilder reads to check incoming tokens.

Paths as the real services serve them, under this service's origin:
- ``/v1/.well-known/openidconfiguration`` and ``/v1/.well-known/keys``: the Bot Framework channel metadata
  (``login.botframework.com``), read through ``TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL``;
- ``/{tenant}/v2.0/.well-known/openid-configuration`` and ``/{tenant}/discovery/v2.0/keys``: the AAD metadata the
  Emulator's tokens are checked against (``login.microsoftonline.com``), read through
  ``TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL``.
The channel issuer is this service's origin, given to the bot as ``TO_BOT_FROM_CHANNEL_TOKEN_ISSUER``.
"""

import socket
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from devhost.addresses import reachable_host
from devhost.identity.keys import SigningKey
from devhost.identity.tokens import channel_token_claims, emulator_token_claims

CHANNEL_METADATA_PATH = "/v1/.well-known/openidconfiguration"
CHANNEL_KEYS_PATH = "/v1/.well-known/keys"
AAD_METADATA_PATH = "/{tenant}/v2.0/.well-known/openid-configuration"
AAD_KEYS_PATH = "/{tenant}/discovery/v2.0/keys"
EMULATOR_TENANT = "botframework.com"


@dataclass(frozen=True)
class IdentityService:
    """The keys and the origin (``http://127.0.0.1:PORT``) of one identity service."""

    origin: str
    key: SigningKey

    @property
    def channel_issuer(self) -> str:
        return self.origin

    @property
    def channel_metadata_url(self) -> str:
        return f"{self.origin}{CHANNEL_METADATA_PATH}"

    @property
    def emulator_metadata_url(self) -> str:
        return f"{self.origin}{AAD_METADATA_PATH.format(tenant=EMULATOR_TENANT)}"

    def channel_token(self, app_id: str, service_url: str, now: float | None = None) -> str:
        """What a channel (Direct Line, Teams) sends the bot: ``Authorization: Bearer <this>``."""
        return self.key.sign(channel_token_claims(self.channel_issuer, app_id, service_url, now))

    def emulator_token(self, app_id: str, now: float | None = None) -> str:
        return self.key.sign(emulator_token_claims(app_id, now))

    def bot_settings(self) -> dict[str, str]:
        """The bot's settings (botbuilder's names for another cloud) that make it trust this service."""
        return {
            "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": self.channel_metadata_url,
            "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": self.channel_issuer,
            "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL": self.emulator_metadata_url,
        }

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(CHANNEL_METADATA_PATH, self._channel_metadata),
            web.get(CHANNEL_KEYS_PATH, self._keys),
            web.get(AAD_METADATA_PATH, self._aad_metadata),
            web.get(AAD_KEYS_PATH, self._keys),
        ]

    async def _channel_metadata(self, request: web.Request) -> web.Response:
        return web.json_response({
            "issuer": self.channel_issuer,
            "jwks_uri": f"{self.origin}{CHANNEL_KEYS_PATH}",
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        })

    async def _aad_metadata(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        body: dict[str, Any] = {
            "issuer": f"{self.origin}/{tenant}/v2.0",
            "jwks_uri": f"{self.origin}{AAD_KEYS_PATH.format(tenant=tenant)}",
            "id_token_signing_alg_values_supported": ["RS256"],
        }
        return web.json_response(body)

    async def _keys(self, request: web.Request) -> web.Response:
        return web.json_response({"keys": [self.key.jwk()]})


def create_app(service: IdentityService) -> web.Application:
    app = web.Application()
    app.add_routes(service.routes())
    return app


@dataclass
class RunningIdentityService:
    service: IdentityService
    _runner: web.AppRunner

    async def close(self) -> None:
        await self._runner.cleanup()


async def start(key: SigningKey, host: str = "127.0.0.1", port: int = 0) -> RunningIdentityService:
    """Bind first, so the issuer (this service's origin) is known before any token is signed."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    service = IdentityService(f"http://{reachable_host(host)}:{sock.getsockname()[1]}", key)
    runner = web.AppRunner(create_app(service), access_log=None, handle_signals=False)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return RunningIdentityService(service, runner)
