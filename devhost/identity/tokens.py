"""The claims of the three Bot Framework tokens, as the real services issue them.

- A **channel token** (channel -> bot): issuer the channel service's (``https://api.botframework.com`` in the public
  cloud), audience the bot's app id, and a ``serviceurl`` claim that botbuilder compares with the activity's
  serviceUrl (botframework-connector ``_ParameterizedBotFrameworkAuthentication.
  _government_channel_validation_validate_identity``; docs: "Authenticate requests from the Bot Connector service").
- An **Emulator token** (Emulator -> bot): the AAD client-credentials token the Emulator gets with the bot's app id and
  password for the scope ``<app id>/.default``, a version 2.0 token by default (BotFramework-Emulator
  ``packages/app/main/src/server/state/botEndpoint.ts`` ``getAccessToken``); botbuilder recognises it by its AAD
  issuer (``EmulatorValidation.is_token_from_emulator``, whose list of issuers is fixed in code) and reads the app id
  from ``azp`` (2.0) or ``appid`` (1.0).
- A **bot token** (bot -> channel): the client-credentials access token for the scope
  ``https://api.botframework.com/.default``, ``appid`` the bot's app id; the Emulator checks it with audience
  ``https://api.botframework.com`` and the botframework.com tenant's issuer for its version
  (``routes/handlers/botFrameworkAuthentication.ts``).
"""

import time
from typing import Any, Final

PUBLIC_CHANNEL_ISSUER: Final = "https://api.botframework.com"
BOT_FRAMEWORK_SCOPE: Final = "https://api.botframework.com"
# The botframework.com AAD tenant ("Auth v3.2" in botbuilder's and the Emulator's lists of issuers).
BOT_FRAMEWORK_TENANT: Final = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
BOT_FRAMEWORK_TENANT_NAME: Final = "botframework.com"
TOKEN_LIFETIME_SECONDS: Final = 3600
# Tokens are valid from a little before they are issued: clocks of two machines are never quite equal.
NOT_BEFORE_SKEW_SECONDS: Final = 300


def _times(now: float | None, lifetime: int) -> dict[str, int]:
    issued = int(time.time() if now is None else now)
    return {"iat": issued, "nbf": issued - NOT_BEFORE_SKEW_SECONDS, "exp": issued + lifetime}


def channel_token_claims(issuer: str, app_id: str, service_url: str, now: float | None = None,
                         lifetime: int = TOKEN_LIFETIME_SECONDS) -> dict[str, Any]:
    return {"iss": issuer, "aud": app_id, "serviceurl": service_url, **_times(now, lifetime)}


def v1_issuer(tenant_id: str) -> str:
    return f"https://sts.windows.net/{tenant_id}/"


def v2_issuer(tenant_id: str) -> str:
    return f"https://login.microsoftonline.com/{tenant_id}/v2.0"


def emulator_token_claims(app_id: str, tenant_id: str = BOT_FRAMEWORK_TENANT, now: float | None = None,
                          lifetime: int = TOKEN_LIFETIME_SECONDS) -> dict[str, Any]:
    """A version 2.0 token for the scope ``<app id>/.default``: the audience and the authorized party are the app."""
    return {"iss": v2_issuer(tenant_id), "aud": app_id, "azp": app_id, "ver": "2.0", "tid": tenant_id,
            **_times(now, lifetime)}


def bot_token_claims(app_id: str, tenant_id: str = BOT_FRAMEWORK_TENANT, audience: str = BOT_FRAMEWORK_SCOPE,
                     now: float | None = None, lifetime: int = TOKEN_LIFETIME_SECONDS) -> dict[str, Any]:
    """A version 1.0 token for the scope ``https://api.botframework.com/.default``, as MSAL's client-credentials
    request from botbuilder gets it."""
    return {"iss": v1_issuer(tenant_id), "aud": audience, "appid": app_id, "ver": "1.0", "tid": tenant_id,
            **_times(now, lifetime)}
