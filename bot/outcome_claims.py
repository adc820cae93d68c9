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
"""

import enum
from typing import Protocol


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
    """One process's claims (the memory store, and stores a test passes in)."""

    def __init__(self) -> None:
        # instance id -> (claimant, settled)
        self._claims: dict[str, tuple[str, bool]] = {}

    async def claim(self, instance_id: str, claimant: str, seconds: float) -> Claim:
        existing = self._claims.get(instance_id)
        if existing is not None:
            # No expiry here: a claimant of this process that died took the process with it.
            return Claim.DELIVERED if existing[1] else Claim.IN_FLIGHT
        self._claims[instance_id] = (claimant, False)
        return Claim.CLAIMED

    async def settle(self, instance_id: str, claimant: str) -> None:
        if self._claims.get(instance_id, ("", False))[0] == claimant:
            self._claims[instance_id] = (claimant, True)

    async def release(self, instance_id: str, claimant: str) -> None:
        if self._claims.get(instance_id) == (claimant, False):
            del self._claims[instance_id]
