"""The bot's one exception tree; callers catch by layer.

BotError
├── SettingsError            a setting is missing or malformed (stops start-up; the message names it)
├── OperationsError          the function app could not do what was asked
│   ├── OperationsUnavailable    not reachable (refused, timeout, network) or 5xx without an answer
│   └── OperationRejected        it answered with an error status (4xx/5xx with ``{"error"}``)
│       └── OperationUnknown         the status query found no such instance (404: purged, or another task hub)
├── StorageError             the bot state store failed
│   ├── ETagConflict             a write carried a stale eTag (somebody else wrote first)
│   └── ConversationBusy         another bot instance held the conversation's lease too long (a 503)
├── MalformedRequest         a request to /api/messages is not a usable activity (bot/inbound.py; a 4xx)
├── RejectedEvent            an outcome event is not trustworthy (bot/outcome_event.py; logged, dropped)
└── OutcomeNotDelivered      the user's channel did not take an outcome's messages (bot/outcome_delivery.py)
    ├── DeliveryDeferred         a transient failure: the event's turn fails (503) so notify_bot retries
    └── DeliveryRefused          a final refusal (403/404: the conversation is gone): answered with a receipt (410)
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


class ConversationBusy(StorageError):
    """The conversation's lease stayed with another holder past the wait (bot/conversation_leases.py)."""

    def __init__(self, key: str, waited: float) -> None:
        super().__init__(f"the conversation {key!r} stayed leased by another bot instance for {waited:g} s")
        self.key = key


class OutcomeNotDelivered(BotError):
    """A send into the user's conversation failed while delivering an outcome.

    ``status`` and ``code`` are what the channel answered (None and "" when it did not answer: timeout, no
    connection); ``detail`` is for logs and the function app, never for the user.
    """

    def __init__(self, status: int | None, code: str, detail: str) -> None:
        where = "no answer" if status is None else f"HTTP {status}"
        super().__init__(f"the channel did not take the outcome ({where}{', code ' + code if code else ''}): {detail}")
        self.status = status
        self.code = code
        self.detail = detail


class DeliveryDeferred(OutcomeNotDelivered):
    """Transient: a 5xx, a 408, a 429 past its retries, a timeout or no connection. Trying later may work."""


class DeliveryRefused(OutcomeNotDelivered):
    """Final: the channel refused for good (403/404 and other 4xx); trying again cannot help."""
