"""Every sentence the bot says, in one place (texts from Microsoft's "Manage a long-running operation" sample)."""

from bot.operations_client import OperationStatus
from contract import Outcome, OutcomeStatus

CHOOSE_OPTION = "Please select a long operation test option."
ONE_MOMENT = "...one moment please...."
CANCEL_WORDS = frozenset({"cancel", "stop", "abort"})
STATUS_WORDS = frozenset({"status", "progress"})
SOMETHING_WENT_WRONG = "Sorry, something went wrong on my side, so let's start over."
# The choice prompt's retry for a message with files and no option (its choices follow it).
FILES_NOT_USED = f"Sorry, I don't use files. {CHOOSE_OPTION}"


def start_failed(reason: str) -> str:
    return f"Sorry, I could not start the long operation: {reason}. Please try again."


def progress_text(status: OperationStatus | None) -> str:
    """The progress part of a reply: "40% done (step 2 of 5)." or why there is none."""
    if status is not None and status.runtime_status == "Completed":
        # Its outcome event was sent before it completed; it is on its way (or "cancel" ends the wait).
        return "finished; the result is on its way."
    if status is None or status.progress is None:
        return "(progress is not available right now)"
    progress = status.progress
    return f"{progress.percent}% done (step {progress.step} of {progress.steps})."


def files_while_running(option: str) -> str:
    """A message with files while an operation runs; its usual answer (progress, status, cancel) follows."""
    return f"Sorry, I can't use files while the long operation: {option} is running, so I left yours unopened."


def still_performing(option: str, status: OperationStatus | None) -> str:
    return f"Still performing the long operation: {option} ... {progress_text(status)}"


def status_reply(option: str, status: OperationStatus | None) -> str:
    if status is None or (status.progress is None and status.runtime_status != "Completed"):
        return f"Long operation {option}: progress is not available right now."
    return f"Long operation {option}: {progress_text(status)}"


def ended_without_result(option: str, runtime_status: str) -> str:
    """The orchestration is over, but its outcome never reached this conversation."""
    if runtime_status == "Terminated":
        what = "was stopped"
    elif runtime_status == "Completed":
        what = "finished, but its result did not reach me"
    else:
        what = "failed"
    return f"The long operation: {option} {what}. Let's start over."


def cancelled(option: str) -> str:
    return f"Cancelled the long operation: {option}."


def operation_unknown(option: str) -> str:
    """The status query found no such instance: its history is gone, and its result will not come."""
    return f"The long operation: {option} is no longer known to the operations service. Let's start over."


def cancel_too_late(option: str) -> str:
    return f"The long operation: {option} had already finished, so there was nothing to cancel."


def cancel_failed(option: str, reason: str) -> str:
    return f"Sorry, I could not cancel the long operation: {option}: {reason}. It is still running; please try again."


def not_yours_to_cancel(option: str, owner_name: str) -> str:
    """Another member of a group conversation said "cancel": the operation belongs to whoever started it."""
    if owner_name:
        return (f"Sorry, {owner_name} started the long operation: {option}, so only {owner_name} can cancel it. "
                "You can still ask for its status.")
    return ("Sorry, another member started the long operation: "
            f"{option}, so only they can cancel it. You can still ask for its status.")


def outcome_text(outcome: Outcome, option: str) -> str:
    """How the user's operation ended, in one sentence, from the outcome's facts (its reason, never a sentence of
    the function app's)."""
    reason = outcome.reason
    if outcome.status is OutcomeStatus.COMPLETED:
        if outcome.result:
            return f"Thanks for waiting. {outcome.result}"
        return f"Thanks for waiting. The long operation: {option} has finished."
    if outcome.status is OutcomeStatus.TIMED_OUT:
        if reason is None:  # from a function app of the previous contract
            return f"Sorry, the long operation: {option} took too long and was stopped."
        return (f"Sorry, the long operation: {option} did not finish within {duration(reason.timeout_seconds)}, "
                f"so it was stopped at step {reason.step} of {reason.steps}.")
    if reason is None:
        return f"Sorry, the long operation: {option} failed."
    tries = "" if reason.attempts <= 1 else f" after {reason.attempts} attempts"
    return f"Sorry, the long operation: {option} failed at step {reason.step} of {reason.steps}{tries}."


def duration(seconds: float) -> str:
    """'1 second', '2.5 seconds', '2 minutes', '1 minute and 30 seconds', '1 hour, 1 minute and 1 second'."""
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    units = ((hours, "hour"), (minutes, "minute"), (rest, "second"))
    parts = [_count(amount, unit) for amount, unit in units if amount]
    if len(parts) <= 1:
        return parts[0] if parts else _count(seconds, "second")
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _count(amount: float, unit: str) -> str:
    # :g writes 30.0 as 30 and 0.25 as 0.25.
    return f"{amount:g} {unit}" if amount == 1 else f"{amount:g} {unit}s"


def ask_number(label: str) -> str:
    """The question for an operation's number input (operations/api.py NumberInput); ``label`` names the value."""
    return f"Please enter {label}."


def number_retry(label: str, minimum: int, maximum: int) -> str:
    return f"Sorry, that is not a whole number from {minimum} to {maximum}. Please enter {label}."


def ask_choice(label: str) -> str:
    """The question for an operation's choice input (operations/api.py ChoiceInput)."""
    return f"Please choose {label}."


def result_card_intro(option: str) -> str:
    """The sentence sent with an operation's structured result, shown as a card below it."""
    return f"Thanks for waiting. The long operation: {option} has finished. Here is its result."


def result_card_title(option: str) -> str:
    """The title line of a result card."""
    return f"Result of {option}"
