"""HMAC-SHA256 over the canonical JSON of an outcome, with a key both sides read from settings.

Direct Line lets anybody who holds the secret post any event to the bot, so the bot trusts an outcome
only when its signature checks out (botbuilder-notes §3, "Spoofing").
"""

import hashlib
import hmac
import json
from dataclasses import replace

from contract.outcome import Outcome


def _canonical(outcome: Outcome) -> bytes:
    return json.dumps(
        outcome.signing_fields(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def sign_outcome(outcome: Outcome, key: str) -> Outcome:
    """The outcome with its signature set."""
    if not key:
        raise ValueError("the signing key is empty")
    digest = hmac.new(key.encode("utf-8"), _canonical(outcome), hashlib.sha256).hexdigest()
    return replace(outcome, signature=digest)


def verify_outcome(outcome: Outcome, key: str) -> bool:
    """True only when the signature matches every other field under ``key``."""
    if not key or not outcome.signature:
        return False
    expected = sign_outcome(outcome.unsigned(), key).signature
    return hmac.compare_digest(expected, outcome.signature)


def normalize_signing_key(value: str) -> str:
    """The key as both sides use it. Surrounding whitespace (easy to paste into an app setting) is dropped on
    both sides alike; if only one side dropped it, every signature would fail and every outcome be lost."""
    return value.strip()
