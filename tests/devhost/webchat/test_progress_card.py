"""The official Web Chat shows the progress bar: the whole devhost (functions host, Direct Line stand-in, bot) runs
count primes, which posts progress reports through Direct Line; headless Chromium shows them as short messages
(Direct Line cannot update a card) and, on a message while it runs, the still-working reply's progress card. The
test saves a screenshot of that card into its output directory and checks the bar twice: the rendered column
widths (DOM) match the card's percentage, and the screenshot's pixels in each part of the bar are that part's
colour, two different colours.

Reports are due after steps 2 and 3 (count primes reports at most every 2 s; the first attempts of steps 2 and 3
fail, then a 4 s back-off each, the real retry path), as in tests/e2e/test_progress.py.
"""

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from devhost.stack import Stack
from tests.devhost.webchat.png import read_png
from tests.devhost.webchat.test_browser import finished, start_driver, webchat_installed
from tests.e2e.stack_fixture import stack_config

# Slow (whole-system runs, headless Chromium, several processes): `make pytest-slow`, which CI runs too.
pytestmark = pytest.mark.slow

__all__ = ["webchat_installed"]  # the module's autouse fixture: the bundle, playwright-core and chromium

SETTINGS = {
    "OperationTimeoutSeconds": "60",
    "StepRetryAttempts": "2",
    # Also the window for the message that gets the still-working card: it must arrive before the operation ends.
    "StepFirstRetrySeconds": "4",
    "OperationFaults": "count primes@2x1,count primes@3x1",
}
RESULT = "Thanks for waiting. The long operation: count primes has finished. Here is its result."
WAIT_MS = 60000


def _rgb(css: str) -> tuple[int, int, int]:
    red, green, blue = (int(part) for part in re.findall(r"\d+", css)[:3])
    return red, green, blue


def _close(seen: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 3 for a, b in zip(seen, expected, strict=True))


def test_web_chat_shows_progress_messages_and_the_still_working_card_with_its_bar(tmp_path: Path) -> None:
    screenshot = tmp_path / "progress-card.png"

    async def scenario() -> dict[str, Any]:
        config = stack_config(tmp_path / "stack", SETTINGS)
        async with Stack(config):
            page = f"http://{config.host}:{config.directline_port}/webchat"
            process = await start_driver(page, [
                {"text": "hi", "expect": ["Please select a long operation test option."]},
                {"text": "count primes", "expect": [
                    "Please enter the upper limit (a whole number from 1000 to 5000000)."]},
                # (Web Chat's markdown shows "...one moment please...." with typographic ellipses: not waited for.)
                {"text": "100000", "expect": ["count primes: step 2 of 4 (50%)"]},
                {"text": "how far?", "expect": [], "card": {"screenshot": str(screenshot)}},
                {"expect": ["count primes: step 3 of 4 (75%)", RESULT]},
            ], wait_ms=WAIT_MS)
            return await finished(process)

    result = asyncio.run(scenario())

    bot_texts = [a["text"] for a in result["activities"] if a["type"] == "message" and a["role"] == "bot"]
    assert "count primes: step 2 of 4 (50%)" in bot_texts and "count primes: step 3 of 4 (75%)" in bot_texts
    [card] = result["cards"]
    # The card of the still-working reply: its caption names the same step as the sentence above it.
    caption = re.search(r"Step (\d) of 4 \((\d+)%\)", card["text"])
    assert caption is not None, card["text"]
    percent = int(caption.group(2))
    assert f"Still performing the long operation: count primes ... {percent}% done (step {caption.group(1)} of 4)." \
        in bot_texts
    assert 0 < percent < 100
    done, left = card["columns"]
    assert (done["id"], left["id"]) == ("progress-done", "progress-left")
    # The weighted widths, as Web Chat's renderer laid them out.
    assert abs(done["width"] / (done["width"] + left["width"]) - percent / 100) < 0.02
    assert done["height"] >= 10 and left["height"] >= 10

    image = read_png(screenshot)
    scale = card["devicePixelRatio"]
    for column in (done, left):
        x = int((column["x"] + column["width"] / 2) * scale)
        y = int((column["y"] + column["height"] / 2) * scale)
        assert _close(image.pixel(x, y), _rgb(column["background"])), (column, image.pixel(x, y))
    assert not _close(_rgb(done["background"]), _rgb(left["background"]))
    assert result["consoleErrors"] == [] and result["offLoopback"] == []
