"""The bot's one exception tree; callers catch by layer.

BotError
├── SettingsError            a setting is missing or malformed (stops start-up; the message names it)
├── OperationsError          the function app could not do what was asked
│   ├── OperationsUnavailable    not reachable (refused, timeout, network) or 5xx without an answer
│   └── OperationRejected        it answered with an error status (4xx/5xx with ``{"error"}``)
│       └── OperationUnknown         the status query found no such instance (404: purged, or another task hub)
├── StorageError             the bot state store failed
│   └── ETagConflict             a write carried a stale eTag (somebody else wrote first)
├── MalformedRequest         a request to /api/messages is not a usable activity (bot/inbound.py; a 4xx)
└── RejectedEvent            an outcome event is not trustworthy (bot/outcome_event.py; logged, dropped)
"""


class BotError(Exception):
    """Base of every error the bot raises on purpose."""


class SettingsError(BotError):
    """A setting is missing or malformed; the message names the setting."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"setting {name}: {problem}")
        self.name = name


class OperationsError(BotError):
    """The operations service (the function app) could not do what was asked.

    ``reason`` is plain words fit for the user ("the operations service is not reachable").
    """

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason if status is None else f"{reason} (HTTP {status})")
        self.reason = reason
        self.status = status


class OperationsUnavailable(OperationsError):
    """The service could not be reached or did not answer in time."""


class OperationRejected(OperationsError):
    """The service answered with an error status."""


class OperationUnknown(OperationRejected):
    """The Durable status API knows no such instance (404): its history was purged (HistoryRetentionDays), or the
    function app now uses another task hub. Nothing will ever arrive for it."""


class StorageError(BotError):
    """The state store failed."""


class ETagConflict(StorageError):
    """A write carried an eTag that no longer matches the stored item."""

    def __init__(self, key: str) -> None:
        super().__init__(f"eTag conflict on {key!r}: the item was changed by another writer since it was read")
        self.key = key
