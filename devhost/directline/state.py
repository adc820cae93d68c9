"""Typed keys for what the Direct Line app keeps in its state, and the service URL the bot replies to."""

from dataclasses import dataclass

from aiohttp import web

from devhost.directline.service import DirectLineService


@dataclass
class Endpoint:
    """The root URL the bot is told to reply to; known only once the server has bound its port."""

    root: str | None = None


SERVICE = web.AppKey("directline_service", DirectLineService)
ENDPOINT = web.AppKey("directline_endpoint", Endpoint)


def service_url(request: web.Request) -> str:
    """The ``serviceUrl`` stamped on activities to the bot: the service root with a trailing slash, as Azure's.

    Falls back to the address the request came in on when the app runs without ``serve`` (e.g. a test server).
    """
    root = request.app[ENDPOINT].root or str(request.url.origin())
    return root.rstrip("/") + "/"
