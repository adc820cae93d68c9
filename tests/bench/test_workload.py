"""The bench's workload: any registered operation, its inputs checked by its own schema, its result known ahead."""

import asyncio
import json

import pytest

from bench.workload import WorkloadError, choose, default_operation_ids, expected_seen, parse_input, seen
from operations import Done, Next, NumberInput, Operation, StepInput

ONE = "Thanks for waiting. (Result for long operation one!)"


def test_the_default_is_every_operation_without_inputs_or_questions_the_seeds_three() -> None:
    # "tidy files" needs no inputs but asks a question nobody answers in a bench run.
    assert default_operation_ids() == ["option 1", "option 2", "option 3"]
    assert [chosen.id for chosen in choose(None, {})] == ["option 1", "option 2", "option 3"]


def test_an_operation_with_an_input_gets_its_question_and_answer() -> None:
    (chosen,) = choose(["count primes"], {"limit": 2000})
    assert chosen.inputs == {"limit": 2000}
    assert [(a.question, a.reply) for a in chosen.answers] == [
        ("Please enter the upper limit (a whole number from 1000 to 5000000).", "2000")]
    assert chosen.describe() == "count primes (limit=2000)"
    assert not chosen.simulated and choose(["option 2"], {})[0].simulated


@pytest.mark.parametrize(("ids", "given", "message"), [
    (["option 9"], {}, "--operation 'option 9': no such operation (registered: 'option 1', 'option 2', "
                       "'option 3', 'count primes', 'tidy files')"),
    (["tidy files"], {}, "--operation 'tidy files' asks a question mid-run, which no bench user answers"),
    (["count primes"], {}, "--operation 'count primes' needs --input limit=VALUE "
                           "(the upper limit (a whole number from 1000 to 5000000))"),
    (["count primes"], {"limit": 5}, "--input for 'count primes': inputs.limit: expected 1000 to 5000000, got 5"),
    (["option 1"], {"limit": 5}, "--input limit: no chosen operation takes it"),
    ([], {}, "--operation: no operation chosen (every registered one needs inputs; name one)"),
])
def test_a_bad_choice_names_what_is_wrong(ids: list[str], given: dict[str, object], message: str) -> None:
    with pytest.raises(WorkloadError) as raised:
        choose(ids, given)
    assert str(raised.value) == message


def test_inputs_parse_as_numbers_when_whole_and_strings_otherwise() -> None:
    assert parse_input("limit=2000") == ("limit", 2000)
    assert parse_input("colour = red") == ("colour", "red")
    with pytest.raises(WorkloadError, match=r"^--input 'limit': expected NAME=VALUE$"):
        parse_input("limit")


def test_the_expected_result_of_simulated_work_is_the_seeds_sentence() -> None:
    assert asyncio.run(expected_seen(choose(["option 1"], {})[0], steps_setting=3)) == ONE


def test_the_expected_result_of_real_work_is_its_card_computed_by_running_its_steps() -> None:
    expected = asyncio.run(expected_seen(choose(["count primes"], {"limit": 1000})[0], steps_setting=2))
    text, cards = expected.split("\n", 1)
    assert text == "Thanks for waiting. The long operation: count primes has finished. Here is its result."
    (card,) = json.loads(cards)
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    facts = {fact["title"]: fact["value"] for fact in card["content"]["body"][1]["facts"]}
    # 168 primes below 1000, the largest 997.
    assert facts == {"Limit": "1,000", "Primes found": "168", "Largest prime": "997", "Steps": "4"}


def test_what_a_user_sees_of_a_card_equals_the_expected_form() -> None:
    card = {"contentType": "application/vnd.microsoft.card.adaptive", "content": {"b": 1, "a": [2]}}
    assert seen("Here.", [card]) == seen("Here.", [{**card, "name": None}])
    assert seen("Here.", []) == "Here."


def test_state_flows_from_step_to_step_in_the_reference_run() -> None:
    def counting(step: StepInput) -> Next | Done:
        total = (step.state or {"n": 0})["n"] + step.step
        return Done(text=f"total {total}") if step.step == step.steps else Next({"n": total})

    registry = {"sum": Operation("sum", "sum", counting, inputs=(NumberInput("x", "x", 0, 9),), steps=3)}
    (chosen,) = choose(["sum"], {"x": 1}, registry)
    assert asyncio.run(expected_seen(chosen, steps_setting=1)) == "Thanks for waiting. total 6"
