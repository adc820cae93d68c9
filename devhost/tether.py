"""Child processes that die with their parent: ``python -m devhost.tether <module> [args...]``.

A part of ``devhost up`` runs in a session of its own (so a Ctrl-C in the terminal reaches only ``devhost up``, which
then stops the parts in order). A session of its own also means nothing kills it when ``devhost up`` is killed, and an
orphaned part keeps its port. So each part is started through this module, which ties it to its parent twice:

- on Linux, ``prctl(PR_SET_PDEATHSIG, SIGTERM)``: the kernel sends SIGTERM when the parent dies (prctl(2));
- everywhere, a pipe: the parent keeps the write end, the child blocks reading the read end, and the read returns
  end-of-file once no process holds the write end, i.e. once the parent has exited, however it exited.

Either way the part gets SIGTERM and shuts down as on Ctrl-C; if it is still alive ``GRACE_SECONDS`` later it is
killed. The parent side is ``Tether``: ``tether.argv(module, args)``, ``tether.env()`` and ``pass_fds=tether.fds``.
"""

import contextlib
import ctypes
import os
import runpy
import signal
import sys
import threading
from collections.abc import MutableMapping

PARENT_PID_ENV = "DEVHOST_TETHER_PARENT"
PIPE_FD_ENV = "DEVHOST_TETHER_FD"
GRACE_SECONDS = 10.0
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class Tether:
    """The parent's end: one pipe for every child it starts. ``close()`` (or the parent's exit) releases them."""

    def __init__(self) -> None:
        # os.pipe() fds are not inherited (PEP 446): only the children given ``fds`` get the read end, and none gets
        # the write end, so the pipe reaches end-of-file exactly when this process lets go of it.
        self._read, self._write = os.pipe()

    @property
    def fds(self) -> tuple[int, ...]:
        return (self._read,)

    def env(self) -> dict[str, str]:
        return {PARENT_PID_ENV: str(os.getpid()), PIPE_FD_ENV: str(self._read)}

    @staticmethod
    def argv(module: str, args: list[str]) -> list[str]:
        return [sys.executable, "-m", "devhost.tether", module, *args]

    def close(self) -> None:
        for fd in (self._write, self._read):
            with contextlib.suppress(OSError):
                os.close(fd)


def _set_parent_death_signal(signum: int) -> bool:
    """Ask the kernel for ``signum`` when the parent dies; False where prctl does not exist (not Linux).

    The kernel sends it when the *thread* that forked this process exits (prctl(2)), so the parent spawns from a
    long-lived thread (the event loop's); the pipe below covers the rest.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch(fd: int, signalled_by_kernel: bool) -> None:
    # Blocks until end-of-file: the parent has exited (the parent never writes).
    with contextlib.suppress(OSError):
        while os.read(fd, 1):
            pass
    if not signalled_by_kernel:
        os.kill(os.getpid(), signal.SIGTERM)
    # A part that does not finish its shutdown in time must not live on holding its port.
    threading.Event().wait(GRACE_SECONDS)
    os.kill(os.getpid(), signal.SIGKILL)


def hold(environ: MutableMapping[str, str] | None = None) -> None:
    """Tie this process to the parent named in the environment (no-op when started without a tether)."""
    env: MutableMapping[str, str] = os.environ if environ is None else environ
    parent, fd = env.pop(PARENT_PID_ENV, None), env.pop(PIPE_FD_ENV, None)
    if parent is None or fd is None:
        return
    by_kernel = _set_parent_death_signal(signal.SIGTERM)
    # The parent may have died before prctl took effect: then this process was already handed to another parent.
    if os.getppid() != int(parent):
        raise SystemExit("devhost: the process that started this part has exited; not starting")
    read_end = int(fd)
    os.set_inheritable(read_end, False)
    threading.Thread(target=_watch, args=(read_end, by_kernel), name="devhost-tether", daemon=True).start()


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit("usage: python -m devhost.tether <module> [args...]")
    hold()
    sys.argv = list(argv)
    # As `python -m <module> args`: the module runs as __main__ and sees its own arguments in sys.argv[1:].
    runpy.run_module(argv[0], run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
