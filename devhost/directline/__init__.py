"""A Direct Line 3.0 service for local use (``python -m devhost directline``).

Clients (Web Chat, DirectLineJS, the function app) talk to ``/v3/directline`` and receive over its WebSocket streams
or by polling; the bot replies on the Bot Connector routes ``/v3/conversations/...``. State is in memory and does not
survive a restart.
"""

from devhost.directline.app import RunningDirectLine, create_app, serve
from devhost.directline.config import DirectLineConfig
from devhost.directline.errors import (
    BotRejectedActivity,
    BotTimeout,
    BotUnreachable,
    DirectLineError,
)
from devhost.directline.service import DirectLineService

__all__ = [
    "BotRejectedActivity",
    "BotTimeout",
    "BotUnreachable",
    "DirectLineConfig",
    "DirectLineError",
    "DirectLineService",
    "RunningDirectLine",
    "create_app",
    "serve",
]
