"""What ``devhost up --auth`` adds to the stack: Bot Framework authentication end to end, with the bot's code unchanged.

- An identity service part (``python -m devhost identity``, https on 127.0.0.1 with the data dir's local CA): the
  OpenID metadata and keys botbuilder checks tokens against, and Azure AD's client-credentials grant.
- The bot runs with the app registration kept beside the other secrets (``MicrosoftAppId``, ``MicrosoftAppPassword``,
  and ``MicrosoftAppTenantId`` for SingleTenant) and botbuilder's settings for another cloud pointed at that service
  (bot/cloud.py); it trusts the local CA through ``REQUESTS_CA_BUNDLE``/``SSL_CERT_FILE``. Nothing in the bot knows.
- The Direct Line stand-in signs a channel token for every activity it forwards and checks the bot's token on every
  Bot Connector call; the chat gets an Emulator token for the app and checks the bot's token on its replies.
"""

from dataclasses import dataclass
from pathlib import Path

from devhost.identity.channel import EmulatorAuth
from devhost.identity.cli import KEY_FILE, TLS_DIR
from devhost.identity.keys import load_or_create_key
from devhost.identity.service import AppRegistration, IdentityEndpoints
from devhost.identity.tls import LocalTls
from devhost.identity.tls import load_or_create as load_tls
from devhost.secrets import StackSecrets

IDENTITY_HOST = "127.0.0.1"


@dataclass(frozen=True)
class StackAuth:
    """The identity service of one data directory, and what each part needs to use it."""

    directory: Path
    port: int
    app: AppRegistration
    tls: LocalTls

    @classmethod
    def prepare(cls, data_dir: Path, port: int, secrets: StackSecrets) -> "StackAuth":
        """Make the local CA and the signing key before any part starts: the parts on Microsoft's side read them."""
        directory = data_dir / "identity"
        tls = load_tls(directory / TLS_DIR)
        load_or_create_key(directory / KEY_FILE)
        return cls(directory, port, AppRegistration(secrets.app_id, secrets.app_password, secrets.app_tenant_id), tls)

    @property
    def endpoints(self) -> IdentityEndpoints:
        # Always loopback: its certificate names only the loopback addresses, and every part runs on this machine.
        return IdentityEndpoints(f"https://{IDENTITY_HOST}:{self.port}")

    @property
    def key_file(self) -> Path:
        return self.directory / KEY_FILE

    def identity_args(self) -> list[str]:
        return ["identity", "--host", IDENTITY_HOST, "--port", str(self.port), "--data-dir", str(self.directory)]

    def identity_env(self) -> dict[str, str]:
        return {"MicrosoftAppId": self.app.app_id, "MicrosoftAppPassword": self.app.password,
                "MicrosoftAppTenantId": self.app.tenant_id}

    @property
    def ready_url(self) -> str:
        return f"{self.endpoints.origin}/devhost/health"

    def bot_env(self) -> dict[str, str]:
        return {**self.endpoints.bot_settings(self.app), **self.tls.client_environment()}

    def directline_args(self) -> list[str]:
        return ["--identity-url", self.endpoints.origin, "--identity-key-file", str(self.key_file),
                "--bot-app-id", self.app.app_id, "--ca-file", str(self.tls.ca)]

    def emulator_auth(self) -> EmulatorAuth:
        return EmulatorAuth(self.endpoints, self.app.app_id, self.app.password, self.tls.ca, self.app.tenant_id)
