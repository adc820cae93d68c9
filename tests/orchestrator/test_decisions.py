"""Pure decisions: progress messages and user-readable outcomes."""

from contract import OutcomeStatus, Stage
from orchestrator import decisions
from orchestrator.payloads import OperationPlan
from orchestrator.settings import RetryPolicy

PLAN = OperationPlan(
    option="option 2",
    continuation={"channelId": "emulator", "serviceUrl": "http://x/", "conversation": {"id": "c-9"}},
    steps=4,
    step_seconds=1.0,
    timeout_seconds=1.0,
    step_retry=RetryPolicy(1, 1.0),
    notify_retry=RetryPolicy(6, 5.0),
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
