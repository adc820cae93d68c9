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


def signature_of(payload: object, key: str) -> str:
    """The signature a signed value carries: the HMAC of ``payload``, what it covers."""
    if not key:
        raise ValueError("the signing key is empty")
    return canonical_hmac(payload, key)


def signature_matches(payload: object, key: str, signature: str) -> bool:
    """True only when ``signature`` is ``payload``'s under ``key``; never with an empty key or signature."""
    if not key or not signature:
        return False
    return hmac.compare_digest(canonical_hmac(payload, key), signature)


def routed(label: str, fields: dict[str, object], routing: Routing) -> dict[str, object]:
    """What the signature of a value sent along ``routing`` covers: its fields (all but the signature) under
    ``label``, its own top-level key, so that no kind's signature can pass for another's, and the routing."""
    return {label: fields, "routing": routing.to_json()}


def sign_question(question: Question, routing: Routing, key: str) -> Question:
    """The question with its signature set, covering its fields and ``routing`` (as an outcome's)."""
    return replace(question, signature=signature_of(routed("question", question.signing_fields(), routing), key))


def verify_question(question: Question, routing: Routing, key: str) -> bool:
    return signature_matches(routed("question", question.signing_fields(), routing), key, question.signature)


def sign_outcome(outcome: Outcome, routing: Routing, key: str) -> Outcome:
    """The outcome with its signature set, covering its fields and ``routing``."""
    return replace(outcome, signature=signature_of(routed("outcome", outcome.signing_fields(), routing), key))


def verify_outcome(outcome: Outcome, routing: Routing, key: str) -> bool:
    """True only when the signature matches every other field of the outcome and ``routing`` under ``key``."""
    return signature_matches(routed("outcome", outcome.signing_fields(), routing), key, outcome.signature)


def normalize_signing_key(value: str) -> str:
    """The key as both sides use it. Surrounding whitespace (easy to paste into an app setting) is dropped on
    both sides alike; if only one side dropped it, every signature would fail and every outcome be lost."""
    return value.strip()
