"""The stand-in's optional throttling: past a posting rate per conversation, a post is refused with 429.

What the real service does, from its sources:
- Bot Framework FAQ (MicrosoftDocs/bot-docs, articles/bot-service-resources-faq-general.yml, "What is rate
  limiting?" and after): both faces are throttled ("A bot sends messages too frequently", "A client of a bot sends
  messages too frequently", and new WebSockets requested too often); a throttled request gets "HTTP 429 (Too Many
  Requests) [...] along with a Retry-After header indicating the amount of time (in seconds) to wait"; and "we
  aren't publishing the numbers".
- The only published figures are Teams' Bot Connector's, per bot per conversation ("thread"), as several windows
  that all apply: 7 sends in 1 s, 8 in 2 s, 60 in 30 s, 1800 in 3600 s (MicrosoftDocs/msteams-docs,
  msteams-platform/bots/how-to/rate-limit.md, "Per bot per thread limit"). Hence rules of several windows here.

So a rule is "at most COUNT posts in any SECONDS" (a sliding window, not a bucket refilled on a tick), per
conversation; every rule must allow a post. A refused post is not counted (it was not taken), and its Retry-After
is whole seconds (at least 1) until the window has room again, so a client that waits as told is let through and
one that comes back sooner is refused again. Not modelled: the limit on new WebSockets, and per-bot limits across
conversations (Teams' 30 requests per second per app per tenant), which no source gives for Direct Line.
"""

import math
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

_RULE = re.compile(r"(?P<count>\d+)/(?P<seconds>\d+(?:\.\d+)?)s?")


@dataclass(frozen=True)
class ThrottleRule:
    """At most ``count`` posts to one conversation in any ``seconds``."""

    count: int
    seconds: float

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"a throttle rule allows at least 1 post, got {self.count}")
        if not 0 < self.seconds <= 86400:
            raise ValueError(f"a throttle rule's window is more than 0 and at most 86400 seconds, got {self.seconds:g}")

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds:g}s"


def parse_throttle(text: str) -> tuple[ThrottleRule, ...]:
    """``COUNT/SECONDS[,COUNT/SECONDS...]`` (e.g. ``1/1``, ``7/1s,8/2s,60/30s``) for the ``--throttle`` flags.
    Raises ValueError naming what is wrong."""
    rules = []
    for part in text.split(","):
        match = _RULE.fullmatch(part.strip())
        if match is None:
            raise ValueError(f"--throttle {text!r}: expected COUNT/SECONDS[,COUNT/SECONDS...] such as 1/1 or "
                             f"7/1s,60/30s, got {part.strip()!r}")
        try:
            rules.append(ThrottleRule(int(match["count"]), float(match["seconds"])))
        except ValueError as error:
            raise ValueError(f"--throttle {text!r}: {error}") from None
    return tuple(rules)


@dataclass
class ConversationThrottle:
    """Posting times per conversation, checked against every rule. Owned by one app, on its event loop."""

    rules: tuple[ThrottleRule, ...]
    clock: Callable[[], float] = time.monotonic
    _posts: dict[str, deque[float]] = field(default_factory=dict)

    def admit(self, conversation_id: str) -> float | None:
        """Count a post to ``conversation_id`` and return None, or refuse it: the seconds to wait (whole, >= 1)."""
        now = self.clock()
        longest = max(rule.seconds for rule in self.rules)
        posts = self._posts.setdefault(conversation_id, deque())
        while posts and posts[0] <= now - longest:
            posts.popleft()
        wait = 0.0
        for rule in self.rules:
            inside = [at for at in posts if at > now - rule.seconds]
            if len(inside) >= rule.count:
                # Room again once the oldest post that fills this window has left it.
                wait = max(wait, inside[len(inside) - rule.count] + rule.seconds - now)
        if wait > 0:
            return float(max(1, math.ceil(wait)))
        posts.append(now)
        return None
