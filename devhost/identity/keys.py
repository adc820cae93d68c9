"""The identity service's signing key: an RSA key published as a JWK, and JWTs signed with it.

botbuilder checks a channel's token against the keys it reads from the OpenID metadata's ``jwks_uri``
(botframework-connector ``jwt_token_extractor._OpenIdMetadata``): it finds the key by the token's ``kid``, builds it
with PyJWT's ``RSAAlgorithm.from_jwk`` and, when the key lists ``endorsements``, requires the activity's channel id
among them. So the published key carries ``kty``, ``use``, ``kid``, ``n``, ``e`` and the channels it endorses, as
``login.botframework.com/v1/.well-known/keys`` does.
"""

import base64
import json
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
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


def load_or_create_key(path: Path) -> SigningKey:
    """The signing key kept at ``path`` (JSON with its kid and PEM, mode 0600), made on first use.

    Shared by the parts that play Microsoft's side offline: the identity service publishes it, the Direct Line
    stand-in signs its channel tokens with it, as the Bot Framework's own services share theirs."""
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            loaded = serialization.load_pem_private_key(str(data["pem"]).encode("ascii"), password=None)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise KeyFileError(f"{path} is not a usable signing key ({type(error).__name__}); delete it to make a "
                               "new one") from None
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise KeyFileError(f"{path} does not hold an RSA key; delete it to make a new one")
        return SigningKey(loaded, str(data["kid"]))
    key = SigningKey.generate()
    pem = key.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode("ascii")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"kid": key.kid, "pem": pem}, handle)
    return key


class KeyFileError(Exception):
    """The key file exists but cannot be used."""
