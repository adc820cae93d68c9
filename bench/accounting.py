"""Did every user get exactly their own result, exactly once? Pure accounting over what the run observed.

Two views, both required by the issue:

- the chat view: the outcome messages each conversation received (the chat client routes the bot's messages by
  conversation id, so a message in a conversation is a message the bot sent *to* that conversation);
- the Durable view: the instances the status API lists under the conversation's ``instanceIdPrefix``; exactly one
  must be Completed, and its output's signed outcome must name that same conversation.

Classification (any non-zero count fails the run):

- **lost**: a conversation without its own result;
- **duplicated**: its own result more than once (each extra copy counts);
- **misrouted**: an outcome message whose text is another option's result, or an instance whose outcome names a
  different conversation. An outcome for a user with the *same* option landing in the wrong conversation shows
  up as one lost plus one duplicated (the texts are identical); the total of faults still counts it.
- **instance faults**: the Durable view disagrees (no Completed instance, several instances, an unfinished one).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.texts import outcome_text
from contract import Outcome, OutcomeStatus, StopReason

_MARK = "\x00"


def _outcome_prefix(status: OutcomeStatus, reason: StopReason | None) -> str:
    # What bot/texts.py outcome_text writes before the first part that varies (the option or the result).
    text = outcome_text(Outcome("-", "-", status, _MARK, reason), _MARK)
    return text[:text.index(_MARK)]


def _worded_outcomes() -> list[tuple[OutcomeStatus, StopReason | None]]:
    stopped = StopReason(step=1, steps=1, attempts=1, timeout_seconds=1)
    return [(status, reason) for status in OutcomeStatus
            for reason in ((None,) if status is OutcomeStatus.COMPLETED else (None, stopped))]


# How the bot's outcome messages begin: completed, and failed or timed out (with their reason or without one).
OUTCOME_PREFIXES = tuple(sorted({_outcome_prefix(status, reason) for status, reason in _worded_outcomes()}))


def is_outcome_text(text: str) -> bool:
    return text.startswith(OUTCOME_PREFIXES)


@dataclass(frozen=True)
class UserRecord:
    """One simulated user, as observed at the end of the run."""

    conversation_id: str
    expected_result: str
    # Texts of every outcome message that arrived in this conversation, in arrival order.
    outcome_texts: Sequence[str]
    # The status API's instances for this conversation's instanceIdPrefix (Durable status JSON objects).
    instances: Sequence[dict[str, Any]]
    # What went wrong on the user's side (a timeout, a rejected post), if anything.
    error: str | None = None


@dataclass(frozen=True)
class Delivery:
    users: int
    delivered: int
    lost: int
    duplicated: int
    misrouted: int
    instance_faults: int
    user_errors: int
    # The first few problems in words, for the report.
    examples: list[str] = field(default_factory=list)

    @property
    def faults(self) -> int:
        return self.lost + self.duplicated + self.misrouted + self.instance_faults

    @property
    def clean(self) -> bool:
        return self.faults == 0 and self.user_errors == 0


EXAMPLES_KEPT = 10


def _instance_problem(record: UserRecord) -> tuple[str | None, bool]:
    """(what is wrong with the Durable view, whether it is a misroute)."""
    instances = list(record.instances)
    if len(instances) != 1:
        return f"{len(instances)} instances under its prefix", False
    instance = instances[0]
    if instance.get("runtimeStatus") != "Completed":
        return f"instance {instance.get('instanceId')} is {instance.get('runtimeStatus')}", False
    output = instance.get("output")
    outcome = output.get("outcome") if isinstance(output, dict) else None
    named = outcome.get("conversationId") if isinstance(outcome, dict) else None
    if named != record.conversation_id:
        return f"instance {instance.get('instanceId')} delivered to conversation {named!r}", True
    return None, False


def account(records: Sequence[UserRecord]) -> Delivery:
    lost = duplicated = misrouted = instance_faults = delivered = user_errors = 0
    examples: list[str] = []

    def note(record: UserRecord, problem: str) -> None:
        if len(examples) < EXAMPLES_KEPT:
            examples.append(f"{record.conversation_id}: {problem}")

    for record in records:
        own = [text for text in record.outcome_texts if text == record.expected_result]
        foreign = [text for text in record.outcome_texts if text != record.expected_result]
        if record.error is not None:
            user_errors += 1
            note(record, record.error)
        if not own:
            lost += 1
            note(record, "its result never arrived")
        elif len(own) > 1:
            duplicated += len(own) - 1
            note(record, f"its result arrived {len(own)} times")
        if foreign:
            misrouted += len(foreign)
            note(record, f"received another operation's outcome: {foreign[0]!r}")
        problem, is_misroute = _instance_problem(record)
        if problem is not None:
            note(record, problem)
            if is_misroute:
                misrouted += 1
            else:
                instance_faults += 1
        if len(own) == 1 and not foreign and problem is None:
            delivered += 1
    return Delivery(len(records), delivered, lost, duplicated, misrouted, instance_faults, user_errors, examples)
