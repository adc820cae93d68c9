"""Reading a LongOperationResponse event: the continuation it carries and the signed outcome or question inside it.

Pure checks, no I/O: what can be decided from the event alone, before touching any conversation state. The event's
value names its ``kind`` (contract/events.py); ``READERS`` maps each kind to its reader, the one seam where another
kind (a progress update) is added. The verified event is read once per turn and kept in the proactive turn's
``turn_state`` under ``VERIFIED_EVENT``: the prompt and the dialog take it from there, never from the activity again.
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ConversationReference

from bot.errors import BotError
from contract import (
    OUTCOME_KIND,
    QUESTION_KIND,
    ContractError,
    Outcome,
    OutcomeEvent,
    Question,
    QuestionEvent,
    event_kind,
    instance_id_prefix,
    verify_legacy_outcome,
    verify_outcome,
    verify_question,
)

logger = logging.getLogger(__name__)

# Where the proactive turn keeps the event it verified (TurnContext.turn_state).
VERIFIED_EVENT: Final = "LongOperationVerifiedEvent"


class RejectedEvent(BotError):
    """The event is not a trustworthy outcome or question; the message says why (never containing the key)."""

    def __init__(self, reason: str, instance_id: str = "", conversation_id: str = "", what: str = "outcome") -> None:
        super().__init__(reason)
        self.reason = reason
        self.instance_id = instance_id
        self.conversation_id = conversation_id
        self.what = what


@dataclass(frozen=True)
class VerifiedOutcome:
    reference: ConversationReference
    outcome: Outcome

    @property
    def instance_id(self) -> str:
        return self.outcome.instance_id

    @property
    def delivery_key(self) -> str:
        """What a failed delivery's record of sent activities is kept under (bot/outcome_delivery.py)."""
        return self.outcome.instance_id


@dataclass(frozen=True)
class VerifiedQuestion:
    reference: ConversationReference
    question: Question

    @property
    def instance_id(self) -> str:
        return self.question.instance_id

    @property
    def delivery_key(self) -> str:
        return self.question.question_id


VerifiedEvent = VerifiedOutcome | VerifiedQuestion


def read_outcome_event(value: object, signing_key: str) -> VerifiedOutcome:
    """The reference to continue and the verified outcome, or RejectedEvent."""
    conversation_id = _conversation_id(value)
    try:
        event = OutcomeEvent.from_value(value)
    except ContractError as error:
        raise _malformed(error, "outcome", conversation_id) from None
    continuation = _continuation(event.continuation)
    wire_outcome = value.get("value") if isinstance(value, dict) else None
    outcome = _signed_outcome(event, wire_outcome, signing_key, conversation_id)
    _check_addressed(outcome.instance_id, outcome.conversation_id, continuation, conversation_id, "outcome")
    return VerifiedOutcome(TurnContext.get_conversation_reference(continuation), outcome)


def read_question_event(value: object, signing_key: str) -> VerifiedQuestion:
    """The reference to continue and the verified question, or RejectedEvent: the same checks as an outcome's."""
    conversation_id = _conversation_id(value)
    try:
        event = QuestionEvent.from_value(value)
    except ContractError as error:
        raise _malformed(error, "question", conversation_id) from None
    continuation = _continuation(event.continuation)
    question = event.question
    if not verify_question(question, event.routing, signing_key):
        raise RejectedEvent("the question signature is missing or wrong, or the question or its routing was changed",
                            question.instance_id, conversation_id, "question")
    _check_addressed(question.instance_id, question.conversation_id, continuation, conversation_id, "question")
    return VerifiedQuestion(TurnContext.get_conversation_reference(continuation), question)


READERS: Mapping[str, Callable[[object, str], VerifiedEvent]] = MappingProxyType({
    OUTCOME_KIND: read_outcome_event,
    QUESTION_KIND: read_question_event,
})


def read_response_event(value: object, signing_key: str) -> VerifiedEvent:
    """The verified event, by the kind its value names; any other kind is read as an outcome, whose reader names
    what is wrong with it."""
    return READERS.get(event_kind(value) or "", read_outcome_event)(value, signing_key)


def _conversation_id(value: object) -> str:
    if not isinstance(value, dict):
        raise RejectedEvent("the event value is not a continuation activity")
    conversation = value.get("conversation")
    return str(conversation.get("id") or "") if isinstance(conversation, dict) else ""


def _malformed(error: ContractError, what: str, conversation_id: str) -> RejectedEvent:
    if error.field.startswith(("value", "continuation")):
        return RejectedEvent("the continuation activity lacks channelId, serviceUrl or conversation.id", what=what)
    return RejectedEvent(f"the {what} is malformed ({error})", conversation_id=conversation_id, what=what)


def _continuation(data: dict[str, object]) -> Activity:
    try:
        continuation: Activity = Activity().deserialize(data)
    except Exception as error:  # msrest raises its own DeserializationError tree; any of them means "malformed".
        raise RejectedEvent(f"the continuation activity is malformed ({type(error).__name__})") from None
    return continuation


def _check_addressed(instance_id: str, own_conversation_id: str, continuation: Activity, conversation_id: str,
                     what: str) -> None:
    if own_conversation_id != conversation_id:
        raise RejectedEvent(f"the {what} belongs to another conversation than the continuation", instance_id,
                            conversation_id, what)
    # The instance id embeds a hash of channel + conversation: an outcome is for the conversation it was started in.
    if not instance_id.startswith(instance_id_prefix(str(continuation.channel_id), conversation_id)):
        raise RejectedEvent("the instance id does not belong to this channel and conversation",
                            instance_id, conversation_id, what)


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
