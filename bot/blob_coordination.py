"""Conversation leases and outcome claims for bot instances sharing one blob container.

A conversation's lease is a lease on an empty blob of its own, ``leases/<blob name of the key>`` (a state blob's
name never holds "/", bot/blob_storage.py's ``blob_name``, so the two cannot meet). Azure does the deciding: Lease
Blob ``acquire`` with a proposed lease id (fresh per hold) succeeds only when the blob has no live lease, otherwise
409 LeaseAlreadyPresent; a lease lapses ``duration`` seconds (15-60, Azure's rule) after it was acquired or renewed;
``renew`` and ``release`` need the lease id, so only the holder can do either
(https://learn.microsoft.com/rest/api/storageservices/lease-blob). The lease blob is made on the first acquire
(create-only, If-None-Match: *) and kept: an uncontended turn makes an acquire and a release, nothing more. A turn
refused the lease reads its state before each further acquire, so taking over a lapsed one ("expired") is logged, as
on SQLite. The state sweep deletes lease blobs untouched for ConversationStateDays, and leaves a leased one alone
(bot/blob_storage.py).

An outcome claim (bot/outcome_claims.py) is a blob ``claims/<blob name of the instance id>`` holding its claimant
and expiry as JSON: created with If-None-Match: * (Put Blob fails with 409 BlobAlreadyExists when it exists), a
lapsed one taken over with If-Match on the ETag it was read with, settled and released with If-Match on the ETag of
this claimant's own write. It carries the ``lastactivity`` stamp, so the state sweep deletes it with the state.
"""

import json
from collections.abc import Awaitable, Callable
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.storage.blob.aio import BlobClient, BlobLeaseClient, ContainerClient

from bot.blob_storage import LAST_ACTIVITY, blob_name, stamp
from bot.conversation_leases import Acquired, LeaseHolder
from bot.errors import StorageError
from bot.outcome_claims import Claim
from bot.state_expiry import Clock
from bot.turn_slots import network_wait

LEASE_PREFIX = "leases/"
CLAIM_PREFIX = "claims/"
# How a takeover names the holder of a lapsed blob lease (Acquired.lapsed_holder): a lease carries no name.
LAPSED_HOLDER = "another instance"
# Azure's error codes (x-ms-error-code) of a lease that is somebody else's, or no longer ours. A broken (or breaking)
# lease, as an operator breaks a stuck one, refuses its holder's renew with LeaseIsBrokenAndCannotBeRenewed: it is no
# longer ours either (https://learn.microsoft.com/rest/api/storageservices/lease-blob, "Outcomes of lease operations").
_LEASE_HELD = "LeaseAlreadyPresent"
_NOT_OURS = frozenset({"LeaseIdMismatchWithLeaseOperation", "LeaseNotPresentWithLeaseOperation", "LeaseLost",
                       "LeaseIdMismatchWithBlobOperation", "LeaseIsBrokenAndCannotBeRenewed"})


class BlobLeases:
    """The LeaseStore of bot/conversation_leases.py on a container. ``container`` is awaited for a ready client
    (BlobStorage.container: made on first use)."""

    def __init__(self, container: Callable[[], Awaitable[ContainerClient]]) -> None:
        self._container = container

    async def try_acquire(self, key: str, holder: LeaseHolder, seconds: float, *,
                          refused_before: bool = False) -> Acquired | None:
        blob = await self._lease_blob(key)
        # Acquire does not say what it replaced, and Azure keeps no holder's name. After a refusal (only then: it
        # costs a request) the lease state beforehand tells: "expired" is a holder that stopped renewing (it died or
        # stalled), "available" one that released it. A lapsed lease found at the first try goes unnoticed.
        lapsed = refused_before and await _lease_state(blob, key) == "expired"
        lease = BlobLeaseClient(blob, lease_id=holder.lease_id)
        for first_try in (True, False):
            try:
                await lease.acquire(lease_duration=int(seconds))
                return Acquired(LAPSED_HOLDER if lapsed else "")
            except ResourceNotFoundError:
                if not first_try:
                    raise StorageError(f"the lease blob of {key!r} vanished while it was made") from None
                await _create_empty(blob, key)
            except HttpResponseError as error:
                if _code(error) == _LEASE_HELD:
                    return None
                raise _lease_error(f"could not acquire the lease of {key!r}", error) from None
            except AzureError as error:
                raise _lease_error(f"could not acquire the lease of {key!r}", error) from None
        raise AssertionError("unreachable: the second try returns or raises")

    async def renew(self, key: str, holder: LeaseHolder, seconds: float) -> bool:
        # Renew keeps the duration the lease was acquired with (Azure's rule): ``seconds`` is the same here.
        lease = BlobLeaseClient(await self._lease_blob(key), lease_id=holder.lease_id)
        try:
            await lease.renew()
        except ResourceNotFoundError:
            return False
        except HttpResponseError as error:
            if _code(error) in _NOT_OURS:
                return False
            raise _lease_error(f"could not renew the lease of {key!r}", error) from None
        except AzureError as error:
            raise _lease_error(f"could not renew the lease of {key!r}", error) from None
        return True

    async def release(self, key: str, holder: LeaseHolder) -> None:
        lease = BlobLeaseClient(await self._lease_blob(key), lease_id=holder.lease_id)
        try:
            await lease.release()
        except ResourceNotFoundError:
            return
        except HttpResponseError as error:
            if _code(error) in _NOT_OURS:
                return  # lapsed and taken by another holder: nothing of ours to give up
            raise _lease_error(f"could not release the lease of {key!r}", error) from None
        except AzureError as error:
            raise _lease_error(f"could not release the lease of {key!r}", error) from None

    async def _lease_blob(self, key: str) -> BlobClient:
        container: ContainerClient = await self._container()
        return container.get_blob_client(LEASE_PREFIX + blob_name(key))


class BlobClaims:
    """The OutcomeClaims of bot/outcome_claims.py on a container (``container`` as for BlobLeases)."""

    def __init__(self, container: Callable[[], Awaitable[ContainerClient]], clock: Clock) -> None:
        self._container = container
        self._clock = clock
        # (instance id, claimant) -> the ETag of that claimant's write: settle and release change only that.
        self._written: dict[tuple[str, str], str] = {}

    async def claim(self, instance_id: str, claimant: str, seconds: float) -> Claim:
        async with network_wait():  # the turn's slot is free for others meanwhile, as in BlobStorage
            return await self._claim(instance_id, claimant, seconds)

    async def _claim(self, instance_id: str, claimant: str, seconds: float) -> Claim:
        blob = await self._claim_blob(instance_id)
        now = self._clock()
        try:
            await self._write(blob, instance_id, claimant, now + seconds, {"overwrite": False})
            return Claim.CLAIMED
        except ResourceExistsError:
            pass
        except AzureError as error:
            raise _lease_error(f"could not claim the outcome {instance_id!r}", error) from None
        try:
            download = await blob.download_blob()
            record = json.loads(await download.readall())
        except ResourceNotFoundError:
            return Claim.IN_FLIGHT  # released just now: the function app's retry claims it
        except (AzureError, ValueError) as error:
            raise StorageError(f"the bot state store failed: could not read the claim of {instance_id!r} "
                               f"({type(error).__name__})") from None
        expires = record.get("expires") if isinstance(record, dict) else None
        if expires is None:
            return Claim.DELIVERED
        if float(expires) > now:
            return Claim.IN_FLIGHT
        condition = {"overwrite": True, "etag": download.properties.etag,
                     "match_condition": MatchConditions.IfNotModified}
        try:
            await self._write(blob, instance_id, claimant, now + seconds, condition)
        except (ResourceModifiedError, ResourceNotFoundError):
            return Claim.IN_FLIGHT  # another delivery took the lapsed claim first
        except AzureError as error:
            raise _lease_error(f"could not claim the outcome {instance_id!r}", error) from None
        return Claim.CLAIMED

    async def settle(self, instance_id: str, claimant: str) -> None:
        etag = self._written.pop((instance_id, claimant), None)
        if etag is None:
            return
        condition = {"overwrite": True, "etag": etag, "match_condition": MatchConditions.IfNotModified}
        try:
            await self._write(await self._claim_blob(instance_id), instance_id, claimant, None, condition)
        except (ResourceModifiedError, ResourceNotFoundError):
            pass  # lapsed and taken by another delivery: its settle counts
        except AzureError as error:
            raise _lease_error(f"could not settle the claim of {instance_id!r}", error) from None
        self._written.pop((instance_id, claimant), None)

    async def release(self, instance_id: str, claimant: str) -> None:
        etag = self._written.pop((instance_id, claimant), None)
        if etag is None:
            return
        blob = await self._claim_blob(instance_id)
        try:
            await blob.delete_blob(etag=etag, match_condition=MatchConditions.IfNotModified)
        except (ResourceModifiedError, ResourceNotFoundError):
            pass  # no longer this claimant's
        except AzureError as error:
            raise _lease_error(f"could not release the claim of {instance_id!r}", error) from None

    async def _write(self, blob: BlobClient, instance_id: str, claimant: str, expires: float | None,
                     condition: dict[str, Any]) -> None:
        body = json.dumps({"claimant": claimant, "expires": expires}).encode()
        result = await blob.upload_blob(body, metadata={LAST_ACTIVITY: stamp(self._clock())}, **condition)
        self._written[(instance_id, claimant)] = str(result["etag"])

    async def _claim_blob(self, instance_id: str) -> BlobClient:
        container: ContainerClient = await self._container()
        return container.get_blob_client(CLAIM_PREFIX + blob_name(instance_id))


async def _lease_state(blob: BlobClient, key: str) -> str:
    """Azure's lease state of the blob (available, leased, expired, breaking, broken); "" when there is no blob."""
    try:
        properties = await blob.get_blob_properties()
    except ResourceNotFoundError:
        return ""
    except AzureError as error:
        raise _lease_error(f"could not read the lease of {key!r}", error) from None
    return str(properties.lease.state or "")


async def _create_empty(blob: BlobClient, key: str) -> None:
    try:
        await blob.upload_blob(b"", overwrite=False)
    except ResourceExistsError:
        pass  # another instance made it first
    except HttpResponseError as error:
        if error.status_code == 412:
            return  # it exists and is leased already (Azure checks the lease before If-None-Match)
        raise _lease_error(f"could not make the lease blob of {key!r}", error) from None
    except AzureError as error:
        raise _lease_error(f"could not make the lease blob of {key!r}", error) from None


def _code(error: AzureError) -> str:
    code = getattr(error, "error_code", None)
    return str(getattr(code, "value", code) or "")


def _lease_error(what: str, error: AzureError) -> StorageError:
    # Status and error code only: the SDK's message can carry the request URL.
    status = getattr(error, "status_code", None)
    return StorageError(f"the bot state store failed: {what} (HTTP {status} {_code(error)})".replace(" )", ")"))
