"""The project's function_app.py on the devhost, in this process, on one event-loop thread of its own.

Like tests/devhost/functions/hosting.py, but for the repository root as the app root: at close it only
forgets the ``function_app`` module it imported (the repo root also holds .venv, orchestrator/ and tests/,
whose modules must stay imported for the rest of the session). The app reads its settings from os.environ
when an activity first needs them, so set them (the ``app_settings`` fixture) before starting the host.
The host checks keys as Azure does: ``starter_headers`` carries the starter's function key.
"""

import asyncio
import sys
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from devhost.functions import HostConfig, HostKeys, RunningHost, serve

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")


class ProjectHost:
    def __init__(self, data_dir: Path) -> None:
        self._saved_path = list(sys.path)
        self._saved_app = sys.modules.get("function_app")
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="project-host-loop", daemon=True)
        self._thread.start()
        try:
            self.host: RunningHost = self.run(serve(HostConfig(app_root=REPO, port=0, data_dir=data_dir)))
        except BaseException:
            self._stop()
            raise

    @property
    def base_url(self) -> str:
        return self.host.base_url

    @property
    def keys(self) -> HostKeys:
        assert self.host.keys is not None, "this host checks no keys"
        return self.host.keys

    @property
    def starter_headers(self) -> dict[str, str]:
        """The header the bot sends to POST /api/operations: the start_operation function's own key."""
        return {"x-functions-key": self.keys.function_key("start_operation")}

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        try:
            self.run(self.host.close())
        finally:
            self._stop()

    def _stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()
        sys.path[:] = self._saved_path
        sys.modules.pop("function_app", None)
        if self._saved_app is not None:
            sys.modules["function_app"] = self._saved_app
