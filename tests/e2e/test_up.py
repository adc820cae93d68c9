"""``python -m devhost up --chat`` (what ``make run`` runs): a newcomer's whole session through the terminal."""

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.stack_fixture import free_port

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


def test_up_with_chat_runs_the_whole_conversation_and_stops_cleanly(tmp_path: Path) -> None:
    env = {**os.environ, "OperationSeconds": "1", "OperationSteps": "2", "PYTHONUNBUFFERED": "1"}
    ports = [str(free_port()) for _ in range(4)]
    process = subprocess.Popen(
        [sys.executable, "-m", "devhost", "up", "--chat", "--data-dir", str(tmp_path),
         "--functions-port", ports[0], "--bot-port", ports[1], "--directline-port", ports[2],
         "--dashboard-port", ports[3]],
        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    terminal = Terminal(process)
    try:
        terminal.read_until("Type a message")
        terminal.type("hi")
        terminal.read_until("Please select a long operation test option.")
        terminal.type("1")
        terminal.read_until("...one moment please....")
        output = terminal.read_until("Thanks for waiting. (Result for long operation one!)")
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
