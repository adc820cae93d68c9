"""Send botbuilder's Bot Connector calls through the bot's aiohttp session instead of ``requests`` in threads.

Why: msrest's async client, as botbuilder 4.17 builds it, sends every reply with the blocking ``requests`` library
in the event loop's default executor. Under load that cost the bot a fifth of its CPU (requests, urllib3,
http.client), a thread hop per reply and GIL contention between the sending threads and the event loop
(py-spy, bench/system.py). The pipeline below keeps msrest's own policies (user agent, raw deserializer, HTTP
logger) and replaces only the credentials policy and the sender.

Kept from msrest's requests transport: the 100 s timeout of its connection settings, and its retry budget (3
retries, backoff 0.8 s doubling). What is retried: idempotent calls (GET, PUT, DELETE: reading, updating or deleting
an activity) on any connection error, a timeout, or 408, 429, 500, 502, 503, 504. A POST (send or reply) only when
the channel surely did not take it: the connection could not be opened, or it answered 429 (throttled). After a 5xx,
a timeout or a dropped connection the reply may have been delivered, and sending it again would show it twice. msrest
with urllib3 2.x is as careful: it retries a POST only on a failure to connect (``Retry.allowed_methods`` leaves POST
out; the ``method_whitelist`` that ``ClientRetryPolicy`` sets is ignored), though not on 429. Not supported: file
uploads (``files``), which the Bot Connector calls never use.

A 429's ``Retry-After`` (seconds or an HTTP-date) sets the wait before the retry, instead of the back-off. A channel
that asks for more than RETRY_AFTER_CAP_SECONDS is not waited for inside a turn (the channel gives a turn about 15 s
in all): the 429 is returned at once, and a proactive delivery fails fast so ``notify_bot``'s own retry comes later.

``send_timeout(seconds)`` gives the sends made inside it a timeout of their own: a proactive turn holds the user's
conversation lock, and an Emulator whose conversation was restarted leaves a POST hanging for the full 100 s.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import aiohttp
from msrest.pipeline import Request, Response
from msrest.pipeline.async_abc import AsyncHTTPPolicy, AsyncHTTPSender, AsyncPipeline
from msrest.pipeline.universal import RawDeserializer
from msrest.universal_http import ClientRequest
from msrest.universal_http.async_abc import AsyncClientResponse

from bot.turn_slots import network_wait
from contract import retry_after_seconds

logger = logging.getLogger(__name__)

RETRIES = 3
BACKOFF_SECONDS = 0.8
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# The statuses that say a POST was not processed: the channel throttled it.
POST_RETRY_STATUSES = frozenset({429})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# The longest Retry-After waited for inside a turn; longer ones fail the call at once (see the module doc).
RETRY_AFTER_CAP_SECONDS = 5.0

Sleep = Callable[[float], Awaitable[None]]
# The timeout of the sends made inside ``send_timeout``; None: the client's own (msrest's 100 s).
_SEND_TIMEOUT: ContextVar[float | None] = ContextVar("bot_connector_send_timeout", default=None)


@contextmanager
def send_timeout(seconds: float) -> Iterator[None]:
    """Bot Connector calls made inside this block (in this task, and tasks it starts) time out after ``seconds``
    per attempt. A context variable, because one cached ConnectorClient serves user turns and proactive turns."""
    token = _SEND_TIMEOUT.set(seconds)
    try:
        yield
    finally:
        _SEND_TIMEOUT.reset(token)

_Request = Request[ClientRequest]
_Response = Response[ClientRequest, AsyncClientResponse]


class _BufferedResponse(AsyncClientResponse):
    """A response whose body was read in full (Bot Connector answers are small JSON documents)."""

    def __init__(self, request: ClientRequest, response: aiohttp.ClientResponse, body: bytes) -> None:
        super().__init__(request, response)
        self.status_code = response.status
        self.headers = dict(response.headers)
        self.reason = response.reason
        self._body = body

    def body(self) -> bytes:
        return self._body


class _Headers:
    """What AppCredentials.signed_session needs of a requests session: a mutable ``headers`` mapping."""

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}


class CredentialsPolicy(AsyncHTTPPolicy[ClientRequest, AsyncClientResponse]):
    """Adds the Bot Framework token, as msrest's requests credentials policy does through ``signed_session``.

    With an empty app id (Emulator, devhost) ``signed_session`` sets no header and needs no network; otherwise it may
    fetch a token from AAD with a blocking call, so it runs in a thread.
    """

    def __init__(self, credentials: Any) -> None:
        super().__init__()
        self._credentials = credentials

    async def send(self, request: _Request, **kwargs: Any) -> _Response:
        holder = _Headers()
        if getattr(self._credentials, "microsoft_app_id", None):
            await asyncio.to_thread(self._credentials.signed_session, holder)
        else:
            self._credentials.signed_session(holder)
        authorization = holder.headers.get("Authorization")
        if authorization:
            request.http_request.headers["Authorization"] = authorization
        assert self.next is not None  # the pipeline links every policy to the next one or to the sender
        return await self.next.send(request, **kwargs)


class AiohttpSender(AsyncHTTPSender[ClientRequest, AsyncClientResponse]):
    def __init__(self, session: aiohttp.ClientSession, timeout_seconds: float,
                 backoff_seconds: float = BACKOFF_SECONDS, sleep: Sleep = asyncio.sleep) -> None:
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._backoff = backoff_seconds
        self._sleep = sleep

    async def __aenter__(self) -> "AiohttpSender":
        return self

    async def __aexit__(self, *exc_details: object) -> None:
        # The session is the bot's, closed by the app's lifecycle.
        return None

    def build_context(self) -> None:
        return None

    async def send(self, request: _Request, **kwargs: Any) -> _Response:
        http_request: ClientRequest = request.http_request
        if http_request.files:
            raise ValueError("file uploads are not supported by the bot's Bot Connector transport")
        # The turn's slot is free for others while the channel answers, retries and back-offs included.
        async with network_wait():
            return await self._send(request, http_request)

    async def _send(self, request: _Request, http_request: ClientRequest) -> _Response:
        idempotent = http_request.method.upper() in IDEMPOTENT_METHODS
        retry_statuses = RETRY_STATUSES if idempotent else POST_RETRY_STATUSES
        # A failure to connect means nothing was sent; after any other, a POST may have been delivered.
        retry_errors = (aiohttp.ClientConnectionError, TimeoutError) if idempotent else (aiohttp.ClientConnectorError,)
        short = _SEND_TIMEOUT.get()
        timeout = self._timeout if short is None else aiohttp.ClientTimeout(total=short)
        attempt = 0
        while True:
            delay = self._backoff * 2**attempt
            try:
                async with self._session.request(
                    http_request.method, http_request.url, headers=dict(http_request.headers),
                    data=http_request.data, timeout=timeout,
                ) as response:
                    body = await response.read()
                if response.status not in retry_statuses or attempt >= RETRIES:
                    return Response(request, _BufferedResponse(http_request, response, body))
                asked = retry_after_seconds(response.headers.get("Retry-After")) if response.status == 429 else None
                if asked is not None and asked > RETRY_AFTER_CAP_SECONDS:
                    logger.warning("Bot Connector call answered 429 with Retry-After %g s, longer than the %g s "
                                   "waited inside a turn; not retried", asked, RETRY_AFTER_CAP_SECONDS)
                    return Response(request, _BufferedResponse(http_request, response, body))
                if asked is not None:
                    delay = asked
                    logger.warning("Bot Connector call answered 429, retrying after its Retry-After of %g s "
                                   "(attempt %d)", asked, attempt + 1)
                else:
                    logger.warning("Bot Connector call answered %s, retrying (attempt %d)", response.status,
                                   attempt + 1)
            except retry_errors as error:
                if attempt >= RETRIES:
                    raise
                logger.warning("Bot Connector call failed: %s, retrying (attempt %d)", type(error).__name__,
                               attempt + 1)
            await self._sleep(delay)
            attempt += 1


def use_aiohttp(client: Any, session: aiohttp.ClientSession, backoff_seconds: float = BACKOFF_SECONDS,
                sleep: Sleep = asyncio.sleep) -> None:
    """Re-plumb an msrest SDK client (ConnectorClient) to send through ``session``; its operations are unchanged.

    ``sleep`` waits between attempts (tests pass one that records the waits)."""
    config = client.config
    policies = [config.user_agent_policy, RawDeserializer(), config.http_logger_policy]
    if config.credentials is not None:
        policies.insert(1, CredentialsPolicy(config.credentials))
    client._client.config.pipeline = AsyncPipeline(
        policies, AiohttpSender(session, config.connection.timeout, backoff_seconds, sleep)
    )
