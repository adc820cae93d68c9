"""Which Bot Framework cloud the bot authenticates against: botbuilder's own settings for clouds other than the public
one, by the names ``ConfigurationBotFrameworkAuthentication`` reads.

Empty (the default) is Azure's public cloud. ``CHANNEL_SERVICE=https://botframework.azure.us`` is US Government. Any
of the ``TO_*``/``OAUTH_URL`` settings switches botbuilder to its parameterized authentication
(``BotFrameworkAuthenticationFactory.create``), which then needs the whole set: the channel's OpenID metadata and
token issuer (incoming activities), the Emulator's metadata, and the login URL and scope of the bot's own tokens.
A partial set would fail at the first turn instead of at start-up, so it is refused here by name.
"""

from collections.abc import Mapping
from dataclasses import dataclass, fields
from urllib.parse import urlsplit

from bot.errors import SettingsError

GOVERNMENT_CHANNEL_SERVICE = "https://botframework.azure.us"
# The settings a parameterized cloud needs; OAUTH_URL (the user-token service) is only used by OAuth prompts.
REQUIRED_FOR_PARAMETERIZED = (
    "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL",
    "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER",
    "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL",
    "TO_CHANNEL_FROM_BOT_LOGIN_URL",
    "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE",
)


@dataclass(frozen=True)
class BotFrameworkCloud:
    CHANNEL_SERVICE: str = ""
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str = ""
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: str = ""
    TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL: str = ""
    TO_CHANNEL_FROM_BOT_LOGIN_URL: str = ""
    TO_CHANNEL_FROM_BOT_OAUTH_SCOPE: str = ""
    OAUTH_URL: str = ""
    VALIDATE_AUTHORITY: bool = True

    def __post_init__(self) -> None:
        if self.CHANNEL_SERVICE not in ("", GOVERNMENT_CHANNEL_SERVICE):
            raise SettingsError("CHANNEL_SERVICE", f"expected empty (public cloud) or {GOVERNMENT_CHANNEL_SERVICE} "
                                                   f"(US Government), got {self.CHANNEL_SERVICE!r}")
        for name in ("TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL", "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL",
                     "TO_CHANNEL_FROM_BOT_LOGIN_URL", "OAUTH_URL"):
            value = getattr(self, name)
            parts = urlsplit(value)
            if value and (parts.scheme not in ("http", "https") or not parts.hostname):
                raise SettingsError(name, f"expected an http(s) URL with a host, got {value!r}")
        if self.parameterized:
            missing = [name for name in REQUIRED_FOR_PARAMETERIZED if not getattr(self, name)]
            if missing:
                raise SettingsError(missing[0], "is required when any of " + ", ".join(REQUIRED_FOR_PARAMETERIZED)
                                    + " or OAUTH_URL is set (botbuilder then reads the whole cloud from settings)")

    @property
    def parameterized(self) -> bool:
        return any(getattr(self, name) for name in (*REQUIRED_FOR_PARAMETERIZED, "OAUTH_URL"))

    def configuration(self) -> dict[str, object]:
        """The attributes for botbuilder's configuration object; unset ones are left out (botbuilder's defaults)."""
        values: dict[str, object] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value != "":
                values[item.name] = value
        return values

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "BotFrameworkCloud":
        text = env.get("VALIDATE_AUTHORITY", "").strip().lower()
        if text not in ("", "true", "false"):
            raise SettingsError("VALIDATE_AUTHORITY", f"expected true or false, got {text!r}")
        strings = {item.name: env.get(item.name, "").strip() for item in fields(cls)
                   if item.name != "VALIDATE_AUTHORITY"}
        return cls(**strings, VALIDATE_AUTHORITY=text != "false")
