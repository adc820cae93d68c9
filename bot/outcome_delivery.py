"""What an outcome's delivery into the user's conversation sent, and why it failed.

An outcome turn sends several activities one by one: the outcome's message, then the choice prompt (and on the
emulator channel a trace). When one send fails the turn fails, the event's turn answers an error and notify_bot
posts the outcome again; the retried turn replays the same dialog from the same saved state, so it would send the
outcome's message a second time if that one had gone out already. The ``SendLedger`` prevents that: a failed
attempt saves the fingerprints of what it did deliver (``PendingDelivery`` in conversation state), and the retry
skips exactly those, in order, sending only what is still missing.

Across bot instances, ``claimed`` claims the outcome in the store before anything is sent (bot/outcome_claims.py):
settled when the sends went out, released when they failed, so the function app's retry of a failed delivery claims
it again and the ledger sends only the rest.

Failures are sorted once, where the send fails (``not_delivered``): a final refusal (a 4xx other than 408/429; 403
and 404 mean the conversation is gone or closed to the bot) or a transient one (everything else: 5xx, 408, 429 past
its retries, a timeout, no connection).
"""

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from botbuilder.schema import Activity, ResourceResponse
from msrest.exceptions import HttpOperationError

from bot.errors import DeliveryDeferred, DeliveryRefused, OutcomeNotDelivered
from bot.outcome_claims import Claim, OutcomeClaims

# Where an outcome turn's ledger lives in the inner turn's turn_state (the adapter's send_activities reads it).
SEND_LEDGER = "LongOperationSendLedger"
# Fields that say what the user sees; ids, timestamps, replyToId and addressing change from one attempt to the next.
_SEEN_FIELDS = ("type", "name", "text", "speak", "input_hint", "attachments", "suggested_actions", "value",
                "value_type", "label", "attachment_layout", "text_format")
TRANSIENT_STATUSES = frozenset({408, 429})
DETAIL_LIMIT = 200


def fingerprint(activity: Activity) -> str:
    """A digest of what the user sees of ``activity``: equal for the same message sent by a replayed turn.

    Only the fields that show are serialized (msrest models through ``as_dict``), not the whole activity."""
    seen = {name: getattr(activity, name, None) for name in _SEEN_FIELDS}
    text = json.dumps(seen, sort_keys=True, default=_plain)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _plain(value: object) -> object:
    as_dict = getattr(value, "as_dict", None)
    return as_dict() if callable(as_dict) else str(value)


class SendLedger:
    """The sends of one delivery attempt. ``already_sent`` are the fingerprints an earlier attempt delivered.

    Fingerprints are computed only when needed (a retry's skipping, a failed attempt's record), so a delivery
    that goes through at the first attempt costs nothing more than before."""

    def __init__(self, already_sent: list[str] | None = None) -> None:
        self._skip = list(already_sent or [])
        self._skipped: list[str] = []
        self._sent: list[Activity] = []

    @property
    def delivered(self) -> list[str]:
        """Fingerprints of everything this conversation has been sent for the outcome so far, in order."""
        return self._skipped + [fingerprint(activity) for activity in self._sent]

    def take_skip(self, activity: Activity) -> bool:
        """True when ``activity`` is the next one an earlier attempt delivered (it is not sent again).

        Skipping stops at the first activity that differs: from there on the replay is not the earlier turn."""
        if not self._skip:
            return False
        if self._skip[0] == fingerprint(activity):
            self._skipped.append(self._skip.pop(0))
            return True
        self._skip.clear()
        return False

    def sent(self, activity: Activity) -> None:
        self._sent.append(activity)


SendOne = Callable[[Activity], Awaitable[ResourceResponse]]


async def send_with_ledger(ledger: SendLedger, activities: list[Activity], send_one: SendOne) -> list[ResourceResponse]:
    """Send ``activities`` one at a time, skipping those delivered before; a failed send raises OutcomeNotDelivered."""
    responses: list[ResourceResponse] = []
    for activity in activities:
        if ledger.take_skip(activity):
            responses.append(ResourceResponse(id=""))
            continue
        try:
            responses.append(await send_one(activity))
        except Exception as error:
            failure = not_delivered(error)
            if failure is None:
                raise
            raise failure from error
        ledger.sent(activity)
    return responses


@asynccontextmanager
async def claimed(claims: OutcomeClaims, instance_id: str, seconds: float) -> AsyncIterator[bool]:
    """Claim the outcome for this delivery: yields True to send it, False when it was delivered already (drop it).

    A claim in flight elsewhere raises DeliveryDeferred: the function app retries once it is settled or released.
    The body's failure releases the claim (also when cancelled: shielded, so the release is not cut short), its
    success settles it."""
    claimant = uuid.uuid4().hex
    claim = await claims.claim(instance_id, claimant, seconds)
    if claim is Claim.DELIVERED:
        yield False
        return
    if claim is Claim.IN_FLIGHT:
        raise DeliveryDeferred(None, "", "another delivery of this outcome is in flight (another bot instance)")
    try:
        yield True
    except BaseException:
        await asyncio.shield(claims.release(instance_id, claimant))
        raise
    await claims.settle(instance_id, claimant)


def not_delivered(error: Exception) -> OutcomeNotDelivered | None:
    """The channel's failure of one send, sorted: DeliveryRefused for a final refusal, DeliveryDeferred for a transient
    one; None for an error that is not the channel's (a bug: it goes to the turn's error handler as it is)."""
    if isinstance(error, OutcomeNotDelivered):
        return error
    if isinstance(error, HttpOperationError):
        # msrest keeps the transport's own response when it has one (HttpOperationError.__init__): aiohttp's has
        # ``status``, requests' ``status_code``.
        status = getattr(error.response, "status", getattr(error.response, "status_code", None))
        code, message = _error_body(error)
        detail = (message or str(error))[:DETAIL_LIMIT]
        if isinstance(status, int) and 400 <= status < 500 and status not in TRANSIENT_STATUSES:
            return DeliveryRefused(status, code, detail)
        return DeliveryDeferred(status if isinstance(status, int) else None, code, detail)
    if isinstance(error, TimeoutError):
        return DeliveryDeferred(None, "", "the channel did not answer in time")
    if isinstance(error, aiohttp.ClientError):
        return DeliveryDeferred(None, "", f"{type(error).__name__}: {error}"[:DETAIL_LIMIT])
    return None


def _error_body(error: HttpOperationError) -> tuple[str, str]:
    # The connector's ErrorResponse model: error.error.error.{code, message}, when the body was one.
    inner: Any = getattr(getattr(error, "error", None), "error", None)
    return str(getattr(inner, "code", "") or ""), str(getattr(inner, "message", "") or "")
