"""Per-data-dir secrets for the offline stack: the Direct Line secret and the outcome signing key.

Generated once and kept in ``<data dir>/secrets.json`` (mode 0600) so a restarted stack can still verify outcomes
signed before the restart. A value set in the environment wins, so a user can pin their own.
"""

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

_FILE = "secrets.json"


class SecretsError(Exception):
    """The secrets file exists but cannot be used."""


@dataclass(frozen=True)
class StackSecrets:
    directline_secret: str
    signing_key: str


def load_or_create(data_dir: Path, environ: dict[str, str] | None = None) -> StackSecrets:
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
    for name in ("DirectLineSecret", "OperationSigningKey"):
        if not stored.get(name):
            stored[name] = secrets.token_urlsafe(32)
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
    )
