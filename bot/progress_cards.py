"""The progress card: a bar drawn with Adaptive Card columns, for proactive progress and the still-working reply.

The bar is a ColumnSet of two empty columns whose widths are weights (the done part ``percent``, the rest
``100 - percent``), each with a container style for its colour and a minHeight so an empty column still shows: no
image, so it renders the same wherever Adaptive Cards render. Column ``style`` and ``minHeight`` are schema 1.2,
within the card version the result cards use (bot/result_cards.py, 1.5: Teams renders up to 1.5; Web Chat 4.18.1
bundles the adaptivecards renderer whose ``Versions.latest`` is 1.6, devhost/webchat/dist/webchat.js). A weight of 0
is left out rather than sent: at 0% and 100% the bar is one column.
"""

from typing import Any

from botbuilder.core import MessageFactory
from botbuilder.schema import Activity, Attachment

from bot import texts
from bot.operations_client import OperationStatus
from bot.result_cards import adaptive_card

BAR_HEIGHT = "14px"
# Container styles of the Adaptive Cards host config: "accent" is the host's accent colour, "emphasis" its muted
# background (Teams and Web Chat both define them).
DONE_STYLE = "accent"
LEFT_STYLE = "emphasis"


def progress_bar(percent: int) -> dict[str, Any]:
    percent = max(0, min(100, percent))
    parts = (("progress-done", percent, DONE_STYLE), ("progress-left", 100 - percent, LEFT_STYLE))
    columns = [
        # spacing None: the two parts touch, one bar rather than two boxes.
        {"type": "Column", "id": part, "width": weight, "style": style, "minHeight": BAR_HEIGHT, "spacing": "None",
         "items": []}
        for part, weight, style in parts if weight > 0
    ]
    return {"type": "ColumnSet", "id": "progress-bar", "spacing": "Small", "columns": columns}


def progress_card(option: str, step: int, steps: int, percent: int) -> Attachment:
    return adaptive_card([
        {"type": "TextBlock", "text": texts.progress_card_title(option), "weight": "Bolder", "wrap": True},
        progress_bar(percent),
        {"type": "TextBlock", "text": texts.progress_card_caption(step, steps, percent), "isSubtle": True,
         "spacing": "Small", "wrap": True},
    ])


def progress_message(option: str, step: int, steps: int, percent: int) -> Activity:
    """The progress card with its one-line text (what a client that shows no cards, or a notification, shows)."""
    activity: Activity = MessageFactory.attachment(
        progress_card(option, step, steps, percent), texts.progress_line(option, step, steps, percent))
    return activity


def still_working_reply(option: str, status: OperationStatus | None) -> Activity:
    """The still-working reply: its sentence, with the progress card when there is progress to show."""
    text = texts.still_performing(option, status)
    progress = status.progress if status is not None else None
    if progress is None or (status is not None and status.runtime_status == "Completed"):
        reply: Activity = MessageFactory.text(text)
        return reply
    reply = MessageFactory.attachment(progress_card(option, progress.step, progress.steps, progress.percent), text)
    return reply
