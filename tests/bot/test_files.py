"""Messages carrying files, which the bot does not use: at the choice prompt, and while an operation runs."""

import asyncio
from collections.abc import Awaitable, Callable

from botbuilder.schema import Activity, ActivityTypes, Attachment

from bot.files import carries_files
from contract import Progress, Stage
from tests.bot.harness import BotHarness, bot_harness, texts

CHOOSE = "Please select a long operation test option."
FILES_NOT_USED = "Sorry, I don't use files. Please select a long operation test option."
OPTIONS = ["option 1", "option 2", "option 3", "count primes", "tidy files"]
FILE = Attachment(name="notes.txt", content_type="text/plain",
                  content_url="https://directline.botframework.com/attachments/c/0000002/0/notes.txt?t=x")


def run(test: Callable[[BotHarness], Awaitable[None]]) -> None:
    async def main() -> None:
        async with bot_harness() as harness:
            await test(harness)

    asyncio.run(main())


def with_files(text: str | None = None, *attachments: Attachment) -> Activity:
    return Activity(type=ActivityTypes.message, text=text, attachments=list(attachments or [FILE]))


def test_files_at_the_choice_prompt_get_the_prompt_again_saying_files_are_not_used() -> None:
    async def test(harness: BotHarness) -> None:
        await harness.say("hi")
        [retry] = await harness.post(with_files())
        assert retry.text == FILES_NOT_USED
        assert [action.title for action in retry.suggested_actions.actions] == OPTIONS
        # The next miss without files is the plain prompt again: the files sentence was for that message only.
        [plain] = await harness.say("something else")
        assert plain.text == CHOOSE
        assert texts(await harness.say("option 1")) == ["...one moment please...."]

    run(test)


def test_a_file_with_an_option_chooses_the_option() -> None:
    async def test(harness: BotHarness) -> None:
        await harness.say("hi")
        assert texts(await harness.post(with_files("option 2"))) == ["...one moment please...."]
        assert harness.service.only_instance()[1].request.option == "option 2"

    run(test)


def test_files_while_running_get_the_files_sentence_and_the_usual_progress() -> None:
    async def test(harness: BotHarness) -> None:
        await harness.say("hi")
        await harness.say("option 1")
        harness.service.only_instance()[1].progress = Progress.of("option 1", Stage.RUNNING, 2, 5, "working")
        assert texts(await harness.post(with_files())) == [
            "Sorry, I can't use files while the long operation: option 1 is running, so I left yours unopened.",
            "Still performing the long operation: option 1 ... 40% done (step 2 of 5).",
        ]
        assert texts(await harness.post(with_files("status"))) == [
            "Sorry, I can't use files while the long operation: option 1 is running, so I left yours unopened.",
            "Long operation option 1: 40% done (step 2 of 5).",
        ]

    run(test)


def test_what_counts_as_files() -> None:
    assert carries_files(with_files())
    teams_file = Attachment(content_type="application/vnd.microsoft.teams.file.download.info", name="a.pdf",
                            content={"downloadUrl": "https://example.invalid/a.pdf"})
    assert carries_files(with_files(None, teams_file))
    # Teams attaches the text as text/html to every message; cards have content and no contentUrl.
    teams_text = Attachment(content_type="text/html", content="<p>status</p>")
    card = Attachment(content_type="application/vnd.microsoft.card.hero", content={"title": "x"})
    assert not carries_files(with_files("status", teams_text, card))
    assert not carries_files(Activity(type=ActivityTypes.message, text="status"))
