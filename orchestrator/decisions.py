"""Pure decisions of the orchestration: progress shown to the user and how an operation ended.

Plain functions of their inputs (no clock, no I/O), so the orchestrator stays a thin sequence of yields
and these are tested without any host.
"""

from datetime import datetime, timedelta
from typing import Any

from contract import Answer, ContractError, Outcome, OutcomeStatus, Progress, Question, Stage, StopReason, Unanswered
from orchestrator.payloads import OperationPlan
from orchestrator.settings import RetryPolicy

_FINAL_STAGE = {
    OutcomeStatus.COMPLETED: Stage.COMPLETED,
    OutcomeStatus.FAILED: Stage.FAILED,
    OutcomeStatus.TIMED_OUT: Stage.TIMED_OUT,
}


def deadline_of(started: datetime, plan: OperationPlan) -> datetime:
    """When the whole operation must have finished: the orchestration's start plus the timeout."""
    return started + timedelta(seconds=plan.timeout_seconds)


def progress_due(plan: OperationPlan, step: int, last_report: datetime, now: datetime) -> bool:
    """Whether to post a progress report after ``step``: the operation opted in, it is not the last step (the
    outcome comes next; a report after it would be stale at once) and at least ``progress_every_seconds`` of the
    orchestration's clock have passed since ``last_report`` (the last report, or the start)."""
    every = plan.progress_every_seconds
    if every is None or step >= plan.steps:
        return False
    return (now - last_report).total_seconds() >= every


def started_progress(plan: OperationPlan) -> Progress:
    return Progress.of(plan.option, Stage.RUNNING, 0, plan.steps, f"Started {plan.option}.")


def generation_progress(plan: OperationPlan, steps_done: int) -> Progress:
    """The progress a generation starts with: the start's, or the last finished step's for a later generation."""
    return started_progress(plan) if steps_done == 0 else step_progress(plan, steps_done)


def generation_end(plan: OperationPlan) -> int:
    """The last step this generation runs: ``steps_per_generation`` after the handed-over ones, or the plan's last
    (also for inputs without generations)."""
    if plan.steps_per_generation is None:
        return plan.steps
    return min(plan.steps, plan.handover.steps_done + plan.steps_per_generation)


def step_progress(plan: OperationPlan, step: int) -> Progress:
    return Progress.of(plan.option, Stage.RUNNING, step, plan.steps, f"Finished step {step} of {plan.steps}.")


def waiting_progress(plan: OperationPlan, step: int) -> Progress:
    """A step asked the conversation a question; the next step waits for the owner's answer (stage WAITING, which
    the bot's status reply words with the question it shows)."""
    message = f"Step {step} of {plan.steps} asked a question; waiting for the answer."
    return Progress.of(plan.option, Stage.WAITING, step, plan.steps, message)


def question_undelivered_progress(plan: OperationPlan, step: int) -> Progress:
    """The question of ``step`` could not reach the conversation (attempts used up, or refused): nobody can answer."""
    message = f"The question of step {step} could not be delivered to the conversation."
    return Progress.of(plan.option, Stage.FAILED, step, plan.steps, message)


def answer_expires(asked: datetime, timeout_seconds: float, deadline: datetime) -> datetime:
    """When the wait for an answer ends: the question's own timeout, but never past the operation's deadline."""
    return min(asked + timedelta(seconds=timeout_seconds), deadline)


def accepted_answer(question: Question, payload: object) -> str | None:
    """The answer an external event brings, if it is one to ``question``: it names the question and the answer is
    one the question takes (contract/question.py ``accepts``). None for anything else, which the orchestrator
    ignores: only the bot holds the event URL's key, but an answer must never steer a step it was not for."""
    try:
        answer = Answer.from_json(payload)
    except ContractError:
        return None
    if answer.question_id != question.question_id or not question.accepts(answer.text):
        return None
    return answer.text


def unanswered_outcome(instance_id: str, plan: OperationPlan, question: Question, *, by_deadline: bool) -> Outcome:
    """Nobody answered the question of step ``question.step`` within its timeout (or, ``by_deadline``, before the
    operation's deadline, which came first): the operation stops before the next step, which never began."""
    reason = StopReason(question.step + 1, plan.steps, 0, plan.timeout_seconds,
                        unanswered=Unanswered(question.text, question.timeout_seconds, by_deadline))
    return Outcome(instance_id, plan.conversation_id, OutcomeStatus.TIMED_OUT, reason=reason)


def retrying_progress(plan: OperationPlan, step: int, next_attempt: int) -> Progress:
    message = (f"Step {step} of {plan.steps} failed; trying again "
               f"(attempt {next_attempt} of {plan.step_retry.attempts}).")
    return Progress.of(plan.option, Stage.RUNNING, step - 1, plan.steps, message)


def after_failed_attempt(
    plan: OperationPlan, attempt: int, now: datetime, deadline: datetime
) -> datetime | OutcomeStatus:
    """What follows a step's failed attempt number ``attempt``: when to try again, or how the operation ends.

    FAILED once every attempt is used; TIMED_OUT when the back-off would end at or past the deadline (the next
    attempt could not start in time); otherwise the moment the back-off ends (``retry_delay``: the same
    StepFirstRetrySeconds before every retry, as steps have no backoff coefficient).
    """
    if attempt >= plan.step_retry.attempts:
        return OutcomeStatus.FAILED
    retry_at = now + timedelta(seconds=retry_delay(plan.step_retry, attempt))
    if retry_at >= deadline:
        return OutcomeStatus.TIMED_OUT
    return retry_at


def retry_delay(policy: RetryPolicy, failed_attempt: int) -> float:
    """Seconds to wait after failed attempt ``failed_attempt`` (1-based) before the next one.

    ``first_retry_seconds * backoff_coefficient ** (failed_attempt - 1)``, capped at ``max_retry_seconds``. Multiplied
    step by step, under the cap, so that a large coefficient or many attempts cannot overflow.
    """
    if failed_attempt < 1:
        raise ValueError(f"attempts count from 1, got {failed_attempt}")
    cap = policy.max_retry_seconds
    delay = policy.first_retry_seconds if cap is None else min(cap, policy.first_retry_seconds)
    for _ in range(failed_attempt - 1):
        delay *= policy.backoff_coefficient
        if cap is not None:
            delay = min(cap, delay)
    return delay


def retry_delays(policy: RetryPolicy) -> list[float]:
    """Every delay between two attempts, in order: ``attempts - 1`` of them."""
    return [retry_delay(policy, attempt) for attempt in range(1, policy.attempts)]


def retry_window(policy: RetryPolicy) -> float:
    """Seconds of back-off between the first attempt and the last: the sum of the delays.

    The documented retry window (135 s for notify_bot with the defaults: 5 + 10 + 20 + 40 + 60). The attempts'
    own run time comes on top.
    """
    return sum(retry_delays(policy))


def notify_retrying_progress(plan: OperationPlan, steps_done: int, delay: float, next_attempt: int) -> Progress:
    message = (f"Could not reach the bot yet; trying again in {describe_seconds(delay)} "
               f"(attempt {next_attempt} of {plan.notify_retry.attempts}).")
    return Progress.of(plan.option, Stage.NOTIFYING, steps_done, plan.steps, message)


def notifying_progress(plan: OperationPlan, steps_done: int, outcome: Outcome) -> Progress:
    message = {
        OutcomeStatus.COMPLETED: "Sending the result to the conversation.",
        OutcomeStatus.FAILED: "Telling the conversation that the operation failed.",
        OutcomeStatus.TIMED_OUT: "Telling the conversation that the operation timed out.",
    }[outcome.status]
    return Progress.of(plan.option, Stage.NOTIFYING, steps_done, plan.steps, message)


def final_progress(plan: OperationPlan, steps_done: int, outcome: Outcome) -> Progress:
    return Progress.of(plan.option, _FINAL_STAGE[outcome.status], steps_done, plan.steps, final_message(plan, outcome))


def final_message(plan: OperationPlan, outcome: Outcome) -> str:
    """How the operation ended, in facts, for operators reading the status API or the Portal (users never read it:
    the bot words the outcome itself, bot/texts.py)."""
    reason = outcome.reason
    if outcome.status is OutcomeStatus.COMPLETED:
        return "Completed its one step." if plan.steps == 1 else f"Completed all {plan.steps} steps."
    if reason is None:  # never from stopped_outcome; an outcome without its facts still gets a true line
        return f"Ended {outcome.status.value}."
    if reason.unanswered is not None:
        within = ("before the deadline" if reason.unanswered.by_deadline
                  else f"within {describe_seconds(reason.unanswered.timeout_seconds)}")
        return (f"Stopped before step {reason.step} of {reason.steps}: no answer to the question of step "
                f"{reason.step - 1} {within}.")
    if outcome.status is OutcomeStatus.FAILED:
        tried = "its only attempt" if reason.attempts == 1 else f"each of its {reason.attempts} attempts"
        return f"Stopped: step {reason.step} of {reason.steps} failed on {tried}."
    return (f"Stopped at step {reason.step} of {reason.steps}: the deadline, "
            f"{describe_seconds(reason.timeout_seconds)} after the start, passed.")


def undelivered_progress(plan: OperationPlan, steps_done: int) -> Progress:
    message = "The outcome could not be delivered to the conversation."
    return Progress.of(plan.option, Stage.FAILED, steps_done, plan.steps, message)


def refused_progress(plan: OperationPlan, steps_done: int) -> Progress:
    """The user's channel refused the outcome for good (403/404): the conversation is gone; not retried."""
    message = "The outcome could not be delivered: the conversation is gone."
    return Progress.of(plan.option, Stage.FAILED, steps_done, plan.steps, message)


def completed_outcome(
    instance_id: str, plan: OperationPlan, result: str, data: dict[str, Any] | None = None
) -> Outcome:
    """The completed outcome: the last step's text result, or its structured one (``data``)."""
    return Outcome(instance_id, plan.conversation_id, OutcomeStatus.COMPLETED, result, data=data)


def stopped_outcome(
    instance_id: str, plan: OperationPlan, step: int, status: OutcomeStatus, attempts: int
) -> Outcome:
    """The outcome of an operation that stopped at ``step`` after ``attempts`` attempts there, with ``status``
    (FAILED or TIMED_OUT). Facts only: the bot words them (STYLE habit 11); the technical failure stays in the
    logs and the orchestration output."""
    if status is OutcomeStatus.COMPLETED:
        raise ValueError(f"an operation does not stop with status {status.value!r}")
    reason = StopReason(step, plan.steps, attempts, plan.timeout_seconds)
    return Outcome(instance_id, plan.conversation_id, status, reason=reason)


def describe_seconds(seconds: float) -> str:
    """'20 seconds', '1 second', '2.5 seconds': whole numbers without a trailing '.0'."""
    amount = f"{seconds:g}"
    return f"{amount} second" if seconds == 1 else f"{amount} seconds"
