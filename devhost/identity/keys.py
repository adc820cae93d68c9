"""The identity service's signing key: an RSA key published as a JWK, and JWTs signed with it.

botbuilder checks a channel's token against the keys it reads from the OpenID metadata's ``jwks_uri``
(botframework-connector ``jwt_token_extractor._OpenIdMetadata``): it finds the key by the token's ``kid``, builds it
with PyJWT's ``RSAAlgorithm.from_jwk`` and, when the key lists ``endorsements``, requires the activity's channel id
among them. So the published key carries ``kty``, ``use``, ``kid``, ``n``, ``e`` and the channels it endorses, as
``login.botframework.com/v1/.well-known/keys`` does.
"""

import base64
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

# What the Bot Framework's published keys endorse: the channels that may present tokens signed with them.
DEFAULT_ENDORSEMENTS = ("msteams", "directline", "webchat", "emulator", "skype", "slack", "telegram", "facebook")


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class SigningKey:
    """One RSA key with its key id; ``endorsements`` are the channel ids published with it."""

    private_key: rsa.RSAPrivateKey
    kid: str
    endorsements: tuple[str, ...] = field(default=DEFAULT_ENDORSEMENTS)

    @classmethod
    def generate(cls, endorsements: Sequence[str] = DEFAULT_ENDORSEMENTS) -> "SigningKey":
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048), secrets.token_hex(16),
                   tuple(endorsements))

    def jwk(self) -> dict[str, Any]:
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "n": _b64url_uint(numbers.n),
            "e": _b64url_uint(numbers.e),
            "endorsements": list(self.endorsements),
        }

    def sign(self, claims: Mapping[str, Any]) -> str:
        """A compact RS256 JWT with this key's ``kid`` in its header."""
        return jwt.encode(dict(claims), self.private_key, algorithm="RS256", headers={"kid": self.kid})
