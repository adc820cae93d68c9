"""Pure decisions: progress messages, and outcomes that carry facts for the bot to word."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from contract import Outcome, OutcomeStatus, Question, Stage, StopReason, Unanswered
from orchestrator import decisions
from orchestrator.payloads import Handover, OperationPlan
from orchestrator.settings import RetryPolicy, parse_settings

PLAN = OperationPlan(
    option="option 2",
    continuation={"channelId": "emulator", "serviceUrl": "http://x/", "conversation": {"id": "c-9"}},
    steps=4,
    step_seconds=1.0,
    timeout_seconds=1.0,
    step_retry=RetryPolicy(1, 1.0),
    notify_retry=RetryPolicy(6, 5.0, 2.0, 60.0),
)


def test_describe_seconds_reads_naturally() -> None:
    assert decisions.describe_seconds(20.0) == "20 seconds"
    assert decisions.describe_seconds(1.0) == "1 second"
    assert decisions.describe_seconds(2.5) == "2.5 seconds"


def test_a_stopped_outcome_carries_where_it_stopped_and_no_sentence() -> None:
    failed = decisions.stopped_outcome("op-1", PLAN, 3, OutcomeStatus.FAILED, 1)
    assert failed == Outcome("op-1", "c-9", OutcomeStatus.FAILED, "", StopReason(3, 4, 1, 1.0))
    timed_out = decisions.stopped_outcome("op-1", PLAN, 2, OutcomeStatus.TIMED_OUT, 0)
    assert timed_out == Outcome("op-1", "c-9", OutcomeStatus.TIMED_OUT, "", StopReason(2, 4, 0, 1.0))
    assert decisions.completed_outcome("op-1", PLAN, "done") == Outcome("op-1", "c-9", OutcomeStatus.COMPLETED, "done")
    with pytest.raises(ValueError, match="completed"):
        decisions.stopped_outcome("op-1", PLAN, 2, OutcomeStatus.COMPLETED, 1)


def test_the_final_progress_states_how_it_ended_in_facts_for_operators() -> None:
    assert decisions.step_progress(PLAN, 1).percent == 25
    failed = decisions.stopped_outcome("op-1", PLAN, 2, OutcomeStatus.FAILED, 3)
    assert decisions.notifying_progress(PLAN, 1, failed).stage is Stage.NOTIFYING
    final = decisions.final_progress(PLAN, 1, failed)
    assert (final.stage, final.step, final.message) == (
        Stage.FAILED, 1, "Stopped: step 2 of 4 failed on each of its 3 attempts.")
    once = decisions.stopped_outcome("op-1", PLAN, 2, OutcomeStatus.FAILED, 1)
    assert decisions.final_message(PLAN, once) == "Stopped: step 2 of 4 failed on its only attempt."
    timed_out = decisions.stopped_outcome("op-1", PLAN, 3, OutcomeStatus.TIMED_OUT, 1)
    final = decisions.final_progress(PLAN, 2, timed_out)
    assert (final.stage, final.message) == (
        Stage.TIMED_OUT, "Stopped at step 3 of 4: the deadline, 1 second after the start, passed.")
    completed = decisions.final_progress(PLAN, 4, decisions.completed_outcome("op-1", PLAN, "done"))
    assert (completed.stage, completed.percent, completed.message) == (Stage.COMPLETED, 100, "Completed all 4 steps.")
    # An outcome without its facts (none this orchestrator makes) still gets a true line.
    bare = Outcome("op-1", "c-9", OutcomeStatus.FAILED)
    assert decisions.final_message(PLAN, bare) == "Ended failed."


RETRYING = OperationPlan(**{**PLAN.__dict__, "timeout_seconds": 60.0, "step_retry": RetryPolicy(3, 2.0)})
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def test_a_failed_attempt_with_attempts_and_time_left_is_retried_after_the_delay() -> None:
    deadline = NOW + timedelta(seconds=10)
    assert decisions.after_failed_attempt(RETRYING, 1, NOW, deadline) == NOW + timedelta(seconds=2)
    # No backoff coefficient: the second retry waits as long as the first.
    assert decisions.after_failed_attempt(RETRYING, 2, NOW, deadline) == NOW + timedelta(seconds=2)


def test_the_last_attempt_failing_fails_the_operation() -> None:
    assert decisions.after_failed_attempt(RETRYING, 3, NOW, NOW + timedelta(seconds=10)) is OutcomeStatus.FAILED
    assert decisions.after_failed_attempt(PLAN, 1, NOW, NOW + timedelta(seconds=10)) is OutcomeStatus.FAILED


def test_a_back_off_ending_at_or_after_the_deadline_times_out() -> None:
    assert decisions.after_failed_attempt(RETRYING, 1, NOW, NOW + timedelta(seconds=2)) is OutcomeStatus.TIMED_OUT
    assert decisions.after_failed_attempt(RETRYING, 1, NOW, NOW + timedelta(seconds=1)) is OutcomeStatus.TIMED_OUT
    # Out of attempts counts first: the user learns it failed, not that it ran out of time.
    assert decisions.after_failed_attempt(RETRYING, 3, NOW, NOW) is OutcomeStatus.FAILED


def test_retrying_progress_names_the_step_and_the_next_attempt() -> None:
    shown = decisions.retrying_progress(RETRYING, 2, 3)
    assert (shown.stage, shown.step, shown.steps) == (Stage.RUNNING, 1, 4)
    assert shown.message == "Step 2 of 4 failed; trying again (attempt 3 of 3)."


def test_notify_delays_grow_by_the_coefficient_up_to_the_cap_and_the_default_window_is_135_seconds() -> None:
    defaults = parse_settings({}).notify_retry
    assert [decisions.retry_delay(defaults, attempt) for attempt in (1, 2, 3, 4, 5)] == [5, 10, 20, 40, 60]
    assert decisions.retry_delays(defaults) == [5, 10, 20, 40, 60]
    assert decisions.retry_window(defaults) == 135
    # Past the cap every delay is the cap.
    assert decisions.retry_delay(defaults, 9) == 60


def test_retry_delays_follow_the_formula_for_any_policy() -> None:
    policy = RetryPolicy(5, 0.5, 3.0, 10.0)
    assert decisions.retry_delays(policy) == [0.5, 1.5, 4.5, 10.0]
    assert decisions.retry_window(policy) == 16.5
    # Coefficient 1 without a cap (steps, and inputs written before backoff): the same delay every time.
    assert decisions.retry_delays(RetryPolicy(4, 2.0)) == [2.0, 2.0, 2.0]
    # A cap below the first delay caps that one too; one attempt has no delay at all.
    assert decisions.retry_delays(RetryPolicy(3, 5.0, 2.0, 1.0)) == [1.0, 1.0]
    assert decisions.retry_window(RetryPolicy(1, 5.0, 2.0, 60.0)) == 0


def test_a_huge_coefficient_stays_at_the_cap_without_overflowing() -> None:
    policy = RetryPolicy(100, 1.0, 1e300, 60.0)
    assert decisions.retry_delay(policy, 99) == 60.0
    assert decisions.retry_window(policy) == 1.0 + 98 * 60.0
    with pytest.raises(ValueError, match="attempts count from 1"):
        decisions.retry_delay(policy, 0)


def test_notify_retrying_progress_says_when_and_which_attempt() -> None:
    shown = decisions.notify_retrying_progress(PLAN, 3, 20.0, 3)
    assert (shown.stage, shown.step, shown.steps) == (Stage.NOTIFYING, 3, 4)
    assert shown.message == "Could not reach the bot yet; trying again in 20 seconds (attempt 3 of 6)."
    assert decisions.notify_retrying_progress(PLAN, 0, 0.5, 2).message == (
        "Could not reach the bot yet; trying again in 0.5 seconds (attempt 2 of 6).")


QUESTION = Question("op-q", "c-9", 1, "Delete the 60 duplicates?", ("Yes", "No"), 120.0, "2026-12-02T00:02:00+00:00")


def test_only_an_answer_to_this_question_that_it_takes_is_accepted() -> None:
    assert decisions.accepted_answer(QUESTION, {"questionId": "op-q:1", "answer": "Yes"}) == "Yes"
    assert decisions.accepted_answer(QUESTION, {"questionId": "op-q:2", "answer": "Yes"}) is None
    assert decisions.accepted_answer(QUESTION, {"questionId": "op-q:1", "answer": "yes"}) is None
    assert decisions.accepted_answer(QUESTION, {"questionId": "op-q:1"}) is None
    assert decisions.accepted_answer(QUESTION, "Yes") is None


def test_the_wait_for_an_answer_ends_at_the_questions_timeout_or_the_deadline_whichever_comes_first() -> None:
    asked = datetime(2026, 12, 2, tzinfo=UTC)
    assert decisions.answer_expires(asked, 120, asked + timedelta(hours=1)) == asked + timedelta(seconds=120)
    assert decisions.answer_expires(asked, 120, asked + timedelta(seconds=30)) == asked + timedelta(seconds=30)


def test_an_unanswered_question_stops_before_the_next_step_and_says_so_in_facts() -> None:
    outcome = decisions.unanswered_outcome("op-q", PLAN, QUESTION, by_deadline=False)
    assert (outcome.status, outcome.reason) == (
        OutcomeStatus.TIMED_OUT, StopReason(2, 4, 0, 1.0, unanswered=Unanswered("Delete the 60 duplicates?", 120.0)))
    assert decisions.final_message(PLAN, outcome) == (
        "Stopped before step 2 of 4: no answer to the question of step 1 within 120 seconds.")
    cut = decisions.unanswered_outcome("op-q", PLAN, QUESTION, by_deadline=True)
    assert decisions.final_message(PLAN, cut) == (
        "Stopped before step 2 of 4: no answer to the question of step 1 before the deadline.")


def test_waiting_progress_is_its_own_stage_after_the_asking_step() -> None:
    progress = decisions.waiting_progress(PLAN, 1)
    assert (progress.stage, progress.step, progress.percent, progress.message) == (
        Stage.WAITING, 1, 25, "Step 1 of 4 asked a question; waiting for the answer.")


def test_progress_is_due_once_the_cadence_has_passed_and_never_after_the_last_step() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    every = replace(PLAN, progress_every_seconds=2.0)
    assert not decisions.progress_due(every, 1, start, start + timedelta(seconds=1.999))
    assert decisions.progress_due(every, 1, start, start + timedelta(seconds=2))
    assert decisions.progress_due(every, 3, start, start + timedelta(seconds=60))
    # The last step: the outcome comes next.
    assert not decisions.progress_due(every, 4, start, start + timedelta(seconds=60))
    # Not opted in (also every plan of the previous version).
    assert not decisions.progress_due(PLAN, 1, start, start + timedelta(seconds=60))


def test_the_cadence_and_the_last_reports_time_survive_the_plans_json() -> None:
    moment = datetime(2026, 1, 1, 0, 0, 3, tzinfo=UTC)
    plan = replace(PLAN, progress_every_seconds=2.5, handover=Handover(progress_at=moment))
    again = OperationPlan.from_json(plan.to_json())
    assert (again.progress_every_seconds, again.handover.progress_at) == (2.5, moment)
    # Without either, the previous version's exact shape.
    assert "progressEverySeconds" not in PLAN.to_json() and "progressAt" not in PLAN.to_json()["handover"]
