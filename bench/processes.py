"""The processes of a run: peak memory from /proc, free ports, and the echo bot as a child process."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from devhost.addresses import free_port
from devhost.readiness import NotReady, wait_until_ready

REPO_ROOT = Path(__file__).resolve().parent.parent
PY_SPY = Path(sys.executable).with_name("py-spy")


def parse_vm_hwm(status_text: str) -> float | None:
    """Peak resident memory in MB from the text of /proc/<pid>/status (its ``VmHWM: <n> kB`` line)."""
    for line in status_text.splitlines():
        if line.startswith("VmHWM:"):
            fields = line.split()
            if len(fields) >= 2 and fields[1].isdigit():
                return round(int(fields[1]) / 1024, 1)
    return None


def peak_memory_mb(pid: int | str) -> float | None:
    """VmHWM of a running process ("self" for this one); None once it has gone or off Linux."""
    try:
        return parse_vm_hwm(Path(f"/proc/{pid}/status").read_text(encoding="ascii", errors="replace"))
    except OSError:
        return None


def parse_cpu_seconds(stat_text: str, ticks_per_second: int) -> float:
    """User + system CPU seconds from the text of /proc/<pid>/stat (utime and stime, fields 14 and 15)."""
    # The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    fields = stat_text[stat_text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / ticks_per_second


def process_cpu_clock(pid: int) -> int:
    """The clock id of another process's CPU time, as glibc's clock_getcpuclockid(3) builds it.

    Linux encodes it as ``MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)`` (include/linux/posix-timers.h): the pid
    inverted and shifted by three bits, with 2 (the scheduler's clock) in them. Python only offers
    ``time.pthread_getcpuclockid`` for its own threads, hence the arithmetic.
    """
    return ((~pid) << 3) | 2


def cpu_seconds(pid: int) -> float | None:
    """CPU time a process has used so far, every thread counted, also those that have ended; None once it has gone.

    The scheduler's clock counts nanoseconds. /proc/<pid>/stat, the fallback, counts clock ticks (10 ms), too coarse
    for a small run: six turns of the tuned echo bot use about 8 ms and read there as 0 or 10.
    """
    try:
        return time.clock_gettime(process_cpu_clock(pid))
    except OSError:
        pass  # gone, or a kernel without process CPU clocks: /proc decides which
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    return parse_cpu_seconds(text, os.sysconf("SC_CLK_TCK"))


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


class EchoBotProcess:
    """``python -m bench.echo_bot`` on a free loopback port, for ``async with``."""

    def __init__(self, log_path: Path, tuned: bool = False) -> None:
        self.tuned = tuned
        self.port = free_port()
        self.messages_url = f"http://127.0.0.1:{self.port}/api/messages"
        self._log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    async def __aenter__(self) -> "EchoBotProcess":
        self._spawn()
        try:
            await self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.stop()

    def _spawn(self) -> None:
        # A fork/exec of a few milliseconds, as in devhost.stack: not worth a thread.
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bench.echo_bot", "--port", str(self.port),
                 *(["--tuned"] if self.tuned else [])],
                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                cwd=REPO_ROOT,
            )

    async def _wait_ready(self) -> None:
        assert self.process is not None
        url = f"http://127.0.0.1:{self.port}/api/health"
        try:
            await wait_until_ready(url, self.process, "the echo bot", ready=lambda status: status == 200)
        except NotReady as error:
            raise RuntimeError(f"{error}; see {self._log_path}") from None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Profiler:
    """``py-spy record`` attached to each process of a run (``--profile DIR``): collapsed stacks per process.

    py-spy is a sampling profiler outside the process, so the profiled code runs unchanged; ``--nonblocking`` keeps
    it from pausing the process at each sample (the figures of a profiled run are still not the ones to report).
    ``--gil`` samples only the thread holding the GIL: Python CPU time, not threads waiting on sockets or locks.
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self._recorders: list[subprocess.Popen[bytes]] = []

    def attach(self, pids: dict[str, int]) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for name, pid in pids.items():
            output = self.out_dir / f"{name.replace(' ', '-')}.txt"
            self._recorders.append(subprocess.Popen(
                [str(PY_SPY), "record", "--pid", str(pid), "--format", "raw", "--output", str(output),
                 "--rate", "200", "--nonblocking", "--gil"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))

    def detach(self) -> None:
        # SIGINT makes py-spy write what it sampled and exit.
        for recorder in self._recorders:
            recorder.send_signal(signal.SIGINT)
        for recorder in self._recorders:
            try:
                recorder.wait(30)
            except subprocess.TimeoutExpired:
                recorder.kill()
                recorder.wait()
        self._recorders.clear()
