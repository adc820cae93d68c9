"""LongOperationPrompt: starts an operation and waits for its outcome (a port of the C# sample's ActivityPrompt).

While it waits, a message gets live progress, "status" answers progress, "cancel" terminates the orchestration, and
when the operation has asked a question (contract/question.py), the owner's message answers it. It ends with the
verified Outcome when the proactive turn brings the outcome of exactly the awaited instance, or with None when there
is nothing more to wait for (start failed, cancelled, the orchestration ended without an outcome). What it waits for
lives in its state as plain JSON (bot/awaited.py), so a waiting prompt survives a restart of the bot;
``LongOperationPrompt.awaited`` reads it for outcome delivery and status alike.
"""

import logging
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogTurnResult
from botbuilder.dialogs.prompts import (
    ActivityPrompt,
    PromptOptions,
    PromptRecognizerResult,
    PromptValidatorContext,
)
from botbuilder.schema import ActivityTypes

from bot import texts
from bot.awaited import (
    ANSWERED_KEY,
    OPERATION_KEY,
    OWNER_KEY,
    PROMPT_ID,
    QUESTION_KEY,
    Awaited,
    awaited_in,
    not_awaited,
)
from bot.errors import OperationsError, OperationUnknown
from bot.files import carries_files
from bot.open_question import has_expired, question_activity, read_answer
from bot.operations_client import (
    AnswerResult,
    Operations,
    OperationStatus,
    StartedOperation,
    TerminateResult,
)
from bot.outcome_event import VERIFIED_EVENT, VerifiedOutcome, VerifiedQuestion
from bot.proactive import continuation_activity
from bot.progress_cards import still_working_reply
from contract import Answer, Question, Stage, StartRequest

logger = logging.getLogger(__name__)

__all__ = ["PROMPT_ID", "LongOperationPrompt", "LongOperationPromptOptions"]


class LongOperationPromptOptions(PromptOptions):  # type: ignore[misc]  # botbuilder ships no type hints
    """PromptOptions that carry the chosen option and its inputs: the one payload from the choice to the start.

    Persisted in dialog state: keep this class at this path. One saved by the previous version has no ``inputs``.
    """

    def __init__(self, option: str = "", inputs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.option = option
        self.inputs = dict(inputs or {})


async def _accept_recognized(prompt_context: PromptValidatorContext) -> bool:
    return bool(prompt_context.recognized.succeeded)


class LongOperationPrompt(ActivityPrompt):  # type: ignore[misc]
    # What the prompt in a conversation's dialog state waits for (bot/awaited.py), or None.
    awaited = staticmethod(awaited_in)

    def __init__(self, operations: Operations) -> None:
        # Always PROMPT_ID: awaited_in finds the waiting prompt in the dialog state by this id.
        super().__init__(PROMPT_ID, _accept_recognized)
        self._operations = operations

    async def begin_dialog(self, dialog_context: DialogContext, options: object = None) -> DialogTurnResult:
        if not isinstance(options, LongOperationPromptOptions):
            raise TypeError("LongOperationPrompt needs LongOperationPromptOptions")
        context = dialog_context.context
        reference = TurnContext.get_conversation_reference(context.activity)
        continuation = continuation_activity(reference)
        try:
            inputs = dict(getattr(options, "inputs", None) or {})
            started = await self._operations.start(StartRequest(options.option, continuation, inputs))
        except OperationsError as error:
            # Never leave a prompt waiting for an outcome that will not come: tell the user and start over.
            conversation_id = reference.conversation.id if reference.conversation else ""
            logger.warning("start failed: %s conversation_id=%s", error, conversation_id)
            await context.send_activity(texts.start_failed(error.reason))
            return await dialog_context.end_dialog(None)
        logger.info("operation started instance_id=%s option=%s", started.instance_id, started.option)
        result = await super().begin_dialog(dialog_context, options)
        # After super(), which creates the prompt state; on_recognize is handed exactly this inner dict.
        prompt_state = dialog_context.active_dialog.state[self.persisted_state]
        prompt_state[OPERATION_KEY] = started.to_state()
        sender = context.activity.from_property
        if sender is not None and sender.id:
            prompt_state[OWNER_KEY] = {"id": str(sender.id), "name": str(sender.name or "")}
        return result

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        activity = dialog_context.context.activity
        if activity.type != ActivityTypes.message:
            verified = dialog_context.context.turn_state.get(VERIFIED_EVENT)
            if isinstance(verified, VerifiedQuestion):
                return await self._show_question(dialog_context, verified)
            # Events go through recognition; anything but the awaited outcome changes nothing visible.
            return await super().continue_dialog(dialog_context)
        awaited = Awaited.of_instance(dialog_context.active_dialog)
        operation = awaited.operation
        if carries_files(activity):
            # Said first; the message's words still get their usual answer (progress, status or cancel) below.
            await dialog_context.context.send_activity(texts.files_while_running(operation.option))
        words = (activity.text or "").strip().lower()
        sender_id = activity.from_property.id if activity.from_property is not None else None
        if words in texts.CANCEL_WORDS:
            if not awaited.is_owner(sender_id):
                # Another member's operation: they may ask its status (below), not stop it.
                owner_name = awaited.owner.name if awaited.owner is not None else ""
                await dialog_context.context.send_activity(texts.not_yours_to_cancel(operation.option, owner_name))
                return Dialog.end_of_turn
            return await self._cancel(dialog_context, operation)
        try:
            status = await self._status(operation)
        except OperationUnknown:
            # The history purge removed it, finished for longer than HistoryRetentionDays, while this conversation
            # still waited (its outcome never arrived): never keep waiting for what cannot come.
            logger.warning("operation unknown to the service instance_id=%s", operation.instance_id)
            await dialog_context.context.send_activity(texts.operation_unknown(operation.option))
            return await dialog_context.end_dialog(None)
        if status is not None and status.finished and status.runtime_status != "Completed":
            # Failed or terminated without an outcome reaching us (e.g. notification retries exhausted).
            logger.warning(
                "operation ended without outcome instance_id=%s runtime_status=%s",
                operation.instance_id,
                status.runtime_status,
            )
            await dialog_context.context.send_activity(
                texts.ended_without_result(operation.option, status.runtime_status)
            )
            return await dialog_context.end_dialog(None)
        if words in texts.STATUS_WORDS:
            await dialog_context.context.send_activity(_status_reply(awaited, status))
        elif awaited.question is not None:
            await self._answer(dialog_context, awaited, awaited.question)
        else:
            # The sentence with the progress card's bar (bot/progress_cards.py), the proactive reports' bar.
            await dialog_context.context.send_activity(still_working_reply(operation.option, status))
        return Dialog.end_of_turn

    async def on_recognize(
        self, context: TurnContext, state: dict[str, object], options: PromptOptions
    ) -> PromptRecognizerResult:
        result = PromptRecognizerResult()
        result.succeeded = False
        # Verified once, by the proactive turn that brought it (bot/long_operation_bot.py), and kept in turn state.
        verified = context.turn_state.get(VERIFIED_EVENT)
        if isinstance(verified, VerifiedOutcome) and not not_awaited(
            Awaited.of_state(state), verified.instance_id, verified.reference.service_url
        ):
            result.succeeded = True
            result.value = verified.outcome
        return result

    async def _show_question(self, dialog_context: DialogContext, verified: VerifiedQuestion) -> DialogTurnResult:
        """Show a question once and keep waiting; its answer is the owner's next message."""
        state = dialog_context.active_dialog.state[self.persisted_state]
        awaited = Awaited.of_state(state)
        question = verified.question
        if awaited is None or not_awaited(awaited, verified.instance_id, verified.reference.service_url):
            return Dialog.end_of_turn
        if awaited.has_seen(question):
            logger.warning("duplicate question dropped instance_id=%s step=%d", question.instance_id, question.step)
            return Dialog.end_of_turn
        context = dialog_context.context
        await context.send_activity(question_activity(context.activity.channel_id, awaited.operation.option, question))
        state[QUESTION_KEY] = question.to_json()
        logger.info("question shown instance_id=%s step=%d", question.instance_id, question.step)
        return Dialog.end_of_turn

    async def _answer(self, dialog_context: DialogContext, awaited: Awaited, question: Question) -> None:
        context = dialog_context.context
        activity = context.activity
        option = awaited.operation.option
        sender_id = activity.from_property.id if activity.from_property is not None else None
        if not awaited.is_owner(sender_id):
            owner_name = awaited.owner.name if awaited.owner is not None else ""
            await context.send_activity(texts.not_yours_to_answer(option, owner_name))
            return
        if has_expired(question):
            self._close_question(dialog_context, question)
            await context.send_activity(texts.answer_too_late(question.text))
            return
        if not awaited.operation.send_event_url:
            await context.send_activity(texts.cannot_answer(option))
            return
        reading = read_answer(question, activity.text)
        if reading.answer is None:
            await context.send_activity(question_activity(activity.channel_id, option, question, reading.retry))
            return
        try:
            result = await self._operations.answer(
                awaited.operation, question.event_name, Answer(question.question_id, reading.answer))
        except OperationsError as error:
            logger.warning("answer not sent instance_id=%s: %s", question.instance_id, error)
            await context.send_activity(texts.answer_failed(option, error.reason))
            return
        self._close_question(dialog_context, question)
        if result is not AnswerResult.SENT:
            await context.send_activity(texts.answer_too_late(question.text))
            return
        logger.info("answer sent instance_id=%s step=%d", question.instance_id, question.step)
        await context.send_activity(texts.answer_sent(option, reading.answer))

    def _close_question(self, dialog_context: DialogContext, question: Question) -> None:
        state = dialog_context.active_dialog.state[self.persisted_state]
        state.pop(QUESTION_KEY, None)
        state[ANSWERED_KEY] = [*list(state.get(ANSWERED_KEY) or []), question.question_id]

    async def _status(self, operation: StartedOperation) -> OperationStatus | None:
        try:
            return await self._operations.status(operation)
        except OperationUnknown:
            raise
        except OperationsError as error:
            # Progress is a nicety: the user still gets an answer, just without numbers.
            logger.info("status unavailable instance_id=%s: %s", operation.instance_id, error)
            return None

    async def _cancel(self, dialog_context: DialogContext, operation: StartedOperation) -> DialogTurnResult:
        context = dialog_context.context
        try:
            result = await self._operations.terminate(operation, "cancelled by the user")
        except OperationsError as error:
            logger.warning("terminate failed instance_id=%s: %s", operation.instance_id, error)
            await context.send_activity(texts.cancel_failed(operation.option, error.reason))
            return Dialog.end_of_turn
        logger.info("operation cancelled instance_id=%s result=%s", operation.instance_id, result.value)
        if result is TerminateResult.TERMINATED:
            await context.send_activity(texts.cancelled(operation.option))
        else:
            await context.send_activity(texts.cancel_too_late(operation.option))
        return await dialog_context.end_dialog(None)


def _status_reply(awaited: Awaited, status: OperationStatus | None) -> str:
    """The status, which says so while the operation waits for an answer (its question open here, or still on
    its way while the custom status already reads WAITING)."""
    option = awaited.operation.option
    if awaited.question is not None:
        return texts.waiting_status_reply(option, status, awaited.question.text)
    progress = status.progress if status is not None else None
    if (progress is not None and progress.stage is Stage.WAITING
            and f"{awaited.operation.instance_id}:{progress.step}" not in awaited.answered):
        return texts.waiting_status_reply(option, status, None)
    return texts.status_reply(option, status)
