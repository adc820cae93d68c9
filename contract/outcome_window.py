"""The longest an operation's outcome may take to reach the bot, counted from the start: the bound both sides keep.

The function app refuses settings under which an outcome could arrive later than this (orchestrator/settings.py:
the deadline, every delivery attempt running its whole functionTimeout, and the back-off between them), and the bot
keeps a conversation's state longer than this after its last turn (ConversationStateDays, bot/settings.py). So a
conversation waiting for an operation has not expired when its outcome arrives, and one whose state did expire can
no longer be waiting for anything, so a late or duplicate outcome finds no prompt and is dropped as stale.
"""

from typing import Final

OUTCOME_WINDOW_SECONDS: Final = 2 * 86400
