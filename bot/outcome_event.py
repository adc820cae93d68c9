"""Reading a LongOperationResponse event: the continuation it carries and the signed outcome inside it.

Pure checks, no I/O: what can be decided from the event alone, before touching any conversation state.
"""

import logging
from dataclasses import dataclass

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ConversationReference

from bot.errors import BotError
from contract import (
    ContractError,
    Outcome,
    OutcomeEvent,
    instance_id_prefix,
    verify_legacy_outcome,
    verify_outcome,
)

logger = logging.getLogger(__name__)


class RejectedEvent(BotError):
    """The event is not a trustworthy outcome; the message says why (never containing the key)."""

    def __init__(self, reason: str, instance_id: str = "", conversation_id: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.instance_id = instance_id
        self.conversation_id = conversation_id


@dataclass(frozen=True)
class VerifiedOutcome:
    reference: ConversationReference
    outcome: Outcome


def read_outcome_event(value: object, signing_key: str) -> VerifiedOutcome:
    """The reference to continue and the verified outcome, or RejectedEvent."""
    if not isinstance(value, dict):
        raise RejectedEvent("the event value is not a continuation activity")
    conversation = value.get("conversation")
    conversation_id = str(conversation.get("id") or "") if isinstance(conversation, dict) else ""
    try:
        event = OutcomeEvent.from_value(value)
    except ContractError as error:
        if error.field.startswith(("value", "continuation")):
            raise RejectedEvent("the continuation activity lacks channelId, serviceUrl or conversation.id") from None
        raise RejectedEvent(f"the outcome is malformed ({error})", conversation_id=conversation_id) from None
    try:
        continuation = Activity().deserialize(event.continuation)
    except Exception as error:  # msrest raises its own DeserializationError tree; any of them means "malformed".
        raise RejectedEvent(f"the continuation activity is malformed ({type(error).__name__})") from None
    outcome = _signed_outcome(event, value.get("value"), signing_key, conversation_id)
    if outcome.conversation_id != conversation_id:
        raise RejectedEvent(
            "the outcome belongs to another conversation than the continuation", outcome.instance_id, conversation_id
        )
    # The instance id embeds a hash of channel + conversation: an outcome is for the conversation it was started in.
    if not outcome.instance_id.startswith(instance_id_prefix(str(continuation.channel_id), conversation_id)):
        raise RejectedEvent("the instance id does not belong to this channel and conversation",
                            outcome.instance_id, conversation_id)
    return VerifiedOutcome(TurnContext.get_conversation_reference(continuation), outcome)


def _signed_outcome(event: OutcomeEvent, wire_outcome: object, signing_key: str, conversation_id: str) -> Outcome:
    """The outcome its signature vouches for, or RejectedEvent.

    Checked before continue_conversation: the signature covers the outcome and the continuation's routing (channel,
    serviceUrl, conversation, bot and user ids), so where the proactive turn goes is nobody's choice but the function
    app's, which got the continuation from this bot's start request. There is no freshness check (README, Decisions,
    "No freshness window"): a replay is dropped later by the dedupe and the awaited-instance check, and a clock skew
    beyond any window would drop genuine outcomes that Direct Line has already acknowledged.
    """
    if verify_outcome(event.outcome, event.routing, signing_key):
        return event.outcome
    legacy = verify_legacy_outcome(wire_outcome, signing_key)
    if legacy is None:
        raise RejectedEvent("the outcome signature is missing or wrong, or the outcome or its routing was changed",
                            event.outcome.instance_id, conversation_id)
    # Its routing is unsigned: the checks after this one and the proactive turn's serviceUrl check still hold.
    logger.info("outcome signed without its routing (a function app of the previous contract) accepted during the "
                "upgrade instance_id=%s conversation_id=%s", legacy.instance_id, conversation_id)
    return legacy
