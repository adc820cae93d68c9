"""The devhost's identity service on an event-loop thread of its own.

Its own thread because botbuilder fetches the OpenID metadata and keys with blocking ``requests`` calls on the bot's
event loop (``jwt_token_extractor._OpenIdMetadata._refresh``), and MSAL gets tokens with blocking calls too: a
service on that same loop could never answer.
"""

import asyncio
import ssl
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from devhost.identity import AppRegistration, IdentityService, RunningIdentityService, SigningKey, start


@contextmanager
def identity_service(apps: Mapping[str, AppRegistration] | None = None,
                     tls: ssl.SSLContext | None = None) -> Iterator[IdentityService]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="identity-service", daemon=True)
    thread.start()
    running: RunningIdentityService | None = None
    try:
        running = asyncio.run_coroutine_threadsafe(start(SigningKey.generate(), apps, tls=tls), loop).result(30)
        yield running.service
    finally:
        if running is not None:
            asyncio.run_coroutine_threadsafe(running.close(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
