"""``python -m devhost up`` as a user runs it: its parts die with it, a busy port stops it before anything starts, and
a part dying later ends it with a non-zero exit naming the part."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devhost.addresses import free_ports

ROOT = Path(__file__).resolve().parents[2]
# Generous: a loaded 2-core machine starts three Python processes in several seconds.
WAIT = 90.0
POLL = 0.05
READY_LINE = "Press Ctrl-C to stop."


def wait_for(condition: Callable[[], bool], what: str, seconds: float = WAIT) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(POLL)


def alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie waiting for a parent that may never reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def children(pid: int) -> dict[int, str]:
    """The live children of ``pid`` and their command lines, from /proc."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2:].split()[1]) == pid and alive(int(entry.name)):
            found[int(entry.name)] = cmdline
    return found


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class Up:
    """``python -m devhost up`` on free ports, its output in files."""

    def __init__(self, tmp_path: Path, ports: tuple[int, int, int, int] | None = None,
                 options: tuple[str, ...] = ()) -> None:
        # The functions host, the bot, Direct Line and the dashboard.
        if ports is None:
            functions, bot, directline, dashboard = free_ports(4)
            ports = (functions, bot, directline, dashboard)
        self.ports = ports
        self.data_dir = tmp_path / "data"
        self.stdout, self.stderr = tmp_path / "up.out", tmp_path / "up.err"
        functions, bot, directline, dashboard = self.ports
        with self.stdout.open("wb") as out, self.stderr.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "devhost", "up", "--functions-port", str(functions), "--bot-port", str(bot),
                 "--directline-port", str(directline), "--dashboard-port", str(dashboard),
                 "--data-dir", str(self.data_dir), *options],
                cwd=ROOT, stdout=out, stderr=err, env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def output(self) -> str:
        return self.stdout.read_text(errors="replace")

    def errors(self) -> str:
        return self.stderr.read_text(errors="replace")

    def wait_ready(self, parts_expected: int = 4) -> dict[int, str]:
        wait_for(lambda: READY_LINE in self.output() or self.process.poll() is not None, "devhost up is ready")
        assert self.process.poll() is None, self.errors()
        parts = children(self.process.pid)
        assert len(parts) == parts_expected, parts
        return parts


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Callable[..., Up]]:
    started: list[Up] = []

    def start(ports: tuple[int, int, int, int] | None = None, options: tuple[str, ...] = ()) -> Up:
        started.append(Up(tmp_path, ports, options))
        return started[-1]

    yield start
    for each in started:
        if each.process.poll() is None:
            each.process.send_signal(signal.SIGINT)
            each.process.wait(30)


def test_a_sigkilled_devhost_up_leaves_no_part_running_and_its_ports_free(up: Callable[..., Up]) -> None:
    running = up()
    parts = running.wait_ready()
    running.process.kill()
    running.process.wait(10)
    wait_for(lambda: not any(alive(pid) for pid in parts), f"every part has exited: {parts}")
    wait_for(lambda: all(port_free(port) for port in running.ports), f"ports {running.ports} are free")
    # The ports are usable at once: a new devhost up on them starts.
    again = up(running.ports)
    again.wait_ready()


def test_a_sigkilled_devhost_up_with_two_bots_leaves_no_bot_nor_haproxy_running(up: Callable[..., Up]) -> None:
    running = up(options=("--bots", "2"))
    # functions, directline, bot-1, bot-2, the balancer (HAProxy itself, exec'd by devhost balancer), dashboard.
    parts = running.wait_ready(parts_expected=6)
    assert sum("/haproxy -db -f " in cmdline for cmdline in parts.values()) == 1, parts
    running.process.kill()
    running.process.wait(10)
    wait_for(lambda: not any(alive(pid) for pid in parts), f"every part has exited: {parts}")
    wait_for(lambda: port_free(running.ports[1]), f"the balancer's port {running.ports[1]} is free")


def test_a_part_dying_later_ends_devhost_up_with_a_non_zero_exit_naming_it(up: Callable[..., Up]) -> None:
    running = up()
    parts = running.wait_ready()
    [bot] = [pid for pid, cmdline in parts.items() if "devhost.tether bot " in cmdline]
    os.kill(bot, signal.SIGKILL)
    assert running.process.wait(WAIT) == 1
    assert "devhost up: the bot part was killed by SIGKILL; stopping the other parts\n" in running.errors()
    wait_for(lambda: not any(alive(pid) for pid in parts), f"every part has exited: {parts}")


def test_a_busy_port_is_named_with_a_non_zero_exit_before_anything_starts(up: Callable[..., Up]) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = squatter.getsockname()[1]
        functions, directline, dashboard = free_ports(3, avoid={busy})
        running = up((functions, busy, directline, dashboard))
        assert running.process.wait(WAIT) == 1
    assert running.errors() == (
        f"devhost up: port {busy} on 127.0.0.1 (--bot-port, the bot part) is already in use by another process (an "
        "older devhost up?); stop it or choose another port with --bot-port\n")
    assert running.output() == ""
    # The keys file is made before the ports are checked (the bot is handed the starter's key); a started functions
    # host would have opened its task hub there too.
    assert not list((running.data_dir / "functions").glob("*.sqlite")), "the functions host was started"
