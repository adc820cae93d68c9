"""Pure decisions of the orchestration: progress shown to the user and how an operation ended.

Plain functions of their inputs (no clock, no I/O), so the orchestrator stays a thin sequence of yields
and these are tested without any host.
"""

from datetime import datetime, timedelta

from contract import Outcome, OutcomeStatus, Progress, Stage
from orchestrator.payloads import OperationPlan

_FINAL_STAGE = {
    OutcomeStatus.COMPLETED: Stage.COMPLETED,
    OutcomeStatus.FAILED: Stage.FAILED,
    OutcomeStatus.TIMED_OUT: Stage.TIMED_OUT,
}


def deadline_of(started: datetime, plan: OperationPlan) -> datetime:
    """When the whole operation must have finished: the orchestration's start plus the timeout."""
    return started + timedelta(seconds=plan.timeout_seconds)


def started_progress(plan: OperationPlan) -> Progress:
    return Progress.of(plan.option, Stage.RUNNING, 0, plan.steps, f"Started {plan.option}.")


def step_progress(plan: OperationPlan, step: int) -> Progress:
    return Progress.of(plan.option, Stage.RUNNING, step, plan.steps, f"Finished step {step} of {plan.steps}.")


def notifying_progress(plan: OperationPlan, steps_done: int, outcome: Outcome) -> Progress:
    message = {
        OutcomeStatus.COMPLETED: "Sending the result to the conversation.",
        OutcomeStatus.FAILED: "Telling the conversation that the operation failed.",
        OutcomeStatus.TIMED_OUT: "Telling the conversation that the operation timed out.",
    }[outcome.status]
    return Progress.of(plan.option, Stage.NOTIFYING, steps_done, plan.steps, message)


def final_progress(plan: OperationPlan, steps_done: int, outcome: Outcome) -> Progress:
    return Progress.of(plan.option, _FINAL_STAGE[outcome.status], steps_done, plan.steps, outcome.result)


def undelivered_progress(plan: OperationPlan, steps_done: int) -> Progress:
    message = "The outcome could not be delivered to the conversation."
    return Progress.of(plan.option, Stage.FAILED, steps_done, plan.steps, message)


def completed_outcome(instance_id: str, plan: OperationPlan, result: str) -> Outcome:
    return Outcome(instance_id, plan.conversation_id, OutcomeStatus.COMPLETED, result)


def failed_outcome(instance_id: str, plan: OperationPlan, step: int) -> Outcome:
    # User-readable on purpose: the technical failure stays in logs and the orchestration output.
    attempts = plan.step_retry.attempts
    tried = "once" if attempts == 1 else f"{attempts} times"
    reason = f"Sorry, {plan.option} failed at step {step} of {plan.steps} (tried {tried})."
    return Outcome(instance_id, plan.conversation_id, OutcomeStatus.FAILED, reason)


def timed_out_outcome(instance_id: str, plan: OperationPlan) -> Outcome:
    reason = f"Sorry, {plan.option} did not finish within {describe_seconds(plan.timeout_seconds)}."
    return Outcome(instance_id, plan.conversation_id, OutcomeStatus.TIMED_OUT, reason)


def describe_seconds(seconds: float) -> str:
    """'20 seconds', '1 second', '2.5 seconds': whole numbers without a trailing '.0'."""
    amount = f"{seconds:g}"
    return f"{amount} second" if seconds == 1 else f"{amount} seconds"
