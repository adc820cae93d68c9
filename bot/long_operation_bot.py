"""The ActivityHandler: runs the dialog for messages and delivers verified outcomes and questions proactively."""

import logging
from typing import Any

from botbuilder.core import ActivityHandler, ConversationState, TurnContext
from botbuilder.dialogs import Dialog
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector import Channels

from bot import texts
from bot.awaited import NOBODY_WAITS, not_awaited
from bot.connector_transport import send_timeout
from bot.conversation_leases import ConversationLeases
from bot.conversation_locks import conversation_lock_key
from bot.dialog_turn import DialogRunner
from bot.errors import ConversationBusy, DeliveryDeferred, DeliveryRefused, OutcomeNotDelivered
from bot.long_operation_prompt import LongOperationPrompt
from bot.mentions import remove_bot_mention
from bot.outcome_claims import MemoryClaims, OutcomeClaims
from bot.outcome_delivery import SEND_LEDGER, SendLedger, claimed
from bot.outcome_event import VERIFIED_EVENT, RejectedEvent, VerifiedEvent, VerifiedOutcome, read_response_event
from bot.proactive import reply_to_started_message
from bot.progress_delivery import ProgressDelivery
from bot.progress_event import VerifiedProgress, read_progress_event
from bot.settings import BotSettings
from bot.state_expiry import StateExpiry
from bot.tracing import delivery_span
from bot.turn_slots import TurnSlots
from contract import (
    DELIVERY_RECEIPT_EVENT,
    LONG_OPERATION_RESPONSE_EVENT,
    PROGRESS_KIND,
    DeliveryReceipt,
    ReceiptVerdict,
    event_kind,
    sign_receipt,
)

logger = logging.getLogger(__name__)

DIALOG_STATE = "DialogState"
# Instance ids whose outcome this conversation has shown, newest last: at-least-once notification from the
# function app must reach the user exactly once, across restarts (so it lives in conversation state).
DELIVERED_OUTCOMES = "DeliveredOutcomes"
DELIVERED_OUTCOMES_KEPT = 50
# What a failed delivery attempt did send into the conversation ({"instanceId", "sent": [fingerprints]}), so that
# the function app's retry sends only the rest (bot/outcome_delivery.py). Cleared once the outcome is delivered.
PENDING_DELIVERY = "PendingDelivery"


class LongOperationBot(ActivityHandler):  # type: ignore[misc]  # botbuilder ships no type hints
    def __init__(
        self,
        settings: BotSettings,
        conversation_state: ConversationState,
        dialog: Dialog,
        slots: TurnSlots | None = None,
        *,
        leases: ConversationLeases | None = None,
        claims: OutcomeClaims | None = None,
    ) -> None:
        self._settings = settings
        self._conversation_state = conversation_state
        self._dialog_state = conversation_state.create_property(DIALOG_STATE)
        self._dialog_runner = DialogRunner(dialog, self._dialog_state)
        self._delivered = conversation_state.create_property(DELIVERED_OUTCOMES)
        self._pending = conversation_state.create_property(PENDING_DELIVERY)
        # One turn at a time per conversation: in this process, and across instances on a shared store.
        # ``is None``, not ``or``: a ConversationLeases with no turn in flight has length 0.
        self._leases = leases if leases is not None else ConversationLeases()
        # Each outcome once across instances (bot/outcome_claims.py). A claim outlives its delivery's sends (the
        # outcome and the prompt, each bounded by ProactiveSendTimeout) and the lease it is made under.
        self._claims = (claims if claims is not None
                        else MemoryClaims(StateExpiry.of_days(settings.conversation_state_days)))
        self._claim_seconds = settings.lease_seconds + 2 * settings.proactive_send_timeout
        self._progress = ProgressDelivery(conversation_state)
        self._slots = slots or TurnSlots()

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if _is_outcome_event(turn_context):
            # The outer turn of an outcome event touches no state; its inner turn takes the user's conversation
            # lock. Taking this conversation's lock too could deadlock an event that names its own conversation.
            await super().on_turn(turn_context)
            return
        conversation_id = activity.conversation.id if activity.conversation else ""
        # The conversation's lock first, then a turn slot: a slot holder never waits for a lock (bot/turn_slots.py).
        async with self._leases.hold(conversation_lock_key(activity.channel_id, conversation_id)), self._slots.turn():
            try:
                await super().on_turn(turn_context)
                # Saved after every turn; the proactive inner turn saves in its own callback (it has its own context).
                # Written even when unchanged (a status question changes nothing): the write is the conversation's
                # last activity, which ConversationStateDays counts from (bot/state_expiry.py). Only if the turn
                # loaded the state: botbuilder's forced save of a state never loaded fails.
                loaded = self._conversation_state.get_cached_state(turn_context) is not None
                await self._conversation_state.save_changes(turn_context, force=loaded)
            except Exception as error:
                # Handled here, under the lock: the adapter would call on_turn_error only after on_turn has left it,
                # and the next turn of this conversation could then read the state the handler is resetting.
                await self.on_turn_error(turn_context, error)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        # Before any matching: Teams sends "<at>Bot</at> cancel" in channels and group chats (bot/mentions.py).
        remove_bot_mention(turn_context.activity)
        await self._dialog_runner.run(turn_context)

    async def on_event_activity(self, turn_context: TurnContext) -> None:
        if _is_outcome_event(turn_context):
            # The event's value says what it carries (its kind): a progress report, or else an outcome.
            if event_kind(turn_context.activity.value) == PROGRESS_KIND:
                await self._show_progress(turn_context)
                return
            await self._deliver_outcome(turn_context)
            return
        await super().on_event_activity(turn_context)

    async def _show_progress(self, turn_context: TurnContext) -> None:
        """Show a progress report in the conversation it is for (bot/progress_delivery.py). Never fails the event:
        a report is a nicety, superseded by the next one or the outcome, and nothing is retried."""
        try:
            event = read_progress_event(turn_context.activity.value, self._settings.signing_key)
        except RejectedEvent as rejected:
            logger.warning("progress event rejected: %s instance_id=%s conversation_id=%s", rejected.reason,
                           rejected.instance_id, rejected.conversation_id)
            return

        async def show_in_original_conversation(context: TurnContext) -> None:
            reply_to_started_message(context, event.reference)
            key = conversation_lock_key(event.reference.channel_id, event.reference.conversation.id)
            async with self._leases.hold(key), self._slots.turn():
                await self._show_progress_in(context, event)

        try:
            with send_timeout(self._settings.proactive_send_timeout):
                await turn_context.adapter.continue_conversation(
                    event.reference, show_in_original_conversation, self._settings.app_id
                )
        except Exception as error:  # the channel refused or timed out: logged, the operation goes on
            logger.warning("progress not shown instance_id=%s conversation_id=%s: %s: %s",
                           event.report.instance_id, event.report.conversation_id, type(error).__name__, error)

    async def _show_progress_in(self, context: TurnContext, event: VerifiedProgress) -> None:
        report = event.report
        awaited = LongOperationPrompt.awaited(await self._dialog_state.get(context))
        why_not = not_awaited(awaited, report.instance_id, event.reference.service_url)
        if why_not == NOBODY_WAITS:
            logger.info("stale progress dropped (%s) instance_id=%s conversation_id=%s", why_not,
                        report.instance_id, report.conversation_id)
            return
        if why_not is not None:
            logger.warning("progress dropped: %s instance_id=%s conversation_id=%s", why_not, report.instance_id,
                           report.conversation_id)
            return
        done = await self._progress.show(context, report)
        await self._conversation_state.save_changes(context)
        logger.info("progress %s step=%d/%d instance_id=%s conversation_id=%s", done, report.step, report.steps,
                    report.instance_id, report.conversation_id)

    async def on_turn_error(self, turn_context: TurnContext, error: Exception) -> None:
        """Log, tell the user, and reset the dialog. Called by on_turn under the conversation's lock; also the
        adapter's on_turn_error, for errors outside it (an outcome event's outer turn).

        Decision: like the samples, drop the conversation's dialog stack so a poisoned state cannot trap the
        user in an error loop; unlike them, keep the delivered-outcomes record so dedupe survives. An operation
        still running then finishes unseen (its outcome is logged as stale); the user starts a new one.

        Except for an outcome the user's channel did not take (OutcomeNotDelivered): nothing to apologise for in a
        conversation that cannot be reached, and the waiting prompt must stay for the retry. It is raised on, out
        of both the inner and the outer turn (botbuilder's BotAdapter.run_pipeline hands an error to this handler
        and raises it only when there is none), so the event's HTTP answer fails (bot/app.py).
        """
        if isinstance(error, (OutcomeNotDelivered, ConversationBusy)):
            # Busy: the turn never ran (another instance kept the conversation); nothing to reset, the channel
            # gets a 503 (bot/app.py).
            raise error
        conversation = turn_context.activity.conversation
        logger.error(
            "unhandled error in a turn conversation_id=%s", conversation.id if conversation else "", exc_info=error
        )
        try:
            await turn_context.send_activity(texts.SOMETHING_WENT_WRONG)
        except Exception:
            logger.exception("could not tell the user about the error")
        try:
            # force: re-read, so a fresh eTag is used if the error was a write conflict.
            await self._conversation_state.load(turn_context, force=True)
            await self._dialog_state.delete(turn_context)
            await self._conversation_state.save_changes(turn_context)
        except Exception:
            logger.exception("could not reset the dialog state after an error")

    async def _deliver_outcome(self, turn_context: TurnContext) -> None:
        """Deliver the event's outcome or question (by its kind, bot/outcome_event.py READERS) into the conversation
        it was started from."""
        try:
            event = read_response_event(turn_context.activity.value, self._settings.signing_key)
        except RejectedEvent as rejected:
            logger.warning(
                "%s event rejected: %s instance_id=%s conversation_id=%s",
                rejected.what,
                rejected.reason,
                rejected.instance_id,
                rejected.conversation_id,
            )
            return

        async def continue_in_original_conversation(context: TurnContext) -> None:
            reference = event.reference
            # Before anything is sent, an error message included: replies answer the message that started the
            # operation, not the continuation's made-up id (bot/proactive.py).
            reply_to_started_message(context, reference)
            key = conversation_lock_key(reference.channel_id, reference.conversation.id)
            try:
                async with self._leases.hold(key), self._slots.turn():
                    try:
                        await self._deliver_in(context, event)
                    except OutcomeNotDelivered:
                        raise
                    except Exception as error:
                        # Under the user's conversation lease, with the inner context: as in on_turn.
                        await self.on_turn_error(context, error)
            except ConversationBusy as busy:
                # The conversation stayed with another instance past the wait: the function app retries later.
                raise DeliveryDeferred(None, "", str(busy)) from busy

        # Exceptions in the callback never reach this caller by themselves: botbuilder's run_pipeline
        # (libraries/botbuilder-core/botbuilder/core/bot_adapter.py) gives them to on_turn_error, which raises
        # OutcomeNotDelivered on. The short timeout bounds how long a send may hold the conversation's lock.
        try:
            delivered = event.outcome if isinstance(event, VerifiedOutcome) else event.question
            with delivery_span(delivered), send_timeout(self._settings.proactive_send_timeout):
                # With an app id set, the id passed here must equal it (botbuilder-notes §3); empty: auth is off.
                await turn_context.adapter.continue_conversation(
                    event.reference, continue_in_original_conversation, self._settings.app_id
                )
        except OutcomeNotDelivered as failure:
            what, conversation_id = _what(event), event.reference.conversation.id
            if isinstance(failure, DeliveryRefused):
                logger.warning("%s refused by the user's channel, not retried: %s instance_id=%s "
                               "conversation_id=%s", what, failure, event.instance_id, conversation_id)
            else:
                logger.warning("%s not delivered yet, the function app retries: %s instance_id=%s "
                               "conversation_id=%s", what, failure, event.instance_id, conversation_id)
            await self._send_receipt(turn_context, event.instance_id, failure)
            raise

    async def _send_receipt(self, turn_context: TurnContext, instance_id: str, failure: OutcomeNotDelivered) -> None:
        """Answer the event in the function app's conversation: why its outcome did not reach the user
        (contract/receipt.py). Best effort: without it the function app still sees the failed post and retries."""
        verdict = ReceiptVerdict.REFUSED if isinstance(failure, DeliveryRefused) else ReceiptVerdict.DEFERRED
        receipt = sign_receipt(
            DeliveryReceipt(instance_id, verdict, failure.status, failure.code, failure.detail),
            self._settings.signing_key,
        )
        reply = Activity(type=ActivityTypes.event, name=DELIVERY_RECEIPT_EVENT, value=receipt.to_json(),
                         reply_to_id=turn_context.activity.id)
        try:
            await turn_context.send_activity(reply)
        except Exception as error:
            logger.warning("could not post the delivery receipt instance_id=%s: %s", instance_id,
                           type(error).__name__)

    async def _deliver_in(self, context: TurnContext, event: VerifiedEvent) -> None:
        what = _what(event)
        fields = {"what": what, "instance_id": event.instance_id,
                  "conversation_id": event.reference.conversation.id}
        awaited = LongOperationPrompt.awaited(await self._dialog_state.get(context))
        delivered: list[Any] = list(await self._delivered.get(context) or [])
        if event.instance_id in delivered:
            # Its outcome was shown: neither it again nor a late question of the same operation.
            logger.warning("duplicate %(what)s dropped instance_id=%(instance_id)s conversation_id=%(conversation_id)s",
                           fields)
            return
        why_not = not_awaited(awaited, event.instance_id, event.reference.service_url)
        if why_not is not None:
            stale = why_not == NOBODY_WAITS
            logger.warning(("stale %(what)s dropped (%(why)s)" if stale else "%(what)s dropped: %(why)s")
                           + " instance_id=%(instance_id)s conversation_id=%(conversation_id)s",
                           {**fields, "why": why_not})
            return
        # Read and verified once, in this turn: the prompt and the dialog take it from the turn state.
        context.turn_state[VERIFIED_EVENT] = event
        pending = await self._pending.get(context)
        ledger = SendLedger(
            list(pending.get("sent") or [])
            if isinstance(pending, dict) and pending.get("instanceId") == event.delivery_key else []
        )
        context.turn_state[SEND_LEDGER] = ledger
        try:
            # Claimed by its delivery key: an outcome by its instance id, each question of it by its own.
            async with claimed(self._claims, event.delivery_key, self._claim_seconds) as claim:
                if not claim:
                    logger.warning("duplicate %(what)s dropped (claimed and delivered by another turn) "
                                   "instance_id=%(instance_id)s conversation_id=%(conversation_id)s", fields)
                    return
                await self._dialog_runner.run(context)
        except OutcomeNotDelivered as failure:
            if not isinstance(failure, DeliveryRefused):
                await self._remember_sent(context, event.delivery_key, ledger)
            raise
        finally:
            del context.turn_state[SEND_LEDGER]
        if isinstance(event, VerifiedOutcome):
            delivered.append(event.instance_id)
            await self._delivered.set(context, delivered[-DELIVERED_OUTCOMES_KEPT:])
        if pending is not None:
            await self._pending.delete(context)
        await self._conversation_state.save_changes(context)
        if isinstance(event, VerifiedOutcome):
            logger.info("outcome delivered status=%s instance_id=%s conversation_id=%s",
                        event.outcome.status.value, event.instance_id, event.outcome.conversation_id)
        else:
            logger.info("question delivered step=%d instance_id=%s conversation_id=%s",
                        event.question.step, event.instance_id, event.question.conversation_id)

    async def _remember_sent(self, context: TurnContext, instance_id: str, ledger: SendLedger) -> None:
        """Save what this failed attempt delivered, and nothing else: the retry replays the dialog from the state
        the attempt started with, and skips these sends (bot/outcome_delivery.py)."""
        if not ledger.delivered:
            return
        try:
            # force: drop this attempt's unsaved dialog changes; only the record of what was sent is written.
            await self._conversation_state.load(context, force=True)
            await self._pending.set(context, {"instanceId": instance_id, "sent": ledger.delivered})
            await self._conversation_state.save_changes(context)
        except Exception:
            # The retry then sends the outcome's message again: shown twice, which beats never.
            logger.exception("could not save what a failed delivery sent instance_id=%s", instance_id)


def _what(event: VerifiedEvent) -> str:
    return "outcome" if isinstance(event, VerifiedOutcome) else "question"


def _is_outcome_event(turn_context: TurnContext) -> bool:
    activity = turn_context.activity
    return bool(
        activity.type == ActivityTypes.event
        and activity.name == LONG_OPERATION_RESPONSE_EVENT
        and activity.channel_id == Channels.direct_line
    )
