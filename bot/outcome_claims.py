"""Each outcome once across bot instances: the delivery claims the outcome in the store before it sends anything.

The conversation lease (bot/conversation_leases.py) already runs one delivery of a conversation at a time, and the
state's DeliveredOutcomes drops a repeat. The claim covers what a lease cannot: a turn that stalled past its lease
while another instance took the conversation over, with both about to send. A claim is one conditional write,
create-only (SQLite's INSERT on a primary key, a blob upload with If-None-Match: *), so of two deliveries exactly one
gets it. Its states:

- in flight: ``claimant`` (fresh per delivery attempt) and ``expires``. Any other delivery of the same outcome
  meanwhile is answered ``IN_FLIGHT``: its turn fails as deferred, so the function app retries it later, when the
  claim is settled or gone (it is never dropped on a claim that may still fail).
- settled: the sends went out; every later delivery is ``DELIVERED`` and dropped. Kept as long as conversation
  state (ConversationStateDays), then swept.
- released: a delivery whose send failed deletes its claim, so the function app's retry (Direct Line's post of the
  same event again) claims it afresh and sends only what is missing (bot/outcome_delivery.py's ledger). A delivery
  that dies before either leaves a claim that lapses at ``expires``, after which a retry may claim it: a crash
  between the send and the settle can show the outcome twice, never zero times.

Sweeps: SQLite's claims with its state (bot/sqlite_coordination.py ``sweep_expired``, on bot/app.py's claims sweeper),
the container's with its blobs (bot/blob_storage.py ``sweep_expired``: a claim blob carries the ``lastactivity`` stamp);
MemoryClaims sweeps its own as it goes and keeps at most ``max_settled`` settled claims.
"""

import enum
from collections import OrderedDict
from typing import Protocol

from bot.state_expiry import StateExpiry

# Settled claims a MemoryClaims keeps at most (about 250 bytes each). Dropping the oldest is safe: a repeat of that
# outcome is still dropped by its conversation's DeliveredOutcomes (bot/long_operation_bot.py), which the memory
# store's one process always reads under the conversation's lock; the claim is for races between instances.
MAX_SETTLED_CLAIMS = 20_000


class Claim(enum.Enum):
    CLAIMED = "claimed"
    IN_FLIGHT = "in flight"
    DELIVERED = "delivered"


class OutcomeClaims(Protocol):
    async def claim(self, instance_id: str, claimant: str, seconds: float) -> Claim:
        """CLAIMED when this delivery may send (no claim, or a lapsed one); otherwise what the existing claim is."""

    async def settle(self, instance_id: str, claimant: str) -> None:
        """The claimant's sends went out: the outcome is delivered for good."""

    async def release(self, instance_id: str, claimant: str) -> None:
        """The claimant's sends failed: a retry may claim the outcome again."""


class MemoryClaims:
    """One process's claims (the memory store, and stores a test passes in). Settled claims are kept as long as
    conversation state (``expiry``, whose clock this uses) and at most ``max_settled`` of them, the oldest settled
    going first; a claim in flight is never dropped (it ends with its delivery, settled or released)."""

    def __init__(self, expiry: StateExpiry | None = None, max_settled: int = MAX_SETTLED_CLAIMS) -> None:
        self._expiry = expiry or StateExpiry()
        self._max_settled = max_settled
        # instance id -> claimant, of the claims in flight
        self._in_flight: dict[str, str] = {}
        # instance id -> when it was settled, oldest first
        self._settled: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._in_flight) + len(self._settled)

    async def claim(self, instance_id: str, claimant: str, seconds: float) -> Claim:
        self._sweep()
        if instance_id in self._settled:
            return Claim.DELIVERED
        if instance_id in self._in_flight:
            # No expiry here: a claimant of this process that died took the process with it.
            return Claim.IN_FLIGHT
        self._in_flight[instance_id] = claimant
        return Claim.CLAIMED

    async def settle(self, instance_id: str, claimant: str) -> None:
        if self._in_flight.get(instance_id) != claimant:
            return
        del self._in_flight[instance_id]
        self._settled[instance_id] = self._expiry.now()
        while len(self._settled) > self._max_settled:
            self._settled.popitem(last=False)

    async def release(self, instance_id: str, claimant: str) -> None:
        if self._in_flight.get(instance_id) == claimant:
            del self._in_flight[instance_id]

    def _sweep(self) -> None:
        # Settled in order, so the expired ones are at the front: each claim costs what it sweeps, nothing more.
        cutoff = self._expiry.cutoff()
        while self._settled:
            instance_id, settled_at = next(iter(self._settled.items()))
            if settled_at > cutoff:
                return
            del self._settled[instance_id]
