"""The short-lived tokens that pre-authorise a ``streamUrl``.

A stream URL carries its credential in the query (``...conversations/{id}/stream?watermark=-&t=<token>``): browsers
cannot set an Authorization header on a WebSocket, so Direct Line makes the URL itself the credential ("Receive
activities from the bot", Direct Line 3.0 docs). The real ``t`` is a JWT bound to one conversation (claim ``conv``)
that expires 60 s after it is issued (BotFramework-WebChat#4071 shows one, and the 403 its expiry gets at the
handshake). Here it is an opaque random string that also remembers where the stream starts. It opens a stream only:
as a Bearer credential for the REST routes it is unknown (403), and a conversation token is no stream token.
"""

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from devhost.directline.errors import Forbidden, Unauthorized


@dataclass(frozen=True)
class StreamGrant:
    """A stream URL's permission: which conversation, and the sequence number the stream resumes after."""

    conversation_id: str
    after: int
    expires_at: float


class StreamTokenIssuer:
    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._grants: dict[str, StreamGrant] = {}

    def issue(self, conversation_id: str, after: int) -> str:
        now = self._clock()
        self._forget_long_expired(now)
        token = secrets.token_urlsafe(32)
        self._grants[token] = StreamGrant(conversation_id, after, now + self._ttl)
        return token

    def check(self, token: str | None, conversation_id: str) -> StreamGrant:
        """The grant of ``token`` for ``conversation_id``, or the error Direct Line answers the handshake with."""
        if not token:
            raise Unauthorized("Missing token: a stream URL carries its token in the t parameter")
        grant = self._grants.get(token)
        if grant is None:
            raise Forbidden("Security token not valid for this conversation")
        if grant.conversation_id != conversation_id:
            raise Forbidden("token is not valid for this conversation")
        if self._clock() >= grant.expires_at:
            raise Forbidden(
                "Token expired: get a new streamUrl by reconnecting to the conversation", code="TokenExpired"
            )
        return grant

    @property
    def outstanding(self) -> int:
        return len(self._grants)

    def _forget_long_expired(self, now: float) -> None:
        # As TokenIssuer: one TTL for all, so issue order is expiry order; an expired token is remembered one more
        # TTL so its holder hears "TokenExpired" rather than "not valid".
        while self._grants:
            token, oldest = next(iter(self._grants.items()))
            if now < oldest.expires_at + self._ttl:
                return
            del self._grants[token]
