"""The Direct Line stand-in as an aiohttp application, and a helper that serves it on a loopback port."""

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from devhost.addresses import reachable_host
from devhost.attachment_store import UPLOAD_LIMIT_BYTES
from devhost.botconnector import FAULTS
from devhost.connector_faults import ConnectorFaults
from devhost.directline import client_api, connector_api, fault_api, stream_api, upload_api, webchat
from devhost.directline.config import DirectLineConfig
from devhost.directline.forwarder import BotForwarder
from devhost.directline.middleware import cors_middleware, error_middleware, merge_slashes_middleware
from devhost.directline.service import DirectLineService
from devhost.directline.state import ENDPOINT, SERVICE, Endpoint

log = logging.getLogger(__name__)


def create_app(config: DirectLineConfig) -> web.Application:
    """Both faces of the service: ``/v3/directline`` for clients (REST and the WebSocket stream) and
    ``/v3/conversations`` for the bot; the Web Chat page on ``/webchat``; and the devhost's fault control on
    ``/devhost/faults`` (devhost/directline/fault_api.py)."""
    forwarder = BotForwarder(config.bot_url, config.bot_timeout_seconds, config.auth)
    # CORS outermost so error responses carry the headers too; slash merging innermost (it calls the handler).
    app = web.Application(
        middlewares=[cors_middleware, error_middleware, merge_slashes_middleware],
        # Bodies are bounded by read_json_object, which answers 413 in Direct Line's shape; this is only a backstop,
        # as large as the largest body a route takes (the bot's attachment upload, devhost/connector_attachments.py).
        client_max_size=max(config.max_activity_bytes, UPLOAD_LIMIT_BYTES) + 1,
    )
    service = DirectLineService(config, forwarder)
    app[SERVICE] = service
    app[ENDPOINT] = Endpoint(config.public_url)

    async def bot_session(app: web.Application) -> AsyncIterator[None]:
        await forwarder.open()
        yield
        await forwarder.close()

    app.cleanup_ctx.append(bot_session)
    client_api.add_routes(app)
    upload_api.add_routes(app)
    stream_api.add_routes(app)
    faults = ConnectorFaults()
    for fault in config.faults:
        faults.inject(**fault)
    connector_api.add_routes(app, service, faults, None if config.auth is None else config.auth.verifier())
    fault_api.add_routes(app)
    webchat.add_routes(app)
    return app


@dataclass
class RunningDirectLine:
    """A served stand-in. ``base_url`` is the root (no trailing slash); clients use ``directline_url``."""

    app: web.Application
    runner: web.AppRunner
    base_url: str

    @property
    def directline_url(self) -> str:
        return f"{self.base_url}/v3/directline"

    @property
    def service_url(self) -> str:
        return f"{self.base_url}/"

    @property
    def service(self) -> DirectLineService:
        return self.app[SERVICE]

    @property
    def faults(self) -> ConnectorFaults:
        """The fault mode of the Bot Connector routes, for tests in this process."""
        return self.app[FAULTS]

    async def close(self) -> None:
        await self.runner.cleanup()

    async def __aenter__(self) -> "RunningDirectLine":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


async def serve(config: DirectLineConfig) -> RunningDirectLine:
    """Start the stand-in on ``config.host:config.port`` (port 0 picks a free one) and return once it listens."""
    app = create_app(config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    host, port = runner.addresses[0][:2]
    base_url = f"http://{reachable_host(host)}:{port}"
    if app[ENDPOINT].root is None:
        app[ENDPOINT].root = base_url
    log.info("Direct Line stand-in listening on %s, forwarding to %s", base_url, config.bot_url)
    return RunningDirectLine(app, runner, base_url)

