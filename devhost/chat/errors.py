"""The chat client's exception tree.

    ChatError
    ├── BotUnreachable   the bot's messaging endpoint could not be reached (or did not answer in time)
    ├── BotRejected      the bot answered a non-2xx status
    ├── WaitTimeout      an expected bot activity did not arrive in time
    ├── FileRejected     a file given to ``/file`` cannot be sent (missing, unreadable, over the upload limit)
    └── ScriptError      a ``--script`` file is malformed (names the line)
"""


class ChatError(Exception):
    """Base of every error the chat client raises."""


class BotUnreachable(ChatError):
    pass


class BotRejected(ChatError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class WaitTimeout(ChatError):
    pass


class FileRejected(ChatError):
    pass


class ScriptError(ChatError):
    pass
