"""Settings of the Direct Line stand-in, parsed once (by the CLI or the caller) into a frozen object."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devhost.directline.throttle import ThrottleRule
from devhost.identity.channel import DirectLineAuth

# Direct Line rejects activities over 256K serialized (docs: "Direct Line API 3.0 - send an activity").
DIRECTLINE_MAX_ACTIVITY_BYTES = 256 * 1024
# The channel gives up on the bot after about 15 s and reports 504 GatewayTimeout to the client.
DIRECTLINE_BOT_TIMEOUT_SECONDS = 15.0
# Lifetime of an issued token (the documented expires_in).
DIRECTLINE_TOKEN_TTL_SECONDS = 1800
# A streamUrl must be used within 60 s ("Reconnect to a conversation", Direct Line 3.0 docs); its `t` token is a JWT
# whose nbf and exp are 60 s apart (a captured streamUrl in BotFramework-WebChat#4071).
DIRECTLINE_STREAM_URL_TTL_SECONDS = 60.0
# How often an idle stream gets an empty message, which the service sends "to ensure the connection is still valid"
# ("Receive activities from the bot", Direct Line 3.0 docs). The service's period is not documented.
DIRECTLINE_STREAM_KEEPALIVE_SECONDS = 15.0
# The official Web Chat bundle (UMD, defines window.WebChat) that ``make webchat`` fetches (devhost/webchat/fetch.py);
# the page at /webchat needs it and answers 503 with the install hint while it is missing.
WEBCHAT_BUNDLE = Path(__file__).resolve().parents[1] / "webchat/dist/webchat.js"


@dataclass(frozen=True)
class DirectLineConfig:
    """``bot_url`` is the bot's messaging endpoint; ``secret`` is the master key clients and the function app use.

    ``public_url`` is the root the bot replies to (its ``serviceUrl``); by default the address the server bound.
    """

    bot_url: str
    secret: str
    host: str = "127.0.0.1"
    port: int = 8181
    bot_timeout_seconds: float = DIRECTLINE_BOT_TIMEOUT_SECONDS
    token_ttl_seconds: float = DIRECTLINE_TOKEN_TTL_SECONDS
    stream_url_ttl_seconds: float = DIRECTLINE_STREAM_URL_TTL_SECONDS
    stream_keepalive_seconds: float = DIRECTLINE_STREAM_KEEPALIVE_SECONDS
    max_activity_bytes: int = DIRECTLINE_MAX_ACTIVITY_BYTES
    bot_id: str = "bot"
    bot_name: str = "Bot"
    public_url: str | None = None
    webchat_bundle: Path = WEBCHAT_BUNDLE
    # Answered back by /health so ``devhost up`` knows it reached the process it started (devhost/part_identity.py).
    part_nonce: str = ""
    # Faults the Bot Connector routes start with: keyword arguments of ConnectorFaults.inject (``--fault``).
    faults: tuple[dict[str, Any], ...] = ()
    # Bot Framework authentication (``devhost up --auth``): a channel token on every activity to the bot, and the
    # bot's token required on every call of the Bot Connector routes. None: auth off, as with an empty app id.
    auth: DirectLineAuth | None = None
    # Throttling (``--throttle``, devhost/directline/throttle.py): posts per conversation past these rules are
    # refused with 429 and Retry-After, on both faces. Empty: off, the default.
    throttle: tuple[ThrottleRule, ...] = ()

    def __post_init__(self) -> None:
        # The function app strips its DirectLineSecret setting and the header's credential is stripped too, so a
        # secret given with a stray newline or space must be stripped here, or nobody could ever authenticate.
        object.__setattr__(self, "secret", self.secret.strip())
        if not self.secret:
            raise ValueError("the Direct Line secret must not be empty")
        if not self.bot_url.startswith(("http://", "https://")):
            raise ValueError(f"bot_url must be an http(s) URL, got {self.bot_url!r}")
        positive = {
            "bot_timeout_seconds": self.bot_timeout_seconds,
            "token_ttl_seconds": self.token_ttl_seconds,
            "stream_url_ttl_seconds": self.stream_url_ttl_seconds,
            "stream_keepalive_seconds": self.stream_keepalive_seconds,
            "max_activity_bytes": self.max_activity_bytes,
        }
        for name, value in positive.items():
            if value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
