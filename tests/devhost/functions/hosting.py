"""Test helpers: an in-process functions host on its own event-loop thread, and the SDK client for it.

The host keeps ONE loop for its lifetime, like the Python worker; tests submit coroutines to it. The SDK's
module-global aiohttp session therefore always lives on the loop that uses it.
"""

import asyncio
import json
import sys
import threading
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import azure.durable_functions as df

from devhost.functions import HostConfig, HostKeys, RunningHost, serve

APPS = Path(__file__).parent / "apps"
T = TypeVar("T")
WAIT_SECONDS = 20.0


class HostThread:
    def __init__(self, app_root: Path, data_dir: Path, *, check_keys: bool = True) -> None:
        # The loader imports the app as `function_app` with its root first on sys.path, as the worker does;
        # put both back afterwards so other tests still import the project's own modules.
        self._saved_path = list(sys.path)
        self._saved_modules = dict(sys.modules)
        self._app_root = app_root
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="test-host-loop", daemon=True)
        self._thread.start()
        self.host: RunningHost = self.run(serve(HostConfig(app_root=app_root, port=0, data_dir=data_dir,
                                                           check_keys=check_keys)))

    @property
    def base_url(self) -> str:
        return self.host.base_url

    @property
    def keys(self) -> HostKeys:
        assert self.host.keys is not None, "this host checks no keys"
        return self.host.keys

    @property
    def durable_headers(self) -> dict[str, str]:
        """The durabletask system key, which the Durable API takes (the host checks keys as Azure does)."""
        return {"x-functions-key": self.keys.durable_system_key}

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def client(self) -> df.DurableOrchestrationClient:
        return df.DurableOrchestrationClient(self.host.binding)

    def scenario(self, body: Callable[[df.DurableOrchestrationClient], Awaitable[T]]) -> T:
        async def go() -> T:
            return await body(self.client())

        return self.run(go())

    def close(self) -> None:
        try:
            self.run(self.host.close())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()
            sys.path[:] = self._saved_path
            root = str(self._app_root.resolve())
            for name in set(sys.modules) - set(self._saved_modules):
                origin = getattr(sys.modules[name], "__file__", None) or ""
                if name == "function_app" or origin.startswith(root):
                    del sys.modules[name]
            sys.modules.update({k: v for k, v in self._saved_modules.items() if k == "function_app"})


async def wait_status(client: df.DurableOrchestrationClient, instance_id: str, *wanted: str,
                      seconds: float = WAIT_SECONDS) -> Any:
    """Poll until the runtime status is one of ``wanted`` (default: any terminal one); fail after ``seconds``."""
    targets = set(wanted) or {"Completed", "Failed", "Terminated", "Canceled"}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        status = await client.get_status(instance_id)
        if status and status.runtime_status is not None and status.runtime_status.value in targets:
            return status
        if loop.time() > deadline:
            raise AssertionError(f"{instance_id} did not reach {sorted(targets)}; last: "
                                 f"{status.runtime_status if status else None} {status.to_json() if status else ''}")
        await asyncio.sleep(0.02)


async def wait_for(check: Callable[[], Awaitable[bool]], what: str, seconds: float = WAIT_SECONDS) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def call(host: "HostThread", method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    """One request to ``host``, with the Durable API's system key unless ``headers`` say otherwise: the status, the
    headers and the body (JSON when it parses, else the text; None when empty)."""
    headers = {**host.durable_headers, **kwargs.pop("headers", {})}

    async def go() -> tuple[int, dict[str, str], Any]:
        async with aiohttp.ClientSession() as session, session.request(method, host.base_url + path, headers=headers,
                                                                        **kwargs) as response:
            text = await response.text()
            try:
                body: Any = json.loads(text) if text else None
            except json.JSONDecodeError:
                body = text
            return response.status, dict(response.headers), body

    return host.run(go())
