"""Pure decisions: progress messages and user-readable outcomes."""

from datetime import UTC, datetime, timedelta

import pytest

from contract import OutcomeStatus, Stage
from orchestrator import decisions
from orchestrator.payloads import OperationPlan
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


def test_outcomes_carry_instance_conversation_and_a_readable_reason() -> None:
    failed = decisions.failed_outcome("op-1", PLAN, 3)
    assert (failed.instance_id, failed.conversation_id, failed.status) == ("op-1", "c-9", OutcomeStatus.FAILED)
    assert failed.result == "Sorry, option 2 failed at step 3 of 4 (tried once)."
    timed_out = decisions.timed_out_outcome("op-1", PLAN)
    assert timed_out.result == "Sorry, option 2 did not finish within 1 second."
    assert decisions.completed_outcome("op-1", PLAN, "done").result == "done"


def test_progress_stages_follow_the_outcome() -> None:
    assert decisions.step_progress(PLAN, 1).percent == 25
    failed = decisions.failed_outcome("op-1", PLAN, 2)
    assert decisions.notifying_progress(PLAN, 1, failed).stage is Stage.NOTIFYING
    final = decisions.final_progress(PLAN, 1, failed)
    assert (final.stage, final.step, final.message) == (Stage.FAILED, 1, failed.result)
    timed_out = decisions.timed_out_outcome("op-1", PLAN)
    assert decisions.final_progress(PLAN, 1, timed_out).stage is Stage.TIMED_OUT


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


def test_stopped_outcome_is_failed_or_timed_out_only() -> None:
    assert decisions.stopped_outcome("op-1", PLAN, 2, OutcomeStatus.FAILED) == decisions.failed_outcome("op-1", PLAN, 2)
    assert decisions.stopped_outcome("op-1", PLAN, 2, OutcomeStatus.TIMED_OUT) == decisions.timed_out_outcome(
        "op-1", PLAN
    )
    with pytest.raises(ValueError, match="completed"):
        decisions.stopped_outcome("op-1", PLAN, 2, OutcomeStatus.COMPLETED)


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
