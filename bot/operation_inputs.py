"""OperationInputsDialog: asks for an operation's inputs one by one (operations/api.py), then starts it.

Its options (persisted in dialog state, so plain JSON) are ``{"option": id, "inputs": {name: value, ...}}``; each
turn asks for the next missing input, and once all are there it *replaces itself* with the LongOperationPrompt, so
the prompt sits where it always did in the parent waterfall and its result reaches the same step.
"""

from decimal import Decimal
from typing import Any

from botbuilder.core import MessageFactory
from botbuilder.dialogs import ComponentDialog, DialogTurnResult, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.choices import Choice
from botbuilder.dialogs.prompts import ChoicePrompt, NumberPrompt, PromptOptions, PromptValidatorContext

from bot import texts
from bot.long_operation_prompt import PROMPT_ID, LongOperationPromptOptions
from operations import REGISTRY, ChoiceInput, Input, NumberInput, Operation

INPUTS_DIALOG_ID = "OperationInputsDialog"
INPUTS_WATERFALL_ID = "OperationInputsWaterfall"
NUMBER_PROMPT_ID = "OperationNumberInput"
CHOICE_INPUT_PROMPT_ID = "OperationChoiceInput"


def _pending(options: dict[str, Any]) -> tuple[Operation, Input | None]:
    operation = REGISTRY[str(options["option"])]
    collected = options.get("inputs") or {}
    missing = [item for item in operation.inputs if item.name not in collected]
    return operation, (missing[0] if missing else None)


async def _number_in_range(prompt_context: PromptValidatorContext) -> bool:
    if not prompt_context.recognized.succeeded:
        return False
    _, item = _pending(prompt_context.options.validations)
    value = prompt_context.recognized.value
    if not isinstance(item, NumberInput) or not isinstance(value, int | float | Decimal):
        return False
    return bool(value == int(value) and item.minimum <= value <= item.maximum)


class OperationInputsDialog(WaterfallDialog):  # type: ignore[misc]  # botbuilder ships no type hints
    def __init__(self) -> None:
        super().__init__(INPUTS_WATERFALL_ID, [self._ask, self._store])

    async def _ask(self, step: WaterfallStepContext) -> DialogTurnResult:
        options: dict[str, Any] = dict(step.options)
        _, item = _pending(options)
        if isinstance(item, NumberInput):
            return await step.prompt(NUMBER_PROMPT_ID, PromptOptions(
                prompt=MessageFactory.text(texts.ask_number(item.label)),
                retry_prompt=MessageFactory.text(texts.number_retry(item.label, item.minimum, item.maximum)),
                # Where the validator finds which input this is (it sees only the prompt's options).
                validations=options,
            ))
        if isinstance(item, ChoiceInput):
            return await step.prompt(CHOICE_INPUT_PROMPT_ID, PromptOptions(
                prompt=MessageFactory.text(texts.ask_choice(item.label)),
                choices=[Choice(choice) for choice in item.choices],
            ))
        return await step.next(None)

    async def _store(self, step: WaterfallStepContext) -> DialogTurnResult:
        options: dict[str, Any] = dict(step.options)
        _, item = _pending(options)
        inputs = dict(options.get("inputs") or {})
        if isinstance(item, NumberInput):
            inputs[item.name] = int(step.result)
        elif isinstance(item, ChoiceInput):
            inputs[item.name] = str(step.result.value)
        options = {**options, "inputs": inputs}
        _, following = _pending(options)
        if following is not None:
            return await step.replace_dialog(INPUTS_WATERFALL_ID, options)
        return await step.replace_dialog(PROMPT_ID, LongOperationPromptOptions(
            option=str(options["option"]), inputs=inputs, prompt=MessageFactory.text(texts.ONE_MOMENT)
        ))


def add_input_dialogs(dialog: ComponentDialog) -> None:
    """The inputs waterfall and its prompts, in the component that also holds the LongOperationPrompt."""
    dialog.add_dialog(OperationInputsDialog())
    dialog.add_dialog(NumberPrompt(NUMBER_PROMPT_ID, _number_in_range, default_locale="en-us"))
    dialog.add_dialog(ChoicePrompt(CHOICE_INPUT_PROMPT_ID))
