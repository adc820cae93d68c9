"""Deliver an outcome to the bot: sign it and post it over Direct Line as a LongOperationResponse event."""

import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from contract import LONG_OPERATION_RESPONSE_EVENT, sign_outcome
from orchestrator.directline import DirectLineClient
from orchestrator.payloads import NotifyRequest, NotifyResult
from orchestrator.settings import Settings

logger = logging.getLogger(__name__)

SENDER = {"id": "long-operation-orchestrator", "name": "Long operation orchestrator"}


def outcome_event(request: NotifyRequest, signed_value: dict[str, Any]) -> dict[str, Any]:
    """The event the bot recognizes: its value is the continuation activity carrying the signed outcome."""
    return {
        "type": "event",
        "name": LONG_OPERATION_RESPONSE_EVENT,
        "from": dict(SENDER),
        "value": {**request.continuation, "value": signed_value},
    }


async def notify_bot(request: NotifyRequest, settings: Settings, client: DirectLineClient) -> NotifyResult:
    """Sign the outcome (issued now) and post it; raises DirectLineError so the retry policy can act.

    The key is read here, in the activity, so it never enters the orchestration history.
    """
    issued_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    signed = sign_outcome(replace(request.outcome.unsigned(), issued_at=issued_at), settings.signing_key)
    conversation = await client.start_conversation()
    activity_id = await client.post_activity(conversation, outcome_event(request, signed.to_json()))
    logger.info(
        "outcome delivered instance_id=%s conversation_id=%s status=%s activity_id=%s",
        request.instance_id,
        request.outcome.conversation_id,
        signed.status.value,
        activity_id,
    )
    return NotifyResult(signed, conversation.conversation_id, activity_id)

