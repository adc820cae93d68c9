"""The process's one shared aiohttp ClientSession, created lazily on first use and then reused.

Functions has no start-up/shutdown hook for the worker, so the session is created on the first activity
that needs it and lives as long as the worker process (as the Durable SDK does for its own client). A
session is bound to the event loop it was created on; if a caller arrives on a different loop (a host
that ran a fresh loop), a new session is made for that loop instead of failing with "Event loop is closed".
"""

import asyncio

import aiohttp


class SharedSession:
    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def get(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            # No connection cap (aiohttp's default is 100): the host bounds concurrent activities, and a cap made
            # the 101st concurrent notification wait for a free connection (bench/system.py at 500 operations).
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
            self._loop = loop
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed and self._loop is asyncio.get_running_loop():
            await self._session.close()
        self._session = None
        self._loop = None


shared_session = SharedSession()
