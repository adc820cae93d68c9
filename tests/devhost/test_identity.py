"""The identity service publishes what botbuilder reads: metadata pointing at a key set with the signing key."""

import asyncio
import json

import aiohttp
import jwt
from jwt.algorithms import RSAAlgorithm

from devhost.identity import SigningKey, start


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
