"""LongOperationPrompt: starts an operation and waits for its outcome (a port of the C# sample's ActivityPrompt).

While it waits, a message gets live progress, "status" answers progress, "cancel" terminates the
orchestration. It ends with the outcome JSON when the proactive ``ContinueConversation`` turn brings the
outcome of exactly the awaited instance, or with None when there is nothing more to wait for (start failed,
cancelled, the orchestration ended without an outcome). Its state holds only plain JSON data, so a waiting
prompt survives a restart of the bot.
"""

import logging
from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogInstance, DialogState, DialogTurnResult
from botbuilder.dialogs.prompts import (
    ActivityPrompt,
    PromptOptions,
    PromptRecognizerResult,
    PromptValidatorContext,
)
from botbuilder.schema import ActivityTypes

from bot import texts
from bot.errors import OperationsError, OperationUnknown
from bot.files import carries_files
from bot.operations_client import Operations, OperationStatus, StartedOperation, TerminateResult
from bot.proactive import continuation_activity
from contract import CONTINUE_CONVERSATION_EVENT, ContractError, Outcome, StartRequest

logger = logging.getLogger(__name__)

PROMPT_ID = "LongOperationPrompt"
# Key of the started operation (StartedOperation.to_state()) in the prompt's state
# (``instance.state["state"]``, next to AttemptCount).
OPERATION_KEY = "operation"
# Key of the member who started it ({"id", "name"} of the message's sender), next to OPERATION_KEY. In a group
# conversation (a Teams channel or group chat) every member shares the dialog, but only the owner may cancel.
# A state saved before this key existed has no owner: anyone may cancel, as then.
OWNER_KEY = "owner"


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
    def __init__(self, operations: Operations) -> None:
        # Always PROMPT_ID: awaited_operation finds the waiting prompt in the dialog state by this id.
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
            # Events go through recognition; anything but the awaited outcome changes nothing visible.
            return await super().continue_dialog(dialog_context)
        operation = started_operation(dialog_context.active_dialog)
        if carries_files(activity):
            # Said first; the message's words still get their usual answer (progress, status or cancel) below.
            await dialog_context.context.send_activity(texts.files_while_running(operation.option))
        words = (activity.text or "").strip().lower()
        if words in texts.CANCEL_WORDS:
            owner = operation_owner(dialog_context.active_dialog)
            sender = activity.from_property
            if owner is not None and (sender is None or sender.id != owner.id):
                # Another member's operation: they may ask its status (below), not stop it.
                await dialog_context.context.send_activity(texts.not_yours_to_cancel(operation.option, owner.name))
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
            await dialog_context.context.send_activity(texts.status_reply(operation.option, status))
        else:
            await dialog_context.context.send_activity(texts.still_performing(operation.option, status))
        return Dialog.end_of_turn

    async def on_recognize(
        self, context: TurnContext, state: dict[str, object], options: PromptOptions
    ) -> PromptRecognizerResult:
        result = PromptRecognizerResult()
        result.succeeded = False
        activity = context.activity
        if activity.type != ActivityTypes.event or activity.name != CONTINUE_CONVERSATION_EVENT:
            return result
        try:
            outcome = Outcome.from_json(activity.value)
        except ContractError:
            return result
        awaited = state_operation(state)
        if awaited is not None and outcome.instance_id == awaited.instance_id:
            result.succeeded = True
            result.value = outcome.to_json()
        return result

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


def started_operation(instance: DialogInstance) -> StartedOperation:
    operation = state_operation(instance.state.get(ActivityPrompt.persisted_state))
    if operation is None:
        raise KeyError("the long operation prompt has no started operation in its state")
    return operation


@dataclass(frozen=True)
class Owner:
    id: str
    name: str


def operation_owner(instance: DialogInstance) -> Owner | None:
    """Who started the waiting operation, or None for a state saved before owners were kept."""
    state = instance.state.get(ActivityPrompt.persisted_state)
    data = state.get(OWNER_KEY) if isinstance(state, dict) else None
    if isinstance(data, dict) and isinstance(data.get("id"), str) and data["id"]:
        return Owner(id=data["id"], name=str(data.get("name") or ""))
    return None


def state_operation(state: object) -> StartedOperation | None:
    """The operation in a prompt's inner state dict (the one ``on_recognize`` receives)."""
    if not isinstance(state, dict):
        return None
    data = state.get(OPERATION_KEY)
    if isinstance(data, dict):
        return StartedOperation.from_state(data)
    return None


def awaited_operation(dialog_state: object) -> StartedOperation | None:
    """The operation a LongOperationPrompt anywhere in this (nested) dialog stack is waiting for, if any."""
    if not isinstance(dialog_state, DialogState):
        return None
    for instance in dialog_state.dialog_stack:
        if not isinstance(instance.state, dict):
            continue
        if instance.id == PROMPT_ID:
            return state_operation(instance.state.get(ActivityPrompt.persisted_state))
        found = awaited_operation(instance.state.get("dialogs"))
        if found is not None:
            return found
    return None
