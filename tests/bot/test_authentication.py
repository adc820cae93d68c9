"""Bot Framework authentication of incoming activities, with an app id set: botbuilder's own validation, pointed at the
devhost's identity service through botbuilder's settings for another cloud (bot/cloud.py).

The channel's token (issuer, audience = the app id, ``serviceurl`` claim) is what the cloud Direct Line and Teams send.
A bot must refuse, with 401, everything that is not such a token for it; and a bot without an app id cannot take the
cloud Direct Line's activities at all, which is why the README's real run needs MicrosoftAppId.
"""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.cloud import BotFrameworkCloud
from devhost.identity import AppRegistration, IdentityService, SigningKey
from devhost.identity.tls import load_or_create as load_tls
from devhost.identity.tokens import channel_token_claims
from tests.bot.identity_thread import identity_service
from tests.bot.test_app import FakeBotConnector, message, run

APP_ID = "6b0e1e63-5b5b-4e0b-9d56-0c1a2b3c4d5e"
UNAUTHORIZED = {"error": {"code": "Unauthorized", "message": "the request is not authorized for this bot"}}


@pytest.fixture
def identity() -> Iterator[IdentityService]:
    with identity_service() as service:
        yield service


def cloud_of(identity: IdentityService) -> BotFrameworkCloud:
    return BotFrameworkCloud.from_env(identity.bot_settings())


def conversation_update(connector: FakeBotConnector) -> dict[str, Any]:
    # Nothing to answer: the bot greets on the first message, so an accepted update sends nothing (no bot token
    # needed for this test).
    activity = message(connector, "")
    activity.update(type="conversationUpdate", membersAdded=[{"id": "user-1"}])
    del activity["text"]
    return activity


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def expect_refused(identity: IdentityService, headers_for: Any, app_id: str = APP_ID) -> None:
    async def test(client: TestClient[web.Request, web.Application], connector: FakeBotConnector, *_: object) -> None:
        activity = conversation_update(connector)
        response = await client.post("/api/messages", json=activity, headers=headers_for(connector))
        assert response.status == 401
        assert await response.json() == UNAUTHORIZED
        assert connector.sent == []

    run(test, app_id=app_id, cloud=cloud_of(identity))


def test_a_channel_token_for_the_app_id_is_accepted(identity: IdentityService) -> None:
    async def test(client: TestClient[web.Request, web.Application], connector: FakeBotConnector, *_: object) -> None:
        token = identity.channel_token(APP_ID, connector.url)
        response = await client.post("/api/messages", json=conversation_update(connector), headers=bearer(token))
        assert response.status == 201

    run(test, app_id=APP_ID, cloud=cloud_of(identity))


def test_no_token_is_401(identity: IdentityService) -> None:
    expect_refused(identity, lambda connector: {})


def test_an_expired_token_is_401(identity: IdentityService) -> None:
    two_hours_ago = time.time() - 7200
    expect_refused(identity, lambda connector: bearer(identity.channel_token(APP_ID, connector.url, two_hours_ago)))


def test_a_token_for_another_audience_is_401(identity: IdentityService) -> None:
    expect_refused(identity, lambda connector: bearer(identity.channel_token("another-bot", connector.url)))


def test_a_token_signed_by_an_unknown_key_is_401(identity: IdentityService) -> None:
    stranger = SigningKey.generate()

    def headers(connector: FakeBotConnector) -> dict[str, str]:
        return bearer(stranger.sign(channel_token_claims(identity.channel_issuer, APP_ID, connector.url)))

    expect_refused(identity, headers)


def test_a_token_with_the_published_kid_but_another_signature_is_401(identity: IdentityService) -> None:
    forger = SigningKey(SigningKey.generate().private_key, identity.key.kid)

    def headers(connector: FakeBotConnector) -> dict[str, str]:
        return bearer(forger.sign(channel_token_claims(identity.channel_issuer, APP_ID, connector.url)))

    expect_refused(identity, headers)


def test_a_token_whose_serviceurl_claim_differs_from_the_activity_is_401(identity: IdentityService) -> None:
    expect_refused(identity, lambda connector: bearer(identity.channel_token(APP_ID, "https://elsewhere.example/")))


def test_a_malformed_token_is_401(identity: IdentityService) -> None:
    expect_refused(identity, lambda connector: bearer("not-a-jwt"))


def test_a_bot_without_an_app_id_refuses_the_cloud_direct_lines_token(identity: IdentityService) -> None:
    # The cloud Direct Line always sends a token whose audience is the bot's app id; botbuilder checks any token it
    # gets, and with no app id configured none is valid. So the outcome event never reaches a bot without one.
    expect_refused(identity, lambda connector: bearer(identity.channel_token(APP_ID, connector.url)), app_id="")


def test_replies_carry_the_bots_token_got_from_the_identity_service_over_https(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The bot gets its token with botbuilder's own credentials (MSAL, client-credentials grant), over https to the
    # identity service's login URL, trusting the local CA through the environment as the devhost's processes do.
    tls = load_tls(tmp_path)
    for name, value in tls.client_environment().items():
        monkeypatch.setenv(name, value)
    registration = AppRegistration(APP_ID, "secret")  # tests/bot/test_app.py's run() gives the bot this password
    with identity_service({APP_ID: registration}, tls=tls.server_context()) as identity:
        assert identity.origin.startswith("https://")

        async def test(client: TestClient[web.Request, web.Application], connector: FakeBotConnector,
                       *_: object) -> None:
            token = identity.channel_token(APP_ID, connector.url)
            response = await client.post("/api/messages", json=message(connector, "hi"), headers=bearer(token))
            assert response.status == 201
            assert connector.texts() == ["Please select a long operation test option."]
            scheme, _, bot_token = str(connector.sent[0]["_authorization"]).partition(" ")
            claims = jwt.decode(bot_token, identity.key.private_key.public_key(), algorithms=["RS256"],
                                audience="https://api.botframework.com")
            assert (scheme, claims["appid"], claims["ver"]) == ("Bearer", APP_ID, "1.0")

        run(test, app_id=APP_ID, cloud=cloud_of(identity))
