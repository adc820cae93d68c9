"""Reading a LongOperationResponse event that carries a progress report (contract/progress_report.py).

The same checks as an outcome's (bot/outcome_event.py), before any conversation is touched: a well-formed
continuation, a signature over the report and the continuation's routing, the report's conversation that of the
continuation, and an instance id that belongs to that channel and conversation. There is no previous contract to
accept: reports are new.
"""

from dataclasses import dataclass

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ConversationReference

from bot.outcome_event import RejectedEvent
from contract import ContractError, ProgressEvent, ProgressReport, instance_id_prefix, verify_progress


@dataclass(frozen=True)
class VerifiedProgress:
    reference: ConversationReference
    report: ProgressReport


def read_progress_event(value: object, signing_key: str) -> VerifiedProgress:
    """The reference to continue and the verified report, or RejectedEvent saying why."""
    if not isinstance(value, dict):
        raise RejectedEvent("the event value is not a continuation activity")
    conversation = value.get("conversation")
    conversation_id = str(conversation.get("id") or "") if isinstance(conversation, dict) else ""
    try:
        event = ProgressEvent.from_value(value)
    except ContractError as error:
        if error.field.startswith(("value", "continuation")):
            raise RejectedEvent("the continuation activity lacks channelId, serviceUrl or conversation.id") from None
        raise RejectedEvent(f"the progress report is malformed ({error})", conversation_id=conversation_id) from None
    try:
        continuation = Activity().deserialize(event.continuation)
    except Exception as error:  # msrest raises its own DeserializationError tree; any of them means "malformed".
        raise RejectedEvent(f"the continuation activity is malformed ({type(error).__name__})") from None
    report = event.report
    if not verify_progress(report, event.routing, signing_key):
        raise RejectedEvent("the progress signature is missing or wrong, or the report or its routing was changed",
                            report.instance_id, conversation_id)
    if report.conversation_id != conversation_id:
        raise RejectedEvent("the progress report belongs to another conversation than the continuation",
                            report.instance_id, conversation_id)
    if not report.instance_id.startswith(instance_id_prefix(str(continuation.channel_id), conversation_id)):
        raise RejectedEvent("the instance id does not belong to this channel and conversation",
                            report.instance_id, conversation_id)
    return VerifiedProgress(TurnContext.get_conversation_reference(continuation), report)
