"""Bearer credentials: the master secret, and tokens bound to one conversation.

Real tokens are RS256 JWTs; DirectLineJS only decodes one to read an embedded user, so opaque random strings are
enough locally. A refreshed token is new; the old one stays valid until it expires, as in Direct Line.
"""

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devhost.directline.errors import Forbidden, Unauthorized


@dataclass(frozen=True)
class Grant:
    """Who is calling: the secret holder (any conversation) or a token holder (one conversation)."""

    conversation_id: str | None
    token: str | None = None
    user: dict[str, Any] | None = None
    expires_at: float = float("inf")

    @property
    def is_secret(self) -> bool:
        return self.token is None

    def check_conversation(self, conversation_id: str) -> None:
        if self.conversation_id is not None and self.conversation_id != conversation_id:
            raise Forbidden("token is not valid for this conversation")


class TokenIssuer:
    def __init__(self, secret: str, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._secret = secret
        self._ttl = ttl_seconds
        self._clock = clock
        self._tokens: dict[str, Grant] = {}

    def issue(self, conversation_id: str, user: dict[str, Any] | None = None) -> Grant:
        now = self._clock()
        self._forget_long_expired(now)
        token = secrets.token_urlsafe(32)
        grant = Grant(conversation_id, token, user, now + self._ttl)
        self._tokens[token] = grant
        return grant

    def body(self, grant: Grant) -> dict[str, Any]:
        """Direct Line's token answer (tokens/generate, tokens/refresh; a conversation adds its fields to it)."""
        return {"conversationId": grant.conversation_id, "token": grant.token, "expires_in": int(self._ttl)}

    def _forget_long_expired(self, now: float) -> None:
        # Every token lives the same TTL, so issue order is expiry order: the oldest are at the front of the dict.
        # A token is kept one more TTL after it expires, so its holder still hears "TokenExpired", not "not valid".
        while self._tokens:
            oldest = next(iter(self._tokens.values()))
            if now < oldest.expires_at + self._ttl:
                return
            assert oldest.token is not None
            del self._tokens[oldest.token]

    @property
    def outstanding(self) -> int:
        """How many tokens are remembered (expired ones included, for one more TTL)."""
        return len(self._tokens)

    def authenticate(self, authorization: str | None) -> Grant:
        if not authorization:
            raise Unauthorized("Missing token or secret")
        scheme, _, credential = authorization.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise Unauthorized("Authorization header must be 'Bearer <secret or token>'")
        # Constant-time compare: the secret is a master key.
        if hmac.compare_digest(credential.encode(), self._secret.encode()):
            return Grant(conversation_id=None)
        grant = self._tokens.get(credential)
        if grant is None:
            raise Forbidden("Security token not valid for this conversation")
        if self._clock() >= grant.expires_at:
            raise Forbidden("Token expired", code="TokenExpired")
        return grant
