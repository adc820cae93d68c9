"""The function app's one exception tree.

    OrchestratorError            anything this package raises on purpose
    ├── SettingsError            a missing or malformed app setting (names the setting, never its value)
    ├── BadStartRequest          an unusable start request (carries the HTTP status: 400 or 413)
    ├── UnknownOperationError    an option that is not in the catalogue
    ├── InjectedFault            a step failed on purpose (the ``OperationFaults`` test/demo setting)
    ├── DirectLineError          Direct Line answered with an error status, or could not be reached
    └── NotificationError        the outcome could not be delivered to the bot (fails the orchestration)

The starter answers BadStartRequest and SettingsError with an error body. Activities let these propagate: the
Durable host turns them into TaskFailed, so the retry policy acts.
"""


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
    from Direct Line's ``{"error": {"code", "message"}}`` body when it sent one.
    """

    def __init__(self, operation: str, status: int | None, code: str = "", detail: str = "") -> None:
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


class NotificationError(OrchestratorError):
    """The bot could not be told the outcome, even after every retry."""
