"""The bot's client for the function app: start an operation, read its progress, answer its question, terminate it.

The only module that speaks HTTP to the function app. It turns every failure into an
``OperationsError`` whose ``reason`` is plain words the dialog can show the user.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import aiohttp

from bot.errors import OperationRejected, OperationsError, OperationsUnavailable, OperationUnknown
from bot.settings import BotSettings
from bot.tracing import start_call_span
from bot.turn_slots import network_wait
from contract import Answer, ContractError, Progress, StartRequest, error_message

logger = logging.getLogger(__name__)

NOT_REACHABLE = "the operations service is not reachable"
NO_ANSWER_IN_TIME = "the operations service did not answer in time"
NOT_AVAILABLE = "the operations service is not available right now"
NOT_UNDERSTOOD = "the operations service gave an answer I do not understand"
# Durable's runtime statuses after which the instance will not run again.
FINISHED_STATUSES = frozenset({"Completed", "Failed", "Terminated", "Canceled"})


@dataclass(frozen=True)
class StartedOperation:
    """What the bot keeps about a started operation: plain strings, so it survives any state store."""

    instance_id: str
    option: str
    status_query_url: str
    # Durable's terminatePostUri, with the literal ``{text}`` placeholder for the reason.
    terminate_url: str
    # The serviceUrl of the continuation sent at start: an outcome event must come back with the same one,
    # since the signature does not cover the continuation and the bot posts (with its token) to that URL.
    service_url: str = ""
    # Durable's sendEventPostUri, with the literal ``{eventName}`` placeholder and the system key in ``code=``: where
    # the owner's answer to a question goes (contract/question.py). "" in a state saved before questions existed.
    send_event_url: str = ""

    def to_state(self) -> dict[str, str]:
        return {
            "instanceId": self.instance_id,
            "option": self.option,
            "statusQueryGetUri": self.status_query_url,
            "terminatePostUri": self.terminate_url,
            "serviceUrl": self.service_url,
            "sendEventPostUri": self.send_event_url,
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> "StartedOperation":
        return cls(
            instance_id=str(data["instanceId"]),
            option=str(data["option"]),
            status_query_url=str(data["statusQueryGetUri"]),
            terminate_url=str(data["terminatePostUri"]),
            service_url=str(data.get("serviceUrl", "")),
            send_event_url=str(data.get("sendEventPostUri", "")),
        )


@dataclass(frozen=True)
class OperationStatus:
    """Durable's runtime status (``Running``, ``Completed``, ``Failed``, ...) and the progress custom status."""

    runtime_status: str
    progress: Progress | None

    @property
    def finished(self) -> bool:
        return self.runtime_status in FINISHED_STATUSES


class TerminateResult(Enum):
    TERMINATED = "terminated"
    ALREADY_FINISHED = "already_finished"
    NOT_FOUND = "not_found"


class AnswerResult(Enum):
    SENT = "sent"
    # The instance is over (410) or gone (404): nobody waits for the answer any more.
    ALREADY_FINISHED = "already_finished"
    NOT_FOUND = "not_found"


class Operations(Protocol):
    """What the dialogs need from the function app (the real client below, or a test double)."""

    async def start(self, request: StartRequest) -> StartedOperation: ...

    async def status(self, operation: StartedOperation) -> OperationStatus: ...

    async def terminate(self, operation: StartedOperation, reason: str) -> TerminateResult: ...

    async def answer(self, operation: StartedOperation, event_name: str, answer: Answer) -> AnswerResult: ...


# Start requests one bot instance has at the function app at once; the others wait in the bot, slot released.
# Unbounded, a burst of starts (1,000 users at once, two bot instances) queued at the functions host past
# OperationsTimeout: each such user was told the start failed while its orchestration started anyway, later
# (bench/system.py --bots 2). Waiting here is not counted against OperationsTimeout: the answer is what is timed.
MAX_STARTS_IN_FLIGHT = 16


class OperationsClient:
    """HTTP client for ``POST /api/operations`` and the Durable status and terminate URLs."""

    def __init__(self, session: aiohttp.ClientSession, settings: BotSettings) -> None:
        self._session = session
        self._base_url = settings.operations_url.rstrip("/")
        self._key = settings.operations_key
        # A turn has about 15 s before the channel gives up; every call must end well inside it.
        self._timeout = aiohttp.ClientTimeout(total=settings.operations_timeout)
        self._starts = asyncio.Semaphore(MAX_STARTS_IN_FLIGHT)
        self._starts_waiting = 0

    @property
    def starts_waiting(self) -> int:
        """Start requests waiting for one of the MAX_STARTS_IN_FLIGHT places."""
        return self._starts_waiting

    async def start(self, request: StartRequest) -> StartedOperation:
        url = f"{self._base_url}/api/operations"
        # The function key goes to the starter, and only there (see _call).
        headers = {"x-functions-key": self._key} if self._key else {}
        with start_call_span(request, headers) as call:
            status, body = await self._call("POST", url, json_body=request.to_json(), headers=headers,
                                            places=self._starts)
            if status not in (200, 201, 202):
                raise _refusal(status, body)
            try:
                started = StartedOperation(
                    instance_id=_text(body, "id"),
                    option=request.option,
                    status_query_url=_text(body, "statusQueryGetUri"),
                    terminate_url=_text(body, "terminatePostUri"),
                    service_url=str(request.continuation.get("serviceUrl", "")),
                    # Optional here: without it the operation runs, and only a question it asks cannot be answered.
                    send_event_url=str(body.get("sendEventPostUri") or ""),
                )
            except ValueError as error:
                logger.warning("start answer not understood: %s", error)
                raise OperationRejected(NOT_UNDERSTOOD, status) from None
            call.started(started.instance_id)
            return started

    async def status(self, operation: StartedOperation) -> OperationStatus:
        status, body = await self._call("GET", operation.status_query_url)
        if status == 404:
            # HttpApiHandler.HandleGetStatusRequestAsync answers 404 (empty body) for an instance it has no record of.
            raise OperationUnknown("the operations service no longer knows the operation", status)
        if status not in (200, 202):
            raise _refusal(status, body)
        if not isinstance(body, dict) or not isinstance(body.get("runtimeStatus"), str):
            raise OperationRejected(NOT_UNDERSTOOD, status)
        progress: Progress | None = None
        if body.get("customStatus") is not None:
            try:
                progress = Progress.from_json(body["customStatus"])
            except ContractError as error:
                # Progress is a nicety: an odd custom status must not break the conversation.
                logger.warning("custom status ignored: %s instance_id=%s", error, operation.instance_id)
        return OperationStatus(runtime_status=body["runtimeStatus"], progress=progress)

    async def terminate(self, operation: StartedOperation, reason: str) -> TerminateResult:
        url = operation.terminate_url.replace("{text}", quote(reason, safe=""))
        status, body = await self._call("POST", url)
        if status in (200, 202):
            return TerminateResult.TERMINATED
        if status == 410:
            return TerminateResult.ALREADY_FINISHED
        if status == 404:
            return TerminateResult.NOT_FOUND
        raise _refusal(status, body)

    async def answer(self, operation: StartedOperation, event_name: str, answer: Answer) -> AnswerResult:
        """Raise the answer as the external event ``event_name`` (HttpApiHandler's raiseEvent: 202 accepted, 410 the
        instance is over, 404 unknown; it takes only application/json, which ``json=`` sends)."""
        if not operation.send_event_url:
            raise ValueError("the operation has no sendEventPostUri (a state saved before questions existed)")
        url = operation.send_event_url.replace("{eventName}", quote(event_name, safe=""))
        status, body = await self._call("POST", url, json_body=answer.to_json())
        if status == 202:
            return AnswerResult.SENT
        if status == 410:
            return AnswerResult.ALREADY_FINISHED
        if status == 404:
            return AnswerResult.NOT_FOUND
        raise _refusal(status, body)

    async def _call(self, method: str, url: str, json_body: Any = None,
                    headers: dict[str, str] | None = None,
                    places: asyncio.Semaphore | None = None) -> tuple[int, Any]:
        # Only start() sends the function key: the status and terminate URLs are Durable webhooks, which carry their
        # own durabletask system key in ``code=``. The Functions host reads the x-functions-key header before
        # ``code=`` and refuses a function key on the webhooks (azure-functions-host: AuthenticationLevelHandler.
        # GetAuthorizationKeyInfoAsync, policy SystemKeyAuthLevel on HostController.ExtensionWebHookHandler), so a
        # key header there is 401 on Azure. And the key never goes to another origin a URL from an answer names.
        try:
            async with network_wait(), self._place(places), self._session.request(
                method, url, json=json_body, headers=headers, timeout=self._timeout
            ) as response:
                try:
                    body: Any = await response.json(content_type=None)
                except ValueError:
                    body = None
                return response.status, body
        except TimeoutError:
            raise OperationsUnavailable(NO_ANSWER_IN_TIME) from None
        except aiohttp.ClientError as error:
            # Only scheme and host: the URL's query may carry a Durable system key (code=...).
            scheme, host = _origin(url)
            logger.warning("operations service call failed: %s %s://%s: %s", method, scheme, host, type(error).__name__)
            raise OperationsUnavailable(NOT_REACHABLE) from None


    @asynccontextmanager
    async def _place(self, places: asyncio.Semaphore | None) -> AsyncIterator[None]:
        if places is None:
            yield
            return
        self._starts_waiting += 1
        try:
            await places.acquire()
        finally:
            self._starts_waiting -= 1
        try:
            yield
        finally:
            places.release()


def _refusal(status: int, body: Any) -> OperationsError:
    detail = error_message(body)
    if status == 503:
        return OperationsUnavailable(NOT_AVAILABLE, status)
    if status in (401, 403):
        return OperationRejected("the operations service did not accept the bot's key", status)
    if detail:
        return OperationRejected(f"the operations service refused it ({detail})", status)
    return OperationRejected(f"the operations service answered with an error (HTTP {status})", status)


def _text(body: Any, key: str) -> str:
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key}: expected a non-empty string")
    return value


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc
