"""The conversation: choose an option, start it and wait, report the outcome, start over."""

from botbuilder.core import MessageFactory
from botbuilder.dialogs import ComponentDialog, DialogTurnResult, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.choices import Choice
from botbuilder.dialogs.prompts import ChoicePrompt, PromptOptions

from bot import texts
from bot.long_operation_prompt import PROMPT_ID, LongOperationPrompt, LongOperationPromptOptions
from bot.operations_client import Operations
from contract import OPTIONS, Outcome

DIALOG_ID = "LongOperationDialog"
WATERFALL_ID = "LongOperationWaterfall"
CHOICE_PROMPT_ID = "OptionPrompt"
OPTION_VALUE = "option"


class LongOperationDialog(ComponentDialog):  # type: ignore[misc]  # botbuilder ships no type hints
    def __init__(self, operations: Operations) -> None:
        super().__init__(DIALOG_ID)
        self.add_dialog(WaterfallDialog(WATERFALL_ID, [self._choose_option, self._run_operation, self._report]))
        self.add_dialog(ChoicePrompt(CHOICE_PROMPT_ID))
        self.add_dialog(LongOperationPrompt(operations))
        self.initial_dialog_id = WATERFALL_ID

    async def _choose_option(self, step: WaterfallStepContext) -> DialogTurnResult:
        # No public ChoiceFactory.to_choices in Python (botbuilder-notes §1): build the Choice list directly.
        return await step.prompt(
            CHOICE_PROMPT_ID,
            PromptOptions(
                prompt=MessageFactory.text(texts.CHOOSE_OPTION),
                choices=[Choice(value) for value in OPTIONS],
            ),
        )

    async def _run_operation(self, step: WaterfallStepContext) -> DialogTurnResult:
        option = str(step.result.value)
        step.values[OPTION_VALUE] = option
        return await step.prompt(
            PROMPT_ID, LongOperationPromptOptions(option=option, prompt=MessageFactory.text(texts.ONE_MOMENT))
        )

    async def _report(self, step: WaterfallStepContext) -> DialogTurnResult:
        # None: the prompt already told the user why there is no outcome (start failed, cancelled, ended).
        if step.result is not None:
            outcome = Outcome.from_json(step.result)
            await step.context.send_activity(texts.outcome_text(outcome, str(step.values.get(OPTION_VALUE, ""))))
        return await step.replace_dialog(WATERFALL_ID)
