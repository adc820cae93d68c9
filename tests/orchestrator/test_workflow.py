"""The real long_operation orchestrator driven through the SDK's replay with host-shaped histories.

Task ids are the SDK's own, in yield order (§A3): each attempt at a step is a plain activity and its race
timer (the next two ids); a failed attempt with attempts left is followed by a plain back-off timer (the next
id) and then a new attempt with a fresh race timer. No id is ever made by the host for a step, which is what
keeps the shim's replay deterministic (see orchestrator/workflow.py). notify_bot is retried the same way,
with backoff: each delivery attempt is a plain activity awaited alone (the next id), a failed one with attempts
left is followed by a plain back-off timer (the next id) whose FireAt grows by the backoff coefficient up to the
cap, and the last failed attempt fails the orchestration at once.
"""

import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from contract import DeliveryReceipt, Outcome, OutcomeStatus, Progress, ReceiptVerdict, Stage, StopReason
from orchestrator import decisions
from orchestrator.payloads import Handover, NotifyRequest, OperationPlan
from orchestrator.settings import RetryPolicy
from tests.orchestrator.replay import (
    CALL_ACTIVITY,
    CONTINUE_AS_NEW,
    CREATE_TIMER,
    T0,
    WHEN_ANY,
    History,
    fire_at,
    replay,
)

INSTANCE = "op-0123456789ab-feedc0de"
CONTINUATION = {
    "type": "message",
    "channelId": "emulator",
    "serviceUrl": "http://127.0.0.1:9000/",
    "conversation": {"id": "conv-1"},
    "from": {"id": "user-1"},
}
TIMEOUT = 20.0
DEADLINE = T0 + timedelta(seconds=TIMEOUT)
STEP_FAILURE = "Activity function 'run_operation_step' failed: InjectedFault: step 2 of option 1 is set to fail"
NOTIFY_FAILURE = "Activity function 'notify_bot' failed: DirectLineError: Direct Line post activity failed: HTTP 502"
NOTIFY_DETAILS = '{"Message": "Direct Line post activity failed: HTTP 502"}'
RESULT = "(Result for long operation one!)"
COMPLETED = Outcome(INSTANCE, "conv-1", OutcomeStatus.COMPLETED, RESULT)


# Notify delays 5, 10, 15, 15, ... s: coefficient 2, capped at 15 s.
NOTIFY_FIRST, NOTIFY_COEFFICIENT, NOTIFY_CAP = 5.0, 2.0, 15.0


def make_plan(steps: int = 3, step_attempts: int = 2, notify_attempts: int = 2) -> OperationPlan:
    return OperationPlan(
        option="option 1",
        continuation=CONTINUATION,
        steps=steps,
        step_seconds=1.0,
        timeout_seconds=TIMEOUT,
        step_retry=RetryPolicy(step_attempts, 1.0),
        notify_retry=RetryPolicy(notify_attempts, NOTIFY_FIRST, NOTIFY_COEFFICIENT, NOTIFY_CAP),
    )


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def parsed(actions: Any) -> Any:
    """Actions with every activity ``input`` (always a JSON string on the wire) parsed, for readable asserts."""
    if isinstance(actions, list):
        return [parsed(item) for item in actions]
    if isinstance(actions, dict):
        return {key: json.loads(value) if key == "input" else parsed(value) for key, value in actions.items()}
    return actions


def race(plan: OperationPlan, step: int, timer_cancelled: bool, attempt: int = 1) -> dict[str, Any]:
    """One attempt at a step: a PLAIN activity call raced against a fresh timer for the deadline."""
    step_input = {"option": plan.option, "step": step, "steps": plan.steps, "stepSeconds": plan.step_seconds,
                  "instanceId": INSTANCE, "attempt": attempt}
    call = {"actionType": CALL_ACTIVITY, "functionName": "run_operation_step", "input": step_input}
    timer = {"actionType": CREATE_TIMER, "fireAt": fire_at(DEADLINE), "isCanceled": timer_cancelled}
    return {"actionType": WHEN_ANY, "compoundActions": [call, timer]}


def back_off(until: datetime) -> dict[str, Any]:
    """The plain timer awaited alone between two attempts."""
    return {"actionType": CREATE_TIMER, "fireAt": fire_at(until), "isCanceled": False}


def stopped(status: OutcomeStatus, step: int, steps: int, attempts: int) -> Outcome:
    """The outcome of an operation stopped at ``step`` after ``attempts`` attempts there: facts, no sentence."""
    return Outcome(INSTANCE, "conv-1", status, reason=StopReason(step, steps, attempts, TIMEOUT))


def notify(outcome: Outcome) -> dict[str, Any]:
    """One delivery attempt: a PLAIN activity call awaited alone (no retry options, no race)."""
    return {"actionType": CALL_ACTIVITY, "functionName": "notify_bot",
            "input": NotifyRequest(INSTANCE, CONTINUATION, outcome).to_json()}


def progress(stage: Stage, step: int, steps: int, message: str) -> dict[str, Any]:
    return Progress.of("option 1", stage, step, steps, message).to_json()


def delivered(outcome: Outcome) -> dict[str, Any]:
    signed = replace(outcome, signature="ab" * 32)
    return {"outcome": signed.to_json(), "directLineConversationId": "dl-1", "directLineActivityId": "dl-1|0000001"}


def start(plan: OperationPlan) -> History:
    return History(INSTANCE, plan.to_json())


def run_attempt(history: History, task_id: int) -> History:
    """Record the decisions of a race the orchestrator just asked for: the step attempt and its timer."""
    return history.scheduled(task_id, "run_operation_step", "{}").timer_created(task_id + 1, DEADLINE)


def test_success_runs_every_step_reports_progress_then_notifies_and_completes() -> None:
    plan = make_plan(steps=3)
    history = start(plan)

    state = replay(history)
    assert not state.is_done
    assert parsed(state.actions) == [race(plan, 1, False)]
    assert state.custom_status == progress(Stage.RUNNING, 0, 3, "Started option 1.")

    run_attempt(history, 0).completed(at(1), 0, {"step": 1, "result": None})
    state = replay(history)
    # The step won: its timer is cancelled (so it cannot keep the instance open) and step 2 races a fresh one.
    assert parsed(state.actions) == [race(plan, 1, True), race(plan, 2, False)]
    assert state.custom_status == progress(Stage.RUNNING, 1, 3, "Finished step 1 of 3.")
    assert state.custom_status["percent"] == 33

    run_attempt(history, 2).completed(at(2), 2, {"step": 2, "result": None})
    state = replay(history)
    assert parsed(state.actions) == [race(plan, 1, True), race(plan, 2, True), race(plan, 3, False)]
    assert state.custom_status == progress(Stage.RUNNING, 2, 3, "Finished step 2 of 3.")

    run_attempt(history, 4).completed(at(3), 4, {"step": 3, "result": RESULT})
    state = replay(history)
    assert parsed(state.actions) == [
        race(plan, 1, True), race(plan, 2, True), race(plan, 3, True),
        notify(COMPLETED),
    ]
    assert state.custom_status == progress(Stage.NOTIFYING, 3, 3, "Sending the result to the conversation.")
    assert not state.is_done

    history.scheduled(6, "notify_bot", "{}").completed(at(4), 6, delivered(COMPLETED))
    state = replay(history)
    assert state.is_done
    assert state.custom_status == progress(Stage.COMPLETED, 3, 3, "Completed all 3 steps.")
    assert state.output == {**delivered(COMPLETED), "detail": None}
    assert len(state.actions) == 4  # nothing new once notified


def test_replaying_the_same_history_gives_the_same_decisions() -> None:
    plan = make_plan(steps=3)
    history = start(plan)
    run_attempt(history, 0).completed(at(1), 0, {"step": 1, "result": None})
    first = replay(history)
    history.episode(at(1.5))  # an episode with no new message, e.g. a late duplicate wake-up
    second = replay(history)
    assert (second.actions, second.custom_status, second.is_done) == (first.actions, first.custom_status, False)


def test_a_failed_attempt_backs_off_on_a_plain_timer_then_a_new_plain_attempt_succeeds() -> None:
    plan = make_plan(steps=1, step_attempts=3)
    history = run_attempt(start(plan), 0)

    history.failed(at(1), 0, STEP_FAILURE, '{"Message": "boom"}')
    state = replay(history)
    # The failed attempt's race timer is cancelled and the back-off is a timer of its own (id 2), 1 s later.
    assert parsed(state.actions) == [race(plan, 1, True), back_off(at(2))]
    assert state.custom_status == progress(Stage.RUNNING, 0, 1, "Step 1 of 1 failed; trying again (attempt 2 of 3).")

    history.timer_created(2, at(2)).timer_fired(at(2), 2, at(2))
    state = replay(history)
    # Attempt 2: a new plain call (id 3) raced against a fresh deadline timer (id 4).
    assert parsed(state.actions) == [race(plan, 1, True), back_off(at(2)), race(plan, 1, False, attempt=2)]

    run_attempt(history, 3).completed(at(3), 3, {"step": 1, "result": RESULT})
    state = replay(history)
    assert parsed(state.actions) == [race(plan, 1, True), back_off(at(2)), race(plan, 1, True, attempt=2),
                                     notify(COMPLETED)]
    assert state.custom_status == progress(Stage.NOTIFYING, 1, 1, "Sending the result to the conversation.")

    history.scheduled(5, "notify_bot", "{}").completed(at(4), 5, delivered(COMPLETED))
    state = replay(history)
    assert state.is_done
    # A failure that a retry made good is not reported.
    assert state.output["detail"] is None


def test_exhausted_attempts_give_a_failed_outcome_with_its_facts_and_notify_it() -> None:
    plan = make_plan(steps=2, step_attempts=2)
    history = run_attempt(start(plan), 0).completed(at(1), 0, {"step": 1, "result": None})
    run_attempt(history, 2).failed(at(2), 2, STEP_FAILURE, '{"StackTrace": "Traceback ..."}')
    history.timer_created(4, at(3)).timer_fired(at(3), 4, at(3))
    run_attempt(history, 5).failed(at(4), 5, STEP_FAILURE, '{"StackTrace": "Traceback ..."}')

    state = replay(history)
    failed = stopped(OutcomeStatus.FAILED, 2, 2, 2)
    # The last failure counts at once (no "dummy" timer as with the SDK retry), and its race timer is cancelled.
    assert parsed(state.actions) == [race(plan, 1, True), race(plan, 2, True), back_off(at(3)),
                                     race(plan, 2, True, attempt=2), notify(failed)]
    assert state.custom_status == progress(Stage.NOTIFYING, 1, 2, "Telling the conversation that the operation failed.")

    history.scheduled(7, "notify_bot", "{}").completed(at(5), 7, delivered(failed))
    state = replay(history)
    assert state.is_done
    assert state.custom_status == progress(Stage.FAILED, 1, 2, "Stopped: step 2 of 2 failed on each of its 2 attempts.")
    # The technical detail stays in the output (and logs), not in the outcome the bot words for the user.
    assert state.output["detail"] == STEP_FAILURE
    assert state.output["outcome"]["status"] == "failed"


def test_a_single_attempt_policy_fails_without_any_back_off() -> None:
    plan = make_plan(steps=1, step_attempts=1)
    history = run_attempt(start(plan), 0).failed(at(1), 0, STEP_FAILURE)
    assert parsed(replay(history).actions) == [race(plan, 1, True), notify(stopped(OutcomeStatus.FAILED, 1, 1, 1))]


def test_deadline_timer_winning_during_a_step_gives_timed_out_and_notifies() -> None:
    timed_out = stopped(OutcomeStatus.TIMED_OUT, 2, 2, 1)
    plan = make_plan(steps=2)
    history = run_attempt(start(plan), 0).completed(at(1), 0, {"step": 1, "result": None})
    run_attempt(history, 2)

    history.timer_fired(at(TIMEOUT), 3, DEADLINE)
    state = replay(history)
    # The winning timer has fired, so it is left as is; the still-running step is abandoned.
    assert parsed(state.actions) == [race(plan, 1, True), race(plan, 2, False),
                                     notify(timed_out)]
    assert state.custom_status == progress(Stage.NOTIFYING, 1, 2,
                                           "Telling the conversation that the operation timed out.")

    # The abandoned step finishing late changes nothing.
    history.scheduled(4, "notify_bot", "{}").completed(at(TIMEOUT + 1), 2, {"step": 2, "result": RESULT})
    assert parsed(replay(history).actions) == parsed(state.actions)

    history.completed(at(TIMEOUT + 2), 4, delivered(timed_out))
    state = replay(history)
    assert state.is_done
    assert state.custom_status == progress(Stage.TIMED_OUT, 1, 2,
                                           "Stopped at step 2 of 2: the deadline, 20 seconds after the start, passed.")
    assert state.output["outcome"]["status"] == "timed_out"
    assert state.output["detail"] is None


def test_deadline_timer_winning_during_a_retry_gives_timed_out_with_the_last_failure_as_detail() -> None:
    timed_out = stopped(OutcomeStatus.TIMED_OUT, 1, 1, 2)
    plan = make_plan(steps=1, step_attempts=3)
    history = run_attempt(start(plan), 0).failed(at(1), 0, STEP_FAILURE)
    history.timer_created(2, at(2)).timer_fired(at(2), 2, at(2))
    run_attempt(history, 3).timer_fired(at(TIMEOUT), 4, DEADLINE)
    state = replay(history)
    assert parsed(state.actions) == [race(plan, 1, True), back_off(at(2)), race(plan, 1, False, attempt=2),
                                     notify(timed_out)]
    history.scheduled(5, "notify_bot", "{}").completed(at(TIMEOUT + 1), 5,
                                                       delivered(timed_out))
    assert replay(history).output["detail"] == STEP_FAILURE


def test_deadline_passed_between_steps_times_out_without_starting_another_step() -> None:
    # Step 2 never began: no attempt at it.
    timed_out = stopped(OutcomeStatus.TIMED_OUT, 2, 2, 0)
    plan = make_plan(steps=2)
    # Step 1 completes after the deadline, before the timer's message was processed.
    history = run_attempt(start(plan), 0).completed(at(TIMEOUT + 5), 0, {"step": 1, "result": None})
    state = replay(history)
    assert parsed(state.actions) == [race(plan, 1, True), notify(timed_out)]
    assert state.custom_status["stage"] == "notifying"
    assert state.custom_status["step"] == 1


def test_a_back_off_that_would_end_at_or_past_the_deadline_times_out_at_once() -> None:
    timed_out = stopped(OutcomeStatus.TIMED_OUT, 1, 1, 1)
    plan = make_plan(steps=1, step_attempts=3)
    # Failed at 19 s: the 1 s back-off would end exactly at the 20 s deadline, too late for another attempt.
    history = run_attempt(start(plan), 0).failed(at(TIMEOUT - 1), 0, STEP_FAILURE)
    state = replay(history)
    assert parsed(state.actions) == [race(plan, 1, True), notify(timed_out)]
    assert state.custom_status == progress(Stage.NOTIFYING, 0, 1,
                                           "Telling the conversation that the operation timed out.")


def test_deadline_passing_during_a_back_off_times_out_without_another_attempt() -> None:
    timed_out = stopped(OutcomeStatus.TIMED_OUT, 1, 1, 1)
    plan = make_plan(steps=1, step_attempts=3)
    history = run_attempt(start(plan), 0).failed(at(TIMEOUT - 2), 0, STEP_FAILURE)
    assert parsed(replay(history).actions) == [race(plan, 1, True), back_off(at(TIMEOUT - 1))]
    # The back-off timer's message is processed late, after the deadline (TimerFired comes at >= FireAt).
    history.timer_created(2, at(TIMEOUT - 1)).timer_fired(at(TIMEOUT + 3), 2, at(TIMEOUT - 1))
    state = replay(history)
    assert parsed(state.actions) == [race(plan, 1, True), back_off(at(TIMEOUT - 1)),
                                     notify(timed_out)]

    history.scheduled(3, "notify_bot", "{}").completed(at(TIMEOUT + 4), 3,
                                                       delivered(timed_out))
    state = replay(history)
    assert state.is_done
    assert state.custom_status == progress(Stage.TIMED_OUT, 0, 1,
                                           "Stopped at step 1 of 1: the deadline, 20 seconds after the start, passed.")
    assert state.output["detail"] == STEP_FAILURE


def test_notify_input_carries_the_continuation_and_the_unsigned_outcome() -> None:
    plan = make_plan(steps=1)
    history = run_attempt(start(plan), 0).completed(at(1), 0, {"step": 1, "result": RESULT})
    notify_call = replay(history).actions[-1]
    request = NotifyRequest.from_json(json.loads(notify_call["input"]))
    assert request.instance_id == INSTANCE
    assert request.continuation == CONTINUATION
    assert request.outcome == Outcome(INSTANCE, "conv-1", OutcomeStatus.COMPLETED, RESULT)
    # Signing happens in the activity: neither a signature nor the key is in the history.
    assert request.outcome.signature == ""
    # Retried by the orchestrator itself: the SDK's retry options (no backoff coefficient) are not used.
    assert notify_call["actionType"] == CALL_ACTIVITY and "retryOptions" not in notify_call


def notify_failed(history: History, task_id: int, seconds: float) -> History:
    """Record a delivery attempt the orchestrator asked for (id ``task_id``) failing at ``seconds``."""
    return history.scheduled(task_id, "notify_bot", "{}").failed(at(seconds), task_id, NOTIFY_FAILURE, NOTIFY_DETAILS)


def back_off_fired(history: History, task_id: int, seconds: float) -> History:
    """Record the back-off timer the orchestrator asked for (id ``task_id``) and its firing at its FireAt."""
    return history.timer_created(task_id, at(seconds)).timer_fired(at(seconds), task_id, at(seconds))


def test_notify_backs_off_exponentially_up_to_the_cap_then_delivers_and_completes() -> None:
    plan = make_plan(steps=1, notify_attempts=4)
    history = run_attempt(start(plan), 0).completed(at(1), 0, {"step": 1, "result": RESULT})
    step = race(plan, 1, True)
    attempt = notify(COMPLETED)

    # Attempt 1 (id 2) fails at 2 s: a plain back-off timer (id 3) of the first delay, 5 s.
    notify_failed(history, 2, 2)
    state = replay(history)
    assert parsed(state.actions) == [step, attempt, back_off(at(7))]
    assert state.custom_status == progress(
        Stage.NOTIFYING, 1, 1, "Could not reach the bot yet; trying again in 5 seconds (attempt 2 of 4).")
    assert state.error is None and not state.is_done

    # The timer fires: attempt 2 (id 4), the same plain call with the same input.
    back_off_fired(history, 3, 7)
    assert parsed(replay(history).actions) == [step, attempt, back_off(at(7)), attempt]

    # Attempt 2 fails at 8 s: the delay doubles, 10 s (timer id 5).
    notify_failed(history, 4, 8)
    state = replay(history)
    assert parsed(state.actions) == [step, attempt, back_off(at(7)), attempt, back_off(at(18))]
    assert state.custom_status["message"] == "Could not reach the bot yet; trying again in 10 seconds (attempt 3 of 4)."

    # Attempt 3 (id 6) fails at 19 s: 20 s would pass the 15 s cap, so 15 s (timer id 7).
    back_off_fired(history, 5, 18)
    notify_failed(history, 6, 19)
    state = replay(history)
    assert parsed(state.actions) == [step, attempt, back_off(at(7)), attempt, back_off(at(18)), attempt,
                                     back_off(at(34))]
    assert state.custom_status["message"] == "Could not reach the bot yet; trying again in 15 seconds (attempt 4 of 4)."

    # Attempt 4 (id 8) delivers: the orchestration completes with the delivered outcome.
    back_off_fired(history, 7, 34)
    history.scheduled(8, "notify_bot", "{}").completed(at(35), 8, delivered(COMPLETED))
    state = replay(history)
    assert state.is_done
    assert len(state.actions) == 8  # nothing new once delivered
    assert state.output == {**delivered(COMPLETED), "detail": None}
    assert state.custom_status == progress(Stage.COMPLETED, 1, 1, "Completed its one step.")


def test_notify_back_off_timers_fire_at_the_episode_clock_plus_the_delay() -> None:
    # A failure processed late (the episode's clock, not the attempt's schedule, starts the back-off).
    plan = make_plan(steps=1, notify_attempts=3)
    history = run_attempt(start(plan), 0).completed(at(1), 0, {"step": 1, "result": RESULT})
    notify_failed(history, 2, 4.25)
    back_off_fired(history, 3, 9.25)
    notify_failed(history, 4, 12.5)
    timers = [action["fireAt"] for action in replay(history).actions if action["actionType"] == CREATE_TIMER]
    assert timers == [fire_at(at(4.25 + 5)), fire_at(at(12.5 + 10))]


def test_notify_exhausting_its_attempts_fails_the_orchestration_at_once_with_a_clear_message() -> None:
    plan = make_plan(steps=1, notify_attempts=2)
    history = run_attempt(start(plan), 0).completed(at(1), 0, {"step": 1, "result": RESULT})
    notify_failed(history, 2, 2)
    back_off_fired(history, 3, 7)
    assert replay(history).error is None

    # The last attempt failing ends it: no back-off timer after it (and no "dummy" timer as with the SDK retry).
    notify_failed(history, 4, 8)
    state = replay(history)
    assert not state.is_done
    assert state.error == (
        "Could not deliver the completed outcome to the bot after 2 attempts: " + NOTIFY_FAILURE
    )
    attempt = notify(COMPLETED)
    assert parsed(state.actions) == [race(plan, 1, True), attempt, back_off(at(7)), attempt]
    undelivered = "The outcome could not be delivered to the conversation."
    assert state.custom_status == progress(Stage.FAILED, 1, 1, undelivered)


def test_a_single_notify_attempt_fails_without_any_back_off() -> None:
    plan = make_plan(steps=1, notify_attempts=1)
    history = run_attempt(start(plan), 0).completed(at(1), 0, {"step": 1, "result": RESULT})
    state = replay(notify_failed(history, 2, 2))
    assert state.error == "Could not deliver the completed outcome to the bot after 1 attempt: " + NOTIFY_FAILURE
    assert parsed(state.actions) == [race(plan, 1, True), notify(COMPLETED)]


def test_an_input_written_before_backoff_keeps_a_constant_notify_delay() -> None:
    plan = make_plan(steps=1, notify_attempts=3)
    old_input = plan.to_json()
    old_input["notifyRetry"] = {"attempts": 3, "firstRetrySeconds": 5.0}
    old_input["stepRetry"] = {"attempts": 2, "firstRetrySeconds": 1.0}
    history = History(INSTANCE, old_input)
    run_attempt(history, 0).completed(at(1), 0, {"step": 1, "result": RESULT})
    notify_failed(history, 2, 2)
    back_off_fired(history, 3, 7)
    notify_failed(history, 4, 8)
    attempt = notify(COMPLETED)
    # 5 s, then 5 s again: coefficient 1, no cap.
    assert parsed(replay(history).actions) == [race(plan, 1, True), attempt, back_off(at(7)), attempt,
                                               back_off(at(13))]


def test_plan_round_trips_through_json() -> None:
    plan = make_plan()
    assert OperationPlan.from_json(json.loads(json.dumps(plan.to_json()))) == plan
    assert decisions.deadline_of(T0, plan) == DEADLINE


def test_a_refused_delivery_fails_the_orchestration_at_once_with_the_refusal_in_status_and_error() -> None:
    plan = make_plan(steps=1, notify_attempts=5)
    history = run_attempt(start(plan), 0).completed(at(1), 0, {"step": 1, "result": RESULT})
    refusal = DeliveryReceipt(INSTANCE, ReceiptVerdict.REFUSED, 404, "ConversationNotFound", "conversation not found",
                              signature="cd" * 32)
    refused = {**delivered(COMPLETED), "directLineActivityId": "", "refusal": refusal.to_json()}
    history.scheduled(2, "notify_bot", "{}").completed(at(2), 2, refused)
    state = replay(history)
    # One attempt, no back-off: the user's conversation is gone, and another attempt cannot bring it back.
    assert parsed(state.actions) == [race(plan, 1, True), notify(COMPLETED)]
    assert state.error == (
        "The completed outcome was refused by the user's conversation, not retried: HTTP 404, code "
        f"ConversationNotFound: conversation not found (instance {INSTANCE})"
    )
    assert state.custom_status == progress(Stage.FAILED, 1, 1,
                                           "The outcome could not be delivered: the conversation is gone.")


def continue_as_new(plan: OperationPlan) -> dict[str, Any]:
    """The fire-and-forget action that ends a generation; its input is the next generation's plan (JSON text)."""
    return {"actionType": CONTINUE_AS_NEW, "input": plan.to_json()}


def test_a_generation_continues_as_new_after_its_steps_handing_over_the_deadline_steps_and_result() -> None:
    plan = replace(make_plan(steps=5), steps_per_generation=2)
    history = start(plan)
    run_attempt(history, 0).completed(at(1), 0, {"step": 1, "result": "first"})
    run_attempt(history, 2).completed(at(2), 2, {"step": 2, "result": None})
    state = replay(history)

    handed = plan.handing_over(Handover(DEADLINE, 2, "first", 2))
    assert state.is_done and state.error is None
    assert parsed(state.actions) == [race(plan, 1, True), race(plan, 2, True), continue_as_new(handed)]
    assert state.custom_status == progress(Stage.RUNNING, 2, 5, "Finished step 2 of 5.")
    assert OperationPlan.from_json(parsed(state.actions)[-1]["input"]) == handed


def test_a_later_generation_starts_at_the_next_step_with_the_first_generations_deadline() -> None:
    plan = replace(make_plan(steps=5), steps_per_generation=2).handing_over(Handover(DEADLINE, 4, "first", 3))
    # Its own clock starts 12 s after the first generation's: a deadline computed from it would be 12 s later.
    history = History(INSTANCE, plan.to_json(), now=at(12))
    state = replay(history)

    # Set before anything else, so the status shows the progress so far and never null.
    assert state.custom_status == progress(Stage.RUNNING, 4, 5, "Finished step 4 of 5.")
    assert parsed(state.actions) == [race(plan, 5, False)]

    run_attempt(history, 0).completed(at(13), 0, {"step": 5, "result": None})
    state = replay(history)
    # The last generation notifies with the result handed over from an earlier one.
    done = Outcome(INSTANCE, "conv-1", OutcomeStatus.COMPLETED, "first")
    assert parsed(state.actions) == [race(plan, 5, True), notify(done)]


def test_a_generation_starting_past_the_deadline_times_out_without_another_step() -> None:
    plan = replace(make_plan(steps=5), steps_per_generation=2).handing_over(Handover(DEADLINE, 2, "", 2))
    state = replay(History(INSTANCE, plan.to_json(), now=at(TIMEOUT + 1)))

    assert parsed(state.actions) == [notify(stopped(OutcomeStatus.TIMED_OUT, 3, 5, 0))]


def test_an_input_written_before_generations_runs_every_step_in_one_generation() -> None:
    plan = make_plan(steps=3)
    old_input = plan.to_json()
    del old_input["stepsPerGeneration"], old_input["handover"]
    history = History(INSTANCE, old_input)
    for task_id, step in ((0, 1), (2, 2), (4, 3)):
        run_attempt(history, task_id).completed(at(step), task_id, {"step": step, "result": RESULT})
    state = replay(history)

    assert parsed(state.actions) == [race(plan, 1, True), race(plan, 2, True), race(plan, 3, True),
                                     notify(COMPLETED)]


def test_a_plan_with_a_handover_round_trips_through_json() -> None:
    plan = replace(make_plan(), steps_per_generation=7).handing_over(Handover(DEADLINE, 14, "so far", 3))
    assert OperationPlan.from_json(json.loads(json.dumps(plan.to_json()))) == plan
