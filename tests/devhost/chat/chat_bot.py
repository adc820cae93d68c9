"""A small real botbuilder bot for the chat tests: welcome, echo, a ChoicePrompt, a hero card, a proactive
message sent later from a background task through ``continue_conversation``, and "got <file> (<size> bytes, <type>)"
for files, fetched from their contentUrl.
"""

import asyncio

from botbuilder.core import (
    ActivityHandler,
    CardFactory,
    ConversationState,
    MemoryStorage,
    MessageFactory,
    TurnContext,
)
from botbuilder.dialogs import ComponentDialog, DialogExtensions, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.choices import Choice
from botbuilder.dialogs.prompts import ChoicePrompt, PromptOptions
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import CardAction, ChannelAccount, HeroCard

from tests.devhost.directline.echo_bot import fetch, make_adapter, serve_bot

PROACTIVE_TEXT = "Thanks for waiting, here is your proactive message"


class MenuDialog(ComponentDialog):
    def __init__(self) -> None:
        super().__init__("menu")
        self.add_dialog(ChoicePrompt("choice"))
        self.add_dialog(WaterfallDialog("steps", [self.ask, self.answer]))
        self.initial_dialog_id = "steps"

    async def ask(self, step: WaterfallStepContext):  # type: ignore[no-untyped-def]
        choices = [Choice("option 1"), Choice("option 2"), Choice("option 3")]
        return await step.prompt("choice", PromptOptions(prompt=MessageFactory.text("Pick one"), choices=choices))

    async def answer(self, step: WaterfallStepContext):  # type: ignore[no-untyped-def]
        await step.context.send_activity(f"You picked {step.result.value}")
        return await step.end_dialog()


class ChatTestBot(ActivityHandler):
    def __init__(self, adapter: CloudAdapter, proactive_delay: float = 0.2) -> None:
        self.adapter = adapter
        self.state = ConversationState(MemoryStorage())
        self.dialog = MenuDialog()
        self.proactive_delay = proactive_delay
        self.tasks: set[asyncio.Task[None]] = set()

    async def on_turn(self, turn_context: TurnContext) -> None:
        await super().on_turn(turn_context)
        await self.state.save_changes(turn_context)

    async def on_members_added_activity(self, members_added: list[ChannelAccount], turn_context: TurnContext) -> None:
        for member in members_added:
            if member.id != turn_context.activity.recipient.id:
                await turn_context.send_activity("Welcome to the test bot")

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        text = turn_context.activity.text or ""
        files = [a for a in turn_context.activity.attachments or [] if a.content_url]
        if files:
            sizes = [f"{a.name} ({len(await fetch(a.content_url))} bytes, {a.content_type})" for a in files]
            await turn_context.send_activity(f"got {', '.join(sizes)}")
            return
        accessor = self.state.create_property("DialogState")
        if text == "menu" or await self._dialog_active(turn_context):
            await DialogExtensions.run_dialog(self.dialog, turn_context, accessor)
        elif text == "later":
            reference = TurnContext.get_conversation_reference(turn_context.activity)
            task = asyncio.create_task(self._notify_later(reference))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            await turn_context.send_activity("I will tell you later")
        elif text == "hero":
            card = HeroCard(title="Colours", buttons=[
                CardAction(type="imBack", title="Red", value="red"),
                CardAction(type="imBack", title="Blue", value="blue"),
            ])
            await turn_context.send_activity(MessageFactory.attachment(CardFactory.hero_card(card)))
        else:
            await turn_context.send_activity(f"echo: {text}")

    async def _dialog_active(self, turn_context: TurnContext) -> bool:
        state = await self.state.create_property("DialogState").get(turn_context)
        return state is not None and bool(state.dialog_stack)

    async def _notify_later(self, reference) -> None:  # type: ignore[no-untyped-def]
        # The bot's own "later": a proactive message after the turn that asked for it has ended.
        await asyncio.sleep(self.proactive_delay)
        async def send(context: TurnContext) -> None:
            # The continuation's own id is a made-up uuid1 the chat would hold a reply to (bot/proactive.py).
            context.activity.id = reference.activity_id
            await context.send_activity(PROACTIVE_TEXT)

        await self.adapter.continue_conversation(reference, send, None)


async def serve_chat_bot(proactive_delay: float = 0.2):  # type: ignore[no-untyped-def]
    adapter = make_adapter()
    bot = ChatTestBot(adapter, proactive_delay)
    return bot, await serve_bot(bot, adapter)

