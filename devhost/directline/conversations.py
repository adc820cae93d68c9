"""Conversations and their transcripts, in memory.

A Direct Line transcript is ephemeral (the service keeps it for about a day), so the stand-in keeps it in process
memory: it does not survive a restart. Clients of a restarted stand-in get 404 for their old conversation, which
DirectLineJS treats as "conversation ended" instead of failing in some stranger way.
"""

import uuid
from dataclasses import dataclass, field
from typing import Any

from devhost.directline.errors import ActivityNotFound, BadRequest, ConversationNotFound

Activity = dict[str, Any]

# What clients never receive (Direct Line docs, "Receive activities from the bot": conversationUpdate is not sent
# to clients), and what only the WebSocket stream carries (typing: "WebSocket only"; GET .../activities leaves it out).
_NOT_IN_TRANSCRIPT = frozenset({"conversationUpdate"})
_STREAM_ONLY = frozenset({"typing"})


@dataclass
class Conversation:
    id: str
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    # (sequence number, activity), ordered by sequence number; the watermark is the sequence number as a string.
    transcript: list[tuple[int, Activity]] = field(default_factory=list)
    last_sequence: int = 0

    def next_id(self) -> tuple[int, str]:
        """A new sequence number and the activity id Direct Line builds from it: ``<conversation>|0000007``."""
        self.last_sequence += 1
        return self.last_sequence, f"{self.id}|{self.last_sequence:07d}"

    def record(self, sequence: int, activity: Activity) -> None:
        if activity.get("type") not in _NOT_IN_TRANSCRIPT:
            self.transcript.append((sequence, activity))

    def activities_after(self, watermark: str | None) -> tuple[list[Activity], str]:
        """What GET .../activities answers: the activities after ``watermark`` (typing left out) and the new one."""
        after = parse_watermark(watermark)
        activities = [
            activity for sequence, activity in self.transcript
            if sequence > after and activity.get("type") not in _STREAM_ONLY
        ]
        return activities, str(max(after, self.last_sequence))

    def stream_after(self, after: int) -> tuple[list[Activity], int]:
        """What the stream sends next: every activity after sequence ``after``, and the sequence it has reached.

        Read and advanced in one synchronous step, so an activity recorded meanwhile is in the next set, never lost
        between the two and never sent twice.
        """
        activities = [activity for sequence, activity in self.transcript if sequence > after]
        return activities, max(after, self.last_sequence)

    def delete(self, activity_id: str) -> None:
        kept = [(sequence, old) for sequence, old in self.transcript if old.get("id") != activity_id]
        if len(kept) == len(self.transcript):
            raise ActivityNotFound(f"activity {activity_id!r} not found in conversation {self.id!r}")
        self.transcript = kept


def parse_watermark(watermark: str | None) -> int:
    # DirectLineJS sends an empty watermark on its first poll; "-" is how the service's stream URLs write "none".
    if watermark in (None, "", "-"):
        return 0
    try:
        value = int(watermark)
    except ValueError:
        raise BadRequest(f"watermark must be a number, got {watermark!r}") from None
    if value < 0:
        raise BadRequest(f"watermark must not be negative, got {watermark!r}")
    return value


class ConversationStore:
    def __init__(self) -> None:
        self._conversations: dict[str, Conversation] = {}

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    def create(self, conversation_id: str) -> Conversation:
        conversation = Conversation(conversation_id)
        self._conversations[conversation_id] = conversation
        return conversation

    def find(self, conversation_id: str) -> Conversation | None:
        return self._conversations.get(conversation_id)

    def get(self, conversation_id: str) -> Conversation:
        conversation = self._conversations.get(conversation_id)
        if conversation is None:
            raise ConversationNotFound(f"conversation {conversation_id!r} not found")
        return conversation
