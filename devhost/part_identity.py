"""How a started part proves it is the process just started, not an older one still holding the port.

``devhost.stack`` draws a fresh random nonce for every start and hands it to the part in its environment
(``PART_NONCE_ENV``); the part's health endpoint answers it back in the ``PART_NONCE_HEADER`` response header, and
readiness accepts only an answer carrying the nonce it drew. The nonce is no secret and grants nothing: it is drawn
from ``secrets`` for uniqueness and derived from nothing else, so answering it on an unauthenticated endpoint reveals
nothing. The bot repeats these two names in ``bot/settings.py`` (the bot does not import the devhost).
"""

from typing import Final

PART_NONCE_ENV: Final = "DEVHOST_PART_NONCE"
PART_NONCE_HEADER: Final = "X-Devhost-Part-Nonce"


def nonce_headers(nonce: str) -> dict[str, str]:
    """The header a health answer carries (none when the part was started without a nonce)."""
    return {PART_NONCE_HEADER: nonce} if nonce else {}
