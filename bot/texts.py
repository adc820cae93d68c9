"""Every sentence the bot says, in one place (texts from Microsoft's "Manage a long-running operation" sample)."""

from bot.operations_client import OperationStatus
from contract import MAX_ANSWER_CHARS, Outcome, OutcomeStatus

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
    if reason is not None and reason.unanswered is not None:
        return unanswered(option, reason.unanswered.question, reason.unanswered.timeout_seconds,
                          reason.timeout_seconds if reason.unanswered.by_deadline else None)
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


# Questions a step asks mid-run (operations/api.py Ask, contract/question.py). The question itself is the
# operation's own words, like its result text; these sentences frame it.


def question_prompt(option: str, question: str, free_text: bool) -> str:
    """The question as the conversation sees it; choices come with it as buttons (botbuilder's ChoiceFactory)."""
    if free_text:
        return f"The long operation: {option} asks: {question} Please type your answer."
    return f"The long operation: {option} asks: {question}"


def answer_retry(choices: tuple[str, ...]) -> str:
    """An answer that is none of the choices: asked again, with the buttons."""
    alternatives = choices[0] if len(choices) == 1 else ", ".join(choices[:-1]) + " or " + choices[-1]
    return f"Sorry, that is not one of the answers. Please choose {alternatives}."


def answer_empty(question: str) -> str:
    return f'Please type your answer to "{question}".'


def answer_too_long(length: int) -> str:
    return (f"Sorry, that answer is {length} characters long; please answer in at most {MAX_ANSWER_CHARS} "
            "characters.")


def answer_sent(option: str, answer: str) -> str:
    return f'Thanks, I passed on your answer "{answer}". The long operation: {option} carries on.'


def answer_failed(option: str, reason: str) -> str:
    return f"Sorry, I could not pass on your answer to the long operation: {option}: {reason}. Please try again."


def answer_too_late(question: str) -> str:
    """The answer came after the operation stopped waiting for it (its timeout passed, or the operation ended)."""
    return f'Sorry, the question "{question}" is no longer open: it was not answered in time.'


def cannot_answer(option: str) -> str:
    """The waiting state was saved before the bot kept the URL answers go to (sendEventPostUri)."""
    return (f"Sorry, I cannot pass on answers to the long operation: {option}: it was started before I could take "
            "answers. You can cancel it; otherwise it stops when its question is not answered in time.")


def not_yours_to_answer(option: str, owner_name: str) -> str:
    """Another member of a group conversation answered: only whoever started the operation may."""
    who = owner_name or "another member"
    only = owner_name or "they"
    return (f"Sorry, {who} started the long operation: {option}, so only {only} can answer its question. "
            "You can still ask for its status.")


def waiting_status_reply(option: str, status: OperationStatus | None, question: str | None) -> str:
    """The status while the operation waits for an answer; ``question`` is None when it has not arrived yet."""
    progress = status.progress if status is not None else None
    facts = ("progress is not available right now" if progress is None
             else f"{progress.percent}% done, step {progress.step} of {progress.steps}")
    if question is None:
        return (f"Long operation {option}: waiting for an answer to a question that is on its way to this "
                f"conversation ({facts}).")
    return f'Long operation {option}: waiting for your answer to "{question}" ({facts}).'


def unanswered(option: str, question: str, timeout_seconds: float, deadline_seconds: float | None) -> str:
    """Nobody answered in time: within the question's timeout, or before the operation's deadline when that came
    first (``deadline_seconds``, counted from the start)."""
    if deadline_seconds is not None:
        return (f'Sorry, the long operation: {option} stopped: no answer to "{question}" before its deadline, '
                f"{duration(deadline_seconds)} after the start.")
    return f'Sorry, the long operation: {option} stopped: no answer to "{question}" within {duration(timeout_seconds)}.'


def progress_line(option: str, step: int, steps: int, percent: int) -> str:
    """A progress report as one short message, and the text of the progress card: "count primes: step 2 of 4
    (50%)"."""
    return f"{option}: step {step} of {steps} ({percent}%)"


def progress_card_title(option: str) -> str:
    """The title line of the progress card, above its bar."""
    return f"Working on {option}"


def progress_card_caption(step: int, steps: int, percent: int) -> str:
    """The line under the progress card's bar."""
    return f"Step {step} of {steps} ({percent}%)"
