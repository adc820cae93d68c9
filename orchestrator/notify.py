"""Deliver an outcome to the bot: sign it and post it over Direct Line as a LongOperationResponse event."""

import logging

from contract import ORCHESTRATOR_SENDER, OutcomeEvent, Routing, sign_outcome
from orchestrator.carrier import carrier_conversations
from orchestrator.directline import DirectLineClient
from orchestrator.payloads import NotifyRequest, NotifyResult
from orchestrator.settings import Settings

logger = logging.getLogger(__name__)


async def notify_bot(request: NotifyRequest, settings: Settings, client: DirectLineClient) -> NotifyResult:
    """Sign the outcome with the routing of its continuation and post it; raises DirectLineError so the retry
    policy can act.

    The key is read here, in the activity, so it never enters the orchestration history. The signature covers the
    continuation's routing, so the bot can check where it is sent before it continues any conversation. It carries
    no timestamp (README, Decisions, "No freshness window"): a replay is harmless already (dedupe by instance id, a
    prompt awaits exactly one instance, the routing is signed), while a window would drop genuine outcomes whenever
    the bot's clock is off by more than it, after Direct Line has answered 200, so they would be lost.
    """
    signed = sign_outcome(request.outcome, Routing.of(request.continuation), settings.signing_key)
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

