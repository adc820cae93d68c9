"""A local Bot Framework identity service: the OpenID metadata and signing keys botbuilder checks tokens against, the
client-credentials grant bots and the Emulator get their tokens from, and a local CA for its https."""

from devhost.identity.keys import SigningKey
from devhost.identity.service import AppRegistration, IdentityService, RunningIdentityService, start
from devhost.identity.tls import LocalTls

__all__ = ["AppRegistration", "IdentityService", "LocalTls", "RunningIdentityService", "SigningKey", "start"]
