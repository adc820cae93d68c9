"""The Web Chat page's routes on the Direct Line stand-in, over real loopback HTTP (no browser needed)."""

import asyncio
from pathlib import Path

from devhost.directline.config import WEBCHAT_BUNDLE
from devhost.stack import StackConfig
from devhost.up import banner
from devhost.webchat import fetch
from tests.devhost.directline.harness import SECRET, running

BUNDLE_TEXT = "window.WebChat = {};  // stands in for the 3.9 MB bundle: these tests are about serving it\n"


def fake_bundle(tmp_path: Path) -> Path:
    path = tmp_path / "webchat.js"
    path.write_text(BUNDLE_TEXT)
    return path


def test_default_bundle_is_the_one_make_webchat_fetches() -> None:
    assert WEBCHAT_BUNDLE == fetch.DIST / "webchat.js"
    assert WEBCHAT_BUNDLE.parts[-4:] == ("devhost", "webchat", "dist", "webchat.js")


def test_page_loads_the_bundle_and_asks_the_token_endpoint_never_carrying_a_secret(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running(webchat_bundle=fake_bundle(tmp_path)) as h:
            for path in ("/webchat", "/webchat/"):
                async with h.http.get(f"{h.directline.base_url}{path}") as response:
                    assert response.status == 200
                    assert response.content_type == "text/html"
                    page = await response.text()
                assert '<script src="/webchat/webchat.js"></script>' in page
                assert "fetch('/webchat/token'" in page
                assert "window.location.origin + '/v3/directline'" in page
                # Web Chat's defaults, as a production page: a WebSocket from the streamUrl, no polling.
                assert "domain: window.location.origin + '/v3/directline',\n          token\n        });" in page
                assert "webSocket" not in page and "pollingInterval" not in page
                assert SECRET not in page

    asyncio.run(scenario())


def test_bundle_is_served_as_javascript(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with (
            running(webchat_bundle=fake_bundle(tmp_path)) as h,
            h.http.get(f"{h.directline.base_url}/webchat/webchat.js") as response,
        ):
            assert response.status == 200
            assert response.content_type == "application/javascript"
            assert await response.text() == BUNDLE_TEXT

    asyncio.run(scenario())


def test_without_the_bundle_the_page_is_a_503_saying_how_to_install_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running(webchat_bundle=tmp_path / "missing" / "webchat.js") as h:
            async with h.http.get(f"{h.directline.base_url}/webchat") as response:
                assert response.status == 503
                assert response.content_type == "text/html"
                body = await response.text()
            assert "make webchat" in body and str(tmp_path / "missing") in body
            async with h.http.get(f"{h.directline.base_url}/webchat/webchat.js") as response:
                assert response.status == 503
                assert "make webchat" in await response.text()
            # Direct Line itself is unaffected.
            assert (await h.call("GET", "/health", None))[0] == 200

    asyncio.run(scenario())


def test_installing_the_bundle_while_running_makes_the_page_work(tmp_path: Path) -> None:
    async def scenario() -> None:
        bundle = tmp_path / "webchat.js"
        async with running(webchat_bundle=bundle) as h:
            async with h.http.get(f"{h.directline.base_url}/webchat") as response:
                assert response.status == 503
            bundle.write_text(BUNDLE_TEXT)
            async with h.http.get(f"{h.directline.base_url}/webchat") as response:
                assert response.status == 200

    asyncio.run(scenario())


def test_token_endpoint_issues_a_conversation_token_that_direct_line_accepts() -> None:
    async def scenario() -> None:
        async with running() as h:
            origin = h.directline.base_url
            async with h.http.post(f"{origin}/webchat/token", headers={"Origin": origin}) as response:
                assert response.status == 200
                assert response.headers["Cache-Control"] == "no-store"
                issued = await response.json()
            assert set(issued) == {"conversationId", "token", "expires_in"}
            assert issued["token"] != SECRET and issued["expires_in"] == 1800
            # Web Chat starts the conversation with the token: the one the token was minted for.
            started = await h.start(credential=issued["token"])
            assert started["conversationId"] == issued["conversationId"]
            # A token is not the secret: it cannot open other conversations.
            other = await h.start()
            status, body = await h.call("GET", f"/conversations/{other['conversationId']}/activities", issued["token"])
            assert status == 403, body

    asyncio.run(scenario())


def test_token_endpoint_refuses_other_origins_and_foreign_hosts() -> None:
    async def scenario() -> None:
        async with running() as h:
            url = f"{h.directline.base_url}/webchat/token"
            async with h.http.post(url, headers={"Origin": "https://evil.example"}) as response:
                assert response.status == 403
                body = await response.json()
            assert "https://evil.example" in body["error"]["message"]
            # DNS rebinding: a foreign name resolving to loopback; the browser calls that same-origin.
            port = h.directline.base_url.rsplit(":", 1)[1]
            rebound = f"rebind.example:{port}"
            async with h.http.post(url, headers={"Host": rebound, "Origin": f"http://{rebound}"}) as response:
                assert response.status == 403
                body = await response.json()
            assert "rebind.example" in body["error"]["message"]
            # localhost is the same machine: allowed, and so is a request without Origin (curl).
            async with h.http.post(url, headers={"Host": f"localhost:{port}"}) as response:
                assert response.status == 200
            async with h.http.get(url) as response:
                assert response.status == 405

    asyncio.run(scenario())


def test_devhost_up_banner_names_the_web_chat_page(tmp_path: Path) -> None:
    text = banner(StackConfig(data_dir=tmp_path, directline_port=8282))
    assert "Web Chat        http://127.0.0.1:8282/webchat" in text
