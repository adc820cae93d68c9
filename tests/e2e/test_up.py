"""``python -m devhost up --chat`` (what ``make run`` runs): a newcomer's whole session through the terminal."""

import json
import os
import selectors
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from devhost.addresses import free_ports

ROOT = Path(__file__).resolve().parents[2]


class Terminal:
    """The user's side of the terminal: write lines, read until a text shows up (bounded)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.output = ""
        self.selector = selectors.DefaultSelector()
        assert process.stdout is not None
        os.set_blocking(process.stdout.fileno(), False)
        self.selector.register(process.stdout, selectors.EVENT_READ)

    def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def read_until(self, text: str, timeout: float = 90.0) -> str:
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while text not in self.output:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.process.poll() is not None:
                raise AssertionError(f"{text!r} never appeared; output so far:\n{self.output}")
            for _ in self.selector.select(min(remaining, 1.0)):
                chunk = self.process.stdout.read()
                if chunk:
                    self.output += chunk
        return self.output


def up_with_chat(tmp_path: Path, *options: str) -> tuple[subprocess.Popen[str], Terminal]:
    """``devhost up --chat`` with short operations and ``options``, its terminal ready for the user."""
    env = {**os.environ, "OperationSeconds": "1", "OperationSteps": "2", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "devhost", "up", "--chat", "--data-dir", str(tmp_path), *options],
        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    return process, Terminal(process)


def choose_option_1(terminal: Terminal) -> str:
    """Say hi, pick option 1 by its number and wait for the result; the whole output so far."""
    terminal.read_until("Type a message")
    terminal.type("hi")
    terminal.read_until("Please select a long operation test option.")
    terminal.type("1")
    terminal.read_until("...one moment please....")
    return terminal.read_until("Thanks for waiting. (Result for long operation one!)")


def test_up_with_chat_runs_the_whole_conversation_and_stops_cleanly(tmp_path: Path) -> None:
    ports = [str(port) for port in free_ports(4)]
    process, terminal = up_with_chat(tmp_path, "--functions-port", ports[0], "--bot-port", ports[1],
                                     "--directline-port", ports[2], "--dashboard-port", ports[3])
    try:
        output = choose_option_1(terminal)
        assert output.count("Thanks for waiting.") == 1
        assert f"http://127.0.0.1:{ports[1]}/api/messages" in output
        assert f"  dashboard       http://127.0.0.1:{ports[3]}/   (orchestrations, progress, history; in a browser)" \
            in output
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    logs = {path.name for path in (tmp_path / "logs").iterdir()}
    assert logs == {"functions.log", "directline.log", "bot.log", "dashboard.log"}
    assert (tmp_path / "bot-state.sqlite").exists()


def test_up_with_auth_composes_with_the_other_options_and_the_chat_authenticates(tmp_path: Path) -> None:
    ports = [str(port) for port in free_ports(5)]
    process, terminal = up_with_chat(tmp_path, "--auth", "--no-key-check", "--functions-port", ports[0],
                                     "--bot-port", ports[1], "--directline-port", ports[2], "--dashboard-port",
                                     ports[3], "--identity-port", ports[4])
    try:
        output = choose_option_1(terminal)
        ca = tmp_path / "identity" / "tls" / "ca.pem"
        assert f"  identity        https://127.0.0.1:{ports[4]}   (Bot Framework auth: MultiTenant app; CA in {ca})" \
            in output
        assert "(Bot Framework Emulator: open this URL, with the app id and password in secrets.json)" in output
        assert "  keys            not checked (--no-key-check)" in output
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    logs = {path.name for path in (tmp_path / "logs").iterdir()}
    assert logs == {"functions.log", "directline.log", "bot.log", "dashboard.log", "identity.log"}
    stored = json.loads((tmp_path / "secrets.json").read_text(encoding="utf-8"))
    assert stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode) == 0o600
    assert stored["MicrosoftAppId"] and stored["MicrosoftAppPassword"]
    assert stored["MicrosoftAppPassword"] not in (tmp_path / "logs" / "bot.log").read_text(encoding="utf-8")
