from typing import Any

from bench.accounting import UserRecord, account, is_outcome_text
from bot.texts import ONE_MOMENT, outcome_text
from contract import Outcome, OutcomeStatus, StopReason

ONE = "Thanks for waiting. (Result for long operation one!)"
THREE = "Thanks for waiting. (Yet another result, this one for operation three!)"


def _instance(conversation_id: str, status: str = "Completed", instance_id: str = "op-1") -> dict[str, Any]:
    return {"instanceId": instance_id, "runtimeStatus": status,
            "output": {"outcome": {"conversationId": conversation_id, "instanceId": instance_id}}}


def _user(conversation_id: str, expected: str, texts: list[str], instances: list[dict[str, Any]] | None = None,
          error: str | None = None) -> UserRecord:
    found = [_instance(conversation_id)] if instances is None else instances
    return UserRecord(conversation_id, expected, texts, found, error)


def test_each_user_with_exactly_its_own_result_is_clean() -> None:
    delivery = account([_user("a", ONE, [ONE]), _user("b", THREE, [THREE])])
    assert (delivery.users, delivery.delivered, delivery.faults, delivery.clean) == (2, 2, 0, True)
    assert delivery.examples == []


def test_a_missing_result_is_lost() -> None:
    delivery = account([_user("a", ONE, []), _user("b", ONE, [ONE])])
    assert (delivery.lost, delivery.duplicated, delivery.misrouted, delivery.delivered) == (1, 0, 0, 1)
    assert delivery.examples == ["a: its result never arrived"]
    assert not delivery.clean


def test_every_extra_copy_is_a_duplicate() -> None:
    delivery = account([_user("a", ONE, [ONE, ONE, ONE])])
    assert (delivery.lost, delivery.duplicated, delivery.misrouted, delivery.delivered) == (0, 2, 0, 0)


def test_another_options_result_in_a_conversation_is_misrouted() -> None:
    # b's result landed in a: a has a foreign outcome, b lost its own.
    delivery = account([_user("a", ONE, [ONE, THREE]), _user("b", THREE, [])])
    assert (delivery.misrouted, delivery.lost, delivery.duplicated, delivery.delivered) == (1, 1, 0, 0)


def test_same_option_misroute_counts_as_lost_plus_duplicated() -> None:
    delivery = account([_user("a", ONE, [ONE, ONE]), _user("b", ONE, [])])
    assert (delivery.lost, delivery.duplicated, delivery.faults) == (1, 1, 2)


def test_an_instance_whose_outcome_names_another_conversation_is_misrouted() -> None:
    delivery = account([_user("a", ONE, [ONE], [_instance("b")])])
    assert (delivery.misrouted, delivery.instance_faults, delivery.delivered) == (1, 0, 0)
    assert delivery.examples == ["a: instance op-1 delivered to conversation 'b'"]


def test_no_instance_several_instances_or_an_unfinished_one_are_instance_faults() -> None:
    delivery = account([
        _user("a", ONE, [ONE], []),
        _user("b", ONE, [ONE], [_instance("b"), _instance("b", instance_id="op-2")]),
        _user("c", ONE, [ONE], [_instance("c", status="Running")]),
        _user("d", ONE, [ONE], [{"instanceId": "op-1", "runtimeStatus": "Completed", "output": None}]),
    ])
    assert (delivery.instance_faults, delivery.misrouted, delivery.delivered) == (3, 1, 0)


def test_a_user_side_error_is_counted_and_makes_the_run_unclean() -> None:
    delivery = account([_user("a", ONE, [ONE], error="WaitTimeout: late")])
    assert (delivery.user_errors, delivery.faults, delivery.delivered, delivery.clean) == (1, 0, 1, False)
    assert delivery.examples == ["a: WaitTimeout: late"]


def test_examples_are_capped() -> None:
    delivery = account([_user(str(i), ONE, []) for i in range(50)])
    assert delivery.lost == 50
    assert len(delivery.examples) == 10


def test_outcome_texts_are_recognized_by_their_opening() -> None:
    assert is_outcome_text(ONE)
    assert is_outcome_text("Sorry, the long operation: option 2 failed at step 2 of 3 after 2 attempts.")
    assert is_outcome_text(
        "Sorry, the long operation: option 1 did not finish within 1 second, so it was stopped at step 1 of 3.")
    assert not is_outcome_text("Still performing the long operation: option 1 ... 50% done (step 1 of 2).")
    assert not is_outcome_text("...one moment please....")


def test_outcome_texts_are_recognised_by_the_bots_own_wording() -> None:
    # The prefixes come from bot/texts.outcome_text, so a change of wording there cannot silently count all lost.
    for status in OutcomeStatus:
        assert is_outcome_text(outcome_text(Outcome("op", "conv", status, "why"), "option 2"))
    for status in (OutcomeStatus.FAILED, OutcomeStatus.TIMED_OUT):
        stopped = Outcome("op", "conv", status, reason=StopReason(2, 3, 2, 60))
        assert is_outcome_text(outcome_text(stopped, "option 2"))
    assert not is_outcome_text("Still performing the long operation: option 2 ... 50% done (step 1 of 2).")
    assert not is_outcome_text(ONE_MOMENT)
