"""The stand-in's Bot Connector face, under ``/v3/conversations`` (routes: devhost/botconnector.py).

What the bot sends goes into the Direct Line conversation's transcript, where clients read it. Errors are the
service's DirectLineErrors, answered in Direct Line's ``{"error": {"code", "message"}}`` shape by error_middleware.
"""

from typing import Any

from aiohttp import web

from devhost import botconnector, connector_attachments
from devhost.connector_faults import ConnectorFaults
from devhost.directline.middleware import read_json_object
from devhost.directline.service import DirectLineService
from devhost.identity.verify import BotTokenVerifier


class _DirectLineChannel:
    def __init__(self, service: DirectLineService) -> None:
        self._service = service

    async def read_activity(self, request: web.Request) -> dict[str, Any]:
        return await read_json_object(request, self._service.config.max_activity_bytes)

    def receive_from_bot(self, conversation_id: str, activity: dict[str, Any], reply_to_id: str | None) -> str:
        return self._service.receive_from_bot(conversation_id, activity, reply_to_id)

    def update_from_bot(self, conversation_id: str, activity_id: str, activity: dict[str, Any]) -> str:
        return self._service.update_from_bot(conversation_id, activity_id, activity)

    def delete_from_bot(self, conversation_id: str, activity_id: str) -> None:
        self._service.delete_from_bot(conversation_id, activity_id)

    def members(self, conversation_id: str) -> list[dict[str, Any]]:
        return self._service.members(conversation_id)


def add_routes(app: web.Application, service: DirectLineService, faults: ConnectorFaults | None = None,
               bot_tokens: BotTokenVerifier | None = None) -> None:
    botconnector.add_routes(app, _DirectLineChannel(service), faults, bot_tokens)
    # As the Bot Connector service: its attachment views need the bot's token too.
    connector_attachments.add_routes(app, service.attachments, views_need_token=True)
