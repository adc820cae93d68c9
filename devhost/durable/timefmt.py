"""Time stamps in the shapes the SDK and the status API expect."""

import functools
from datetime import UTC, datetime, timedelta

from dateutil import parser as _dateutil


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_dotnet(moment: datetime) -> str:
    """.NET round-trip style with 7 fraction digits and a Z: what DTFx writes into history events."""
    m = moment.astimezone(UTC)
    # Formatted by hand: strftime costs several times more, and every new history event takes one or two stamps.
    return (f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}."
            f"{m.microsecond:06d}0Z")


def to_status(moment: datetime) -> str:
    """``yyyy-MM-ddTHH:mm:ssZ``: the whole-second form of createdTime/lastUpdatedTime in the status API."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Every episode's shim replay reads every past OrchestratorStarted and timer stamp again: remembering the (immutable)
# results makes that work per new stamp instead of per stamp and episode.
@functools.lru_cache(maxsize=8192)
def parse(text: str) -> datetime:
    """Any ISO-8601 time stamp; naive ones are taken as UTC (the SDK always sends UTC)."""
    moment: datetime = _dateutil.isoparse(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def to_epoch(moment: datetime) -> float:
    return moment.timestamp()


def parse_timespan(text: str) -> timedelta:
    """.NET TimeSpan ``[-][d.]hh:mm:ss[.fffffff]`` (host.json functionTimeout)."""
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("-")
    days = 0
    head, _, rest = body.partition(":")
    if "." in head:
        day_text, head = head.split(".", 1)
        days = int(day_text)
    parts = [head, *rest.split(":")]
    if len(parts) != 3:
        raise ValueError(f"not a TimeSpan: {text!r}")
    hours, minutes, seconds = int(parts[0]), int(parts[1]), float(parts[2])
    return sign * timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def to_timespan(delta: timedelta | None) -> str:
    """.NET TimeSpan.ToString() ("c"): ``[-][d.]hh:mm:ss[.fffffff]``."""
    if delta is None:
        return "00:00:00"
    sign = "-" if delta < timedelta(0) else ""
    delta = abs(delta)
    hours, rest = divmod(delta.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    if delta.days:
        text = f"{delta.days}.{text}"
    if delta.microseconds:
        text += f".{delta.microseconds:06d}0"
    return sign + text
