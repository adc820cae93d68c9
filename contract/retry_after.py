"""Reading an HTTP ``Retry-After`` header: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).

Both sides meet it: the bot from the user's channel (its Bot Connector answers 429 with it), the function app from
Direct Line when it throttles the carrier conversation.
"""

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait, at least 0; None when the header is absent or is neither form.

    ``now`` (aware, UTC) is the reference for an HTTP-date; a date in the past means "now" (0 seconds).
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        # delay-seconds is 1*DIGIT: no sign, no fraction.
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # An HTTP-date is always GMT; parsedate_to_datetime leaves "-0000" naive.
        when = when.replace(tzinfo=UTC)
    delay = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, delay)
