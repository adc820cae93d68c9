"""The CloudAdapter, configured from BotSettings (the attribute names botbuilder's configuration reader expects)."""

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ResourceResponse

from bot.connector_clients import ReusingBotFrameworkAuthentication
from bot.outcome_delivery import SEND_LEDGER, SendLedger, send_with_ledger
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


class DeliveringCloudAdapter(CloudAdapter):  # type: ignore[misc]  # botbuilder ships no type hints
    """CloudAdapter whose sends in an outcome's turn go through that turn's SendLedger (bot/outcome_delivery.py).

    The adapter is where each activity's send succeeds or fails (CloudAdapterBase.send_activities posts them one by
    one), so it is the one place that knows exactly which of a turn's activities reached the channel."""

    async def send_activities(self, context: TurnContext, activities: list[Activity]) -> list[ResourceResponse]:
        ledger = context.turn_state.get(SEND_LEDGER)
        if not isinstance(ledger, SendLedger):
            return list(await super().send_activities(context, activities))

        async def send_one(activity: Activity) -> ResourceResponse:
            [response] = await super(DeliveringCloudAdapter, self).send_activities(context, [activity])
            return response

        return await send_with_ledger(ledger, activities, send_one)


def create_adapter(settings: BotSettings) -> CloudAdapter:
    """An empty app id disables auth both ways (Emulator, devhost); otherwise tokens are checked and sent.

    Connector clients are reused across turns (bot/connector_clients.py): building one per turn was the bot's
    main cost under load."""
    authentication = ConfigurationBotFrameworkAuthentication(_AuthConfiguration(settings))
    return DeliveringCloudAdapter(ReusingBotFrameworkAuthentication(authentication))
