"""A tethered child dies with its parent, by the kernel's parent-death signal and, where that is missing, by the
pipe from the parent reaching end-of-file."""

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.devhost.test_up_processes import WAIT, alive, wait_for

ROOT = Path(__file__).resolve().parents[2]

# The child: tether itself (optionally without prctl, as off Linux), then wait to be ended.
CHILD = textwrap.dedent("""
    import sys, threading
    import devhost.tether as tether
    if sys.argv[1] == "pipe-only":
        tether._set_parent_death_signal = lambda signum: False
    tether.hold()
    print("tethered", flush=True)
    threading.Event().wait(120)
""")
# The parent: start the child through a Tether, report its pid, then wait to be SIGKILLed by the test.
PARENT = textwrap.dedent("""
    import os, subprocess, sys, threading
    from devhost.tether import Tether
    tether = Tether()
    child = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]], env={**os.environ, **tether.env()},
                             pass_fds=tether.fds, start_new_session=True, stdout=subprocess.PIPE)
    assert child.stdout is not None and child.stdout.readline() == b"tethered\\n"
    print(child.pid, flush=True)
    threading.Event().wait(120)
""")


def run_and_kill_parent(mode: str) -> int:
    parent = subprocess.Popen([sys.executable, "-c", PARENT, CHILD, mode], cwd=ROOT, stdout=subprocess.PIPE)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert alive(child)
    parent.kill()
    parent.wait(10)
    return child


def test_the_child_dies_with_its_sigkilled_parent() -> None:
    child = run_and_kill_parent("prctl")
    wait_for(lambda: not alive(child), "the child has exited")


def test_without_the_parent_death_signal_the_pipe_still_ends_the_child() -> None:
    child = run_and_kill_parent("pipe-only")
    wait_for(lambda: not alive(child), "the child has exited", seconds=WAIT)
