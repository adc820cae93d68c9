"""Deliver an outcome to the bot: sign it and post it over Direct Line as a LongOperationResponse event.

When the bot cannot deliver the outcome to the user's conversation its turn fails, so Direct Line answers the post
with 502; before failing, the bot answers the event in this carrier conversation with a signed delivery receipt
(contract/receipt.py). Only then is the conversation read: a delivered outcome costs no extra call. A ``refused``
receipt ends the delivery (the result says so; the orchestrator does not retry); a ``deferred`` one names the cause
in the failure that the retry policy acts on.
"""

import logging

from contract import (
    DELIVERY_RECEIPT_EVENT,
    ORCHESTRATOR_SENDER,
    ContractError,
    DeliveryReceipt,
    OutcomeEvent,
    ReceiptVerdict,
    Routing,
    sign_outcome,
    verify_receipt,
)
from orchestrator.carrier import carrier_conversations
from orchestrator.directline import DirectLineClient, DirectLineConversation
from orchestrator.errors import BotTurnFailed, DirectLineError
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
    try:
        # The event's sender joins at the start: one conversationUpdate in the bot per carrier conversation, not two.
        conversation, activity_id = await carrier_conversations.post(
            client, OutcomeEvent(request.continuation, signed).to_json(), ORCHESTRATOR_SENDER,
            settings.notify_posts_per_conversation,
        )
    except BotTurnFailed as failed:
        receipt = await _receipt(client, failed.conversation, request.instance_id, settings.signing_key)
        if receipt is None:
            raise
        if receipt.verdict is not ReceiptVerdict.REFUSED:
            raise DirectLineError(
                failed.operation, failed.status, failed.code,
                f"the bot could not deliver the outcome to the conversation yet ({receipt.describe()})",
            ) from failed
        logger.warning("outcome refused by the user's conversation, not retried: %s instance_id=%s "
                       "conversation_id=%s", receipt.describe(), request.instance_id, request.outcome.conversation_id)
        return NotifyResult(signed, failed.conversation.conversation_id, "", refusal=receipt)
    logger.info(
        "outcome delivered instance_id=%s conversation_id=%s status=%s activity_id=%s",
        request.instance_id,
        request.outcome.conversation_id,
        signed.status.value,
        activity_id,
    )
    return NotifyResult(signed, conversation.conversation_id, activity_id)


async def _receipt(
    client: DirectLineClient, conversation: DirectLineConversation, instance_id: str, signing_key: str
) -> DeliveryReceipt | None:
    """The newest genuine receipt for ``instance_id`` in the carrier conversation, or None."""
    try:
        activities = await client.activities(conversation)
    except DirectLineError as error:
        logger.warning("could not read the bot's receipt instance_id=%s: %s", instance_id, error)
        return None
    for activity in reversed(activities):
        if activity.get("type") != "event" or activity.get("name") != DELIVERY_RECEIPT_EVENT:
            continue
        try:
            receipt = DeliveryReceipt.from_json(activity.get("value"))
        except ContractError:
            continue
        if receipt.instance_id != instance_id:
            continue
        if verify_receipt(receipt, signing_key):
            return receipt
        logger.warning("a delivery receipt with a bad signature was ignored instance_id=%s", instance_id)
    return None
