"""An operation opts in to proactive progress with ``progress_every_seconds``, checked when it is declared."""

import math

import pytest

from operations import REGISTRY, Done, Operation, StepInput


def _work(step: StepInput) -> Done:
    return Done(text="done")


@pytest.mark.parametrize("every", [0, 0.5, -3, math.inf, math.nan, True, "30"])
def test_a_cadence_under_a_second_or_not_a_number_is_refused_naming_it(every: object) -> None:
    with pytest.raises(ValueError) as raised:
        Operation("slow", "slow", _work, progress_every_seconds=every)  # type: ignore[arg-type]
    assert str(raised.value) == (f"operation 'slow': progress_every_seconds must be a number of seconds of at least 1, "
                                 f"got {every!r}")


def test_count_primes_opts_in_and_the_seeds_options_keep_no_progress() -> None:
    assert Operation("slow", "slow", _work, progress_every_seconds=30).progress_every_seconds == 30
    assert REGISTRY["count primes"].progress_every_seconds == 2
    assert [REGISTRY[option].progress_every_seconds for option in ("option 1", "option 2", "option 3")] == [None] * 3
