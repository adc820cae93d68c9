"""Key checks as the Functions host makes them on Azure (``func start`` makes none unless asked).

Sources, all in Azure/azure-functions-host, src/WebJobs.Script.WebHost/:
- the key presented: ``AuthenticationLevelHandler.GetAuthorizationKeyInfoAsync`` takes the ``x-functions-key``
  header when the header is present, else ``?code=``; the header wins even when it is empty or wrong.
- its level: ``SecretManager.GetAuthorizationLevelAsync``: the master key is Admin, a system key System (with its
  name), a host key Function, the key of the function being called Function; anything else is no key at all.
- HTTP triggers: ``FunctionAuthorizationHandler`` / ``AuthUtility.PrincipalHasAuthLevelClaim``: an anonymous
  function is open, otherwise the level must equal the function's authLevel, and Admin opens everything; so a
  system key cannot call a function, and only the master key calls an admin-level one. A refusal is
  ``UnauthorizedResult`` (``FunctionInvocationMiddleware.GetResultAsync``): 401 with an empty body.
- the Durable webhooks (``HostController.ExtensionWebHookHandler``, policy ``PolicyNames.SystemKeyAuthLevel`` in
  ``AuthorizationOptionsExtensions``): a System key named ``durabletask_extension``, or the master key; function
  and host keys are refused, also with 401 and an empty body.
"""

import hmac
from dataclasses import dataclass
from enum import Enum
from typing import Final

from aiohttp import web

from devhost.functions.keys import DURABLE_SYSTEM_KEY_NAME, MASTER_KEY_NAME, HostKeys

KEY_HEADER: Final = "x-functions-key"
KEY_QUERY: Final = "code"


class Level(Enum):
    """Microsoft.Azure.WebJobs.Extensions.Http.AuthorizationLevel."""

    ANONYMOUS = "anonymous"
    FUNCTION = "function"
    SYSTEM = "system"
    ADMIN = "admin"


def presented_key(request: web.Request) -> str:
    """The key a request presents: the header when present (even empty), else ``code=``, else ""."""
    if KEY_HEADER in request.headers:
        return request.headers.getone(KEY_HEADER)
    return request.query.get(KEY_QUERY, "")


def _matching(keys: dict[str, str], value: str) -> str | None:
    # Compared in constant time, as the host's Key.SecretValueEquals does.
    for name, stored in keys.items():
        if hmac.compare_digest(stored.encode(), value.encode()):
            return name
    return None


@dataclass(frozen=True)
class KeyChecker:
    keys: HostKeys

    def level_of(self, value: str, function_name: str | None) -> tuple[Level, str | None]:
        """The level (and key name) a key value grants, in the host's order: master, system, host, function."""
        if not value:
            return Level.ANONYMOUS, None
        if hmac.compare_digest(self.keys.master.encode(), value.encode()):
            return Level.ADMIN, MASTER_KEY_NAME
        name = _matching(self.keys.system_keys, value)
        if name is not None:
            return Level.SYSTEM, name
        name = _matching(self.keys.host_keys, value)
        if name is not None:
            return Level.FUNCTION, name
        if function_name is not None:
            for function, keys in self.keys.function_keys.items():
                if function.lower() == function_name.lower():
                    name = _matching(keys, value)
                    if name is not None:
                        return Level.FUNCTION, name
        return Level.ANONYMOUS, None

    def may_call(self, request: web.Request, function_name: str, auth_level: str) -> bool:
        required = Level(auth_level.lower())
        if required is Level.ANONYMOUS:
            return True
        level, _ = self.level_of(presented_key(request), function_name)
        return level is Level.ADMIN or level is required

    def may_use_webhook(self, request: web.Request) -> bool:
        level, name = self.level_of(presented_key(request), None)
        # Key names compare case-insensitively (AuthUtility.PrincipalHasAuthLevelClaim).
        return level is Level.ADMIN or (level is Level.SYSTEM and (name or "").lower() == DURABLE_SYSTEM_KEY_NAME)


def unauthorized() -> web.Response:
    """What the host answers a missing or wrong key: 401, no body."""
    return web.Response(status=401)
