"""The ``long_operation`` orchestrator: steps raced against a deadline, then the bot is told the outcome.

Replay rules (durable-host-protocol §A7, §E): this generator re-runs from the top on every episode, so it
uses only ``context.current_utc_datetime`` for time, does no I/O, reads no settings (everything comes from
the input), races every step attempt against a FRESH timer (never re-yielding a running task in a new task_any),
and cancels every timer it raced once the attempt has won, whether it succeeded or failed, so no open
timer keeps the instance Running.

Why steps are retried by hand instead of with ``call_activity_with_retry``: the SDK emits no actions for
retries; the host makes each retry's timer and re-attempt and gives them the next sequence number when it
processes their TaskFailed/TimerFired (§A3). The Durable extension's OutOfProcOrchestrationShim re-runs the
whole action list on every episode with sequential awaits (§A7.1), and a WhenAny whose timer child is sent
back as ``isCanceled: true`` (we cancel it once the step has won) completes at once on that replay. So the
shim reaches the NEXT action (the next step, or notify_bot) before the retry's timer and re-attempt, gives
it their ids, and the replay diverges: the instance fails with NonDeterministicOrchestrationException and
the user never hears back. The devhost reproduces this
(tests/devhost/functions/test_orchestration_patterns.py::
test_retried_activity_raced_against_a_cancelled_timer_is_non_deterministic), and
tests/orchestrator/test_on_devhost.py runs this orchestrator through the same shim. Here every attempt is a
plain ``call_activity`` raced against its own deadline timer, and the back-off between attempts is a plain
timer awaited alone, so every id is one the SDK assigns in yield order.

``notify_bot`` is retried by hand as well, for another reason: backoff. Being the last action, awaited alone,
its SDK retries were replay-safe, but the Python SDK's ``RetryOptions`` sends no backoff coefficient, so the
extension waited the same delay before every retry. Now, in the same shape as the steps, each delivery attempt
is a plain ``call_activity`` awaited alone (notify has no deadline, so nothing to race), and the wait before
the next is a plain timer awaited alone, ``decisions.retry_delay`` long: NotifyFirstRetrySeconds x
NotifyBackoffCoefficient^(n-1) after failed attempt n, capped at NotifyMaxRetrySeconds. Once the last attempt
has failed the orchestration fails with NotificationError, whose message names the attempts and the last error.
An attempt whose result carries a refusal (the user's conversation is gone, orchestrator/notify.py) fails it at
once, with the refusal in its custom status and output.

Generations: every episode replays the whole history, so an operation of many steps would cost more per step the
longer it runs. After ``steps_per_generation`` steps the orchestrator continues as new: the SDK's
``DurableOrchestrationContext.continue_as_new`` records a fire-and-forget ContinueAsNew action, and its
TaskOrchestrationExecutor ends the execution once the generator returns. The extension's
OutOfProcOrchestrationShim passes the action on (``case AsyncActionType.ContinueAsNew: context.ContinueAsNew``), and
DurableTask.Core's TaskOrchestrationDispatcher restarts the same instance id with a fresh runtime state that holds
only the new ExecutionStarted (plus carried-over raised events, none here) and the previous custom status
(``carryOverStatus``); messages of the old execution, such as the cancelled deadline timer of the last step, are
discarded by execution id (DurableTask.AzureStorage AzureStorageOrchestrationService, IsExecutableInstanceAsync and
the batch split after it). So the status and terminate URLs the bot holds keep working. The input (``Handover``)
carries what the next generation needs: the first generation's deadline as an absolute time, the steps done and the
result so far. A generation only ends after a step has succeeded, so no attempt count spans two generations: the
next step begins at attempt 1 as it would have. Each generation sets its custom status before anything else, so the
status never reads null for the bot, whatever a host carries over.

Questions mid-run (Durable's human-interaction pattern): a step that returns ``Ask`` has succeeded; the orchestrator
sets the WAITING custom status, posts the signed question with ``ask_bot`` (retried by hand like ``notify_bot``,
same policy), then races ``wait_for_external_event`` against a FRESH timer at the question's expiry (its timeout,
capped at the deadline) and cancels the timer once the answer has won. The wait takes no task id in the SDK or the
shim, so the replay assigns the same ids as the first run. The event name is the question's own (one per asking
step, contract/question.py) and matched with the exact case the bot raises it with: the extension matches names
ignoring case but the Python SDK does not. An event that is no answer to this question (contract/question.py
``accepts``) is ignored and the wait starts again with a fresh timer at the same expiry; after
MAX_IGNORED_ANSWERS of them only the timer is awaited, so nothing can keep the instance replaying in a loop: the
SDK re-applies an event that arrived before its wait to every later wait of that name (its issue #507; source:
DurableOrchestrationContext._add_to_open_tasks runs the ``deferred_tasks`` entry and never removes it). The
question is asked and answered within one generation, and only the answer crosses a continue-as-new, in the
Handover (events raised to an old generation are dropped with it). No answer in time: the operation stops with a
TIMED_OUT outcome whose reason says nobody answered (``StopReason.unanswered``), delivered as any outcome.

Progress reports (operations/api.py ``progress_every_seconds``): after a step that is not the last, if
``decisions.progress_due`` on the orchestration's clock, ``notify_progress`` is called and awaited alone, a plain
activity with no retries and no timer, so its id is the next the SDK assigns and it replays the same way. It
always completes (a post that failed answers ``posted: false``, orchestrator/progress.py), and a failure of the
activity itself is logged and skipped too: a report never stops, retries or fails the operation, and none is sent
after the outcome. The time of the last report crosses continue-as-new in the handover.
"""

import logging
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

import azure.durable_functions as df

from contract import DeliveryReceipt, Outcome, OutcomeStatus, Progress, ProgressReport, Question
from orchestrator import decisions
from orchestrator.errors import NotificationError
from orchestrator.names import ASK_BOT, NOTIFY_BOT, NOTIFY_PROGRESS, RUN_OPERATION_STEP
from orchestrator.payloads import (
    AskRequest,
    AskResult,
    AskSpec,
    Handover,
    NotifyRequest,
    NotifyResult,
    OperationPlan,
    ProgressPosted,
    ProgressRequest,
    StepRequest,
    StepResult,
)

logger = logging.getLogger(__name__)

# Events under a question's name that are no answer to it, ignored before the wait awaits only its timer.
MAX_IGNORED_ANSWERS = 10


@dataclass(frozen=True)
class StepStopped:
    """A step that did not succeed: the status that stops the operation (FAILED or TIMED_OUT)."""

    status: OutcomeStatus
    # Attempts made at the step: each allowed one when it failed; those started before the deadline passed.
    attempts: int
    # First line of the last failed attempt's error (None if none failed), for the orchestration output.
    detail: str | None


def _first_line(error: BaseException) -> str:
    # The SDK raises Exception(f"{Reason} \n {Details}"); Details is a serialised stack trace.
    return str(error).split("\n", 1)[0].strip()


def run_step(
    context: df.DurableOrchestrationContext, plan: OperationPlan, step: int, deadline: datetime,
    state: dict[str, Any] | None = None, *, answer: str | None = None,
) -> Generator[Any, Any, StepResult | StepStopped]:
    """Attempt ``step`` until it succeeds, its attempts run out or the deadline passes (see the module doc)."""
    detail: str | None = None
    attempt = 1
    while True:
        # Also catches a step or a back-off that ended after the deadline, before its timer's message arrived.
        if context.current_utc_datetime >= deadline:
            return StepStopped(OutcomeStatus.TIMED_OUT, attempt - 1, detail)
        request = StepRequest(plan.option, step, plan.steps, plan.step_seconds, context.instance_id, attempt,
                              inputs=plan.inputs, state=state, answer=answer)
        step_task = context.call_activity(RUN_OPERATION_STEP, request.to_json(), expected_type=dict)
        timer = context.create_timer(deadline)
        winner = yield context.task_any([step_task, timer])
        if winner is timer:
            # The attempt keeps running (activities cannot be cancelled); its late result is ignored.
            return StepStopped(OutcomeStatus.TIMED_OUT, attempt, detail)
        timer.cancel()
        # task_any hands back a failed task as the winner instead of raising (§E4).
        if not isinstance(step_task.result, Exception):
            return StepResult.from_json(step_task.result)
        detail = _first_line(step_task.result)
        if not context.is_replaying:
            logger.warning("operation step failed instance_id=%s step=%d attempt=%d: %s",
                           context.instance_id, step, attempt, detail)
        retry_at = decisions.after_failed_attempt(plan, attempt, context.current_utc_datetime, deadline)
        if isinstance(retry_at, OutcomeStatus):
            return StepStopped(retry_at, attempt, detail)
        attempt += 1
        context.set_custom_status(decisions.retrying_progress(plan, step, attempt).to_json())
        yield context.create_timer(retry_at)


class Refusable(Protocol):
    """What ``notify_bot`` and ``ask_bot`` answer: set when the user's conversation refused the post for good."""

    @property
    def refusal(self) -> DeliveryReceipt | None: ...


Posted = TypeVar("Posted", bound=Refusable)


@dataclass(frozen=True)
class Delivery(Generic[Posted]):
    """One post to the bot that ``deliver`` retries by hand: the outcome (``notify_bot``) or a question
    (``ask_bot``). Both follow the plan's notify retry policy; only these parts differ."""

    activity: str
    request: dict[str, Any]
    parse: Callable[[dict[str, Any]], Posted]
    # What is posted, as the failure's message names it: "completed outcome", "question of step 2".
    what: str
    # The custom status once the conversation refused it, and once the attempts are used up.
    refused: Progress
    undelivered: Progress
    # The custom status while backing off (delay in seconds, next attempt); None leaves the status as it is.
    retrying: Callable[[float, int], Progress] | None = None


def deliver(
    context: df.DurableOrchestrationContext, plan: OperationPlan, delivery: Delivery[Posted]
) -> Generator[Any, Any, Posted]:
    """Post ``delivery``, backing off between failed attempts; NotificationError once none is left or the user's
    conversation refused it (another attempt cannot bring a conversation back)."""
    attempts = plan.notify_retry.attempts
    attempt = 1
    while True:
        try:
            posted = yield context.call_activity(delivery.activity, delivery.request, expected_type=dict)
        except Exception as error:  # the SDK throws a plain Exception("<Reason> \n <Details>") into the generator
            detail = _first_line(error)
        else:
            result = delivery.parse(posted)
            if result.refusal is None:
                return result
            context.set_custom_status(delivery.refused.to_json())
            raise NotificationError(
                f"The {delivery.what} was refused by the user's conversation, not retried: "
                f"{result.refusal.describe()} (instance {context.instance_id})"
            )
        if not context.is_replaying:
            logger.warning("%s failed instance_id=%s attempt=%d of %d: %s",
                           delivery.activity, context.instance_id, attempt, attempts, detail)
        if attempt >= attempts:
            context.set_custom_status(delivery.undelivered.to_json())
            raise NotificationError(
                f"Could not deliver the {delivery.what} to the bot after "
                f"{attempts} attempt{'' if attempts == 1 else 's'}: {detail}"
            )
        delay = decisions.retry_delay(plan.notify_retry, attempt)
        attempt += 1
        if delivery.retrying is not None:
            context.set_custom_status(delivery.retrying(delay, attempt).to_json())
        yield context.create_timer(context.current_utc_datetime + timedelta(seconds=delay))


def deliver_outcome(
    context: df.DurableOrchestrationContext, plan: OperationPlan, notify: NotifyRequest, steps_done: int
) -> Generator[Any, Any, NotifyResult]:
    """Deliver the outcome (see the module doc), telling the bot's status readers about each back-off."""
    return (yield from deliver(context, plan, Delivery(
        NOTIFY_BOT, notify.to_json(), NotifyResult.from_json, f"{notify.outcome.status.value} outcome",
        refused=decisions.refused_progress(plan, steps_done),
        undelivered=decisions.undelivered_progress(plan, steps_done),
        retrying=lambda delay, attempt: decisions.notify_retrying_progress(plan, steps_done, delay, attempt),
    )))


def deliver_question(
    context: df.DurableOrchestrationContext, plan: OperationPlan, ask: AskRequest
) -> Generator[Any, Any, AskResult]:
    """Post the question; its status stays WAITING while it backs off. Refused or never delivered, nobody can answer
    it, and either way the status says the question could not be delivered."""
    undelivered = decisions.question_undelivered_progress(plan, ask.question.step)
    return (yield from deliver(context, plan, Delivery(
        ASK_BOT, ask.to_json(), AskResult.from_json, f"question of step {ask.question.step}",
        refused=undelivered, undelivered=undelivered,
    )))


def ask_and_wait(
    context: df.DurableOrchestrationContext, plan: OperationPlan, step: int, spec: AskSpec, deadline: datetime
) -> Generator[Any, Any, str | Outcome]:
    """Ask step ``step``'s question and wait for the answer (see the module doc): the answer, or the outcome of
    an operation nobody answered in time."""
    asked = context.current_utc_datetime
    expires = decisions.answer_expires(asked, spec.timeout_seconds, deadline)
    question = Question(context.instance_id, plan.conversation_id, step, spec.question, spec.choices,
                        spec.timeout_seconds, expires.isoformat())
    context.set_custom_status(decisions.waiting_progress(plan, step).to_json())
    yield from deliver_question(context, plan, AskRequest(context.instance_id, plan.continuation, question))
    ignored = 0
    while True:
        timer = context.create_timer(expires)
        if ignored >= MAX_IGNORED_ANSWERS:
            yield timer
            break
        answer_task = context.wait_for_external_event(question.event_name)
        winner = yield context.task_any([answer_task, timer])
        if winner is timer:
            break
        timer.cancel()
        answer = decisions.accepted_answer(question, answer_task.result)
        if answer is not None:
            return answer
        ignored += 1
        if not context.is_replaying:
            logger.warning("an event that is no answer to the question was ignored instance_id=%s step=%d",
                           context.instance_id, step)
    return decisions.unanswered_outcome(context.instance_id, plan, question, by_deadline=expires >= deadline)


def report_progress(
    context: df.DurableOrchestrationContext, plan: OperationPlan, step: int
) -> Generator[Any, Any, None]:
    """Post one progress report after ``step``; whatever happens, the operation goes on (see the module doc)."""
    report = ProgressReport(context.instance_id, plan.conversation_id, plan.option, step, plan.steps)
    request = ProgressRequest(plan.continuation, report)
    try:
        posted = ProgressPosted.from_json(
            (yield context.call_activity(NOTIFY_PROGRESS, request.to_json(), expected_type=dict)))
    except Exception as error:  # the activity itself failed (it never raises by design): skipped like a failed post
        posted = ProgressPosted(False, _first_line(error))
    if not posted.posted and not context.is_replaying:
        logger.warning("progress report skipped instance_id=%s step=%d: %s", context.instance_id, step,
                       posted.detail)


def long_operation(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any] | None]:
    # expected_type everywhere: plain JSON objects, and ready for the SDK's strict typing mode.
    plan = OperationPlan.from_json(context.get_input(expected_type=dict))
    handover = plan.handover
    instance_id = context.instance_id
    # The first generation's first episode's clock, on every replay: the deadline is fixed once and for all, and
    # later generations read it from their input (their own clocks start later).
    deadline = handover.deadline or decisions.deadline_of(context.current_utc_datetime, plan)
    # Every generation sets it first: the bot shows it while the operation runs.
    context.set_custom_status(decisions.generation_progress(plan, handover.steps_done).to_json())

    outcome: Outcome
    detail: str | None = None
    steps_done = handover.steps_done
    result_text = handover.result
    result_data: dict[str, Any] | None = handover.data
    # The operation's state between steps (operations/api.py Next): it flows from one step's result into the next
    # step's request, and across a continue-as-new in the handover.
    state: dict[str, Any] | None = handover.state
    # The answer to the last step's question (operations/api.py Ask), for the next step only.
    answer: str | None = handover.answer
    # When the last progress report was posted; before any, the cadence counts from the first generation's start
    # (the deadline less the timeout).
    reported_at = handover.progress_at
    started = deadline - timedelta(seconds=plan.timeout_seconds)
    last = decisions.generation_end(plan)
    for step in range(steps_done + 1, last + 1):
        ended = yield from run_step(context, plan, step, deadline, state, answer=answer)
        if isinstance(ended, StepStopped):
            outcome = decisions.stopped_outcome(instance_id, plan, step, ended.status, ended.attempts)
            detail = ended.detail
            break
        steps_done = step
        state = ended.state
        answer = None
        result_text = ended.result or result_text
        result_data = ended.data if ended.data is not None else result_data
        if ended.ask is not None:
            heard = yield from ask_and_wait(context, plan, step, ended.ask, deadline)
            if isinstance(heard, Outcome):
                outcome = heard
                break
            answer = heard
        context.set_custom_status(decisions.step_progress(plan, step).to_json())
        if decisions.progress_due(plan, step, reported_at or started, context.current_utc_datetime):
            reported_at = context.current_utc_datetime
            yield from report_progress(context, plan, step)
    else:
        if last < plan.steps:
            # Between two steps, with nothing open but the cancelled timers of the step (and wait) that just won.
            context.continue_as_new(plan.handing_over(Handover(
                deadline, steps_done, result_text, handover.generation + 1, state, result_data, answer=answer,
                progress_at=reported_at,
            )).to_json())
            return None
        outcome = decisions.completed_outcome(instance_id, plan, result_text, result_data)

    context.set_custom_status(decisions.notifying_progress(plan, steps_done, outcome).to_json())
    notify = NotifyRequest(instance_id, plan.continuation, outcome)
    delivered = yield from deliver_outcome(context, plan, notify, steps_done)

    context.set_custom_status(decisions.final_progress(plan, steps_done, outcome).to_json())
    return {**delivered.to_json(), "detail": detail}
