"""A step that asks, through the SDK's replay with host-shaped histories: the actions and statuses of posting the
question (``ask_bot``, retried by hand with back-off as ``notify_bot`` is) and of waiting for the answer.

These histories pin the action sequence of an instance in flight: each is what the host has recorded for such an
instance, so a change to the orchestrator that asks for other actions in another order would fail its replay.
"""

from typing import Any

from contract import Answer, DeliveryReceipt, Outcome, OutcomeStatus, Question, ReceiptVerdict, Stage
from orchestrator.payloads import AskRequest
from tests.orchestrator.replay import (
    CALL_ACTIVITY,
    CREATE_TIMER,
    WAIT_FOR_EXTERNAL_EVENT,
    WHEN_ANY,
    History,
    fire_at,
    replay,
)
from tests.orchestrator.test_workflow import (
    CONTINUATION,
    INSTANCE,
    at,
    back_off,
    back_off_fired,
    delivered,
    make_plan,
    notify,
    parsed,
    progress,
    race,
    run_attempt,
    start,
)

ASK_FAILURE = "Activity function 'ask_bot' failed: DirectLineError: Direct Line post activity failed: HTTP 502"
ASK_DETAILS = '{"Message": "Direct Line post activity failed: HTTP 502"}'
TEXT = "Delete the 60 duplicates?"
TIMEOUT_SECONDS = 10.0
# Step 1 completes at 1 s and asks: its question expires 10 s later, before the 20 s deadline (its own timeout).
EXPIRES = at(1 + TIMEOUT_SECONDS)
QUESTION = Question(INSTANCE, "conv-1", 1, TEXT, ("Yes", "No"), TIMEOUT_SECONDS, EXPIRES.isoformat())
ASKING = {"step": 1, "result": None, "state": {"duplicates": 60},
          "ask": {"question": TEXT, "choices": ["Yes", "No"], "timeoutSeconds": TIMEOUT_SECONDS}}
WAITING = progress(Stage.WAITING, 1, 2, "Step 1 of 2 asked a question; waiting for the answer.")
UNDELIVERED = progress(Stage.FAILED, 1, 2, "The question of step 1 could not be delivered to the conversation.")
POSTED = {"directLineConversationId": "dl-1", "directLineActivityId": "dl-1|0000001"}


def asked(notify_attempts: int) -> History:
    """Step 1 of 2 (ids 0, 1) has completed at 1 s with a question: the orchestrator now posts it (id 2)."""
    return run_attempt(start(make_plan(steps=2, notify_attempts=notify_attempts)), 0).completed(at(1), 0, ASKING)


def ask() -> dict[str, Any]:
    """One post of the question: a PLAIN activity call awaited alone, as a delivery attempt of the outcome."""
    return {"actionType": CALL_ACTIVITY, "functionName": "ask_bot",
            "input": AskRequest(INSTANCE, CONTINUATION, QUESTION).to_json()}


def wait(timer_cancelled: bool) -> dict[str, Any]:
    """The wait for the answer raced against a fresh timer at the question's expiry."""
    event = {"actionType": WAIT_FOR_EXTERNAL_EVENT, "externalEventName": QUESTION.event_name, "reason": "ExternalEvent"}
    timer = {"actionType": CREATE_TIMER, "fireAt": fire_at(EXPIRES), "isCanceled": timer_cancelled}
    return {"actionType": WHEN_ANY, "compoundActions": [event, timer]}


def ask_failed(history: History, task_id: int, seconds: float) -> History:
    return history.scheduled(task_id, "ask_bot", "{}").failed(at(seconds), task_id, ASK_FAILURE, ASK_DETAILS)


def test_a_failed_post_of_the_question_backs_off_on_a_plain_timer_then_posts_it_again_and_waits() -> None:
    history = asked(notify_attempts=3)
    plan = make_plan(steps=2, notify_attempts=3)
    state = replay(history)
    assert parsed(state.actions) == [race(plan, 1, True), ask()]
    assert state.custom_status == WAITING

    # The post (id 2) fails at 2 s: a plain back-off timer (id 3) of the first delay, 5 s; the status stays WAITING.
    ask_failed(history, 2, 2)
    state = replay(history)
    assert parsed(state.actions) == [race(plan, 1, True), ask(), back_off(at(7))]
    assert state.custom_status == WAITING and state.error is None and not state.is_done

    # The timer fires: the same post again (id 4), which goes through; then the wait, raced against its timer (id 5).
    back_off_fired(history, 3, 7)
    history.scheduled(4, "ask_bot", "{}").completed(at(8), 4, POSTED)
    state = replay(history)
    assert parsed(state.actions) == [race(plan, 1, True), ask(), back_off(at(7)), ask(), wait(False)]
    assert state.custom_status == WAITING

    # The answer wins: its timer is cancelled and step 2 (ids 6, 7) runs with the answer and the state.
    history.timer_created(5, EXPIRES).raised(at(9), QUESTION.event_name, Answer(QUESTION.question_id, "Yes").to_json())
    state = replay(history)
    step_2 = race(plan, 2, False)
    step_2["compoundActions"][0]["input"].update(state={"duplicates": 60}, answer="Yes")
    assert parsed(state.actions) == [race(plan, 1, True), ask(), back_off(at(7)), ask(), wait(True), step_2]

    # Step 2 completes: the outcome is delivered (id 8) and the orchestration completes with it.
    run_attempt(history, 6).completed(at(10), 6, {"step": 2, "result": "Deleted 60 duplicates."})
    completed = Outcome(INSTANCE, "conv-1", OutcomeStatus.COMPLETED, "Deleted 60 duplicates.")
    step_2["compoundActions"][1]["isCanceled"] = True
    assert parsed(replay(history).actions)[-2:] == [step_2, notify(completed)]
    history.scheduled(8, "notify_bot", "{}").completed(at(11), 8, delivered(completed))
    state = replay(history)
    assert state.is_done and state.output == {**delivered(completed), "detail": None}


def test_a_question_whose_posts_run_out_fails_the_orchestration_naming_the_step_and_the_last_error() -> None:
    history = asked(notify_attempts=2)
    ask_failed(history, 2, 2)
    back_off_fired(history, 3, 7)
    ask_failed(history, 4, 8)
    state = replay(history)
    plan = make_plan(steps=2, notify_attempts=2)
    # No back-off after the last post, and no wait: nobody can answer a question that never arrived.
    assert parsed(state.actions) == [race(plan, 1, True), ask(), back_off(at(7)), ask()]
    assert state.error == "Could not deliver the question of step 1 to the bot after 2 attempts: " + ASK_FAILURE
    assert state.custom_status == UNDELIVERED


def test_a_single_post_of_the_question_fails_without_any_back_off() -> None:
    state = replay(ask_failed(asked(notify_attempts=1), 2, 2))
    assert parsed(state.actions) == [race(make_plan(steps=2, notify_attempts=1), 1, True), ask()]
    assert state.error == "Could not deliver the question of step 1 to the bot after 1 attempt: " + ASK_FAILURE
    assert state.custom_status == UNDELIVERED


def test_a_refused_question_fails_the_orchestration_at_once_with_the_refusal_in_status_and_error() -> None:
    history = asked(notify_attempts=5)
    refusal = DeliveryReceipt(INSTANCE, ReceiptVerdict.REFUSED, 403, "Forbidden", "the bot was removed",
                              signature="cd" * 32)
    history.scheduled(2, "ask_bot", "{}").completed(at(2), 2, {**POSTED, "directLineActivityId": "",
                                                               "refusal": refusal.to_json()})
    state = replay(history)
    assert parsed(state.actions) == [race(make_plan(steps=2, notify_attempts=5), 1, True), ask()]
    assert state.error == (
        "The question of step 1 was refused by the user's conversation, not retried: HTTP 403, code Forbidden: "
        f"the bot was removed (instance {INSTANCE})"
    )
    assert state.custom_status == UNDELIVERED

