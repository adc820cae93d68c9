"""The CloudAdapter, configured from BotSettings (the attribute names botbuilder's configuration reader expects)."""

from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

from bot.connector_clients import ReusingBotFrameworkAuthentication
from bot.settings import BotSettings


class _AuthConfiguration:
    """Read by getattr in ConfigurationBotFrameworkAuthentication; the tenant is APP_TENANTID (botbuilder-notes §1)."""

    def __init__(self, settings: BotSettings) -> None:
        self.APP_ID = settings.app_id
        self.APP_PASSWORD = settings.app_password
        self.APP_TYPE = settings.app_type
        self.APP_TENANTID = settings.app_tenant_id
        # Another cloud's endpoints (bot/cloud.py), read by getattr: an attribute left unset is botbuilder's default.
        for name, value in settings.cloud.configuration().items():
            setattr(self, name, value)


def create_adapter(settings: BotSettings) -> CloudAdapter:
    """An empty app id disables auth both ways (Emulator, devhost); otherwise tokens are checked and sent.

    Connector clients are reused across turns (bot/connector_clients.py): building one per turn was the bot's
    main cost under load."""
    authentication = ConfigurationBotFrameworkAuthentication(_AuthConfiguration(settings))
    return CloudAdapter(ReusingBotFrameworkAuthentication(authentication))
