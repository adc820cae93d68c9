"""Outcomes signed by a function app of the previous contract, accepted while an upgrade is under way.

That function app signed only the outcome's own fields (kind, instanceId, conversationId, status, result and an
``issuedAt`` timestamp), not the routing, and it put a sentence into ``result`` when an operation failed or timed out.
Orchestrations started before the function app is upgraded can still send such outcomes (an attempt of
``notify_bot`` already scheduled runs with the input written before the upgrade), so the bot, upgraded first,
accepts them; see README, Decisions, "Upgrading".
"""

from dataclasses import replace

from contract._fields import optional_str
from contract.errors import ContractError
from contract.outcome import Outcome
from contract.signing import signature_matches

_SIGNED_FIELDS = ("kind", "instanceId", "conversationId", "status", "result")


def verify_legacy_outcome(value: object, key: str) -> Outcome | None:
    """The outcome the previous contract's signature in ``value`` (the outcome's wire JSON) vouches for, or None.

    Only what that signature covered is kept: a ``reason`` (which it did not cover) is dropped.
    """
    if not key or not isinstance(value, dict):
        return None
    try:
        outcome = Outcome.from_json(value)
        issued_at = optional_str(value, "issuedAt", "outcome.") or ""
    except ContractError:
        return None
    if not outcome.signature:
        return None
    wire = outcome.to_json()
    signed = {name: wire[name] for name in _SIGNED_FIELDS} | {"issuedAt": issued_at}
    if not signature_matches(signed, key, outcome.signature):
        return None
    return replace(outcome, reason=None)
