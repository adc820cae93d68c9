"""BlobStorage specifics against a real Azurite: failures are errors (never "no state"), the container is created
lazily, blobs are named by escaped keys and hold what SqliteStorage stores. The Storage contract it shares with
the other stores is in test_storage_contract.py."""

import asyncio
import sqlite3
from pathlib import Path
from urllib.parse import unquote

import pytest
from aiohttp.test_utils import TestServer
from azure.storage.blob.aio import BlobServiceClient
from botbuilder.core import StoreItem

from bot.app import create_app
from bot.blob_storage import LAST_ACTIVITY, BlobStorage, blob_name
from bot.errors import ETagConflict, StorageError
from bot.settings import BotSettings
from bot.sqlite_storage import SqliteStorage
from bot.state_expiry import StateExpiry
from bot.storage import close_storage, create_storage
from tests.bot.azurite import ACCOUNT_KEY, Azurite, running_azurite
from tests.bot.harness import SIGNING_KEY, CopyingMemoryStorage
from tests.bot.storage_backends import TIME_TO_LIVE, FakeClock, new_container

WRONG_KEY = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ=="


async def container_names(azurite: Azurite) -> list[str]:
    async with BlobServiceClient.from_connection_string(azurite.connection_string()) as service:
        return [container.name async for container in service.list_containers()]


async def blob_contents(azurite: Azurite, container: str) -> dict[str, str]:
    async with BlobServiceClient.from_connection_string(azurite.connection_string()) as service:
        client = service.get_container_client(container)
        names = [blob.name async for blob in client.list_blobs()]
        return {name: (await (await client.download_blob(name)).readall()).decode() for name in names}


def test_a_stopped_store_raises_a_storage_error_instead_of_returning_no_state(tmp_path: Path) -> None:
    async def main() -> None:
        with running_azurite(tmp_path / "azurite") as azurite:
            storage = BlobStorage(azurite.connection_string(), new_container(), retry_total=0)
            await storage.write({"k": {"n": 1}})
            item = (await storage.read(["k"]))["k"]
            azurite.stop()
            with pytest.raises(StorageError, match="could not read 'k'") as raised:
                await storage.read(["k"])
            assert ACCOUNT_KEY not in str(raised.value)
            item["n"] = 2
            with pytest.raises(StorageError, match="could not write 'k'") as raised:
                await storage.write({"k": item})
            assert not isinstance(raised.value, ETagConflict)
            with pytest.raises(StorageError, match="could not delete 'k'"):
                await storage.delete(["k"])
            await storage.close()

    asyncio.run(main())


def test_a_wrong_account_key_raises_a_storage_error_naming_the_status_not_the_key(azurite: Azurite) -> None:
    async def main() -> None:
        storage = BlobStorage(azurite.connection_string(WRONG_KEY), new_container(), retry_total=0)
        with pytest.raises(StorageError, match="HTTP 403") as raised:
            await storage.read(["k"])
        assert WRONG_KEY not in str(raised.value)
        await storage.close()

    asyncio.run(main())


def test_the_container_is_created_on_first_use_and_only_then(azurite: Azurite) -> None:
    async def main() -> None:
        container = new_container()
        storage = BlobStorage(azurite.connection_string(), container)
        assert container not in await container_names(azurite)
        assert await storage.read(["k"]) == {}
        assert container in await container_names(azurite)
        await storage.write({"k": {"n": 1}})
        await storage.close()

    asyncio.run(main())


def test_a_container_deleted_underneath_is_an_error_then_created_again(azurite: Azurite) -> None:
    async def main() -> None:
        container = new_container()
        storage = BlobStorage(azurite.connection_string(), container, retry_total=0)
        await storage.write({"k": {"n": 1}})
        async with BlobServiceClient.from_connection_string(azurite.connection_string()) as service:
            await service.delete_container(container)
        # Lost state is a failure to report, not an empty conversation.
        with pytest.raises(StorageError, match="disappeared"):
            await storage.read(["k"])
        await storage.write({"k": {"n": 2}})
        assert (await storage.read(["k"]))["k"]["n"] == 2
        await storage.close()

    asyncio.run(main())


def test_blobs_are_named_by_escaped_keys_and_hold_what_sqlite_stores(azurite: Azurite, tmp_path: Path) -> None:
    key = "directline/conversations/a.b c/"
    item = {"dialog": StoreItem(step=2, options=["one", "two"]), "count": 3}

    async def main() -> None:
        container = new_container()
        blob = BlobStorage(azurite.connection_string(), container)
        sqlite = SqliteStorage(tmp_path / "state.sqlite")
        await blob.write({key: dict(item)})
        await sqlite.write({key: dict(item)})
        sqlite.close()
        with sqlite3.connect(tmp_path / "state.sqlite") as connection:
            (stored,) = connection.execute("SELECT item FROM bot_state WHERE key = ?", (key,)).fetchone()
        assert await blob_contents(azurite, container) == {"directline%2Fconversations%2Fa%2Eb%20c%2F": stored}
        assert unquote(blob_name(key)) == key
        await blob.close()

    asyncio.run(main())


def test_a_blob_that_cannot_be_decoded_is_a_storage_error_naming_its_key(azurite: Azurite) -> None:
    async def main() -> None:
        container = new_container()
        storage = BlobStorage(azurite.connection_string(), container, retry_total=0)
        await storage.write({"k": {"n": 1}})
        async with BlobServiceClient.from_connection_string(azurite.connection_string()) as service:
            await service.get_blob_client(container, blob_name("k")).upload_blob(b"{not json", overwrite=True)
        with pytest.raises(StorageError, match="'k' cannot be decoded") as raised:
            await storage.read(["k"])
        assert raised.value.__cause__ is not None
        await storage.close()

    asyncio.run(main())


def test_an_empty_or_overlong_key_is_refused() -> None:
    with pytest.raises(StorageError, match="empty"):
        blob_name("")
    with pytest.raises(StorageError, match="too long"):
        blob_name("k" * 1025)
    assert blob_name("k" * 1024) == "k" * 1024


def test_a_malformed_connection_string_is_refused_without_quoting_it() -> None:
    with pytest.raises(StorageError, match="malformed") as raised:
        BlobStorage("AccountKey", "bot-state")
    assert "AccountKey" not in str(raised.value)


def test_the_blob_setting_makes_a_blob_store_expiring_after_conversation_state_days(azurite: Azurite) -> None:
    async def main() -> None:
        container = new_container()
        settings = BotSettings(
            signing_key=SIGNING_KEY, state_store=f"blob:{container}", state_connection=azurite.connection_string(),
            conversation_state_days=3,
        )
        clock = FakeClock()
        storage = create_storage(settings, clock)
        assert isinstance(storage, BlobStorage)
        await storage.write({"k": {"n": 1}})
        clock.advance(3 * 86400 - 1)
        assert list(await storage.read(["k"])) == ["k"]
        clock.advance(1)
        assert await storage.read(["k"]) == {}
        await close_storage(storage)
        assert list(await blob_contents(azurite, container)) == ["k"]

    asyncio.run(main())


class ClosableStorage(CopyingMemoryStorage):
    """A store with an async close, like BlobStorage, that records being closed."""

    def __init__(self) -> None:
        super().__init__()
        self.closed = False

    async def close(self) -> None:
        self.closed = True


def test_the_app_closes_an_async_closable_store_on_cleanup() -> None:
    async def main() -> None:
        storage = ClosableStorage()
        server = TestServer(create_app(BotSettings(signing_key=SIGNING_KEY), storage), host="127.0.0.1", port=0)
        await server.start_server()
        assert not storage.closed
        await server.close()
        assert storage.closed

    asyncio.run(main())


def test_every_write_stamps_the_blobs_last_activity_in_its_metadata(azurite: Azurite) -> None:
    clock = FakeClock(1_796_000_000.0)  # 2026-11-30T00:53:20Z

    async def main() -> None:
        container = new_container()
        storage = BlobStorage(azurite.connection_string(), container, expiry=StateExpiry(TIME_TO_LIVE, clock))
        await storage.write({"k": {"n": 1}})
        async with BlobServiceClient.from_connection_string(azurite.connection_string()) as service:
            properties = await service.get_blob_client(container, blob_name("k")).get_blob_properties()
        assert properties.metadata == {LAST_ACTIVITY: "2026-11-30T00:53:20.000000+00:00"}
        await storage.close()

    asyncio.run(main())


def test_a_blob_without_a_stamp_expires_by_its_last_modified_time(azurite: Azurite) -> None:
    # Written before expiry existed: no lastactivity metadata. Azurite's clock and the test's start together.
    clock = FakeClock()

    async def main() -> None:
        container = new_container()
        storage = BlobStorage(azurite.connection_string(), container, expiry=StateExpiry(TIME_TO_LIVE, clock))
        await storage.write({"fresh": {"n": 0}})
        async with BlobServiceClient.from_connection_string(azurite.connection_string()) as service:
            await service.get_blob_client(container, blob_name("old")).upload_blob(b'{"n": 1}', overwrite=True)
        assert (await storage.read(["old"]))["old"]["n"] == 1
        clock.advance(TIME_TO_LIVE + 60)  # a minute's margin for the two clocks
        assert await storage.read(["old"]) == {}
        assert await storage.sweep_expired() == 2
        assert await blob_contents(azurite, container) == {}
        await storage.close()

    asyncio.run(main())
