"""The sentences the bot words from an outcome's facts (the conversation tests show them in place)."""

import pytest

from bot.texts import duration, outcome_text
from contract import Outcome, OutcomeStatus, StopReason


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (1, "1 second"), (0.5, "0.5 seconds"), (20, "20 seconds"), (60, "1 minute"), (90, "1 minute and 30 seconds"),
        (120, "2 minutes"), (3600, "1 hour"), (5400, "1 hour and 30 minutes"), (3661, "1 hour, 1 minute and 1 second"),
        (86400, "24 hours"),
    ],
)
def test_a_deadline_reads_in_the_largest_units_that_fit(seconds: float, said: str) -> None:
    assert duration(seconds) == said


def test_a_timed_out_outcome_says_the_deadline_and_where_it_stopped() -> None:
    outcome = Outcome("op-1", "c-1", OutcomeStatus.TIMED_OUT, reason=StopReason(4, 5, 2, 120))
    assert outcome_text(outcome, "option 3") == (
        "Sorry, the long operation: option 3 did not finish within 2 minutes, so it was stopped at step 4 of 5."
    )


def test_a_failed_outcome_counts_attempts_only_when_there_were_several() -> None:
    several = Outcome("op-1", "c-1", OutcomeStatus.FAILED, reason=StopReason(1, 4, 3, 120))
    assert outcome_text(several, "option 2") == (
        "Sorry, the long operation: option 2 failed at step 1 of 4 after 3 attempts."
    )
    once = Outcome("op-1", "c-1", OutcomeStatus.FAILED, reason=StopReason(1, 4, 1, 120))
    assert outcome_text(once, "option 2") == "Sorry, the long operation: option 2 failed at step 1 of 4."
