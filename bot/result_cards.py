"""Renderers of structured results (operations/api.py ``Done(data=...)``), keyed by the result's ``kind``.

An operation returns facts as plain JSON; the bot turns them into what the channel shows, an Adaptive Card, so the
function app never needs botbuilder and every sentence stays in bot/texts.py. Kinds:

- ``facts``: ``{"kind": "facts", "facts": [{"name": str, "value": str}, ...]}``, a FactSet under a title.
"""

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from botbuilder.schema import Attachment

from bot import texts

ADAPTIVE_CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
# 1.5: what Teams, the Emulator and Web Chat's bundled renderer all support.
ADAPTIVE_CARD_VERSION = "1.5"


def adaptive_card(body: list[dict[str, Any]]) -> Attachment:
    content = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": ADAPTIVE_CARD_VERSION,
        "body": body,
    }
    return Attachment(content_type=ADAPTIVE_CARD_CONTENT_TYPE, content=content)


def facts_card(option: str, data: Mapping[str, Any]) -> Attachment:
    facts = data.get("facts")
    if not isinstance(facts, list):
        raise ValueError("a 'facts' result needs a list of facts")
    return adaptive_card([
        {"type": "TextBlock", "text": texts.result_card_title(option), "weight": "Bolder", "size": "Medium",
         "wrap": True},
        {"type": "FactSet", "facts": [{"title": str(fact["name"]), "value": str(fact["value"])} for fact in facts]},
    ])


RENDERERS: Mapping[str, Callable[[str, Mapping[str, Any]], Attachment]] = MappingProxyType({"facts": facts_card})


def render_result(option: str, data: Mapping[str, Any]) -> Attachment:
    """The card for a structured result; ValueError names a kind no renderer knows."""
    kind = data.get("kind")
    renderer = RENDERERS.get(kind) if isinstance(kind, str) else None
    if renderer is None:
        raise ValueError(f"no renderer for result kind {kind!r}; known: {', '.join(RENDERERS)}")
    return renderer(option, data)
