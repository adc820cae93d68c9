"""A local Bot Framework identity service: the OpenID metadata and signing keys botbuilder checks tokens against,
and the tokens a channel, the Emulator and a bot present."""

from devhost.identity.keys import SigningKey
from devhost.identity.service import IdentityService, RunningIdentityService, start

__all__ = ["IdentityService", "RunningIdentityService", "SigningKey", "start"]
