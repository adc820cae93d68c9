"""Token issuing on a controlled clock: expiry, and forgetting tokens long expired."""

import pytest

from devhost.directline.errors import Forbidden
from devhost.directline.stream_tokens import StreamGrant, StreamTokenIssuer
from devhost.directline.tokens import TokenIssuer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_expired_tokens_are_forgotten_one_ttl_after_expiry_so_memory_stays_bounded() -> None:
    clock = Clock()
    issuer = TokenIssuer("secret", ttl_seconds=10, clock=clock)
    old = [issuer.issue(f"c{n}") for n in range(100)]
    clock.now += 15  # expired, but within the grace of one more TTL
    fresh = issuer.issue("c-fresh")
    assert issuer.outstanding == 101
    with pytest.raises(Forbidden) as expired:
        issuer.authenticate(f"Bearer {old[0].token}")
    assert expired.value.code == "TokenExpired"

    clock.now += 10  # the old ones are now more than one TTL past expiry; the fresh one is only just expired
    issuer.issue("c-newest")
    assert issuer.outstanding == 2
    with pytest.raises(Forbidden) as forgotten:
        issuer.authenticate(f"Bearer {old[0].token}")
    assert forgotten.value.code == "BadArgument"
    with pytest.raises(Forbidden) as just_expired:
        issuer.authenticate(f"Bearer {fresh.token}")
    assert just_expired.value.code == "TokenExpired"


def test_the_token_body_is_direct_lines() -> None:
    issuer = TokenIssuer("secret", ttl_seconds=1800.0, clock=Clock())
    grant = issuer.issue("conv-1")
    assert issuer.body(grant) == {"conversationId": "conv-1", "token": grant.token, "expires_in": 1800}


def test_stream_tokens_expire_and_are_forgotten_one_ttl_later() -> None:
    clock = Clock()
    issuer = StreamTokenIssuer(ttl_seconds=60, clock=clock)
    token = issuer.issue("conv-1", after=3)
    assert issuer.check(token, "conv-1") == StreamGrant("conv-1", 3, 1060.0)
    clock.now += 60
    with pytest.raises(Forbidden) as expired:
        issuer.check(token, "conv-1")
    assert expired.value.code == "TokenExpired"
    clock.now += 61
    issuer.issue("conv-2", after=0)
    assert issuer.outstanding == 1
    with pytest.raises(Forbidden) as forgotten:
        issuer.check(token, "conv-1")
    assert forgotten.value.message == "Security token not valid for this conversation"
