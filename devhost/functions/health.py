"""``GET /devhost/health``: the readiness probe of ``devhost up``. Not part of the Functions host: the devhost's own
path, outside the route prefix and the Durable webhooks, so no function route can take it."""

from aiohttp import web

from devhost.part_identity import nonce_headers

HEALTH_PATH = "/devhost/health"


def health_routes(part_nonce: str) -> list[web.RouteDef]:
    headers = nonce_headers(part_nonce)

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"}, headers=headers)

    return [web.get(HEALTH_PATH, health)]
