"""NCRONTAB expressions as the timer trigger reads them: parsing and the next occurrence.

The rules follow NCrontab (github:atifaziz/NCrontab, NCrontab/CrontabFieldImpl.cs ``InternalParse``,
NCrontab/CrontabField.cs ``Accumulate``, NCrontab/CrontabSchedule.cs ``TryParse``/``TryGetNextOccurrence``) and the
extension's use of it (github:Azure/azure-webjobs-sdk-extensions, Extensions/Timers/Scheduling/CronSchedule.cs):

- fields are split on spaces only; six fields mean ``{second} {minute} {hour} {day} {month} {day-of-week}``, any other
  count but five is parsed as six (and fails); five fields have no seconds (second 0);
- a field is a comma list of ``*``, ``n``, ``a-b`` (a reversed range is swapped), each optionally ``/step``; ``n/step``
  runs from n to the field's maximum; a step below 1 counts as 1; an empty item is an error;
- months and days of the week also take names, matched case-insensitively by prefix (``Jan``, ``FeB``, ``Augu``,
  ``mon``), first match in calendar order; day-of-week is 0-6 from Sunday;
- a time matches when every field matches: day-of-month AND day-of-week (not cron's OR);
- the next occurrence is the first matching whole second strictly after the base time's second.
"""

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
# The last year .NET's DateTime (and so NCrontab) can represent; a schedule with no match before it never fires.
MAX_YEAR = 9999


class CrontabError(ValueError):
    """The expression is not valid NCRONTAB; the message is NCrontab's reason."""


@dataclass(frozen=True)
class _Field:
    kind: str
    low: int
    high: int
    names: tuple[str, ...] = ()


_SECOND, _MINUTE, _HOUR = _Field("Second", 0, 59), _Field("Minute", 0, 59), _Field("Hour", 0, 23)
_DAY, _MONTH, _DAY_OF_WEEK = _Field("Day", 1, 31), _Field("Month", 1, 12, MONTHS), _Field("DayOfWeek", 0, 6, DAYS)
_DOTNET_INT = re.compile(r"\s*[+-]?[0-9]+\s*")  # what int.Parse(s, InvariantCulture) accepts


def _int(text: str) -> int:
    if not _DOTNET_INT.fullmatch(text):
        raise CrontabError(f"'{text}' is not a number")
    return int(text)


def _value(field: _Field, text: str) -> int:
    if not text:
        raise CrontabError("A crontab field value cannot be empty.")
    if "0" <= text[0] <= "9":
        return _int(text)
    if not field.names:
        raise CrontabError(f"'{text}' is not a valid [{field.kind}] crontab field value. It must be a numeric value "
                           f"between {field.low} and {field.high} (all inclusive).")
    for index, name in enumerate(field.names):
        if name.lower().startswith(text.lower()):
            return index + field.low
    raise CrontabError(f"'{text}' is not a known value name. Use one of the following: {', '.join(field.names)}.")


def _check(field: _Field, value: int) -> None:
    if value < field.low:
        raise CrontabError(f"{value} is lower than the minimum allowable value for the [{field.kind}] field. Value "
                           f"must be between {field.low} and {field.high} (all inclusive).")
    if value > field.high:
        raise CrontabError(f"{value} is higher than the maximum allowable value for the [{field.kind}] field. Value "
                           f"must be between {field.low} and {field.high} (all inclusive).")


def _item(field: _Field, text: str) -> set[int]:
    step: int | None = None
    if text.find("/") > 0:
        text, _, every = text.partition("/")
        step = _int(every)
    if text == "*":
        first, last = field.low, field.high
    elif text.find("-") > 0:
        first_text, _, last_text = text.partition("-")
        first, last = sorted((_value(field, first_text), _value(field, last_text)))
        _check(field, first)
        _check(field, last)
    else:
        first = _value(field, text)
        _check(field, first)
        last = field.high if step is not None else first
    return set(range(first, last + 1, max(step or 1, 1)))


def _field(field: _Field, text: str) -> frozenset[int]:
    try:
        # Only a comma after the first character makes a list (NCrontab tests ``IndexOf(',') > 0``).
        items = text.split(",") if text.find(",") > 0 else [text]
        values: set[int] = set()
        for item in items:
            values |= _item(field, item)
        return frozenset(values)
    except CrontabError as error:
        raise CrontabError(f"'{text}' is not a valid [{field.kind}] crontab field expression. {error}") from None


@dataclass(frozen=True)
class CrontabSchedule:
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    days_of_week: frozenset[int]

    @classmethod
    def parse(cls, expression: str) -> "CrontabSchedule":
        tokens = [token for token in expression.split(" ") if token]
        # CronSchedule.HasSeconds: anything but five fields is read as six.
        if len(tokens) == 5:
            tokens = ["0", *tokens]
        elif len(tokens) != 6:
            raise CrontabError(f"'{expression}' is an invalid crontab expression. It must contain 6 components of a "
                               "schedule in the sequence of seconds, minutes, hours, days, months, and days of week.")
        kinds = (_SECOND, _MINUTE, _HOUR, _DAY, _MONTH, _DAY_OF_WEEK)
        return cls(*(_field(kind, token) for kind, token in zip(kinds, tokens, strict=True)))

    def next_after(self, base: datetime) -> datetime | None:
        """The first matching second strictly after ``base`` (its fraction dropped); None if none before MAX_YEAR."""
        start = base.replace(microsecond=0) + timedelta(seconds=1)
        year, month = start.year, start.month
        while year <= MAX_YEAR:
            if month in self.months:
                for day in range(1, calendar.monthrange(year, month)[1] + 1):
                    candidate = self._on_day(start, year, month, day)
                    if candidate is not None:
                        return candidate
            month += 1
            if month > 12:
                year, month = year + 1, 1
            # A later month starts at its first second.
            start = max(start, datetime(year, month, 1, tzinfo=base.tzinfo)) if year <= MAX_YEAR else start
        return None

    def _on_day(self, start: datetime, year: int, month: int, day: int) -> datetime | None:
        date = datetime(year, month, day, tzinfo=start.tzinfo)
        if date + timedelta(days=1) <= start or day not in self.days:
            return None
        # Python's weekday() is 0 for Monday; NCrontab's day-of-week is 0 for Sunday.
        if (date.weekday() + 1) % 7 not in self.days_of_week:
            return None
        same_day = date.date() == start.date()
        for hour in sorted(self.hours):
            if same_day and hour < start.hour:
                continue
            for minute in sorted(self.minutes):
                if same_day and (hour, minute) < (start.hour, start.minute):
                    continue
                for second in sorted(self.seconds):
                    candidate = date.replace(hour=hour, minute=minute, second=second)
                    if candidate >= start:
                        return candidate
        return None
