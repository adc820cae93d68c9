"""An Emulator-like terminal chat (``python -m devhost chat``) and the ``ChatClient`` API behind it.

``ChatClient`` serves the Bot Connector routes on loopback and talks to the bot as channel ``emulator``;
``Conversation`` sends (``say``, ``send_activity``, ``choose``) and waits (``wait_for``, ``wait_for_text``).
"""

from devhost.chat.choices import Choice, choices_of
from devhost.chat.client import ChatClient
from devhost.chat.config import ChatConfig
from devhost.chat.conversation import Conversation, TranscriptEntry
from devhost.chat.errors import BotRejected, BotUnreachable, ChatError, ScriptError, WaitTimeout
from devhost.chat.script import parse_script
from devhost.chat.view import TerminalView

__all__ = [
    "BotRejected",
    "BotUnreachable",
    "ChatClient",
    "ChatConfig",
    "ChatError",
    "Choice",
    "Conversation",
    "ScriptError",
    "TerminalView",
    "TranscriptEntry",
    "WaitTimeout",
    "choices_of",
    "parse_script",
]
