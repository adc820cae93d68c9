"""The dashboard's settings, parsed once from the command line into a frozen object."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from devhost.durable_key import LOOPBACK


class DashboardError(Exception):
    """Bad settings for the dashboard; the message names what is wrong."""


@dataclass(frozen=True)
class DashboardSettings:
    # Base URL of the functions host: http://127.0.0.1:7071, or https://<app>.azurewebsites.net.
    functions_url: str
    # Added to every forwarded request as x-functions-key; "" for a host that checks no keys (`func start`).
    key: str
    # Where the key came from, for the page's header line (never the key itself).
    key_source: str
    host: str = "127.0.0.1"
    port: int = 7072
    # Answered back on /health so ``devhost up`` knows it reached the process it started (devhost/part_identity.py).
    part_nonce: str = ""

    def __post_init__(self) -> None:
        parts = urlsplit(self.functions_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DashboardError(f"--functions-url must be an http(s) URL, got {self.functions_url!r}")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise DashboardError(f"--functions-url must be the host's base URL without a path or query (e.g. "
                                 f"http://127.0.0.1:7071), got {self.functions_url!r}")
        # The dashboard adds a key that can terminate and purge: whoever reaches it holds that power.
        if self.host not in LOOPBACK:
            raise DashboardError(f"--host must be a loopback address (127.0.0.1, localhost or ::1), got "
                                 f"{self.host!r}: the dashboard adds the Durable API key to what it forwards")
        object.__setattr__(self, "functions_url", self.functions_url.rstrip("/"))

    def __repr__(self) -> str:
        return f"DashboardSettings(functions_url={self.functions_url!r}, key_source={self.key_source!r})"
