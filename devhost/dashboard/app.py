"""The dashboard's web server: the page, its config, and the Durable API passed on (proxy.py), on loopback only.

Why a server of its own rather than a page the functions host serves: the same page then works against any host,
``devhost functions``, ``func start`` or Azure, without changing the host; it is same-origin with the API it calls
(no CORS, which the Durable webhooks do not offer), and the key stays on this side.
"""

from collections.abc import AsyncIterator
from importlib import resources
from typing import Final
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from devhost.dashboard import proxy
from devhost.dashboard.settings import DashboardSettings
from devhost.durable_key import LOOPBACK
from devhost.part_identity import nonce_headers

# The files of the page, by the path it is served at; nothing else is read from disk.
STATIC: Final = {
    "/": ("index.html", "text/html"),
    "/dashboard.css": ("dashboard.css", "text/css"),
    "/model.js": ("model.js", "application/javascript"),
    "/dashboard.js": ("dashboard.js", "application/javascript"),
}
# Sent by the page's fetch() on terminate and purge. A page on another site cannot send a custom header to this
# origin without a CORS preflight, which this server never grants: terminate and purge cannot be forged by a link
# or a form elsewhere.
PAGE_HEADER: Final = "X-Devhost-Dashboard"
# What the page may load and call: only this origin (its own scripts and styles, no inline code), never framed.
CSP: Final = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
              "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
UPSTREAM_TIMEOUT_SECONDS: Final = 15.0


def _forbidden(message: str) -> web.Response:
    return web.json_response({"error": message}, status=403)


@web.middleware
async def guard(request: web.Request, handler: proxy.Handler) -> web.StreamResponse:
    # DNS rebinding: a foreign name resolved to 127.0.0.1 is same-origin to the browser, but its Host gives it away.
    hostname = urlsplit(f"//{request.host}").hostname
    if hostname not in LOOPBACK:
        return _forbidden(f"The dashboard answers only requests to 127.0.0.1 or localhost, not to host "
                          f"{request.host!r}.")
    if request.method not in ("GET", "HEAD"):
        own_origin = f"{request.scheme}://{request.host}"
        origin = request.headers.get("Origin")
        if origin is not None and origin != own_origin:
            return _forbidden(f"The dashboard takes terminate and purge only from its own page at {own_origin}, "
                              f"not from {origin}.")
        if request.headers.get(PAGE_HEADER) != "1":
            return _forbidden(f"Terminate and purge need the header {PAGE_HEADER}: 1, which the dashboard page sends.")
    return await handler(request)


async def static_file(request: web.Request) -> web.Response:
    name, content_type = STATIC[request.path]
    text = resources.files("devhost.dashboard").joinpath("static", name).read_text(encoding="utf-8")
    return web.Response(text=text, content_type=content_type, charset="utf-8", headers={
        "Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    })


async def page_config(request: web.Request) -> web.Response:
    settings = request.app[proxy.SETTINGS]
    # What the page shows in its header line; the key itself stays here.
    return web.json_response({"functionsUrl": settings.functions_url, "keySource": settings.key_source},
                             headers={"Cache-Control": "no-store"})


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"}, headers=nonce_headers(request.app[proxy.SETTINGS].part_nonce))


async def not_found(request: web.Request) -> web.Response:
    return web.json_response({"error": f"The dashboard has no page at {request.path}; open / instead."}, status=404)


async def _session(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=UPSTREAM_TIMEOUT_SECONDS)) as session:
        app[proxy.SESSION] = session
        yield


def create_app(settings: DashboardSettings) -> web.Application:
    app = web.Application(middlewares=[guard])
    app[proxy.SETTINGS] = settings
    app.cleanup_ctx.append(_session)
    for path in STATIC:
        app.router.add_get(path, static_file)
    app.router.add_get("/config.json", page_config)
    app.router.add_get("/health", health)
    proxy.add_routes(app)
    app.router.add_route("*", "/{tail:(?s:.*)}", not_found)
    return app
