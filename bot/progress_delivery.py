"""Showing a verified progress report in the user's conversation: one card updated in place, or a short message.

Where the channel updates a sent activity (Teams; the Emulator, whose Bot Connector routes have PUT
``/v3/conversations/{id}/activities/{id}``, BotFramework-Emulator packages/app/main/src/server/routes/channel/
conversations/handlers/updateActivity.ts), the first report sends the progress card and the next ones replace it,
by the id kept in conversation state. Anywhere else a report is a short message of its own: Direct Line, and so
Web Chat, refuses updates (405 BadArgument "This channel does not support this operation", microsoft/botframework-
sdk issue #4734; devhost/directline/service.py answers the same). An update the channel refuses after all is
followed by a new card, whose id is kept instead.

A report whose step is not past the last one shown for the same instance is dropped: activities run at least once
and posts may overtake each other, and the bar must never move back.
"""

import logging
from dataclasses import dataclass
from typing import Any

from botbuilder.core import ConversationState, TurnContext
from botframework.connector import Channels

from bot import texts
from bot.progress_cards import progress_message
from contract import ProgressReport

logger = logging.getLogger(__name__)

# Conversation state: the last report shown ({"instanceId", "step", "activityId"}).
PROGRESS_SHOWN = "LongOperationProgressShown"
UPDATING_CHANNELS = frozenset({Channels.ms_teams, Channels.emulator})


@dataclass(frozen=True)
class Shown:
    instance_id: str
    step: int
    # The card's id where the channel updates it; "" where each report is a message of its own.
    activity_id: str

    def to_state(self) -> dict[str, Any]:
        return {"instanceId": self.instance_id, "step": self.step, "activityId": self.activity_id}

    @classmethod
    def from_state(cls, data: object) -> "Shown | None":
        if not isinstance(data, dict) or not isinstance(data.get("instanceId"), str):
            return None
        step = data.get("step")
        return cls(data["instanceId"], step if isinstance(step, int) else 0, str(data.get("activityId") or ""))


class ProgressDelivery:
    def __init__(self, conversation_state: ConversationState) -> None:
        self._shown = conversation_state.create_property(PROGRESS_SHOWN)

    async def show(self, context: TurnContext, report: ProgressReport) -> str:
        """Show ``report`` in ``context``'s conversation (the caller saves the state); what was done: "stale",
        "updated", "sent" (a new card) or "message"."""
        shown = Shown.from_state(await self._shown.get(context))
        same = shown if shown is not None and shown.instance_id == report.instance_id else None
        if same is not None and report.step <= same.step:
            return "stale"
        activity_id = ""
        done = "message"
        if context.activity.channel_id in UPDATING_CHANNELS:
            card = progress_message(report.option, report.step, report.steps, report.percent)
            done = "sent"
            if same is not None and same.activity_id:
                card.id = same.activity_id
                try:
                    await context.update_activity(card)
                    activity_id, done = same.activity_id, "updated"
                except Exception as error:  # refused or gone: a new card instead
                    logger.warning("could not update the progress card, sending a new one instance_id=%s: %s",
                                   report.instance_id, type(error).__name__)
                    card.id = None
            if done == "sent":
                response = await context.send_activity(card)
                activity_id = str(response.id) if response is not None and response.id else ""
        else:
            await context.send_activity(texts.progress_line(report.option, report.step, report.steps, report.percent))
        await self._shown.set(context, Shown(report.instance_id, report.step, activity_id).to_state())
        return done
