"""Timer triggers on the devhost: schedules, run_on_startup, past_due after a restart, a Durable client binding,
the TimerRequest the SDK builds, and a bad schedule stopping start-up."""

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devhost.functions import HostConfig, serve
from devhost.functions.timer_schedule import ScheduleError
from devhost.functions.timers import NEVER_BEFORE, ScheduleStatus, StatusStore, dotnet_time
from tests.devhost.functions.hosting import APPS, HostThread, wait_status
from tests.devhost.functions.processes import run_cli

APP = APPS / "timers"
WAIT = 30.0
NEVER = "0001-01-01T00:00:00+00:00"


@pytest.fixture
def timer_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "timer.log"
    monkeypatch.setenv("TIMER_LOG", str(log))
    monkeypatch.setenv("YearlySchedule", "0 0 0 1 1 *")
    return log


class Hosts:
    """One in-process host at a time on the same data dir: ``start()``, ``stop()``, ``start()`` is a restart."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.running: HostThread | None = None

    def start(self) -> HostThread:
        self.stop()
        self.running = HostThread(APP, self.data_dir)
        return self.running

    def stop(self) -> None:
        if self.running is not None:
            self.running, running = None, self.running
            running.close()


@pytest.fixture
def hosts(tmp_path: Path, timer_log: Path) -> Iterator[Hosts]:
    hosts = Hosts(tmp_path / "data")
    yield hosts
    hosts.stop()


def entries(log: Path, function: str) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]
    return [entry for entry in lines if entry["function"] == function]


def wait_entries(log: Path, function: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + WAIT
    while len(found := entries(log, function)) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{function} ran {len(found)} times, expected {count}: {found}")
        time.sleep(0.02)
    return found


def next_new_year(now: datetime) -> str:
    return dotnet_time(datetime(now.year + 1, 1, 1, tzinfo=UTC))


def test_timer_functions_are_listed_as_func_start_lists_them(hosts: Hosts) -> None:
    listing = hosts.start().host.describe()
    for name in ("every_second", "on_startup", "every_minute", "start_from_timer", "failing_every_second"):
        assert f"        {name}: timerTrigger\n" in listing


def test_a_second_granularity_schedule_runs_each_second_unmonitored(hosts: Hosts,
                                                                    timer_log: Path) -> None:
    hosts.start()
    runs = wait_entries(timer_log, "every_second", 3)
    # More often than once a minute: no schedule monitor, so no status (the host sends null, the SDK gives {}).
    assert [(run["past_due"], run["schedule_status"], run["schedule"]) for run in runs[:3]] == \
        [(False, {}, {"AdjustForDST": True})] * 3
    seconds = [datetime.fromisoformat(run["at"]).replace(microsecond=0) for run in runs[:3]]
    assert seconds == sorted(set(seconds)), "one run per second, each in its own second"


def test_a_failing_run_is_logged_and_the_schedule_goes_on(hosts: Hosts, timer_log: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    hosts.start()
    wait_entries(timer_log, "failing_every_second", 2)
    failures = [record for record in caplog.records if record.getMessage().startswith(
        "Executed 'Functions.failing_every_second' (Failed, Id=")]
    assert failures and "RuntimeError: this timer function always fails" in str(failures[0].exc_text)


def test_run_on_startup_runs_at_start_with_the_monitored_status(hosts: Hosts,
                                                                timer_log: Path) -> None:
    hosts.start()
    [run] = wait_entries(timer_log, "on_startup", 1)
    assert run["past_due"] is False
    assert run["schedule_status"] == {"Last": NEVER, "Next": next_new_year(datetime.now(UTC)), "LastUpdated": NEVER}


def test_an_occurrence_missed_while_the_host_was_down_runs_at_start_as_past_due(
        hosts: Hosts, timer_log: Path, tmp_path: Path) -> None:
    hosts.start()
    store = StatusStore(tmp_path / "data" / "timers")
    # A new monitored timer records its next occurrence at once.
    first = store.load("every_minute")
    assert first is not None and first.last == NEVER_BEFORE and first.next > datetime.now(UTC)
    # As storage holds it when the host ran at 10:00 and was down at 10:01, the time it was due.
    minute = datetime.now(UTC).replace(second=0, microsecond=0)
    missed = ScheduleStatus(last=minute - timedelta(minutes=10), next=minute - timedelta(minutes=9),
                            last_updated=minute - timedelta(minutes=10))
    hosts.stop()  # the first host stops...
    store.save("every_minute", missed)
    hosts.start()  # ...and a new one starts after the missed occurrence
    [run] = wait_entries(timer_log, "every_minute", 1)
    assert run["past_due"] is True
    assert run["schedule_status"] == missed.to_json()
    # The status is saved once the function has returned.
    deadline = time.monotonic() + WAIT
    while (after := store.load("every_minute")) == missed and time.monotonic() < deadline:
        time.sleep(0.02)
    assert after is not None and after.last > missed.next
    assert after.next == after.last.replace(second=0, microsecond=0) + timedelta(minutes=1)


def test_a_timer_with_a_durable_client_starts_an_orchestration(hosts: Hosts,
                                                               timer_log: Path) -> None:
    host = hosts.start()
    [run] = wait_entries(timer_log, "start_from_timer", 1)
    assert run["instance_id"] == "timer-started"
    # use_monitor=False: the function gets no status, even for a yearly schedule.
    assert run["schedule_status"] == {}

    async def completed(client: Any) -> Any:
        return await wait_status(client, "timer-started", "Completed")

    assert host.scenario(completed).output == "hello from a timer"


def test_a_schedule_that_does_not_parse_stops_start_up_naming_the_function(tmp_path: Path) -> None:
    with pytest.raises(ScheduleError) as raised:
        asyncio.run(serve(HostConfig(app_root=APPS / "bad_timer", port=0, data_dir=tmp_path)))
    assert str(raised.value) == (
        "Error indexing method 'Functions.nightly_cleanup': The schedule expression '61 * * * * *' was not recognized "
        "as a valid cron expression or timespan string. (As cron: '61' is not a valid [Second] crontab field "
        "expression. 61 is higher than the maximum allowable value for the [Second] field. Value must be between 0 "
        "and 59 (all inclusive).)")
    assert not (tmp_path / "TestHubName.sqlite").exists(), "the task hub was opened"


def test_the_cli_names_the_bad_schedule_and_exits_non_zero(tmp_path: Path) -> None:
    result = run_cli("--app-root", str(APPS / "bad_timer"), "--data-dir", str(tmp_path), "--port", "0")
    assert result.returncode == 1
    assert "devhost functions: Error indexing method 'Functions.nightly_cleanup': The schedule expression " \
           "'61 * * * * *' was not recognized as a valid cron expression or timespan string." in result.stderr
