"""The claims of the three Bot Framework tokens, as the real services issue them.

- A **channel token** (channel -> bot): issuer the channel service's (``https://api.botframework.com`` in the public
  cloud), audience the bot's app id, and a ``serviceurl`` claim that botbuilder compares with the activity's
  serviceUrl (botframework-connector ``_ParameterizedBotFrameworkAuthentication.
  _government_channel_validation_validate_identity``; docs: "Authenticate requests from the Bot Connector service").
- An **Emulator token** (Emulator -> bot): an AAD client-credentials token the Emulator gets with the bot's app id and
  password; botbuilder recognises it by its AAD issuer (``EmulatorValidation.is_token_from_emulator``, whose list of
  issuers is fixed in code) and reads the app id from ``appid`` (version 1.0) or ``azp`` (2.0).
- A **bot token** (bot -> channel): the client-credentials access token for the scope
  ``https://api.botframework.com/.default``, ``appid`` the bot's app id.
"""

import time
from typing import Any, Final

PUBLIC_CHANNEL_ISSUER: Final = "https://api.botframework.com"
BOT_FRAMEWORK_SCOPE: Final = "https://api.botframework.com"
# The Bot Framework's own AAD tenant: the Emulator's v1 tokens carry this issuer (botbuilder's fixed list).
BOT_FRAMEWORK_TENANT: Final = "d6d49420-f39b-4df7-a1dc-d59a935871db"
EMULATOR_V1_ISSUER: Final = f"https://sts.windows.net/{BOT_FRAMEWORK_TENANT}/"
TOKEN_LIFETIME_SECONDS: Final = 3600
# Tokens are valid from a little before they are issued: clocks of two machines are never quite equal.
NOT_BEFORE_SKEW_SECONDS: Final = 300


def _times(now: float | None, lifetime: int) -> dict[str, int]:
    issued = int(time.time() if now is None else now)
    return {"iat": issued, "nbf": issued - NOT_BEFORE_SKEW_SECONDS, "exp": issued + lifetime}


def channel_token_claims(issuer: str, app_id: str, service_url: str, now: float | None = None,
                         lifetime: int = TOKEN_LIFETIME_SECONDS) -> dict[str, Any]:
    return {"iss": issuer, "aud": app_id, "serviceurl": service_url, **_times(now, lifetime)}


def emulator_token_claims(app_id: str, now: float | None = None,
                          lifetime: int = TOKEN_LIFETIME_SECONDS) -> dict[str, Any]:
    return {"iss": EMULATOR_V1_ISSUER, "aud": BOT_FRAMEWORK_SCOPE, "appid": app_id, "ver": "1.0",
            "tid": BOT_FRAMEWORK_TENANT, **_times(now, lifetime)}


def bot_token_claims(issuer: str, app_id: str, audience: str = BOT_FRAMEWORK_SCOPE, now: float | None = None,
                     lifetime: int = TOKEN_LIFETIME_SECONDS) -> dict[str, Any]:
    return {"iss": issuer, "aud": audience, "appid": app_id, "azp": app_id, "ver": "1.0", **_times(now, lifetime)}
