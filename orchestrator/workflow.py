"""The ``long_operation`` orchestrator: steps raced against a deadline, then the bot is told the outcome.

Replay rules (durable-host-protocol §A7, §E): this generator re-runs from the top on every episode, so it
uses only ``context.current_utc_datetime`` for time, does no I/O, reads no settings (everything comes from
the input), races every step against a FRESH timer (never re-yielding a running task in a new task_any),
and cancels every timer it raced once the step has won, whether the step succeeded or failed, so no open
timer keeps the instance Running.
"""

import logging
from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from contract import Outcome
from orchestrator import decisions
from orchestrator.errors import NotificationError
from orchestrator.names import NOTIFY_BOT, RUN_OPERATION_STEP
from orchestrator.payloads import NotifyRequest, NotifyResult, OperationPlan, StepRequest, StepResult
from orchestrator.settings import RetryPolicy

logger = logging.getLogger(__name__)


def _retry_options(policy: RetryPolicy) -> df.RetryOptions:
    return df.RetryOptions(policy.first_retry_milliseconds, policy.attempts)


def _first_line(error: BaseException) -> str:
    # The SDK raises Exception(f"{Reason} \n {Details}"); Details is a serialised stack trace.
    return str(error).split("\n", 1)[0].strip()


def long_operation(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    # expected_type everywhere: plain JSON objects, and ready for the SDK's strict typing mode.
    plan = OperationPlan.from_json(context.get_input(expected_type=dict))
    instance_id = context.instance_id
    # The first episode's clock, on every replay: the deadline is fixed once and for all.
    deadline = decisions.deadline_of(context.current_utc_datetime, plan)
    step_retry = _retry_options(plan.step_retry)
    context.set_custom_status(decisions.started_progress(plan).to_json())

    outcome: Outcome
    detail: str | None = None
    steps_done = 0
    result_text = ""
    for step in range(1, plan.steps + 1):
        if context.current_utc_datetime >= deadline:
            outcome = decisions.timed_out_outcome(instance_id, plan)
            break
        request = StepRequest(plan.option, step, plan.steps, plan.step_seconds, instance_id)
        step_task = context.call_activity_with_retry(
            RUN_OPERATION_STEP, step_retry, request.to_json(), expected_type=dict
        )
        timer = context.create_timer(deadline)
        winner = yield context.task_any([step_task, timer])
        if winner is timer:
            # The step keeps running (activities cannot be cancelled); its late result is ignored.
            outcome = decisions.timed_out_outcome(instance_id, plan)
            break
        timer.cancel()
        # task_any hands back a failed task as the winner instead of raising (§E4).
        if isinstance(step_task.result, Exception):
            detail = _first_line(step_task.result)
            if not context.is_replaying:
                logger.warning("operation step failed for good instance_id=%s step=%d: %s", instance_id, step, detail)
            outcome = decisions.failed_outcome(instance_id, plan, step)
            break
        steps_done = step
        result_text = StepResult.from_json(step_task.result).result or result_text
        context.set_custom_status(decisions.step_progress(plan, step).to_json())
    else:
        outcome = decisions.completed_outcome(instance_id, plan, result_text)

    context.set_custom_status(decisions.notifying_progress(plan, steps_done, outcome).to_json())
    notify = NotifyRequest(instance_id, plan.continuation, outcome)
    try:
        delivered = yield context.call_activity_with_retry(
            NOTIFY_BOT, _retry_options(plan.notify_retry), notify.to_json(), expected_type=dict
        )
    except Exception as error:  # the SDK raises plain Exception once the retries are exhausted
        context.set_custom_status(decisions.undelivered_progress(plan, steps_done).to_json())
        raise NotificationError(
            f"Could not deliver the {outcome.status.value} outcome to the bot after "
            f"{plan.notify_retry.attempts} attempts: {_first_line(error)}"
        ) from error

    context.set_custom_status(decisions.final_progress(plan, steps_done, outcome).to_json())
    return {**NotifyResult.from_json(delivered).to_json(), "detail": detail}
