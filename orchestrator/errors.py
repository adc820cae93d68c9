"""The function app's one exception tree.

    OrchestratorError            anything this package raises on purpose
    ├── SettingsError            a missing or malformed app setting (names the setting, never its value)
    ├── BadStartRequest          an unusable start request (carries the HTTP status: 400 or 413)
    ├── UnknownOperationError    an option that is not in the catalogue
    ├── InjectedFault            a step failed on purpose (the ``OperationFaults`` test/demo setting)
    ├── DirectLineError          Direct Line answered with an error status, or could not be reached
    │   └── BotTurnFailed            a post answered 502: the bot's turn for it failed (it may have left a receipt)
    └── NotificationError        the outcome could not be delivered to the bot (fails the orchestration)

The starter answers BadStartRequest and SettingsError with an error body. Activities let these propagate: the
Durable host turns them into TaskFailed, so the retry policy acts.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # directline.py imports this module
    from orchestrator.directline import DirectLineConversation


class OrchestratorError(Exception):
    """Base of every error this package raises on purpose."""


class SettingsError(OrchestratorError):
    """An app setting is missing or malformed. The message names the setting, never its value."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting


class BadStartRequest(OrchestratorError):
    """The start request is unusable; carries the HTTP status and a message naming what was wrong."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class UnknownOperationError(OrchestratorError):
    """The option names no operation in the catalogue."""


class InjectedFault(OrchestratorError):
    """A step configured to fail by ``OperationFaults`` (a test/demo setting)."""


class DirectLineError(OrchestratorError):
    """A Direct Line call failed.

    ``status`` is the HTTP status (None when the service could not be reached); ``code`` and ``detail`` come
    from Direct Line's ``{"error": {"code", "message"}}`` body when it sent one; ``retry_after`` are the seconds of
    its ``Retry-After`` header (None without one).
    """

    def __init__(self, operation: str, status: int | None, code: str = "", detail: str = "",
                 retry_after: float | None = None) -> None:
        where = f"HTTP {status}" if status is not None else "no response"
        parts = [f"Direct Line {operation} failed: {where}"]
        if code:
            parts.append(f"code {code}")
        if detail:
            parts.append(detail)
        super().__init__(", ".join(parts))
        self.operation = operation
        self.status = status
        self.code = code
        self.detail = detail
        self.retry_after = retry_after


class BotTurnFailed(DirectLineError):
    """Direct Line answered a post with 502: the bot's turn for the activity failed (or the bot was unreachable).

    ``conversation`` is where the post went: a bot that could not deliver an outcome answers there with a delivery
    receipt (contract/receipt.py) before its turn fails.
    """

    def __init__(self, error: DirectLineError, conversation: "DirectLineConversation") -> None:
        super().__init__(error.operation, error.status, error.code, error.detail, error.retry_after)
        self.conversation = conversation


class NotificationError(OrchestratorError):
    """The bot could not be told the outcome, even after every retry."""
