"""A question an operation asked (contract/question.py) as the conversation sees it, and the owner's answer to it.

Choices are shown as buttons the way botbuilder shows a ChoicePrompt's for the channel (``ChoiceFactory.for_channel``:
suggested actions on Direct Line and the Emulator, a hero card on Teams), and an answer is recognized as a
ChoicePrompt recognizes one (``ChoiceRecognizers.recognize_choices``: the choice's words, "the second one", "2"),
then sent as exactly the choice's own text, which the orchestrator checks again. Free text is sent as typed,
trimmed, up to MAX_ANSWER_CHARS.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from botbuilder.core import MessageFactory
from botbuilder.dialogs.choices import ChoiceFactory, ChoiceRecognizers
from botbuilder.schema import Activity

from bot import texts
from contract import MAX_ANSWER_CHARS, Question


def question_activity(channel_id: str, option: str, question: Question, text: str | None = None) -> Activity:
    """The question (or ``text``, a re-ask) with its choices as buttons for ``channel_id``."""
    words = text or texts.question_prompt(option, question.text, free_text=question.choices is None)
    if question.choices is None:
        activity: Activity = MessageFactory.text(words)
        return activity
    choice_activity: Activity = ChoiceFactory.for_channel(channel_id, list(question.choices), words)
    return choice_activity


@dataclass(frozen=True)
class Reading:
    """What the owner's message is as an answer: the answer to send, or the sentence that asks again."""

    answer: str | None = None
    retry: str | None = None


def read_answer(question: Question, utterance: str | None) -> Reading:
    words = (utterance or "").strip()
    if question.choices is None:
        if not words:
            return Reading(retry=texts.answer_empty(question.text))
        if len(words) > MAX_ANSWER_CHARS:
            return Reading(retry=texts.answer_too_long(len(words)))
        return Reading(answer=words)
    found = ChoiceRecognizers.recognize_choices(words, list(question.choices))
    if not found:
        return Reading(retry=texts.answer_retry(question.choices))
    return Reading(answer=str(found[0].resolution.value))


def has_expired(question: Question, now: datetime | None = None) -> bool:
    """True once the orchestration has stopped waiting (its clock and ours may differ a little: README)."""
    expires = datetime.fromisoformat(question.expires_at)
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    return (now or datetime.now(UTC)) >= expires
