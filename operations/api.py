"""The operation API: what one long operation declares, for the bot and the function app alike.

Pure data and plain functions, no Azure and no botbuilder imports (like contract/): the function app imports it to
validate inputs and run steps, the bot to offer operations, ask for their inputs and render their results.

An operation is checkpointed steps. The orchestrator, never the operation, owns the Durable calls: it calls the
``run_operation_step`` activity once per step (with its own retries and deadline, orchestrator/workflow.py) and
carries the step's ``state`` (plain JSON) into the next step's request, so a step must be idempotent (activities run
at least once) and depend only on its ``StepInput``. A step's ``run`` may be a plain function, for blocking work
(CPU or I/O): the activity runs it in a worker thread (``asyncio.to_thread``, orchestrator/steps.py), so the
worker's event loop keeps serving other invocations; an ``async`` one is awaited on the loop.

An operation may opt in to proactive progress (``progress_every_seconds``): after a step that is not the last, the
orchestrator posts the conversation a progress report (step n of N) when at least that many seconds of the
orchestration's clock have passed since its last report (or since the start), so a card with a progress bar keeps
the user informed without asking (bot/progress_cards.py). Never after the last step: the outcome follows it.

The last step returns ``Done``: a text result (``Done(text=...)``, shown as the seed's options show theirs) or a
structured JSON result (``Done(data=...)``) with a ``kind`` the bot has a renderer for (bot/result_cards.py).

A step that is not the last may return ``Ask`` instead of ``Next``: the orchestrator posts the question to the
conversation, waits for the owner's answer (at most ``timeout_seconds``, and never past the operation's deadline)
and runs the next step with ``StepInput.answer`` set; with no answer in time the operation stops, and the bot says
that nobody answered (Durable's human-interaction pattern, README "Ask a question mid-run").
"""

import asyncio
import inspect
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from contract.errors import ContractError
from contract.question import MAX_QUESTION_CHARS

JsonObject = dict[str, Any]
# Each report is a Direct Line post and a turn of the bot that sends into the user's conversation; channels throttle
# a bot that sends faster (Teams: about one message per second per conversation, "Rate limiting for bots" in the
# Teams docs), so reports come at most once a second.
MIN_PROGRESS_EVERY_SECONDS = 1.0


@dataclass(frozen=True)
class NumberInput:
    """A whole number the bot asks for before starting (a number prompt), checked again by the starter."""

    name: str
    # What is asked for, as a noun phrase ("the upper limit"); bot/texts.py words the question around it.
    label: str
    minimum: int
    maximum: int

    def validate(self, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ContractError(f"inputs.{self.name}", f"expected a whole number, got {_describe(value)}")
        if int(value) != value:
            raise ContractError(f"inputs.{self.name}", f"expected a whole number, got {value!r}")
        if not self.minimum <= value <= self.maximum:
            raise ContractError(f"inputs.{self.name}", f"expected {self.minimum} to {self.maximum}, got {int(value)}")
        return int(value)


@dataclass(frozen=True)
class ChoiceInput:
    """One of a few strings the bot offers as buttons before starting, checked again by the starter."""

    name: str
    label: str
    choices: tuple[str, ...]

    def validate(self, value: object) -> str:
        if not isinstance(value, str) or value not in self.choices:
            known = ", ".join(repr(choice) for choice in self.choices)
            raise ContractError(f"inputs.{self.name}", f"expected one of {known}, got {_describe(value)}")
        return value


Input = NumberInput | ChoiceInput


@dataclass(frozen=True)
class StepInput:
    """What one step sees: its number, the operation's validated inputs and the state the previous step returned."""

    step: int
    steps: int
    inputs: Mapping[str, Any]
    # None on the first step; afterwards exactly what the previous step returned as ``Next(state)``.
    state: JsonObject | None
    # The StepSeconds setting: the seed's simulated work waits this long per step; real work ignores it.
    step_seconds: float = 0.0
    instance_id: str = ""
    attempt: int = 1
    # The owner's answer when the previous step returned ``Ask``: one of its choices, or the free text; else None.
    answer: str | None = None


@dataclass(frozen=True)
class Next:
    """A step that is not the last: the state (plain JSON) the next step starts from (None: nothing to carry)."""

    state: JsonObject | None = None


@dataclass(frozen=True)
class Done:
    """The last step: exactly one of a text result or a structured one (``data``, rendered by ``kind``)."""

    text: str | None = None
    data: JsonObject | None = None

    def __post_init__(self) -> None:
        if (self.text is None) == (self.data is None):
            raise ValueError("Done takes exactly one of text= or data=")
        if self.data is not None and not isinstance(self.data.get("kind"), str):
            raise ValueError("a structured result needs a 'kind' (which renderer shows it)")


@dataclass(frozen=True)
class Ask:
    """A step that is not the last asks the conversation a question, then carries ``state`` to the next step, which
    sees the answer in ``StepInput.answer``. ``choices``: the answers offered as buttons (the answer is exactly one
    of them); None asks for free text. ``timeout_seconds``: how long to wait for the answer."""

    question: str
    choices: tuple[str, ...] | None = None
    timeout_seconds: float = 120.0
    state: JsonObject | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.question, str) or not self.question.strip():
            raise ValueError("Ask needs a question (a non-empty string)")
        if len(self.question) > MAX_QUESTION_CHARS:
            raise ValueError(f"Ask's question is {len(self.question)} characters; the limit is {MAX_QUESTION_CHARS}")
        if self.choices is not None:
            if isinstance(self.choices, str) or not isinstance(self.choices, tuple) or not self.choices:
                raise ValueError("Ask's choices must be a non-empty tuple of strings, or None for a free-text answer")
            for choice in self.choices:
                if not isinstance(choice, str) or not choice.strip():
                    raise ValueError(f"Ask's choices must be non-empty strings, got {choice!r}")
            folded = [choice.strip().casefold() for choice in self.choices]
            if len(set(folded)) != len(folded):
                raise ValueError(f"Ask's choices repeat (ignoring case): {list(self.choices)}")
        if (isinstance(self.timeout_seconds, bool) or not isinstance(self.timeout_seconds, int | float)
                or not math.isfinite(self.timeout_seconds) or self.timeout_seconds <= 0):
            raise ValueError(f"Ask's timeout_seconds must be a finite number above 0, got {self.timeout_seconds!r}")


StepOutput = Next | Ask | Done
StepFunction = Callable[[StepInput], StepOutput | Awaitable[StepOutput]]


@dataclass(frozen=True)
class Operation:
    """One long operation: its id (what the bot sends), its title (what the user sees), inputs and steps."""

    id: str
    title: str
    run: StepFunction
    inputs: tuple[Input, ...] = ()
    # How many steps; None uses the OperationSteps setting (the seed's options do).
    steps: int | None = None
    # Proactive progress at most every this many seconds (see the module doc); None: none, the user asks for it.
    progress_every_seconds: float | None = None
    # True for an operation whose steps may return Ask: it needs somebody to answer, so unattended runs (the bench's
    # default workload) leave it out. A step of an operation without it that asks fails as a programming error.
    asks: bool = False

    def __post_init__(self) -> None:
        names = [item.name for item in self.inputs]
        if len(set(names)) != len(names):
            raise ValueError(f"operation {self.id!r}: input names repeat: {names}")
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"operation {self.id!r}: steps must be 1 or more, got {self.steps}")
        every = self.progress_every_seconds
        if every is not None and (isinstance(every, bool) or not isinstance(every, int | float)
                                  or not math.isfinite(every) or every < MIN_PROGRESS_EVERY_SECONDS):
            raise ValueError(f"operation {self.id!r}: progress_every_seconds must be a number of seconds of at "
                             f"least {MIN_PROGRESS_EVERY_SECONDS:g}, got {every!r}")

    def validate_inputs(self, value: object) -> JsonObject:
        """The inputs, checked against this operation's schema; ContractError names the first bad field."""
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise ContractError("inputs", f"expected a JSON object, got {_describe(value)}")
        known = {item.name for item in self.inputs}
        for name in value:
            if name not in known:
                expected = ", ".join(sorted(known)) or "none"
                raise ContractError(f"inputs.{name}", f"not an input of {self.id!r} (its inputs: {expected})")
        checked: JsonObject = {}
        for item in self.inputs:
            if item.name not in value:
                raise ContractError(f"inputs.{item.name}", "missing")
            checked[item.name] = item.validate(value[item.name])
        return checked

    async def run_step(self, step: StepInput) -> StepOutput:
        """Run one step: a plain function in a worker thread, a coroutine function on the loop."""
        # Checked below: a step function is user code, and may return anything.
        output: object
        if _is_coroutine_function(self.run):
            output = await self.run(step)
        else:
            output = await asyncio.to_thread(self.run, step)
            if inspect.isawaitable(output):
                output = await output
        if not isinstance(output, Next | Ask | Done):
            raise TypeError(f"step {step.step} of {self.id!r} returned {type(output).__name__}, not Next, Ask or Done")
        if isinstance(output, Ask) and not self.asks:
            raise TypeError(f"step {step.step} of {self.id!r} returned Ask, but the operation does not declare "
                            "asks=True")
        if isinstance(output, Next | Ask) and step.step >= step.steps:
            raise TypeError(f"the last step ({step.step}) of {self.id!r} returned {type(output).__name__}, not Done")
        return output


def _is_coroutine_function(run: StepFunction) -> TypeGuard[Callable[[StepInput], Awaitable[StepOutput]]]:
    # A callable object with an ``async def __call__`` (the seed's SimulatedWork) is one too, though
    # inspect.iscoroutinefunction says no for the object itself: without this it would take a worker thread only to
    # create its coroutine.
    return inspect.iscoroutinefunction(run) or inspect.iscoroutinefunction(type(run).__call__)


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else "a long string"
    return f"{value!r}" if isinstance(value, int | float) else f"a JSON {type(value).__name__}"
