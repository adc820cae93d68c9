"""The identity service publishes what botbuilder reads: metadata pointing at a key set with the signing key."""

import asyncio
import json
import stat
from pathlib import Path

import aiohttp
import jwt
import pytest
from jwt.algorithms import RSAAlgorithm

from devhost.identity import AppRegistration, SigningKey, start
from devhost.identity.keys import KeyFileError, load_or_create_key
from devhost.identity.tls import load_or_create as load_tls
from devhost.identity.tokens import bot_token_claims
from devhost.identity.verify import BotTokenVerifier, InvalidBotToken


def test_channel_metadata_leads_to_the_key_that_verifies_its_tokens() -> None:
    async def main() -> None:
        running = await start(SigningKey.generate())
        service = running.service
        try:
            async with aiohttp.ClientSession() as session:
                async with session.get(service.channel_metadata_url) as response:
                    metadata = await response.json()
                assert metadata["issuer"] == service.channel_issuer
                async with session.get(metadata["jwks_uri"]) as response:
                    keys = (await response.json())["keys"]
                async with session.get(service.emulator_metadata_url) as response:
                    emulator_keys_url = (await response.json())["jwks_uri"]
                async with session.get(emulator_keys_url) as response:
                    assert (await response.json())["keys"] == keys
        finally:
            await running.close()
        token = service.channel_token("app-id", "http://127.0.0.1:8181/")
        [published] = [key for key in keys if key["kid"] == jwt.get_unverified_header(token)["kid"]]
        assert "directline" in published["endorsements"] and "msteams" in published["endorsements"]
        claims = jwt.decode(token, RSAAlgorithm.from_jwk(json.dumps(published)), algorithms=["RS256"],
                            audience="app-id")
        assert (claims["iss"], claims["serviceurl"]) == (service.channel_issuer, "http://127.0.0.1:8181/")

    asyncio.run(main())


def _token_request(fields: dict[str, str], tenant: str = "botframework.com") -> tuple[int, dict[str, object]]:
    async def main() -> tuple[int, dict[str, object]]:
        apps = {"app-1": AppRegistration("app-1", "pw-1"), "app-2": AppRegistration("app-2", "pw-2", "tenant-2")}
        running = await start(SigningKey.generate(), apps)
        try:
            async with aiohttp.ClientSession() as session, session.post(
                running.service.token_url(tenant), data=fields
            ) as response:
                body = await response.json()
                if "access_token" in body:
                    body["claims"] = jwt.decode(body["access_token"], running.service.key.private_key.public_key(),
                                                algorithms=["RS256"], options={"verify_aud": False})
                return response.status, body
        finally:
            await running.close()

    return asyncio.run(main())


GRANT = {"grant_type": "client_credentials", "client_id": "app-1", "client_secret": "pw-1"}


def test_the_bot_gets_a_v1_token_for_the_bot_framework_scope() -> None:
    status, body = _token_request({**GRANT, "scope": "https://api.botframework.com/.default"})
    assert status == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    claims = body["claims"]
    assert isinstance(claims, dict)
    assert (claims["aud"], claims["appid"], claims["ver"], claims["iss"]) == (
        "https://api.botframework.com", "app-1", "1.0", "https://sts.windows.net/f8cdef31-a31e-4b4a-93e4-5f571e91255a/")


def test_the_emulator_gets_a_v2_token_for_the_apps_own_scope() -> None:
    status, body = _token_request({**GRANT, "scope": "app-1/.default"})
    assert status == 200
    claims = body["claims"]
    assert isinstance(claims, dict)
    assert (claims["aud"], claims["azp"], claims["ver"], claims["iss"]) == (
        "app-1", "app-1", "2.0", "https://login.microsoftonline.com/f8cdef31-a31e-4b4a-93e4-5f571e91255a/v2.0")


def test_a_wrong_client_secret_is_azure_ads_401_invalid_client() -> None:
    status, body = _token_request({**GRANT, "client_secret": "wrong", "scope": "app-1/.default"})
    assert status == 401
    assert body == {"error": "invalid_client", "error_codes": [7000215], "error_description": (
        "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client "
        "secret value, not the client secret ID, for a secret added to app 'app-1'.")}


def test_a_single_tenant_app_gets_tokens_only_from_its_tenant() -> None:
    grant = {**GRANT, "client_id": "app-2", "client_secret": "pw-2", "scope": "https://api.botframework.com/.default"}
    status, body = _token_request(grant)
    assert (status, body["error"]) == (400, "unauthorized_client")
    assert body["error_description"] == ("AADSTS700016: Application with identifier 'app-2' was not found in the "
                                         "directory 'f8cdef31-a31e-4b4a-93e4-5f571e91255a'.")
    status, body = _token_request(grant, tenant="tenant-2")
    claims = body["claims"]
    assert isinstance(claims, dict)
    assert (status, claims["iss"], claims["tid"]) == (200, "https://sts.windows.net/tenant-2/", "tenant-2")


def test_another_scope_or_grant_is_refused_by_name() -> None:
    status, body = _token_request({**GRANT, "scope": "https://graph.microsoft.com/.default"})
    assert (status, body["error"]) == (400, "invalid_scope")
    status, body = _token_request({**GRANT, "grant_type": "password", "scope": "app-1/.default"})
    assert (status, body["error_description"]) == (
        400, "AADSTS70003: The app requested an unsupported grant type 'password'.")


def test_a_channel_accepts_only_the_registered_bots_token() -> None:
    async def main() -> None:
        apps = {"app-1": AppRegistration("app-1", "pw-1"), "app-2": AppRegistration("app-2", "pw-2")}
        running = await start(SigningKey.generate(), apps)
        service = running.service
        verifier = BotTokenVerifier(f"{service.origin}/botframework.com/discovery/v2.0/keys", "app-1")
        try:
            async with aiohttp.ClientSession() as session:
                async def token_for(app_id: str, scope: str) -> str:
                    async with session.post(service.token_url(), data={
                        "grant_type": "client_credentials", "client_id": app_id, "client_secret": apps[app_id].password,
                        "scope": scope}) as response:
                        return str((await response.json())["access_token"])

                claims = await verifier.verify("Bearer " + await token_for("app-1", "https://api.botframework.com"))
                assert claims["appid"] == "app-1"
                refusals = {
                    "none": None,
                    "another app": "Bearer " + await token_for("app-2", "https://api.botframework.com"),
                    "another audience": "Bearer " + await token_for("app-1", "app-1/.default"),
                    "an unknown key": "Bearer " + SigningKey.generate().sign(bot_token_claims("app-1")),
                    "garbage": "Bearer x.y.z",
                }
                reasons = {}
                for name, header in refusals.items():
                    with pytest.raises(InvalidBotToken) as raised:
                        await verifier.verify(header)
                    reasons[name] = str(raised.value)
        finally:
            await running.close()
        assert reasons == {
            "none": "the request has no bearer token",
            "another app": "the bearer token is for app 'app-2', not the registered bot",
            "another audience": "the bearer token is not valid: Audience doesn't match",
            "an unknown key": "the bearer token is signed by an unknown key",
            "garbage": "the bearer token is not a JWT",
        }

    asyncio.run(main())


def test_the_signing_key_file_is_made_once_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "identity-key.json"
    first = load_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_or_create_key(path)
    assert (again.kid, again.jwk()) == (first.kid, first.jwk())
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(KeyFileError) as raised:
        load_or_create_key(path)
    assert str(raised.value) == f"{path} is not a usable signing key (KeyError); delete it to make a new one"


def test_the_local_ca_is_made_once_with_private_keys_and_a_bundle_that_keeps_the_public_cas(tmp_path: Path) -> None:
    tls = load_tls(tmp_path)
    assert stat.S_IMODE(tls.key.stat().st_mode) == 0o600
    bundle = tls.bundle.read_text(encoding="ascii")
    assert tls.ca.read_text(encoding="ascii") in bundle
    assert len(bundle) > len(tls.ca.read_text(encoding="ascii")) * 10  # certifi's public CAs are kept
    cert = tls.cert.read_bytes()
    assert load_tls(tmp_path).cert.read_bytes() == cert
