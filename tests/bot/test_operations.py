"""Operations from the registry in the conversation: inputs asked first, structured results as cards, and a
conversation saved by the previous version still getting its result."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import jsonpickle

from tests.bot.harness import BotHarness, CopyingMemoryStorage, bot_harness, texts

FIXTURE = Path(__file__).parent / "fixtures" / "previous_version_waiting_state.json"
ASK_LIMIT = "Please enter the upper limit (a whole number from 1000 to 5000000)."
PRIMES_FACTS = {"kind": "facts", "facts": [
    {"name": "Limit", "value": "100,000"},
    {"name": "Primes found", "value": "9,592"},
    {"name": "Largest prime", "value": "99,991"},
    {"name": "Steps", "value": "4"},
]}


def run(test: Callable[[BotHarness], Awaitable[None]], storage: CopyingMemoryStorage | None = None) -> None:
    async def main() -> None:
        async with bot_harness(storage=storage) as harness:
            await test(harness)

    asyncio.run(main())


def test_count_primes_asks_for_its_limit_starts_with_it_and_shows_the_result_as_a_card() -> None:
    async def test(harness: BotHarness) -> None:
        await harness.say("hi")
        assert texts(await harness.say("count primes")) == [ASK_LIMIT]
        # Not a number, then out of range: asked again, nothing started.
        retry = "Sorry, that is not a whole number from 1000 to 5000000. " + ASK_LIMIT
        assert texts(await harness.say("lots")) == [retry]
        assert texts(await harness.say("12")) == [retry]
        assert harness.service.instances == {}
        assert texts(await harness.say("100000")) == ["...one moment please...."]
        _, instance = harness.service.only_instance()
        assert (instance.request.option, instance.request.inputs) == ("count primes", {"limit": 100000})

        [reply, again] = await harness.post(harness.outcome_event(data=PRIMES_FACTS))
        assert again.text == "Please select a long operation test option."
        assert reply.text == "Thanks for waiting. The long operation: count primes has finished. Here is its result."
        [card] = reply.attachments
        assert card.content_type == "application/vnd.microsoft.card.adaptive"
        assert card.content["body"] == [
            {"type": "TextBlock", "text": "Result of count primes", "weight": "Bolder", "size": "Medium",
             "wrap": True},
            {"type": "FactSet", "facts": [
                {"title": "Limit", "value": "100,000"},
                {"title": "Primes found", "value": "9,592"},
                {"title": "Largest prime", "value": "99,991"},
                {"title": "Steps", "value": "4"},
            ]},
        ]

    run(test)


def test_a_conversation_waiting_in_storage_from_the_previous_version_still_gets_its_result() -> None:
    # Written by the previous version's bot (before the operation API): "hi", "option 1", then saved, waiting.
    saved = json.loads(FIXTURE.read_text())
    storage = CopyingMemoryStorage()
    storage.memory.update(jsonpickle.decode(json.dumps(saved["storage"])))

    async def test(harness: BotHarness) -> None:
        event = harness.outcome_event(instance_id=saved["instanceId"], continuation=saved["continuation"])
        replies = await harness.post(event)
        assert texts(replies) == ["Thanks for waiting. (Result for long operation one!)",
                                  "Please select a long operation test option."]

    run(test, storage)
