"""What a waiting LongOperationPrompt waits for, read from its persisted state: the one place that knows the shape.

The prompt's state (``instance.state["state"]``, next to botbuilder's AttemptCount) holds plain JSON only, so a
waiting conversation survives a restart of the bot and an upgrade of it: a state saved by an earlier version lacks
the keys added since (no owner, no open question, no answer URL) and still loads
(tests/bot/fixtures: previous_version_waiting_state.json, and waiting_question_state.json with an open question).
"""

from dataclasses import dataclass
from typing import Any

from botbuilder.dialogs import DialogInstance, DialogState
from botbuilder.dialogs.prompts import ActivityPrompt

from bot.operations_client import StartedOperation
from contract import ContractError, Question

PROMPT_ID = "LongOperationPrompt"
# The started operation (StartedOperation.to_state()).
OPERATION_KEY = "operation"
# The member who started it ({"id", "name"} of the message's sender). In a group conversation (a Teams channel or
# group chat) every member shares the dialog, but only the owner may cancel or answer.
OWNER_KEY = "owner"
# The question the operation asked and nobody has answered yet (contract/question.py wire JSON), and the ids of
# the questions answered since it started: a question posted again (notify retries are at-least-once) is shown once.
QUESTION_KEY = "question"
ANSWERED_KEY = "answeredQuestions"
# What ``not_awaited`` says of an event no prompt of the conversation waits for (a stale one, logged as such).
NOBODY_WAITS = "no prompt waits for it"


@dataclass(frozen=True)
class Owner:
    id: str
    name: str


@dataclass(frozen=True)
class Awaited:
    """The operation a prompt waits for, who started it and the question it asked that is still open."""

    operation: StartedOperation
    # None for a state saved before owners were kept: then anyone may cancel or answer, as then.
    owner: Owner | None = None
    question: Question | None = None
    answered: tuple[str, ...] = ()

    def is_owner(self, sender_id: str | None) -> bool:
        return self.owner is None or sender_id == self.owner.id

    def has_seen(self, question: Question) -> bool:
        """True when ``question`` is the open one or was answered already: a duplicate post, shown once."""
        open_id = self.question.question_id if self.question is not None else None
        return question.question_id in (open_id, *self.answered)

    @classmethod
    def of_state(cls, state: object) -> "Awaited | None":
        """From a prompt's inner state dict (the one ``on_recognize`` receives); None without an operation."""
        if not isinstance(state, dict) or not isinstance(state.get(OPERATION_KEY), dict):
            return None
        owner = state.get(OWNER_KEY)
        answered = state.get(ANSWERED_KEY)
        return cls(
            operation=StartedOperation.from_state(state[OPERATION_KEY]),
            owner=Owner(owner["id"], str(owner.get("name") or ""))
            if isinstance(owner, dict) and isinstance(owner.get("id"), str) and owner["id"] else None,
            question=_question(state.get(QUESTION_KEY)),
            answered=tuple(str(item) for item in answered) if isinstance(answered, list) else (),
        )

    @classmethod
    def of_instance(cls, instance: DialogInstance) -> "Awaited":
        awaited = cls.of_state(instance.state.get(ActivityPrompt.persisted_state))
        if awaited is None:
            raise KeyError("the long operation prompt has no started operation in its state")
        return awaited


def _question(data: Any) -> Question | None:
    if data is None:
        return None
    try:
        return Question.from_json(data)
    except ContractError:
        return None


def awaited_in(dialog_state: object) -> Awaited | None:
    """What a LongOperationPrompt anywhere in this (nested) dialog stack waits for, if any."""
    if not isinstance(dialog_state, DialogState):
        return None
    for instance in dialog_state.dialog_stack:
        if not isinstance(instance.state, dict):
            continue
        if instance.id == PROMPT_ID:
            return Awaited.of_state(instance.state.get(ActivityPrompt.persisted_state))
        found = awaited_in(instance.state.get("dialogs"))
        if found is not None:
            return found
    return None


def not_awaited(awaited: Awaited | None, instance_id: str, service_url: str) -> str | None:
    """Why an event of ``instance_id`` coming through ``service_url`` is not for this conversation's prompt (words
    for the log), or None when it is: the one "is this the awaited instance" check of outcomes and questions.

    The serviceUrl must be the one the operation was started with: the bot posts (with its token) to that URL, and
    a continuation is the function app's copy of what the bot sent."""
    if awaited is None or awaited.operation.instance_id != instance_id:
        return NOBODY_WAITS
    if awaited.operation.service_url and awaited.operation.service_url != service_url:
        return "serviceUrl differs from the one the operation was started with"
    return None
