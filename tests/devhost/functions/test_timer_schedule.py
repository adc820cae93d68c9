"""Timer schedules read as the timer extension reads them: NCrontab's rules (cases from NCrontab's own tests,
github:atifaziz/NCrontab NCrontab.Tests/CrontabScheduleTests.cs) and .NET's TimeSpan.TryParse."""

from datetime import datetime, timedelta

import pytest

from devhost.functions.ncrontab import CrontabError, CrontabSchedule
from devhost.functions.timer_schedule import ScheduleError, parse_dotnet_timespan, parse_schedule


def at(text: str) -> datetime:
    return datetime.strptime(text, "%d/%m/%Y %H:%M:%S")


@pytest.mark.parametrize(("base", "expression", "expected"), [
    ("01/01/2003 00:00:00", "* * * * *", "01/01/2003 00:01:00"),
    ("31/12/2003 23:59:00", "* * * * *", "01/01/2004 00:00:00"),
    ("28/02/2004 23:59:00", "* * * * *", "29/02/2004 00:00:00"),
    ("01/01/2003 00:00:49", "45-47,48,49 * * * * *", "01/01/2003 00:01:45"),
    ("01/01/2003 00:00:57", "2/5 * * * * *", "01/01/2003 00:01:02"),
    ("24/02/2021 09:50:35", "* 0-1 10 * * *", "24/02/2021 10:00:00"),
    ("01/01/2003 00:49:30", "6 45-47,48,49 * * * *", "01/01/2003 01:45:06"),
    ("20/12/2003 10:00:00", " * 3/4 * * *", "20/12/2003 11:00:00"),
    ("07/01/2003 00:00:00", "30  *  1 * *", "01/02/2003 00:30:00"),
    ("31/01/2000 00:00:00", "0 0 15,30,31 * *", "15/02/2000 00:00:00"),
    ("30/04/2000 00:00:00", "0 0 15,30,31 * *", "15/05/2000 00:00:00"),
    ("01/12/2003 05:00:00", "10 * * 6 *", "01/06/2004 00:10:00"),
    ("01/07/2002 05:00:00", "10 * * February,April-Jun *", "01/02/2003 00:10:00"),
    ("11/03/1988 14:23:00", "20 * * january,FeB,Mar,april,May,JuNE,July,Augu,SEPT-October,Nov,DECEM *",
     "11/03/1988 15:20:00"),
    ("26/06/2003 10:00:00", "30 6 * * sunday", "29/06/2003 06:30:00"),
    ("30/06/2003 18:15:00", "15 18 * * Mon", "07/07/2003 18:15:00"),
    # Day of month AND day of week: the first Monday that is the 1st.
    ("01/01/2003 12:00:00", "45 16 1 * Mon", "01/09/2003 16:45:00"),
    ("29/02/2000 12:01:00", "1 12 29 2 *", "29/02/2004 12:01:00"),
    ("01/01/2000 14:40:00", "40 14/1 * * *", "01/01/2000 15:40:00"),
    # A reversed range is swapped; a step below 1 counts as 1.
    ("01/01/2003 00:00:00", "0 50-10 * * * *", "01/01/2003 00:10:00"),
    ("01/01/2003 00:00:00", "*/0 * * * * *", "01/01/2003 00:00:01"),
])
def test_next_occurrences_match_ncrontab(base: str, expression: str, expected: str) -> None:
    assert CrontabSchedule.parse(expression).next_after(at(base)) == at(expected)


def test_a_date_that_never_comes_has_no_next_occurrence() -> None:
    assert CrontabSchedule.parse("* * * 31 Feb *").next_after(at("01/01/2001 00:00:00")) is None


@pytest.mark.parametrize(("expression", "reason"), [
    ("* bad * * * *", "'bad' is not a valid [Minute] crontab field expression. 'bad' is not a valid [Minute] crontab "
                      "field value. It must be a numeric value between 0 and 59 (all inclusive)."),
    ("* * * * * mon,bad,wed", "'mon,bad,wed' is not a valid [DayOfWeek] crontab field expression. 'bad' is not a "
                              "known value name. Use one of the following: Sunday, Monday, Tuesday, Wednesday, "
                              "Thursday, Friday, Saturday."),
    ("* * 1,2,3,456,7,8,9 * * *", "'1,2,3,456,7,8,9' is not a valid [Hour] crontab field expression. 456 is higher "
                                  "than the maximum allowable value for the [Hour] field. Value must be between 0 "
                                  "and 23 (all inclusive)."),
    ("* * * 0 * *", "'0' is not a valid [Day] crontab field expression. 0 is lower than the minimum allowable value "
                    "for the [Day] field. Value must be between 1 and 31 (all inclusive)."),
    ("1,,2 * * * * *", "'1,,2' is not a valid [Second] crontab field expression. A crontab field value cannot be "
                       "empty."),
    ("* * * *", "'* * * *' is an invalid crontab expression. It must contain 6 components of a schedule in the "
                "sequence of seconds, minutes, hours, days, months, and days of week."),
])
def test_bad_fields_are_refused_with_ncrontabs_reason(expression: str, reason: str) -> None:
    with pytest.raises(CrontabError) as raised:
        CrontabSchedule.parse(expression)
    assert str(raised.value) == reason


@pytest.mark.parametrize(("text", "span"), [
    ("00:00:05", timedelta(seconds=5)),
    ("01:00:00", timedelta(hours=1)),
    ("1.00:00:00", timedelta(days=1)),
    ("24:00:00", timedelta(days=24)),  # hours above 23: read as d:h:m, as .NET does
    ("25:00:00:00", timedelta(days=25)),
    ("00:00:01.5", timedelta(seconds=1.5)),
    ("7", timedelta(days=7)),
    ("01:30", timedelta(hours=1, minutes=30)),
    ("00:60:00", None),
    ("1:2:3:4:5", None),
    ("every hour", None),
])
def test_timespans_are_read_as_dotnet_reads_them(text: str, span: timedelta | None) -> None:
    assert parse_dotnet_timespan(text) == span


def test_a_timespan_schedule_is_an_interval_and_settings_are_resolved() -> None:
    schedule = parse_schedule("poll", "%PollEvery%", {"PollEvery": "00:00:30"})
    assert schedule.interval == timedelta(seconds=30)
    assert schedule.next_after(at("01/01/2003 00:00:10")) == at("01/01/2003 00:00:40")
    assert not schedule.adjusts_for_dst


def test_an_unknown_setting_in_a_schedule_names_it() -> None:
    with pytest.raises(ScheduleError) as raised:
        parse_schedule("poll", "%PollEvery%", {})
    assert str(raised.value) == "Error indexing method 'Functions.poll': '%PollEvery%' does not resolve to a value."


def test_a_non_positive_interval_is_refused() -> None:
    with pytest.raises(ScheduleError) as raised:
        parse_schedule("poll", "-00:00:05", {})
    assert str(raised.value) == ("Error indexing method 'Functions.poll': The schedule expression '-00:00:05' is a "
                                 "TimeSpan of -1 day, 23:59:55; a timer interval must be positive.")


@pytest.mark.parametrize(("expression", "monitored"), [
    ("*/10 * * * * *", False), ("0 * * * * *", True), ("* * * * * *", False), ("* 5 * * * *", True),
    ("00:00:30", False), ("00:01:00", True),
])
def test_schedules_more_frequent_than_a_minute_are_not_monitored(expression: str, monitored: bool) -> None:
    assert parse_schedule("t", expression, {}).monitor_allowed(at("01/01/2003 00:00:00")) is monitored
