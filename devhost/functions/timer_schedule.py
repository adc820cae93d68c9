"""A timer trigger's ``schedule``: an NCRONTAB expression or a TimeSpan, as the timer extension reads it.

TimerSchedule.Create (github:Azure/azure-webjobs-sdk-extensions, Extensions/Timers/Scheduling/TimerSchedule.cs):
``%Setting%`` names are resolved from app settings first, then the text is tried as a cron expression
(CronSchedule.TryCreate), then as a TimeSpan (``TimeSpan.TryParse``: a ConstantSchedule, one interval after
another); anything else fails the function's indexing with "The schedule expression '...' was not recognized as a
valid cron expression or timespan string." UseMonitor is switched off for schedules more frequent than once a minute
(TimerSchedule.ShouldDisableScheduleMonitor).
"""

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from devhost.functions.errors import FunctionsHostError
from devhost.functions.ncrontab import CrontabError, CrontabSchedule


class ScheduleError(FunctionsHostError):
    """A timer function's schedule cannot be used; the message names the function and the expression."""


# .NET TimeSpan.TryParse under the invariant culture (dotnet/runtime, System/Globalization/TimeSpanParse.cs): the
# invariant patterns ``[-][d.]h:m[:s[.f]]`` and the localized "g" pattern ``[-][d:]h:m:s[.f]``, whose ':' after the
# days is why "24:00:00" is 24 days (hours above 23 fail h:m:s, then d:h:m matches) and "25:00:00:00" is 25 days.
_TIMESPAN_FORMS = [
    re.compile(r"(?P<d>[0-9]+)"),
    re.compile(r"(?P<h>[0-9]+):(?P<m>[0-9]+)"),
    re.compile(r"(?P<h>[0-9]+):(?P<m>[0-9]+):(?P<s>[0-9]+)"),
    re.compile(r"(?P<d>[0-9]+)\.(?P<h>[0-9]+):(?P<m>[0-9]+)"),
    re.compile(r"(?P<d>[0-9]+):(?P<h>[0-9]+):(?P<m>[0-9]+)"),
    re.compile(r"(?P<h>[0-9]+):(?P<m>[0-9]+):(?P<s>[0-9]+)\.(?P<f>[0-9]+)"),
    re.compile(r"(?P<d>[0-9]+)\.(?P<h>[0-9]+):(?P<m>[0-9]+):(?P<s>[0-9]+)"),
    re.compile(r"(?P<d>[0-9]+):(?P<h>[0-9]+):(?P<m>[0-9]+):(?P<s>[0-9]+)"),
    re.compile(r"(?P<d>[0-9]+)\.(?P<h>[0-9]+):(?P<m>[0-9]+):(?P<s>[0-9]+)\.(?P<f>[0-9]+)"),
    re.compile(r"(?P<d>[0-9]+):(?P<h>[0-9]+):(?P<m>[0-9]+):(?P<s>[0-9]+)\.(?P<f>[0-9]+)"),
]
_LIMITS = {"d": 10675199, "h": 23, "m": 59, "s": 59}


def parse_dotnet_timespan(text: str) -> timedelta | None:
    """The TimeSpan ``TimeSpan.TryParse`` reads from ``text``, or None where it fails."""
    body = text.strip()
    negative = body.startswith("-")
    body = body[1:] if negative else body
    for pattern in _TIMESPAN_FORMS:
        match = pattern.fullmatch(body)
        if match is None:
            continue
        parts = match.groupdict()
        if any(int(parts[name]) > limit for name, limit in _LIMITS.items() if parts.get(name) is not None):
            continue  # an overflow in one pattern: the next pattern may still read it (as "24:00:00" shows)
        fraction = parts.get("f") or "0"
        span = timedelta(days=int(parts.get("d") or 0), hours=int(parts.get("h") or 0),
                         minutes=int(parts.get("m") or 0), seconds=int(parts.get("s") or 0),
                         microseconds=round(int(fraction) / 10 ** len(fraction) * 1_000_000))
        return -span if negative else span
    return None


@dataclass(frozen=True)
class TimerSchedule:
    """One timer function's schedule: a cron expression, or an interval when ``interval`` is set."""

    expression: str
    cron: CrontabSchedule | None = None
    interval: timedelta | None = None

    def next_after(self, now: datetime) -> datetime | None:
        """The next occurrence after ``now``; None when a cron expression never matches again."""
        if self.interval is not None:
            return now + self.interval
        assert self.cron is not None
        return self.cron.next_after(now)

    @property
    def adjusts_for_dst(self) -> bool:
        """The ``Schedule`` object the function receives: {"AdjustForDST": true} for cron, false for a TimeSpan."""
        return self.cron is not None

    def monitor_allowed(self, now: datetime) -> bool:
        """False for schedules that fire more than once a minute: the extension does not monitor those."""
        if self.interval is not None:
            return self.interval >= timedelta(minutes=1)
        assert self.cron is not None
        fields = self.cron.minutes, self.cron.hours, self.cron.days, self.cron.months, self.cron.days_of_week
        if any(len(values) != full for values, full in zip(fields, (60, 24, 31, 12, 7), strict=True)):
            return True
        first = self.cron.next_after(now)
        second = self.cron.next_after(first) if first is not None else None
        return first is None or second is None or second >= now + timedelta(minutes=1)


def resolve_setting_names(expression: str, environ: Mapping[str, str]) -> str:
    """``%Name%`` replaced by the app setting, as the host's name resolver does; a missing one is an error."""
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise ScheduleError(f"'%{name}%' does not resolve to a value.")
        return environ[name]

    return re.sub(r"%([^%]+)%", value, expression)


def parse_schedule(function_name: str, expression: str, environ: Mapping[str, str] | None = None) -> TimerSchedule:
    """The schedule of ``function_name``; ScheduleError naming the function and the expression when unusable."""
    where = f"Error indexing method 'Functions.{function_name}'"
    try:
        resolved = resolve_setting_names(expression, os.environ if environ is None else environ)
    except ScheduleError as error:
        raise ScheduleError(f"{where}: {error}") from None
    try:
        return TimerSchedule(resolved, cron=CrontabSchedule.parse(resolved))
    except CrontabError as error:
        cron_error = str(error)
    interval = parse_dotnet_timespan(resolved)
    if interval is None:
        raise ScheduleError(f"{where}: The schedule expression '{resolved}' was not recognized as a valid cron "
                            f"expression or timespan string. (As cron: {cron_error})")
    if interval <= timedelta(0):
        # The extension would fire such a schedule back to back without end; the devhost refuses it.
        raise ScheduleError(f"{where}: The schedule expression '{resolved}' is a TimeSpan of {interval}; a timer "
                            "interval must be positive.")
    return TimerSchedule(resolved, interval=interval)
