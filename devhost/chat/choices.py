"""Choices a bot offers: suggested actions, or the buttons of hero/thumbnail cards, as numbered options."""

from dataclasses import dataclass
from typing import Any

_CARDS_WITH_BUTTONS = frozenset({
    "application/vnd.microsoft.card.hero",
    "application/vnd.microsoft.card.thumbnail",
})


@dataclass(frozen=True)
class Choice:
    title: str
    value: Any

    def as_message(self) -> dict[str, Any]:
        """What clicking the option sends: imBack puts its value in the text, like the Emulator's Web Chat."""
        if isinstance(self.value, str):
            return {"type": "message", "text": self.value}
        return {"type": "message", "text": self.title, "value": self.value}


def _choice(action: Any) -> Choice | None:
    if not isinstance(action, dict):
        return None
    title = action.get("title") or action.get("text") or action.get("value")
    if title is None:
        return None
    value = action.get("value", title)
    return Choice(str(title), value)


def _list_at(container: Any, key: str) -> list[Any]:
    # Whatever a bot sends is shown if it can be; a field of the wrong type is ignored, never a crash of the route.
    value = container.get(key) if isinstance(container, dict) else None
    return value if isinstance(value, list) else []


def choices_of(activity: dict[str, Any]) -> list[Choice]:
    actions = list(_list_at(activity.get("suggestedActions"), "actions"))
    for attachment in _list_at(activity, "attachments"):
        if isinstance(attachment, dict) and attachment.get("contentType") in _CARDS_WITH_BUTTONS:
            actions.extend(_list_at(attachment.get("content"), "buttons"))
    return [choice for choice in map(_choice, actions) if choice is not None]


def pick(choices: list[Choice], line: str) -> Choice | None:
    """The option a typed number selects, or None if the line is not one of the numbers on offer."""
    text = line.strip()
    if not text.isdigit():
        return None
    number = int(text)
    return choices[number - 1] if 1 <= number <= len(choices) else None
