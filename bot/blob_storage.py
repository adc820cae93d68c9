"""A botbuilder ``Storage`` on Azure Blob Storage (``BotStateStore=blob:<container>``), async all the way.

Each key is one block blob in the container, named by ``blob_name(key)``; its content is
``jsonpickle.encode(item)`` without the eTag, exactly what SqliteStorage keeps in its ``item`` column, so a
container reads the same way as a SQLite file (and, as there, jsonpickle must never decode anyone else's data). Both
write and read that text through bot/storage_codec.py.

eTags mirror SqliteStorage: ``read`` puts the blob's ETag into each item; ``write`` of an item that carries an
eTag other than "*" succeeds only if the blob still has that ETag (``If-Match``), otherwise it raises
``ETagConflict`` and the blob keeps its value; items without an eTag, or with "*", are last-writer-wins (no
create-only mode: SqliteStorage has none). After a write the caller's eTag is refreshed, so a second save in
the same turn does not conflict with the first.

Unlike botbuilder-azure's BlobStorage, every failure other than "this blob does not exist" is raised as
``StorageError``: an unreachable or misconfigured store must never look like "no state" (the dialog would
silently restart). Azure cannot write several blobs in one transaction; a batch is checked up front (see
``write``), which covers a stale eTag but not a writer racing between the check and the writes. The bot saves
one key per ``save_changes``, so batches do not occur in practice.

Expiry (bot/state_expiry.py): every write stamps the blob's ``lastactivity`` metadata with the injected clock's time
(ISO 8601, UTC); ``read`` treats a blob last written ConversationStateDays ago or earlier as absent, and
``sweep_expired`` lists the container with its metadata and deletes the expired blobs, each only if its ETag is still
the listed one, so a conversation that wrote between the listing and the delete keeps its state. A blob written before
expiry existed has no stamp and counts from its Last-Modified time. For a very large container, a lifecycle
management rule on the storage account (delete base blobs some days after modification) does the same server-side.

The connection string is a secret: it is never logged nor put in an error message.
"""

import asyncio
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.storage.blob import BlobProperties, ContentSettings
from azure.storage.blob.aio import BlobServiceClient, ContainerClient, LinearRetry
from botbuilder.core import Storage

from bot import storage_codec
from bot.errors import ETagConflict, StorageError
from bot.etags import ANY_ETAG, get_etag, set_etag, without_etag
from bot.state_expiry import SWEEP_BATCH, StateExpiry
from bot.turn_slots import network_wait

logger = logging.getLogger(__name__)

RETRY_TOTAL = 2
RETRY_BACKOFF_SECONDS = 1
CONNECTION_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 10.0
_MAX_BLOB_NAME = 1024
_CONTAINER_NOT_FOUND = "ContainerNotFound"
_CONDITION_FAILED = 412
_LEASE_ID_MISSING = "LeaseIdMissing"
_JSON = ContentSettings(content_type="application/json; charset=utf-8")
# Metadata names are case-insensitive C# identifiers; Azure hands them back in the case they were written.
LAST_ACTIVITY = "lastactivity"
# Deletes a sweep has in flight at once: a turn's reads and writes share the client's connections.
_SWEEP_DELETES_AT_ONCE = 16


def blob_name(key: str) -> str:
    """The blob that holds ``key``: percent-escaped, so "/" makes no virtual folders and no name ends in "." or "/".

    Reversible (``urllib.parse.unquote``), so a container listing shows the keys.
    """
    if not key:
        raise StorageError("a state key must not be empty")
    name = quote(key, safe="").replace(".", "%2E")
    if len(name) > _MAX_BLOB_NAME:
        raise StorageError(f"the state key {key[:80]!r}... is too long for a blob name (over {_MAX_BLOB_NAME})")
    return name


class BlobStorage(Storage):  # type: ignore[misc]  # botbuilder ships no type hints
    """Bot state in one blob container. One instance (one BlobServiceClient) per process; ``await close()`` it.

    The timeouts and retries fit a bot turn (a channel waits ~15 s for the reply), not the SDK's defaults (15 s
    backoff between retries, 20 s connection timeout). ``retry_total`` is the number of retries (tests use 0).
    """

    def __init__(
        self, connection_string: str, container: str, *, retry_total: int = RETRY_TOTAL,
        expiry: StateExpiry | None = None,
    ) -> None:
        super().__init__()
        self._expiry = expiry or StateExpiry()
        try:
            # Only parses: no I/O here, so the client may be built before the event loop runs.
            self._service = BlobServiceClient.from_connection_string(
                connection_string,
                retry_policy=LinearRetry(backoff=RETRY_BACKOFF_SECONDS, retry_total=retry_total, random_jitter_range=1),
                connection_timeout=CONNECTION_TIMEOUT_SECONDS,
                read_timeout=READ_TIMEOUT_SECONDS,
                # The SDK logs every request at INFO (headers redacted); two per turn would drown the bot's log.
                http_logging_level=logging.DEBUG,
            )
        except ValueError:
            # The SDK's message can quote the string; ours must not.
            raise StorageError("the blob storage connection string is malformed") from None
        self._container = self._service.get_container_client(container)
        self._container_name = container
        self._container_ready = False
        self._container_lock = asyncio.Lock()

    async def read(self, keys: list[str]) -> dict[str, Any]:
        if keys is None:
            raise StorageError("keys are required when reading")
        keys = list(dict.fromkeys(keys))
        if not keys:
            return {}
        async with network_wait():  # the turn's slot is free for others while Azure answers (bot/turn_slots.py)
            await self._ensure_container()
            found = await _gather(self._read_one(key) for key in keys)
        return {key: item for key, item in zip(keys, found, strict=True) if item is not None}

    async def write(self, changes: dict[str, object]) -> None:
        if changes is None:
            raise StorageError("changes are required when writing")
        if not changes:
            return
        for key, item in changes.items():
            blob_name(key)
            if get_etag(item) == "":
                raise StorageError(f"the item for {key!r} has an empty eTag")
        conditional = {key: item for key, item in changes.items() if get_etag(item) not in (None, ANY_ETAG)}
        async with network_wait():
            await self._ensure_container()
            if len(changes) > 1 and conditional:
                # No multi-blob transaction in Azure: check every eTag first, so a stale batch writes nothing
                # (SqliteStorage's all-or-nothing, up to a writer racing between this check and the writes).
                await _gather(self._check_etag(key, item) for key, item in conditional.items())
            new_etags = await _gather(self._write_one(key, item) for key, item in changes.items())
        for item, etag in zip(changes.values(), new_etags, strict=True):
            if get_etag(item) is not None:
                set_etag(item, etag)

    async def delete(self, keys: Iterable[str]) -> None:
        keys = list(dict.fromkeys(keys))
        if not keys:
            return
        async with network_wait():
            await self._ensure_container()
            await _gather(self._delete_one(key) for key in keys)

    async def sweep_expired(self) -> int:
        """Delete the expired blobs (see the module doc); the number deleted."""
        await self._ensure_container()
        deleted = 0
        expired: list[BlobProperties] = []
        try:
            async for blob in self._container.list_blobs(include=["metadata"], results_per_page=SWEEP_BATCH):
                if self._expiry.is_expired(_last_activity(blob)):
                    expired.append(blob)
                if len(expired) >= _SWEEP_DELETES_AT_ONCE:
                    deleted += await self._delete_expired(expired)
                    expired = []
        except ResourceNotFoundError as error:
            if _error_code(error) == _CONTAINER_NOT_FOUND:
                raise self._container_lost(error) from None
            raise _storage_error("could not list the container to sweep it", error) from None
        except AzureError as error:
            raise _storage_error("could not list the container to sweep it", error) from None
        return deleted + await self._delete_expired(expired)

    async def close(self) -> None:
        await self._service.close()

    async def container(self) -> ContainerClient:
        """The container's client, the container made if need be: for the leases and claims beside the state
        (bot/blob_coordination.py)."""
        await self._ensure_container()
        return self._container

    async def _ensure_container(self) -> None:
        # Created lazily, once per process: the lock keeps concurrent first turns from racing to create it.
        if self._container_ready:
            return
        async with self._container_lock:
            if self._container_ready:
                return
            try:
                await self._container.create_container()
                logger.info("created blob container %s for the bot state", self._container_name)
            except ResourceExistsError:
                pass
            except AzureError as error:
                what = f"could not create or open blob container {self._container_name!r}"
                raise _storage_error(what, error) from None
            self._container_ready = True

    async def _read_one(self, key: str) -> Any:
        blob = self._container.get_blob_client(blob_name(key))
        try:
            download = await blob.download_blob()
            text = await download.readall()
        except ResourceNotFoundError as error:
            if _error_code(error) == _CONTAINER_NOT_FOUND:
                raise self._container_lost(error) from None
            return None
        except AzureError as error:
            raise _storage_error(f"could not read {key!r}", error) from None
        if self._expiry.is_expired(_last_activity(download.properties)):
            return None  # the sweep deletes it; until then it reads as absent, so the conversation starts afresh
        try:
            item = storage_codec.decode(text.decode("utf-8"))
        except Exception as error:  # jsonpickle raises whatever json or the decoded classes raise
            raise StorageError(f"the stored item for {key!r} cannot be decoded: {type(error).__name__}") from error
        etag = download.properties.etag
        set_etag(item, etag)
        return item

    async def _check_etag(self, key: str, item: object) -> None:
        blob = self._container.get_blob_client(blob_name(key))
        try:
            properties = await blob.get_blob_properties()
        except ResourceNotFoundError as error:
            if _error_code(error) == _CONTAINER_NOT_FOUND:
                raise self._container_lost(error) from None
            raise ETagConflict(key) from None
        except AzureError as error:
            raise _storage_error(f"could not check the eTag of {key!r}", error) from None
        if properties.etag != get_etag(item):
            raise ETagConflict(key)

    async def _write_one(self, key: str, item: object) -> str:
        blob = self._container.get_blob_client(blob_name(key))
        expected = get_etag(item)
        condition: dict[str, Any] = {}
        if expected is not None and expected != ANY_ETAG:
            condition = {"etag": expected, "match_condition": MatchConditions.IfNotModified}
        text = storage_codec.encode(without_etag(item))
        try:
            result = await blob.upload_blob(text.encode("utf-8"), overwrite=True, content_settings=_JSON,
                                            metadata={LAST_ACTIVITY: stamp(self._expiry.now())}, **condition)
        except (ResourceModifiedError, ResourceNotFoundError) as error:
            if _error_code(error) == _CONTAINER_NOT_FOUND:
                raise self._container_lost(error) from None
            # If-Match on a changed blob is 412; on a deleted one Azure answers 404 or 412: both mean stale.
            if condition:
                raise ETagConflict(key) from None
            raise _storage_error(f"could not write {key!r}", error) from None
        except AzureError as error:
            if condition and getattr(error, "status_code", None) == _CONDITION_FAILED:
                raise ETagConflict(key) from None
            raise _storage_error(f"could not write {key!r}", error) from None
        return str(result["etag"])

    async def _delete_one(self, key: str) -> None:
        blob = self._container.get_blob_client(blob_name(key))
        try:
            await blob.delete_blob()
        except ResourceNotFoundError as error:
            if _error_code(error) == _CONTAINER_NOT_FOUND:
                raise self._container_lost(error) from None
            # Deleting what is not there is done, as with the other stores.
        except AzureError as error:
            raise _storage_error(f"could not delete {key!r}", error) from None

    async def _delete_expired(self, blobs: list[BlobProperties]) -> int:
        deleted = await _gather(self._delete_if_unchanged(blob) for blob in blobs)
        return sum(deleted)

    async def _delete_if_unchanged(self, listed: BlobProperties) -> bool:
        blob = self._container.get_blob_client(listed.name)
        try:
            await blob.delete_blob(etag=listed.etag, match_condition=MatchConditions.IfNotModified)
        except ResourceModifiedError:
            return False  # written since the listing: the conversation is active again
        except ResourceNotFoundError as error:
            if _error_code(error) == _CONTAINER_NOT_FOUND:
                raise self._container_lost(error) from None
            return False  # deleted meanwhile (the bot's own delete, another instance's sweep)
        except AzureError as error:
            if _error_code(error) == _LEASE_ID_MISSING:
                return False  # a conversation lease held right now (bot/blob_coordination.py): in use
            raise _storage_error(f"could not delete the expired blob {listed.name!r}", error) from None
        return True

    def _container_lost(self, error: AzureError) -> StorageError:
        # Somebody deleted the container: its state is gone, which is an error, not "no state". The next
        # call creates it again rather than failing until a restart.
        self._container_ready = False
        return _storage_error(f"blob container {self._container_name!r} disappeared", error)


def stamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="microseconds")


def _last_activity(properties: BlobProperties) -> float:
    """The blob's ``lastactivity`` stamp, or its Last-Modified time if it has none (written before expiry existed)."""
    stamped = (properties.metadata or {}).get(LAST_ACTIVITY)
    if stamped:
        try:
            return datetime.fromisoformat(stamped).timestamp()
        except ValueError:
            logger.warning("blob state store: %s has an unreadable %s stamp; using its Last-Modified time",
                           properties.name, LAST_ACTIVITY)
    modified: datetime = properties.last_modified
    return modified.timestamp()


async def _gather(calls: Iterable[Any]) -> list[Any]:
    """Run the calls together; raise the first failure only after all have finished (none is left running)."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def _error_code(error: AzureError) -> str | None:
    code = getattr(error, "error_code", None)
    return code if isinstance(code, str) else None


def _storage_error(what: str, error: AzureError) -> StorageError:
    # Status and service error code, never the SDK's message: it can carry the request URL (with a SAS token).
    status = getattr(error, "status_code", None)
    detail = f"HTTP {status} {_error_code(error) or ''}".strip() if status else type(error).__name__
    logger.warning("blob state store: %s (%s)", what, detail)
    return StorageError(f"the bot state store failed: {what} ({detail})")
