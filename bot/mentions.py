"""The bot's own @mention, removed from a message before the dialog reads its words.

Teams delivers a channel or group-chat message to a bot only when it @mentions the bot, so "cancel" arrives as
``<at>Bot</at> cancel`` with a ``mention`` entity whose ``mentioned.id`` is the bot's id. Cancel, status and the
choice prompt must see "cancel", "status" and "option 1".
"""

import logging

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

logger = logging.getLogger(__name__)


def remove_bot_mention(activity: Activity) -> None:
    """Drop the recipient's (the bot's) mention from ``activity.text``, in place, and trim what is left.

    botbuilder's ``TurnContext.remove_recipient_mention`` does the removal; other members' mentions stay.
    """
    if not activity.text or not activity.entities or activity.recipient is None or not activity.recipient.id:
        return
    try:
        TurnContext.remove_recipient_mention(activity)
    except (KeyError, TypeError, AttributeError) as error:
        # A mention entity without "mentioned"/"text" (botbuilder indexes them unchecked): keep the text as sent.
        logger.info("ignored a malformed mention entity: %s", type(error).__name__)
        return
    activity.text = (activity.text or "").strip()
