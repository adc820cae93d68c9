"""Management operations on the task hub, with the extension's rules for each state (reference §C3, §E)."""

import base64
import binascii
import json
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any, Final

from devhost.durable import history as h
from devhost.durable import runtime_status as rs
from devhost.durable.engine import Engine
from devhost.durable.errors import (
    InstanceConflict,
    InstanceGone,
    InstanceNotFound,
    InvalidInstanceState,
    InvalidRequest,
)
from devhost.durable.extension_rules import KnownFunctions
from devhost.durable.history import Event, EventType
from devhost.durable.status_view import status_json
from devhost.durable.store import Changes, Instance, InstanceQuery, NewMessage, Store
from devhost.durable.timefmt import to_epoch, utc_now
from devhost.durable.trace_context import TraceContext, orchestration_trace

log = logging.getLogger(__name__)
_MAX_ID_LENGTH: Final = 256
_BAD_ID_CHARS: Final = re.compile(r"[/\\#?\x00-\x1f\x7f]")


def validate_instance_id(instance_id: str) -> None:
    if not instance_id:
        raise InvalidRequest("Instance ID must not be empty.")
    if len(instance_id) > _MAX_ID_LENGTH:
        raise InvalidRequest(f"Instance ID '{instance_id[:40]}...' exceeds {_MAX_ID_LENGTH} characters.")
    if instance_id.startswith("@"):
        raise InvalidRequest(f"Instance ID '{instance_id}' must not start with '@'.")
    if _BAD_ID_CHARS.search(instance_id):
        raise InvalidRequest(f"Instance ID '{instance_id}' contains invalid characters ('/', '\\', '#', '?' or "
                             "control characters).")


@dataclass(frozen=True)
class StatusOptions:
    show_history: bool = False
    show_history_output: bool = False
    show_input: bool = True


class TaskHubClient:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- start / restart ------------------------------------------------------------------------------------

    async def start(self, name: str, instance_id: str | None, raw_input: str | None,
                    version: str | None = None, caller: TraceContext | None = None) -> str:
        """``caller``: the trace context the start request came with; the orchestration's spans go under it."""
        worker = self._engine.worker
        known = KnownFunctions(tuple(worker.activity_names()), tuple(worker.orchestrator_names()))
        # DurableClient.StartNewAsync: ThrowIfFunctionDoesNotExist, case-insensitive; the instance keeps the name
        # as given.
        if known.orchestrator(name) is None:
            raise InvalidRequest(known.missing_orchestrator(name))
        instance_id = instance_id if instance_id else uuid.uuid4().hex
        validate_instance_id(instance_id)

        def create(store: Store) -> Any:
            existing = store.instance(instance_id)
            if existing is not None and existing.status not in rs.TERMINAL:
                raise InstanceConflict(f"An Orchestration instance with the status {existing.status} already exists.")
            now = utc_now()
            execution_id = uuid.uuid4().hex
            trace = orchestration_trace(caller) if self._engine.settings.distributed_tracing else None
            inst = Instance(instance_id, name, version, execution_id, rs.PENDING, raw_input, None, None,
                            to_epoch(now), to_epoch(now), trace_context=None if trace is None else json.dumps(trace))
            started = h.execution_started(now, name, version, raw_input,
                                          instance_id=instance_id, execution_id=execution_id, parent=None,
                                          trace=trace)
            changes = Changes(upsert_instances=[inst], reset_history={instance_id}, drop_messages_of={instance_id},
                              drop_activities_of={instance_id},
                              new_messages=[NewMessage(instance_id, execution_id, to_epoch(now), started)])
            return store.commit(changes)

        self._engine.dispatch(await self._engine.run_db(create))
        return instance_id

    async def restart(self, instance_id: str, new_instance_id: bool) -> str:
        inst = await self._instance(instance_id)
        if inst is None:
            # DurableClient.RestartAsync's ArgumentException (its typo included), which HttpApiHandler's
            # HandleRestartInstanceRequestAsync answers with a Message of its own.
            raise InvalidRequest(f"An orchestrastion with the instanceId {instance_id} was not found.",
                                 "InstanceId does not match a valid orchestration instance.")
        return await self.start(inst.name, None if new_instance_id else instance_id, inst.input, inst.version)

    # -- messages to running instances --------------------------------------------------------------------------

    async def ensure_open(self, instance_id: str) -> None:
        """Raise InstanceNotFound or InstanceGone unless the instance can still take messages."""
        _not_finished(await self._require(instance_id))

    async def raise_event(self, instance_id: str, name: str, payload: str | None) -> None:
        inst = await self._require(instance_id)
        _not_finished(inst)
        await self._send(instance_id, h.event_raised(utc_now(), name, payload))

    async def terminate(self, instance_id: str, reason: str | None) -> None:
        inst = await self._require(instance_id)
        _not_finished(inst)
        await self._send(instance_id, h.execution_terminated(utc_now(), reason))

    async def suspend(self, instance_id: str, reason: str | None) -> None:
        inst = await self._require(instance_id)
        _not_finished(inst)
        if inst.status not in rs.SUSPENDABLE:
            # DurableClient.SuspendAsync
            raise InvalidInstanceState(f"Cannot suspend the orchestration instance {instance_id} because instance "
                                       f"is in the {inst.status} state.")
        await self._send(instance_id, h.event(EventType.EXECUTION_SUSPENDED, utc_now(), Reason=reason))

    async def resume(self, instance_id: str, reason: str | None) -> None:
        inst = await self._require(instance_id)
        _not_finished(inst)
        if inst.status != rs.SUSPENDED:
            # DurableClient.ResumeAsync
            raise InvalidInstanceState(f"Cannot resume the orchestration instance {instance_id} because instance "
                                       f"is in the {inst.status} state.")
        await self._send(instance_id, h.event(EventType.EXECUTION_RESUMED, utc_now(), Reason=reason))

    async def rewind(self, instance_id: str, reason: str | None) -> None:
        inst = await self._require(instance_id)
        if inst.status in (rs.COMPLETED, rs.CANCELED, rs.TERMINATED):
            raise InstanceGone(f"Instance '{instance_id}' is {inst.status}; only failed instances can be rewound.")
        if inst.status != rs.FAILED:
            # DurableClient.RewindAsync
            raise InvalidInstanceState("The rewind operation is only supported on failed orchestration instances.")
        await self._send(instance_id, h.event(EventType.REWIND_REQUESTED, utc_now(), Reason=reason))

    async def _send(self, instance_id: str, event: Event) -> None:
        message = NewMessage(instance_id, None, to_epoch(utc_now()), event)
        committed = await self._engine.run_db(lambda store: store.commit(Changes(new_messages=[message])))
        self._engine.dispatch(committed)

    # -- queries and purge ------------------------------------------------------------------------------------

    async def status(self, instance_id: str, options: StatusOptions) -> dict[str, Any] | None:
        def read(store: Store) -> dict[str, Any] | None:
            inst = store.instance(instance_id)
            if inst is None:
                return None
            events = store.history(instance_id) if options.show_history else None
            return status_json(inst, options.show_input, events, options.show_history_output)

        return await self._engine.run_db(read)

    async def list(self, query: InstanceQuery, show_input: bool, top: int,
                   continuation: str | None) -> tuple[list[dict[str, Any]], str]:
        """One page of at most ``top`` instances and the token for the next page ("" on the last one)."""
        after = _decode_token(continuation)

        def read(store: Store) -> tuple[list[dict[str, Any]], str]:
            page = store.query(query, limit=top + 1, after=after)
            more = len(page) > top
            page = page[:top]
            token = _encode_token(page[-1]) if more and page else ""
            return [status_json(inst, show_input, None, False) for inst in page], token

        return await self._engine.run_db(read)

    async def purge(self, instance_id: str) -> int:
        def purge(store: Store) -> int:
            return store.purge([instance_id]) if store.instance(instance_id) is not None else 0

        return await self._engine.run_db(purge)

    async def purge_by(self, query: InstanceQuery) -> int:
        """Purge by time range and status, as the Azure Storage backend does.

        AzureTableTrackingStore.PurgeInstanceHistoryAsync keeps only the terminal statuses of the filter, and an
        empty filter matches every status: with no runtimeStatus, or only non-terminal ones, Running instances in
        the range are purged too.
        """
        if query.created_from is None:
            raise ValueError("createdTimeFrom is required")  # the HTTP API answers this itself
        statuses = query.statuses & rs.TERMINAL
        if not statuses:
            log.warning("DURABLE TRAP: purge by filter with runtimeStatus %s keeps no terminal status, so the Azure "
                        "Storage backend purges instances of EVERY status created in the range, Running ones "
                        "included", ",".join(sorted(query.statuses)) or "(none)")
        narrowed = InstanceQuery(query.created_from, query.created_to, frozenset(statuses), query.prefix)

        def purge(store: Store) -> int:
            return store.purge(inst.instance_id for inst in store.query(narrowed))

        return await self._engine.run_db(purge)

    async def _instance(self, instance_id: str) -> Instance | None:
        return await self._engine.run_db(lambda store: store.instance(instance_id))

    async def _require(self, instance_id: str) -> Instance:
        inst = await self._instance(instance_id)
        if inst is None:
            raise InstanceNotFound(f"No instance with ID '{instance_id}' found.")
        return inst


def _not_finished(inst: Instance) -> None:
    if inst.status in rs.TERMINAL:
        raise InstanceGone(f"Instance '{inst.instance_id}' is {inst.status}.")


def _encode_token(inst: Instance) -> str:
    return base64.urlsafe_b64encode(json.dumps([inst.created, inst.instance_id]).encode()).decode()


def _decode_token(token: str | None) -> tuple[float, str] | None:
    if not token:
        return None
    try:
        created, instance_id = json.loads(base64.urlsafe_b64decode(token.encode()))
        return float(created), str(instance_id)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidRequest(f"x-ms-continuation-token is not a token this host issued: {exc}") from None
