"""Deliver an outcome to the bot: sign it and post it over Direct Line as a LongOperationResponse event."""

import logging
from dataclasses import replace
from datetime import UTC, datetime

from contract import ORCHESTRATOR_SENDER, OutcomeEvent, sign_outcome
from orchestrator.carrier import carrier_conversations
from orchestrator.directline import DirectLineClient
from orchestrator.payloads import NotifyRequest, NotifyResult
from orchestrator.settings import Settings

logger = logging.getLogger(__name__)


async def notify_bot(request: NotifyRequest, settings: Settings, client: DirectLineClient) -> NotifyResult:
    """Sign the outcome (issued now) and post it; raises DirectLineError so the retry policy can act.

    The key is read here, in the activity, so it never enters the orchestration history.
    """
    issued_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    signed = sign_outcome(replace(request.outcome.unsigned(), issued_at=issued_at), settings.signing_key)
    # The event's sender joins at the start: one conversationUpdate in the bot per carrier conversation, not two.
    conversation, activity_id = await carrier_conversations.post(
        client, OutcomeEvent(request.continuation, signed).to_json(), ORCHESTRATOR_SENDER,
        settings.notify_posts_per_conversation,
    )
    logger.info(
        "outcome delivered instance_id=%s conversation_id=%s status=%s activity_id=%s",
        request.instance_id,
        request.outcome.conversation_id,
        signed.status.value,
        activity_id,
    )
    return NotifyResult(signed, conversation.conversation_id, activity_id)

