"""How activities look in the terminal: ``user: ...`` / ``bot: ...`` lines, numbered choices, typing."""

from typing import Any

from devhost.chat.choices import choices_of


def _card_lines(activity: dict[str, Any]) -> list[str]:
    lines = []
    attachments = activity.get("attachments")
    for attachment in attachments if isinstance(attachments, list) else []:
        if not isinstance(attachment, dict):
            continue
        content = attachment.get("content")
        if isinstance(content, dict):
            for key in ("title", "subtitle", "text"):
                if content.get(key):
                    lines.append(f"  [{content[key]}]")
        elif attachment.get("contentType"):
            lines.append(f"  [attachment {attachment['contentType']}]")
    return lines


def render_bot(activity: dict[str, Any], *, debug: bool = False) -> list[str]:
    """Lines for one activity from the bot; empty when there is nothing to show."""
    kind = activity.get("type")
    if kind == "message":
        cards = _card_lines(activity)
        if activity.get("text"):
            lines = [f"bot: {activity['text']}", *cards]
        elif cards:
            lines = [f"bot: {cards[0].strip()}", *cards[1:]]
        else:
            lines = ["bot: (empty message)"]
        lines += [f"  {number}. {choice.title}" for number, choice in enumerate(choices_of(activity), start=1)]
        return lines
    if kind == "typing":
        return ["bot is typing..."]
    if kind == "endOfConversation":
        return ["bot ended the conversation"]
    if kind == "trace":
        label = activity.get("label") or activity.get("name") or ""
        return [f"trace: {label} {activity.get('value')!r}"] if debug else []
    return [f"bot sent a {kind} activity"] if debug else []


def render_user(activity: dict[str, Any]) -> list[str]:
    if activity.get("type") == "message":
        attachments = activity.get("attachments")
        files = [f"[file {attachment.get('name')}]" for attachment in attachments if isinstance(attachment, dict)
                 and attachment.get("contentUrl")] if isinstance(attachments, list) else []
        return [f"user: {' '.join(filter(None, [activity.get('text', ''), *files]))}"]
    return [f"user sent a {activity.get('type')} activity"]
