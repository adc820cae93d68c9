"""Where the bot's proactive replies point: at the user's message that started the operation, never at a made-up id.

botbuilder addresses every reply of a turn to ``turn_context.activity.id``: ``TurnContext.send_activities`` applies
``get_conversation_reference(self.activity)`` to each reply, and ``apply_conversation_reference`` makes its
``activity_id`` the ``replyToId``; ``CloudAdapterBase.send_activities`` then posts an activity with a ``replyToId`` to
the reply route, ``/v3/conversations/{id}/activities/{replyToId}`` (botbuilder-core turn_context.py,
cloud_adapter_base.py). In a proactive turn that activity is
``get_continuation_activity(reference)``, whose id is a fresh ``uuid1`` (botbuilder-core
conversation_reference_extension.py) that no channel has seen, and Web Chat, the Emulator's chat, holds a reply to
an unseen activity up to 5 s (BotFramework-WebChat packages/core/src/sagas/queueIncomingActivitySaga.ts,
REPLY_TIMEOUT). So the continuation carries the started message's id instead, and the proactive turn replies to it.
Direct Line and Web Chat references have no activity id (get_conversation_reference drops it), so there the
replies carry no ``replyToId`` at all.
"""

from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.conversation_reference_extension import get_continuation_activity
from botbuilder.schema import ConversationReference


def continuation_activity(reference: ConversationReference) -> dict[str, Any]:
    """The continuation activity (wire JSON) for ``reference``, with the id of the activity it was taken from."""
    continuation = get_continuation_activity(reference)
    continuation.id = reference.activity_id
    serialized: dict[str, Any] = continuation.serialize()
    return serialized


def reply_to_started_message(context: TurnContext, reference: ConversationReference) -> None:
    """Make the proactive turn's replies answer the message ``reference`` names (or nothing, if it names none)."""
    context.activity.id = reference.activity_id
