"""HMAC-SHA256 over the canonical JSON of an outcome and the routing it travels with, under a shared key.

Direct Line lets anybody who holds the secret post any event to the bot, so the bot trusts an outcome only when its
signature checks out (botbuilder-notes §3, "Spoofing"), and the signature covers the continuation's routing too
(contract/routing.py), so a genuine outcome cannot be re-posted towards another conversation, bot, user or service.
Every signed value is a string or an integer, so no JSON stack on the way can change how it is written.
"""

import hashlib
import hmac
import json
from dataclasses import replace

from contract.outcome import Outcome
from contract.question import Question
from contract.routing import Routing


def canonical_hmac(payload: object, key: str) -> str:
    """The hex HMAC-SHA256 of ``payload``'s canonical JSON (sorted keys, no spaces, UTF-8)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return hmac.new(key.encode("utf-8"), canonical, hashlib.sha256).hexdigest()


def _signed_payload(outcome: Outcome, routing: Routing) -> dict[str, object]:
    return {"outcome": outcome.signing_fields(), "routing": routing.to_json()}


def _signed_question(question: Question, routing: Routing) -> dict[str, object]:
    # Under its own top-level key: a question's signature can never pass for an outcome's, nor the reverse.
    return {"question": question.signing_fields(), "routing": routing.to_json()}


def sign_question(question: Question, routing: Routing, key: str) -> Question:
    """The question with its signature set, covering its fields and ``routing`` (as an outcome's)."""
    if not key:
        raise ValueError("the signing key is empty")
    return replace(question, signature=canonical_hmac(_signed_question(question.unsigned(), routing), key))


def verify_question(question: Question, routing: Routing, key: str) -> bool:
    if not key or not question.signature:
        return False
    expected = canonical_hmac(_signed_question(question.unsigned(), routing), key)
    return hmac.compare_digest(expected, question.signature)


def sign_outcome(outcome: Outcome, routing: Routing, key: str) -> Outcome:
    """The outcome with its signature set, covering its fields and ``routing``."""
    if not key:
        raise ValueError("the signing key is empty")
    return replace(outcome, signature=canonical_hmac(_signed_payload(outcome.unsigned(), routing), key))


def verify_outcome(outcome: Outcome, routing: Routing, key: str) -> bool:
    """True only when the signature matches every other field of the outcome and ``routing`` under ``key``."""
    if not key or not outcome.signature:
        return False
    expected = canonical_hmac(_signed_payload(outcome.unsigned(), routing), key)
    return hmac.compare_digest(expected, outcome.signature)


def normalize_signing_key(value: str) -> str:
    """The key as both sides use it. Surrounding whitespace (easy to paste into an app setting) is dropped on
    both sides alike; if only one side dropped it, every signature would fail and every outcome be lost."""
    return value.strip()
