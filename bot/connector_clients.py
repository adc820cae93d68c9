"""Reuse botbuilder's Bot Connector and user-token clients across turns instead of building new ones every turn.

Why: ``CloudAdapter`` asks its ``BotFrameworkAuthentication`` for a new ``ConnectorClient`` and a new
``UserTokenClient`` on every turn (incoming and proactive). Building one is costly in botbuilder 4.17 / msrest 0.7:
each builds an msrest ``Configuration`` whose ``ClientRetryPolicy`` runs a ~500 000-step list comprehension, and
a fresh ``requests`` session, so every turn also opened a new TCP connection to the channel. Under 200 concurrent
users that was 60% of the bot's CPU (py-spy, bench/system.py), and the bot was the bottleneck of the system.

The clients hold no per-turn state (the conversation is a parameter of each call; the credentials object caches
and refreshes its own token), so one client per (app id, service URL, audience) serves every turn. The cache is
bounded: a bot talks to a handful of service URLs per channel, but a client may invent any number of them.

Once the app attaches its session (``attach_session``), new connector clients send through it with aiohttp
(bot/connector_transport.py) instead of msrest's ``requests`` in threads. Every new client serializes its request
bodies in one pass (bot/connector_serializer.py).
"""

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
from botbuilder.schema import Activity
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)
from botframework.connector.skills import BotFrameworkClient

from bot.connector_serializer import use_fast_body_serializer
from bot.connector_transport import use_aiohttp

CLIENTS_KEPT = 256

_Client = TypeVar("_Client")


class _LruCache:
    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, ...], object] = OrderedDict()

    async def get_or_create(self, key: tuple[str, ...], create: Callable[[], Awaitable[_Client]]) -> _Client:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
            return found  # type: ignore[return-value]  # stored by this same call under this key
        client = await create()
        # Two turns may both miss and create; the later one wins, the earlier client is still usable by its turn.
        self._items[key] = client
        while len(self._items) > self._size:
            self._items.popitem(last=False)
        return client

    def __len__(self) -> int:
        return len(self._items)


def _app_id(claims_identity: ClaimsIdentity) -> str:
    # As botbuilder's _BuiltinBotFrameworkAuthentication.get_app_id: the audience claim, else the appid claim
    # (Emulator); None when auth is off.
    claims = claims_identity.claims or {}
    value = claims.get(AuthenticationConstants.AUDIENCE_CLAIM) or claims.get(AuthenticationConstants.APP_ID_CLAIM)
    return str(value or "")


def skip_schema_validation(client: ConnectorClient) -> None:
    """Turn off msrest's client-side validation pass in the client's serializer (shared by its operations).

    The Bot Framework schema declares no constraints (every model's ``_validation`` is empty), so that pass walks
    every field of every outgoing activity and checks nothing; it was a third of the cost of serializing a reply
    (py-spy, bench/system.py at 500 users). The serialization itself is unchanged, byte for byte."""
    client._serialize.client_side_validation = False


class _ReusingConnectorFactory(ConnectorFactory):  # type: ignore[misc]  # botbuilder ships no type hints
    def __init__(self, inner: ConnectorFactory, app_id: str, default_audience: str, cache: _LruCache,
                 session: aiohttp.ClientSession | None) -> None:
        self._inner = inner
        self._app_id = app_id
        self._default_audience = default_audience
        self._cache = cache
        self._session = session

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        # A proactive turn passes no audience and botbuilder's factory then uses the originating audience, which an
        # incoming turn passes explicitly: both mean the same client.
        key = ("connector", self._app_id, service_url, audience or self._default_audience)
        return await self._cache.get_or_create(key, lambda: self._create(service_url, audience))

    async def _create(self, service_url: str, audience: str | None) -> ConnectorClient:
        client = await self._inner.create(service_url, audience)
        skip_schema_validation(client)
        use_fast_body_serializer(client)
        if self._session is not None:
            use_aiohttp(client, self._session)
        return client


class ReusingBotFrameworkAuthentication(BotFrameworkAuthentication):  # type: ignore[misc]
    """Wraps any ``BotFrameworkAuthentication`` (ours: ConfigurationBotFrameworkAuthentication); only the creation
    of connector and user-token clients changes, authentication itself is the inner one's."""

    def __init__(self, inner: BotFrameworkAuthentication, clients_kept: int = CLIENTS_KEPT) -> None:
        super().__init__()
        self._inner = inner
        self._clients = _LruCache(clients_kept)
        self._session: aiohttp.ClientSession | None = None

    def attach_session(self, session: aiohttp.ClientSession) -> None:
        """Send Bot Connector calls through ``session`` (the app's, in its event loop) from now on."""
        self._session = session

    @property
    def attached_session(self) -> aiohttp.ClientSession | None:
        return self._session

    @property
    def cached_clients(self) -> int:
        return len(self._clients)

    def _factory(self, inner: ConnectorFactory, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _ReusingConnectorFactory(
            inner, _app_id(claims_identity), self.get_originating_audience(), self._clients, self._session
        )

    def _reusing(self, result: AuthenticateRequestResult) -> AuthenticateRequestResult:
        if result.connector_factory is not None:
            result.connector_factory = self._factory(result.connector_factory, result.claims_identity)
        return result

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        return self._reusing(await self._inner.authenticate_request(activity, auth_header))

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        return self._reusing(await self._inner.authenticate_streaming_request(auth_header, channel_id_header))

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._factory(self._inner.create_connector_factory(claims_identity), claims_identity)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        key = ("user-token", _app_id(claims_identity))
        return await self._clients.get_or_create(key, lambda: self._inner.create_user_token_client(claims_identity))

    def create_bot_framework_client(self) -> BotFrameworkClient:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return str(self._inner.get_originating_audience())

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)
