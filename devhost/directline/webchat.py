"""The Web Chat page: the official ``botframework-webchat`` bundle talking to this stand-in, served by the stand-in.

``GET /webchat`` is the page, ``GET /webchat/webchat.js`` the UMD bundle in ``devhost/webchat/dist``
(``make webchat``), and ``POST /webchat/token`` a token server: it mints a conversation token with the stand-in's
own tokens/generate rule, so the secret never reaches the browser (as a production page gets its token from the
bot's back end, never the secret). The page creates its Direct Line connection as a production page does, at
Web Chat's defaults: ``createDirectLine({domain, token})`` (BotFramework-WebChat packages/bundle/src/createDirectLine.ts
passes ``webSocket`` through, undefined, and DirectLineJS then receives over a WebSocket from the streamUrl).
"""

import logging
from urllib.parse import urlsplit

from aiohttp import web

from devhost.directline.errors import Forbidden
from devhost.directline.state import ENDPOINT, SERVICE
from devhost.directline.tokens import Grant

log = logging.getLogger(__name__)

PAGE_PATH = "/webchat"
BUNDLE_PATH = "/webchat/webchat.js"
TOKEN_PATH = "/webchat/token"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# No secret and no token in the page: it asks TOKEN_PATH (same origin) for a token at load time.
# ``window.webChatStore`` is Web Chat's Redux store, exposed for debugging in the browser console (and read by the
# browser test to check each message's send state).
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Web Chat - devhost (offline)</title>
  <link rel="icon" href="data:,">
  <style>
    html, body { height: 100%; margin: 0; font-family: sans-serif; }
    #webchat { height: 100%; }
    #problem { color: #a00; padding: 1em; white-space: pre-wrap; }
  </style>
</head>
<body>
  <div id="problem" hidden></div>
  <div id="webchat" role="main"></div>
  <script src="__BUNDLE__"></script>
  <script>
    (async function () {
      const problem = document.getElementById('problem');
      try {
        const response = await fetch('__TOKEN__', { method: 'POST', credentials: 'same-origin' });
        if (!response.ok) {
          throw new Error('token request failed: HTTP ' + response.status + ' ' + await response.text());
        }
        const { token } = await response.json();
        const directLine = window.WebChat.createDirectLine({
          domain: window.location.origin + '/v3/directline',
          token
        });
        const store = window.WebChat.createStore();
        window.webChatStore = store;
        window.WebChat.renderWebChat({ directLine, store, username: 'You', locale: 'en-US' },
                                     document.getElementById('webchat'));
      } catch (error) {
        problem.textContent = 'Web Chat could not start: ' + error;
        problem.hidden = false;
      }
    })();
  </script>
</body>
</html>
""".replace("__BUNDLE__", BUNDLE_PATH).replace("__TOKEN__", TOKEN_PATH)

NOT_INSTALLED = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Web Chat is not installed</title></head>
<body>
  <h1>Web Chat is not installed</h1>
  <p>The page needs the official botframework-webchat bundle, which was not found at <code>{bundle}</code>.</p>
  <p>Install it from the repository root with <code>make webchat</code> (fetches the pinned 4 MB bundle with npm),
  then reload.</p>
</body>
</html>
"""


async def page(request: web.Request) -> web.Response:
    bundle = request.app[SERVICE].config.webchat_bundle
    # Checked per request, so installing the bundle while the stand-in runs makes the page work on reload.
    if not bundle.is_file():
        return web.Response(status=503, text=NOT_INSTALLED.format(bundle=bundle), content_type="text/html")
    return web.Response(text=PAGE, content_type="text/html", headers={"Cache-Control": "no-cache"})


async def bundle(request: web.Request) -> web.StreamResponse:
    path = request.app[SERVICE].config.webchat_bundle
    if not path.is_file():
        return web.Response(status=503, text=f"Web Chat is not installed ({path} is missing): run `make webchat`\n")
    # FileResponse reads in a thread and answers conditional requests (ETag/Last-Modified) for the 3.9 MB bundle.
    return web.FileResponse(path, headers={"Content-Type": "application/javascript; charset=utf-8"})


async def token(request: web.Request) -> web.Response:
    """A token for a new conversation, for a same-origin page only.

    Whoever can call this gets a token without the secret, so it refuses what a page on another site could send:
    a cross-origin ``Origin`` (the CORS headers every route carries do not help an attacker who is refused), and a
    ``Host`` that is not this service (DNS rebinding: a foreign name resolving to loopback is "same origin" to the
    browser, but its Host header gives it away).
    """
    _check_host(request)
    origin = request.headers.get("Origin")
    own_origin = f"{request.scheme}://{request.host}"
    if origin is not None and origin != own_origin:
        raise Forbidden(f"the Web Chat token endpoint serves only pages from {own_origin}, not {origin}")
    service = request.app[SERVICE]
    # The stand-in's own tokens/generate, called as the secret holder would.
    grant = service.generate_token(Grant(conversation_id=None), {})
    log.info("Web Chat token issued: conversation_id=%s", grant.conversation_id)
    return web.json_response(service.tokens.body(grant), headers={"Cache-Control": "no-store"})


def _check_host(request: web.Request) -> None:
    hostname = urlsplit(f"//{request.host}").hostname
    trusted = set(LOOPBACK_HOSTS)
    root = request.app[ENDPOINT].root
    if root is not None and (root_host := urlsplit(root).hostname):
        trusted.add(root_host)
    if hostname not in trusted:
        raise Forbidden(
            f"the Web Chat token endpoint does not serve host {request.host!r}; "
            "open the page via 127.0.0.1 or localhost, or start the stand-in with --public-url naming this host"
        )


def add_routes(app: web.Application) -> None:
    app.router.add_get(PAGE_PATH, page)
    app.router.add_get(PAGE_PATH + "/", page)
    app.router.add_get(BUNDLE_PATH, bundle)
    app.router.add_post(TOKEN_PATH, token)
