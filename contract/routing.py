"""Routing: where a continuation activity sends the bot's proactive turn, the part of it the signature covers.

Direct Line lets anybody who holds its secret post any event to the bot, so an outcome's signature must bind the
outcome to the conversation it is for: otherwise a genuine outcome could be re-posted with a continuation that
points the proactive turn at another serviceUrl, conversation, bot or user.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _id_of(account: object) -> str:
    return _text(account.get("id")) if isinstance(account, Mapping) else ""


@dataclass(frozen=True)
class Routing:
    channel_id: str
    service_url: str
    conversation_id: str
    # The continuation's recipient is the bot and its sender the user (botbuilder's get_continuation_activity:
    # recipient=reference.bot, from_property=reference.user); empty when the continuation names none.
    bot_id: str
    user_id: str

    @classmethod
    def of(cls, continuation: Mapping[str, Any]) -> "Routing":
        """The routing of a continuation activity in wire JSON (camelCase, "from")."""
        return cls(
            channel_id=_text(continuation.get("channelId")),
            service_url=_text(continuation.get("serviceUrl")),
            conversation_id=_id_of(continuation.get("conversation")),
            bot_id=_id_of(continuation.get("recipient")),
            user_id=_id_of(continuation.get("from")),
        )

    def to_json(self) -> dict[str, str]:
        return {
            "channelId": self.channel_id,
            "serviceUrl": self.service_url,
            "conversationId": self.conversation_id,
            "botId": self.bot_id,
            "userId": self.user_id,
        }
