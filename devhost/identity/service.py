"""The identity service's HTTP face: what Azure AD and the Bot Framework's login service give bots and channels.

Paths as the real services serve them, under this service's origin:
- ``/v1/.well-known/openidconfiguration`` and ``/v1/.well-known/keys``: the Bot Framework channel metadata
  (``login.botframework.com``) that botbuilder checks a channel's token against
  (``TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL``); the channel issuer is this service's origin
  (``TO_BOT_FROM_CHANNEL_TOKEN_ISSUER``).
- ``/{tenant}/v2.0/.well-known/openid-configuration``, ``/{tenant}/discovery/v2.0/keys`` and
  ``/{tenant}/oauth2/v2.0/token``: Azure AD (``login.microsoftonline.com``): the metadata the Emulator's tokens are
  checked against (``TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL``) and the client-credentials grant that both the bot
  (through MSAL) and the Emulator use, with AAD's error bodies.

The bot's login URL (``TO_CHANNEL_FROM_BOT_LOGIN_URL``) is ``/{tenant}/b2c_devhost``, a B2C-shaped authority, for this
reason: botbuilder 4.17 never hands its ``VALIDATE_AUTHORITY`` setting to MSAL (``password_service_client_credential_
factory._PrivateCloudAppCredentials`` keeps it, ``MicrosoftAppCredentials.__get_msal_app`` builds the MSAL app without
it), and MSAL then checks any authority on a host it does not know with ``login.microsoftonline.com``'s instance
discovery, unreachable offline. MSAL skips that check for ADFS and B2C authorities (``msal/authority.py``
``_initialize_entra_authority``: ``_is_known_to_developer``) and reads the tenant's OpenID configuration from the
authority itself; for the client-credentials grant nothing else differs. The tenant stays in the path.
"""

import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from devhost.addresses import reachable_host
from devhost.identity.keys import SigningKey
from devhost.identity.tokens import (
    BOT_FRAMEWORK_SCOPE,
    BOT_FRAMEWORK_TENANT,
    BOT_FRAMEWORK_TENANT_NAME,
    TOKEN_LIFETIME_SECONDS,
    bot_token_claims,
    channel_token_claims,
    emulator_token_claims,
    v2_issuer,
)
from devhost.part_identity import nonce_headers

CHANNEL_METADATA_PATH = "/v1/.well-known/openidconfiguration"
CHANNEL_KEYS_PATH = "/v1/.well-known/keys"
AAD_METADATA_PATH = "/{tenant}/v2.0/.well-known/openid-configuration"
AUTHORITY_METADATA_PATH = "/{tenant}/{policy}/v2.0/.well-known/openid-configuration"
AAD_KEYS_PATH = "/{tenant}/discovery/v2.0/keys"
TOKEN_PATH = "/{tenant}/oauth2/v2.0/token"
AUTHORIZE_PATH = "/{tenant}/oauth2/v2.0/authorize"
LOGIN_POLICY = "b2c_devhost"
HEALTH_PATH = "/devhost/health"


@dataclass(frozen=True)
class AppRegistration:
    """An app registration: its id, its client secret, and its tenant when it is SingleTenant ("" = MultiTenant)."""

    app_id: str
    password: str
    tenant_id: str = ""

    def __repr__(self) -> str:
        return f"AppRegistration(app_id={self.app_id!r}, tenant_id={self.tenant_id!r})"


def tenant_id_of(tenant: str) -> str:
    """The tenant id a path names: ``botframework.com`` is the Bot Framework's tenant; a GUID is itself."""
    return BOT_FRAMEWORK_TENANT if tenant.lower() == BOT_FRAMEWORK_TENANT_NAME else tenant.lower()


def _aad_error(status: int, error: str, code: int, description: str) -> web.Response:
    # Azure AD's error body (RFC 6749 section 5.2 plus its AADSTS code), which MSAL hands to botbuilder, which raises
    # PermissionError("Failed to get access token with error: <error>, error_description: <description>").
    return web.json_response({"error": error, "error_description": f"AADSTS{code}: {description}",
                              "error_codes": [code]}, status=status)


@dataclass(frozen=True)
class IdentityEndpoints:
    """The URLs of an identity service at ``origin`` (``https://127.0.0.1:PORT``), known before it runs."""

    origin: str

    @property
    def channel_issuer(self) -> str:
        return self.origin

    @property
    def channel_metadata_url(self) -> str:
        return f"{self.origin}{CHANNEL_METADATA_PATH}"

    @property
    def emulator_metadata_url(self) -> str:
        return f"{self.origin}{AAD_METADATA_PATH.format(tenant=BOT_FRAMEWORK_TENANT_NAME)}"

    def keys_url(self, tenant: str = BOT_FRAMEWORK_TENANT_NAME) -> str:
        """Azure AD's key set: what a channel checks a bot's token against."""
        return f"{self.origin}{AAD_KEYS_PATH.format(tenant=tenant)}"

    def token_url(self, tenant: str = BOT_FRAMEWORK_TENANT_NAME) -> str:
        return f"{self.origin}{TOKEN_PATH.format(tenant=tenant)}"

    def login_url(self, tenant: str = BOT_FRAMEWORK_TENANT_NAME) -> str:
        return f"{self.origin}/{tenant}/{LOGIN_POLICY}"

    def bot_settings(self, app: AppRegistration | None = None) -> dict[str, str]:
        """The bot's settings (botbuilder's names for another cloud) that make it trust this service and get its
        tokens here; with ``app``, its credentials too."""
        tenant = app.tenant_id if app is not None and app.tenant_id else BOT_FRAMEWORK_TENANT_NAME
        settings = {
            "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": self.channel_metadata_url,
            "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": self.channel_issuer,
            "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL": self.emulator_metadata_url,
            "TO_CHANNEL_FROM_BOT_LOGIN_URL": self.login_url(tenant),
            "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE": BOT_FRAMEWORK_SCOPE,
            "OAUTH_URL": self.origin,
        }
        if app is not None:
            settings |= {
                "MicrosoftAppId": app.app_id,
                "MicrosoftAppPassword": app.password,
                "MicrosoftAppType": "SingleTenant" if app.tenant_id else "MultiTenant",
                "MicrosoftAppTenantId": app.tenant_id,
            }
        return settings


@dataclass(frozen=True)
class IdentityService(IdentityEndpoints):
    """The keys and the app registrations of one identity service."""

    key: SigningKey = field(default_factory=SigningKey.generate)
    apps: Mapping[str, AppRegistration] = field(default_factory=dict)
    # Answered back on /devhost/health, so devhost up knows it reached this process (devhost/part_identity.py).
    part_nonce: str = ""

    def channel_token(self, app_id: str, service_url: str, now: float | None = None) -> str:
        """What a channel (Direct Line, Teams) sends the bot: ``Authorization: Bearer <this>``."""
        return self.key.sign(channel_token_claims(self.channel_issuer, app_id, service_url, now))

    def emulator_token(self, app_id: str, now: float | None = None) -> str:
        return self.key.sign(emulator_token_claims(app_id, now=now))

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(CHANNEL_METADATA_PATH, self._channel_metadata),
            web.get(CHANNEL_KEYS_PATH, self._keys),
            web.get(AAD_METADATA_PATH, self._aad_metadata),
            web.get(AUTHORITY_METADATA_PATH, self._aad_metadata),
            web.get(AAD_KEYS_PATH, self._keys),
            web.post(TOKEN_PATH, self._token),
            web.get(HEALTH_PATH, self._health),
        ]

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"}, headers=nonce_headers(self.part_nonce))

    async def _channel_metadata(self, request: web.Request) -> web.Response:
        return web.json_response({
            "issuer": self.channel_issuer,
            "jwks_uri": f"{self.origin}{CHANNEL_KEYS_PATH}",
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        })

    async def _aad_metadata(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        return web.json_response({
            "issuer": v2_issuer(tenant_id_of(tenant)),
            "authorization_endpoint": f"{self.origin}{AUTHORIZE_PATH.format(tenant=tenant)}",
            "token_endpoint": self.token_url(tenant),
            "jwks_uri": f"{self.origin}{AAD_KEYS_PATH.format(tenant=tenant)}",
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        })

    async def _keys(self, request: web.Request) -> web.Response:
        return web.json_response({"keys": [self.key.jwk()]})

    async def _token(self, request: web.Request) -> web.Response:
        """The client-credentials grant: a v1 token for the Bot Framework's scope (the bot, through MSAL), a v2 token
        for ``<app id>/.default`` (the Emulator)."""
        form = await request.post()
        tenant_id = tenant_id_of(request.match_info["tenant"])
        grant = str(form.get("grant_type", ""))
        client_id = str(form.get("client_id", ""))
        scope = str(form.get("scope", ""))
        if grant != "client_credentials":
            return _aad_error(400, "unsupported_grant_type", 70003,
                              f"The app requested an unsupported grant type '{grant}'.")
        app = self.apps.get(client_id)
        if app is None or (app.tenant_id and app.tenant_id.lower() != tenant_id):
            return _aad_error(400, "unauthorized_client", 700016,
                              f"Application with identifier '{client_id}' was not found in the directory "
                              f"'{tenant_id}'.")
        if str(form.get("client_secret", "")) != app.password:
            return _aad_error(401, "invalid_client", 7000215,
                              f"Invalid client secret provided. Ensure the secret being sent in the request is the "
                              f"client secret value, not the client secret ID, for a secret added to app "
                              f"'{client_id}'.")
        resource = scope.split(maxsplit=1)[0].removesuffix("/.default") if scope else ""
        claims: dict[str, Any]
        if resource == BOT_FRAMEWORK_SCOPE:
            claims = bot_token_claims(client_id, tenant_id)
        elif resource == client_id:
            claims = emulator_token_claims(client_id, tenant_id)
        else:
            return _aad_error(400, "invalid_scope", 70011,
                              f"The provided value for the input parameter 'scope' is not valid. The scope {scope} "
                              "is not valid.")
        return web.json_response({"token_type": "Bearer", "expires_in": TOKEN_LIFETIME_SECONDS,
                                  "ext_expires_in": TOKEN_LIFETIME_SECONDS, "access_token": self.key.sign(claims)})


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


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


async def start(key: SigningKey, apps: Mapping[str, AppRegistration] | None = None, host: str = "127.0.0.1", *,
                port: int = 0, tls: ssl.SSLContext | None = None, part_nonce: str = "") -> RunningIdentityService:
    """Bind first, so the issuer (this service's origin) is known before any token is signed. Without ``tls`` it
    speaks plain http: enough for botbuilder's key fetches, not for MSAL."""
    sock = _bind(host, port)
    scheme = "https" if tls is not None else "http"
    service = IdentityService(f"{scheme}://{reachable_host(host)}:{sock.getsockname()[1]}", key, dict(apps or {}),
                              part_nonce)
    runner = web.AppRunner(create_app(service), access_log=None, handle_signals=False)
    await runner.setup()
    await web.SockSite(runner, sock, ssl_context=tls).start()
    return RunningIdentityService(service, runner)
