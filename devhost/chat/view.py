"""Writes transcript entries to a terminal (or any text stream) as they arrive."""

import sys
from typing import TextIO

from devhost.chat.conversation import TranscriptEntry
from devhost.chat.rendering import render_bot, render_user


class TerminalView:
    """A conversation listener. ``show_user`` echoes the user's messages (scripts; an interactive user typed them)."""

    def __init__(self, out: TextIO | None = None, *, show_user: bool = True, debug: bool = False) -> None:
        self._out = out or sys.stdout
        self._show_user = show_user
        self._debug = debug

    def __call__(self, entry: TranscriptEntry) -> None:
        if entry.sender == "user":
            lines = render_user(entry.activity) if self._show_user else []
        elif entry.change == "deleted":
            lines = ["bot deleted a message"]
        else:
            lines = render_bot(entry.activity, debug=self._debug)
            if entry.change == "updated":
                lines = [line.replace("bot: ", "bot (edited): ", 1) for line in lines]
        self.write(lines)

    def write(self, lines: list[str]) -> None:
        for line in lines:
            self._out.write(line + "\n")
        self._out.flush()
