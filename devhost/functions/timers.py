"""Timer-triggered functions on their schedules, as the timer extension runs them.

One listener per timer function, after TimerListener and ScheduleMonitor (github:Azure/azure-webjobs-sdk-extensions,
Extensions/Timers/Listener/TimerListener.cs ``StartAsync``/``InvokeJobFunction``, Scheduling/ScheduleMonitor.cs
``CheckPastDueAsync``):

- with ``use_monitor`` (the default, off for schedules more frequent than once a minute) the schedule status
  ``{"Last", "Next", "LastUpdated"}`` is kept in storage; here in ``<data dir>/timers/<function>/status``. At start an
  occurrence missed while the host was down (``Next`` in the past) runs at once with ``IsPastDue`` true;
- else ``run_on_startup`` runs the function once at start;
- then one invocation per occurrence, never two at once; a failing invocation is logged and the schedule goes on;
- the function receives the TimerInfo JSON the host sends the Python worker, ``{"Schedule": {"AdjustForDST": ..},
  "ScheduleStatus": {..} or null, "IsPastDue": ..}``, decoded by azure.functions' TimerRequestConverter.

Times are UTC, as on Azure without WEBSITE_TIME_ZONE.
"""

import asyncio
import contextlib
import json
import logging
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from azure.functions.meta import Datum
from azure.functions.timer import TimerRequestConverter

from devhost.functions.invoker import AppWorker
from devhost.functions.loader import TIMER, FunctionSpec, LoadedApp
from devhost.functions.timer_schedule import TimerSchedule, parse_schedule

log = logging.getLogger(__name__)

# .NET's default(DateTime) ("never fired") and DateTime.MaxValue (what NCrontab answers for "no next occurrence").
NEVER_BEFORE = datetime(1, 1, 1, tzinfo=UTC)
NEVER_AFTER = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
NEXT_OCCURRENCES_LOGGED = 5


def dotnet_time(moment: datetime) -> str:
    """A UTC time as Newtonsoft writes a local DateTime: ``2022-03-28T15:40:00.0105419+00:00``, fraction trimmed."""
    utc = moment.astimezone(UTC)
    # Not strftime: glibc writes year 1 as "1", .NET as "0001".
    text = f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
    fraction = f"{utc.microsecond:06d}".rstrip("0")
    return f"{text}.{fraction}+00:00" if fraction else f"{text}+00:00"


@dataclass(frozen=True)
class ScheduleStatus:
    last: datetime
    next: datetime
    last_updated: datetime

    def to_json(self) -> dict[str, str]:
        return {"Last": dotnet_time(self.last), "Next": dotnet_time(self.next),
                "LastUpdated": dotnet_time(self.last_updated)}

    @classmethod
    def from_json(cls, data: Any) -> "ScheduleStatus":
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return cls(*(datetime.fromisoformat(str(data[key])).astimezone(UTC) for key in ("Last", "Next", "LastUpdated")))


class StatusStore:
    """The schedule monitor's storage: one small JSON file per timer function."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, function_name: str) -> Path:
        return self.root / function_name / "status"

    def load(self, function_name: str) -> ScheduleStatus | None:
        path = self.path(function_name)
        if not path.exists():
            return None
        try:
            return ScheduleStatus.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError) as error:
            log.warning("timer %s: ignoring the unreadable schedule status %s (%s)", function_name, path, error)
            return None

    def save(self, function_name: str, status: ScheduleStatus) -> None:
        path = self.path(function_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(status.to_json()), encoding="utf-8")
        os.replace(temporary, path)  # a crash mid-write leaves the old status, never half a file


def utc_now() -> datetime:
    return datetime.now(UTC)


class TimerListener:
    def __init__(self, spec: FunctionSpec, schedule: TimerSchedule, store: StatusStore, worker: AppWorker,
                 client_binding: str) -> None:
        self.spec = spec
        self.schedule = schedule
        self.store = store
        self.worker = worker
        self.client_binding = client_binding
        self.monitor = spec.use_monitor and schedule.monitor_allowed(utc_now())
        self.status = ScheduleStatus(NEVER_BEFORE, NEVER_AFTER, NEVER_BEFORE)

    def _next(self, moment: datetime) -> datetime:
        return self.schedule.next_after(moment) or NEVER_AFTER

    def _check_past_due(self, now: datetime, stored: ScheduleStatus | None) -> tuple[ScheduleStatus | None, bool]:
        """ScheduleMonitor.CheckPastDueAsync: the stored status brought up to date (None if there was none), and
        whether an occurrence was missed."""
        if stored is None:
            # A new timer: record the next occurrence now, so one missed before the first run is still noticed.
            initial = ScheduleStatus(NEVER_BEFORE, self._next(now), now)
            self.store.save(self.spec.name, initial)
            return None, now > initial.next
        if stored.last != NEVER_BEFORE:
            expected, updated = self._next(stored.last), stored.last
        elif stored.last_updated != NEVER_BEFORE:
            expected, updated = self._next(stored.last_updated), stored.last_updated
        else:
            expected, updated = self._next(now), now
        if stored.next != expected:
            # The schedule changed since the status was written: a "missed" occurrence of the new schedule in the
            # past is not past due.
            if now > expected:
                expected, updated = self._next(now), now
            stored = ScheduleStatus(NEVER_BEFORE, expected, updated)
            self.store.save(self.spec.name, stored)
        return stored, now > stored.next

    async def run(self) -> None:
        now = utc_now()
        past_due = False
        stored: ScheduleStatus | None = None
        if self.monitor:
            stored, past_due = self._check_past_due(now, self.store.load(self.spec.name))
        self.status = stored or ScheduleStatus(NEVER_BEFORE, self._next(now), NEVER_BEFORE)
        occurrences = []
        moment = now
        for _ in range(NEXT_OCCURRENCES_LOGGED):
            moment = self._next(moment)
            if moment == NEVER_AFTER:
                break
            occurrences.append(dotnet_time(moment))
        log.info("The next %d occurrences of the '%s' schedule (%s) will be: %s", len(occurrences), self.spec.name,
                 self.schedule.expression, ", ".join(occurrences) or "none")
        if past_due:
            log.info("Timer is past due for function '%s' (scheduled for %s)", self.spec.name,
                     dotnet_time(self.status.next))
            await self._invoke(utc_now(), past_due=True)
        elif self.spec.run_on_startup:
            await self._invoke(utc_now(), run_on_startup=True)
        while True:
            if self.status.next >= NEVER_AFTER:
                await asyncio.Event().wait()  # no further occurrence: wait for the host to stop
            delay = (self.status.next - utc_now()).total_seconds()
            if delay > 0:
                await asyncio.sleep(delay)
            await self._invoke(utc_now())

    async def _invoke(self, invoked_at: datetime, *, past_due: bool = False, run_on_startup: bool = False) -> None:
        info = {"Schedule": {"AdjustForDST": self.schedule.adjusts_for_dst},
                "ScheduleStatus": self.status.to_json() if self.monitor else None,
                "IsPastDue": past_due}
        kwargs: dict[str, Any] = {
            self.spec.trigger_param: TimerRequestConverter.decode(Datum(json.dumps(info), "json"),
                                                                  trigger_metadata={}),
        }
        if self.spec.durable_client_param:
            kwargs[self.spec.durable_client_param] = self.client_binding
        reason = "IsPastDue" if past_due else "RunOnStartup" if run_on_startup else f"Timer fired at " \
                                                                                      f"{dotnet_time(invoked_at)}"
        invocation = uuid.uuid4()
        log.info("Executing 'Functions.%s' (Reason='%s', Id=%s)", self.spec.name, reason, invocation)
        try:
            await self.worker.call(self.spec, kwargs)
            log.info("Executed 'Functions.%s' (Succeeded, Id=%s)", self.spec.name, invocation)
        except Exception:
            # The schedule goes on after a failure (TimerListener.InvokeJobFunction).
            log.exception("Executed 'Functions.%s' (Failed, Id=%s)", self.spec.name, invocation)
        # A timer that fired a little early counts as the occurrence it was for, so Next never repeats.
        adjusted = invoked_at
        if not past_due and not run_on_startup and self.status.next > invoked_at:
            adjusted = self.status.next
        self.status = ScheduleStatus(adjusted, self._next(adjusted), adjusted)
        if self.monitor:
            self.store.save(self.spec.name, self.status)


def _report_stopped(task: "asyncio.Task[None]") -> None:
    # A listener only ends by cancellation; anything else (e.g. an unwritable data dir) must not pass silently.
    if not task.cancelled() and task.exception() is not None:
        log.error("%s stopped: %r; its function no longer runs on schedule", task.get_name(), task.exception())


def timer_schedules(app: LoadedApp) -> dict[str, TimerSchedule]:
    """Every timer function's parsed schedule; ScheduleError (naming the function) for the first bad one."""
    return {spec.name: parse_schedule(spec.name, spec.schedule) for spec in app.of_kind(TIMER)}


class Timers:
    """The listeners of one host: ``start()`` once the host listens, ``await close()`` before it stops."""

    def __init__(self, app: LoadedApp, schedules: dict[str, TimerSchedule], data_dir: Path, worker: AppWorker,
                 client_binding: str) -> None:
        store = StatusStore(data_dir / "timers")
        self.listeners = [TimerListener(spec, schedules[spec.name], store, worker, client_binding)
                          for spec in app.of_kind(TIMER)]
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(listener.run(), name=f"timer {listener.spec.name}")
                       for listener in self.listeners]
        for task in self._tasks:
            task.add_done_callback(_report_stopped)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

