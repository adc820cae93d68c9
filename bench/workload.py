"""What the simulated users of ``python -m bench system`` run: operations of the registry, with their inputs.

Any registered operation can be benchmarked (operations/registry.py); ``--operation`` picks which (default: every
operation that needs no inputs, the seed's three), ``--input NAME=VALUE`` gives the inputs those need, checked by
the operation's own schema (``Operation.validate_inputs``), as the starter checks them.

The result every user must get is known before the run: the load generator runs the chosen operation's steps once
itself, in order and with no wait (``step_seconds=0``), through the operation API the function app uses, and renders
the outcome the way the bot does (its text, or the card of a structured result). So an operation's result must be a
function of its inputs, as a checkpointed step's must be anyway (operations/api.py), or every user counts as lost.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from contract import ContractError, Outcome, OutcomeStatus
from operations import REGISTRY, ChoiceInput, Done, Next, NumberInput, Operation, StepInput
from operations.seed import SimulatedWork


class WorkloadError(ValueError):
    """A choice of operations or inputs the bench cannot run; the message names the option that is wrong."""


@dataclass(frozen=True)
class Answer:
    """What the bot asks for an input (a fragment of its question) and what the user answers."""

    question: str
    reply: str


@dataclass(frozen=True)
class ChosenOperation:
    operation: Operation
    inputs: Mapping[str, Any]
    # The questions the bot asks before it starts the operation, in order, with the user's answers.
    answers: tuple[Answer, ...]

    @property
    def id(self) -> str:
        return self.operation.id

    @property
    def simulated(self) -> bool:
        """True for the seed's simulated work, which waits ``OperationSeconds`` in all; real work takes its own time."""
        return isinstance(self.operation.run, SimulatedWork)

    def describe(self) -> str:
        given = ", ".join(f"{name}={value}" for name, value in self.inputs.items())
        return f"{self.id} ({given})" if given else self.id


def default_operation_ids(registry: Mapping[str, Operation] = REGISTRY) -> list[str]:
    """Every registered operation that needs no inputs and asks no questions (nobody answers in a bench run), in the
    registry's order."""
    return [operation.id for operation in registry.values() if not operation.inputs and not operation.asks]


def parse_input(text: str) -> tuple[str, object]:
    """``NAME=VALUE`` from the command line; a whole number becomes a number, anything else stays a string."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise WorkloadError(f"--input {text!r}: expected NAME=VALUE")
    value = value.strip()
    try:
        return name.strip(), int(value)
    except ValueError:
        return name.strip(), value


def choose(ids: Sequence[str] | None, given: Mapping[str, object],
           registry: Mapping[str, Operation] = REGISTRY) -> list[ChosenOperation]:
    """The operations named by ``ids`` (None: ``default_operation_ids``) with their inputs from ``given``.

    WorkloadError names an unknown operation, one that asks questions, a missing or bad input, or an input no chosen
    operation takes."""
    chosen_ids = default_operation_ids(registry) if ids is None else list(ids)
    if not chosen_ids:
        raise WorkloadError("--operation: no operation chosen (every registered one needs inputs; name one)")
    chosen: list[ChosenOperation] = []
    used: set[str] = set()
    for operation_id in chosen_ids:
        operation = registry.get(operation_id)
        if operation is None:
            known = ", ".join(repr(known_id) for known_id in registry)
            raise WorkloadError(f"--operation {operation_id!r}: no such operation (registered: {known})")
        if operation.asks:
            raise WorkloadError(f"--operation {operation_id!r} asks a question mid-run, which no bench user answers")
        names = [item.name for item in operation.inputs]
        for name in names:
            if name not in given:
                raise WorkloadError(f"--operation {operation_id!r} needs --input {name}=VALUE "
                                    f"({operation.inputs[names.index(name)].label})")
        try:
            inputs = operation.validate_inputs({name: given[name] for name in names})
        except ContractError as error:
            raise WorkloadError(f"--input for {operation_id!r}: {error}") from None
        used.update(names)
        chosen.append(ChosenOperation(operation, inputs, tuple(_answer(item, inputs) for item in operation.inputs)))
    unused = sorted(set(given) - used)
    if unused:
        raise WorkloadError(f"--input {unused[0]}: no chosen operation takes it")
    return chosen


def _answer(item: NumberInput | ChoiceInput, inputs: Mapping[str, Any]) -> Answer:
    # The question's fixed part: bot/texts.py words it around the label (ask_number, ask_choice).
    from bot import texts

    question = texts.ask_number(item.label) if isinstance(item, NumberInput) else texts.ask_choice(item.label)
    return Answer(question, str(inputs[item.name]))


async def result_of(chosen: ChosenOperation, steps_setting: int) -> Done:
    """The operation's result, computed here by running its steps in order (the orchestrator's loop, minus the
    Durable host); ``steps_setting`` is OperationSteps, for an operation without its own step count."""
    operation = chosen.operation
    steps = operation.steps or steps_setting
    state: dict[str, Any] | None = None
    for step in range(1, steps + 1):
        output = await operation.run_step(StepInput(step, steps, chosen.inputs, state))
        if isinstance(output, Done):
            return output
        assert isinstance(output, Next)
        state = output.state
    raise WorkloadError(f"{chosen.id!r} did not finish in its {steps} steps")


def seen(text: str, attachments: Sequence[Mapping[str, Any]] | None) -> str:
    """What a user sees of a message, as one string: its text, then its attachments as canonical JSON (so a card
    result is compared whole, not by its sentence)."""
    if not attachments:
        return text
    cards = [{"contentType": a.get("contentType"), "content": a.get("content")} for a in attachments]
    return f"{text}\n{json.dumps(cards, sort_keys=True, separators=(',', ':'))}"


async def expected_seen(chosen: ChosenOperation, steps_setting: int) -> str:
    """The outcome message the bot must send a user who ran ``chosen``, as ``seen`` writes it."""
    # Imported here: the bot's modules load botbuilder, which the rest of this module has no use for.
    from bot import texts
    from bot.result_cards import render_result

    done = await result_of(chosen, steps_setting)
    if done.data is not None:
        card = render_result(chosen.id, done.data).serialize()
        return seen(texts.result_card_intro(chosen.id), [card])
    return texts.outcome_text(Outcome("-", "-", OutcomeStatus.COMPLETED, done.text or ""), chosen.id)
