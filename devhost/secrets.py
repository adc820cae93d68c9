"""Per-data-dir secrets for the offline stack: the Direct Line secret, the outcome signing key and, for ``devhost up
--auth``, the bot's app registration (app id, password and, for a SingleTenant app, its tenant id).

Generated once and kept in ``<data dir>/secrets.json`` (mode 0600) so a restarted stack can still verify outcomes
signed before the restart. A value set in the environment wins, so a user can pin their own.
"""

import json
import os
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_FILE = "secrets.json"


class SecretsError(Exception):
    """The secrets file exists but cannot be used."""


@dataclass(frozen=True)
class StackSecrets:
    directline_secret: str
    signing_key: str
    # The bot's app registration; empty unless asked for (``app_registration``).
    app_id: str = ""
    app_password: str = ""
    app_tenant_id: str = ""

    def __repr__(self) -> str:
        return f"StackSecrets(app_id={self.app_id!r}, app_tenant_id={self.app_tenant_id!r})"


def load_or_create(data_dir: Path, environ: dict[str, str] | None = None, *, app_registration: bool = False,
                   single_tenant: bool = False) -> StackSecrets:
    """The data dir's secrets, made on first use. With ``app_registration``, the bot's app id and password too (and a
    tenant id with ``single_tenant``), made once and kept, as an app registration in Azure is."""
    env = dict(os.environ) if environ is None else environ
    path = data_dir / _FILE
    stored: dict[str, str] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise SecretsError(f"{path} is not readable JSON ({error}); fix or delete it (a new one is then made, "
                               "and outcomes signed with the old key are no longer accepted)") from None
        if isinstance(loaded, dict):
            stored = {k: v for k, v in loaded.items() if isinstance(k, str) and isinstance(v, str)}
    changed = False
    made: dict[str, Callable[[], str]] = {"DirectLineSecret": lambda: secrets.token_urlsafe(32),
                                           "OperationSigningKey": lambda: secrets.token_urlsafe(32)}
    if app_registration:
        # Azure's shapes: a GUID app id (and tenant id), a 40-character client secret.
        made |= {"MicrosoftAppId": lambda: str(uuid.uuid4()), "MicrosoftAppPassword": lambda: secrets.token_urlsafe(30)}
    if single_tenant:
        made["MicrosoftAppTenantId"] = lambda: str(uuid.uuid4())
    for name, make in made.items():
        if not stored.get(name):
            stored[name] = make()
            changed = True
    if changed:
        data_dir.mkdir(parents=True, exist_ok=True)
        # Create with 0600 from the start: the file must never be readable by others, not even briefly.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(stored, handle, indent=2)
    return StackSecrets(
        directline_secret=env.get("DirectLineSecret") or stored["DirectLineSecret"],
        signing_key=env.get("OperationSigningKey") or stored["OperationSigningKey"],
        app_id=stored.get("MicrosoftAppId", "") if app_registration else "",
        app_password=stored.get("MicrosoftAppPassword", "") if app_registration else "",
        app_tenant_id=stored.get("MicrosoftAppTenantId", "") if single_tenant else "",
    )
