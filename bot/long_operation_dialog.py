"""The conversation: choose an option, start it and wait, report the outcome, start over."""

from botbuilder.core import MessageFactory
from botbuilder.dialogs import ComponentDialog, DialogTurnResult, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.choices import Choice, ListStyle
from botbuilder.dialogs.prompts import ChoicePrompt, PromptOptions, PromptValidatorContext
from botframework.connector import Channels

from bot import texts
from bot.files import carries_files
from bot.long_operation_prompt import PROMPT_ID, LongOperationPrompt, LongOperationPromptOptions
from bot.operation_inputs import INPUTS_WATERFALL_ID, add_input_dialogs
from bot.operations_client import Operations
from bot.result_cards import render_result
from contract import Outcome, OutcomeStatus
from operations import REGISTRY

DIALOG_ID = "LongOperationDialog"
WATERFALL_ID = "LongOperationWaterfall"
CHOICE_PROMPT_ID = "OptionPrompt"
OPTION_VALUE = "option"


async def _option_chosen(prompt_context: PromptValidatorContext) -> bool:
    """The choice prompt's validator: an option recognized. A message with files and no option is asked again with
    a retry prompt that says files are not used; any other miss with the plain prompt. botbuilder's Prompt hands
    this same options object to the retry (prompt.py continue_dialog), so it is set (or reset) on every try."""
    files = carries_files(prompt_context.context.activity)
    prompt_context.options.retry_prompt = MessageFactory.text(texts.FILES_NOT_USED) if files else None
    return bool(prompt_context.recognized.succeeded)


class LongOperationDialog(ComponentDialog):  # type: ignore[misc]  # botbuilder ships no type hints
    def __init__(self, operations: Operations) -> None:
        super().__init__(DIALOG_ID)
        self.add_dialog(WaterfallDialog(WATERFALL_ID, [self._choose_option, self._run_operation, self._report]))
        self.add_dialog(ChoicePrompt(CHOICE_PROMPT_ID, _option_chosen))
        self.add_dialog(LongOperationPrompt(operations))
        add_input_dialogs(self)
        self.initial_dialog_id = WATERFALL_ID

    async def _choose_option(self, step: WaterfallStepContext) -> DialogTurnResult:
        # No public ChoiceFactory.to_choices in Python (botbuilder-notes §1): build the Choice list directly.
        return await step.prompt(
            CHOICE_PROMPT_ID,
            PromptOptions(
                prompt=MessageFactory.text(texts.CHOOSE_OPTION),
                # Every registered operation, in the registry's order (operations/registry.py).
                choices=[Choice(operation.id) for operation in REGISTRY.values()],
                # Teams gets no suggested actions, and botbuilder's ChoiceFactory.for_channel allows it only 3 card
                # actions (botbuilder-dialogs choices/channel.py supports_card_actions), so more choices would fall
                # back to a plain numbered list; a hero card holds up to 6 buttons in Teams (Teams card reference).
                style=ListStyle.hero_card if step.context.activity.channel_id == Channels.ms_teams else None,
            ),
        )

    async def _run_operation(self, step: WaterfallStepContext) -> DialogTurnResult:
        option = str(step.result.value)
        step.values[OPTION_VALUE] = option
        if REGISTRY[option].inputs:
            # Asks for each input, then replaces itself with the prompt: the prompt's result still comes to _report.
            return await step.begin_dialog(INPUTS_WATERFALL_ID, {"option": option, "inputs": {}})
        return await step.prompt(
            PROMPT_ID, LongOperationPromptOptions(option=option, prompt=MessageFactory.text(texts.ONE_MOMENT))
        )

    async def _report(self, step: WaterfallStepContext) -> DialogTurnResult:
        # None: the prompt already told the user why there is no outcome (start failed, cancelled, ended). Otherwise
        # the outcome the proactive turn verified, handed over as it is (bot/outcome_event.py VERIFIED_EVENT).
        if isinstance(step.result, Outcome):
            outcome = step.result
            option = str(step.values.get(OPTION_VALUE, ""))
            if outcome.status is OutcomeStatus.COMPLETED and outcome.data is not None:
                # A structured result: the sentence, with the operation's result as a card (bot/result_cards.py).
                await step.context.send_activity(
                    MessageFactory.attachment(render_result(option, outcome.data), texts.result_card_intro(option))
                )
            else:
                await step.context.send_activity(texts.outcome_text(outcome, option))
        return await step.replace_dialog(WATERFALL_ID)
