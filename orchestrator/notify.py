"""Deliver an outcome (or a step's question) to the bot: sign it and post it over Direct Line as a
LongOperationResponse event.

When the bot cannot deliver the outcome to the user's conversation its turn fails, so Direct Line answers the post
with 502; before failing, the bot answers the event in this carrier conversation with a signed delivery receipt
(contract/receipt.py). Only then is the conversation read: a delivered outcome costs no extra call. A ``refused``
receipt ends the delivery (the result says so; the orchestrator does not retry); a ``deferred`` one names the cause
in the failure that the retry policy acts on.
"""

import logging
from typing import Any

from contract import (
    DELIVERY_RECEIPT_EVENT,
    ORCHESTRATOR_SENDER,
    ContractError,
    DeliveryReceipt,
    OutcomeEvent,
    QuestionEvent,
    ReceiptVerdict,
    Routing,
    sign_outcome,
    sign_question,
    verify_receipt,
)
from orchestrator.carrier import carrier_conversations
from orchestrator.directline import DirectLineClient, DirectLineConversation
from orchestrator.errors import BotTurnFailed, DirectLineError
from orchestrator.payloads import AskRequest, AskResult, NotifyRequest, NotifyResult
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
    posted = await _post_event(client, settings, OutcomeEvent(request.continuation, signed).to_json(),
                               instance_id=request.instance_id, conversation_id=request.outcome.conversation_id,
                               what="outcome")
    if posted.refusal is not None:
        return NotifyResult(signed, posted.conversation_id, "", refusal=posted.refusal)
    logger.info(
        "outcome delivered instance_id=%s conversation_id=%s status=%s activity_id=%s",
        request.instance_id,
        request.outcome.conversation_id,
        signed.status.value,
        posted.activity_id,
    )
    return NotifyResult(signed, posted.conversation_id, posted.activity_id)


async def ask_bot(request: AskRequest, settings: Settings, client: DirectLineClient) -> AskResult:
    """Sign a step's question (as an outcome is signed) and post it in the same event; the same failures."""
    question = request.question
    signed = sign_question(question, Routing.of(request.continuation), settings.signing_key)
    posted = await _post_event(client, settings, QuestionEvent(request.continuation, signed).to_json(),
                               instance_id=request.instance_id, conversation_id=question.conversation_id,
                               what="question")
    if posted.refusal is None:
        logger.info("question delivered instance_id=%s conversation_id=%s step=%d activity_id=%s",
                    request.instance_id, question.conversation_id, question.step, posted.activity_id)
    return posted


async def _post_event(client: DirectLineClient, settings: Settings, event: dict[str, Any], *, instance_id: str,
                      conversation_id: str, what: str) -> AskResult:
    """Post ``event`` on a carrier conversation; where it went, or the user's conversation's final refusal."""
    try:
        # The event's sender joins at the start: one conversationUpdate in the bot per carrier conversation, not two.
        conversation, activity_id = await carrier_conversations.post(
            client, event, ORCHESTRATOR_SENDER, settings.notify_posts_per_conversation,
        )
    except BotTurnFailed as failed:
        receipt = await _receipt(client, failed.conversation, instance_id, settings.signing_key)
        if receipt is None:
            raise
        if receipt.verdict is not ReceiptVerdict.REFUSED:
            raise DirectLineError(
                failed.operation, failed.status, failed.code,
                f"the bot could not deliver the {what} to the conversation yet ({receipt.describe()})",
            ) from failed
        logger.warning("%s refused by the user's conversation, not retried: %s instance_id=%s "
                       "conversation_id=%s", what, receipt.describe(), instance_id, conversation_id)
        return AskResult(failed.conversation.conversation_id, "", refusal=receipt)
    return AskResult(conversation.conversation_id, activity_id)


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
