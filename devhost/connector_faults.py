"""Fault mode of the devhost's Bot Connector routes: the next N posts to a conversation fail on purpose.

Shared by both channels of the devhost (the terminal chat and the Direct Line stand-in, devhost/botconnector.py), so
fault tests drive each failure a real channel shows, end to end:

- ``unavailable``: 503 ``ServiceError``, the post is not stored.
- ``throttled``: 429 ``Throttled`` with ``Retry-After``. As a real throttle, the conversation then stays throttled
  until Retry-After has passed: a post that comes back sooner gets 429 again (without using up the fault's count).
- ``hang``: no answer for ``hang_seconds`` (default 120 s, longer than msrest's 100 s), then 503, not stored; the
  Emulator does this to a conversation that was restarted while a POST waits on it.
- ``gone``: 404 ``ConversationNotFound``, the conversation is gone (a closed Emulator conversation, a Teams chat the
  bot was removed from).
- ``lost``: the post IS stored (the conversation shows it), but its answer never reaches the bot: no answer for
  ``hang_seconds``, then 504 ``GatewayTimeout``. A response lost on the way back (a gateway timing out after the service
  stored the activity, a connection cut after the request went through) looks to the sender like any failed send, so
  it sends again: what at-least-once delivery must survive, since the Bot Connector has no idempotency key.

Error bodies are the Bot Connector's ``{"error": {"code", "message"}}``. ``after`` lets that many posts through
first (the outcome's message delivered, the prompt after it failing). Every fault answered is recorded in
``answered``, so a test can tell how the bot reacted (e.g. that it waited as Retry-After said).
"""

import asyncio
import contextlib
import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from aiohttp import web

DEFAULT_HANG_SECONDS = 120.0


class FaultKind(StrEnum):
    UNAVAILABLE = "unavailable"
    THROTTLED = "throttled"
    HANG = "hang"
    GONE = "gone"
    LOST = "lost"


@dataclass
class _Planned:
    kind: FaultKind
    conversation_id: str | None
    count: int
    after: int
    retry_after_seconds: float

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "conversationId": self.conversation_id, "count": self.count,
                "after": self.after, "retryAfter": self.retry_after_seconds}


@dataclass(frozen=True)
class AnsweredFault:
    conversation_id: str
    kind: FaultKind
    status: int


@dataclass(frozen=True)
class LostAnswer:
    """A post to store as usual whose answer is then lost: ``after_storing`` is what the bot gets, late."""

    faults: "ConnectorFaults"

    async def after_storing(self) -> web.Response:
        await self.faults.held()
        return self.faults.gateway_timeout()


@dataclass
class ConnectorFaults:
    """What the Bot Connector routes answer instead of storing a post. Owned by one app, on its event loop."""

    hang_seconds: float = DEFAULT_HANG_SECONDS
    clock: Callable[[], float] = time.monotonic
    answered: list[AnsweredFault] = field(default_factory=list)
    _planned: list[_Planned] = field(default_factory=list)
    _throttled_until: dict[str, tuple[float, float]] = field(default_factory=dict)
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    def inject(self, kind: FaultKind | str, *, conversation_id: str | None = None, count: int = 1, after: int = 0,
               retry_after_seconds: float = 1.0) -> None:
        """The next ``count`` posts to ``conversation_id`` (None: to any conversation), after ``after`` posts that
        pass, answer ``kind``. Raises ValueError naming a bad argument."""
        try:
            fault_kind = FaultKind(kind)
        except ValueError:
            choices = ", ".join(k.value for k in FaultKind)
            raise ValueError(f"kind must be one of {choices}, got {kind!r}") from None
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"count must be a whole number of posts, at least 1, got {count!r}")
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise ValueError(f"after must be a whole number of posts, at least 0, got {after!r}")
        if not 0 <= retry_after_seconds <= 3600:  # also rejects nan
            raise ValueError(f"retry_after_seconds must be 0-3600, got {retry_after_seconds!r}")
        if conversation_id is not None and (not isinstance(conversation_id, str) or not conversation_id):
            raise ValueError(f"conversation_id must be a non-empty string or None, got {conversation_id!r}")
        self._planned.append(_Planned(fault_kind, conversation_id, count, after, float(retry_after_seconds)))

    def clear(self) -> None:
        self._planned.clear()
        self._throttled_until.clear()

    def planned(self) -> list[dict[str, Any]]:
        return [planned.to_json() for planned in self._planned]

    def release(self) -> None:
        """End every hanging post now (the app is shutting down)."""
        self._released.set()

    def answered_for(self, conversation_id: str) -> list[AnsweredFault]:
        return [fault for fault in self.answered if fault.conversation_id == conversation_id]

    async def answer(self, conversation_id: str) -> web.Response | LostAnswer | None:
        """The fault a post to ``conversation_id`` gets now instead of being stored; None to store it as usual; or a
        LostAnswer: store it, then answer what its ``after_storing`` returns."""
        throttled = self._throttled_until.get(conversation_id)
        if throttled is not None:
            until, seconds = throttled
            if self.clock() < until:
                return self._answer(conversation_id, FaultKind.THROTTLED, seconds, until - self.clock())
            del self._throttled_until[conversation_id]
        planned = self._take(conversation_id)
        if planned is None:
            return None
        if planned.kind is FaultKind.THROTTLED:
            seconds = planned.retry_after_seconds
            self._throttled_until[conversation_id] = (self.clock() + seconds, seconds)
            return self._answer(conversation_id, planned.kind, seconds, seconds)
        # Recorded when the post arrives, so a test sees a hanging (or losing) post while it hangs.
        if planned.kind is FaultKind.LOST:
            self.answered.append(AnsweredFault(conversation_id, FaultKind.LOST, 504))
            return LostAnswer(self)
        response = self._answer(conversation_id, planned.kind, 0.0, 0.0)
        if planned.kind is FaultKind.HANG:
            await self.held()
        return response

    async def held(self) -> None:
        """Wait ``hang_seconds``, or until the app shuts down."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._released.wait(), self.hang_seconds)

    def gateway_timeout(self) -> web.Response:
        return self._error(504, "GatewayTimeout", f"no answer for {self.hang_seconds:g} s (devhost fault)")

    def _take(self, conversation_id: str) -> _Planned | None:
        for planned in self._planned:
            if planned.conversation_id not in (None, conversation_id):
                continue
            if planned.after > 0:
                planned.after -= 1
                return None
            planned.count -= 1
            if planned.count == 0:
                self._planned.remove(planned)
            return planned
        return None

    def _answer(self, conversation_id: str, kind: FaultKind, seconds: float, remaining: float) -> web.Response:
        status, code, message = {
            FaultKind.UNAVAILABLE: (503, "ServiceError", "the channel is unavailable (devhost fault)"),
            FaultKind.THROTTLED: (429, "Throttled", f"too many requests; retry after {seconds:g} s (devhost fault)"),
            FaultKind.HANG: (503, "ServiceError", f"no answer for {self.hang_seconds:g} s (devhost fault)"),
            FaultKind.GONE: (404, "ConversationNotFound", f"conversation {conversation_id!r} not found "
                                                          "(devhost fault)"),
        }[kind]
        self.answered.append(AnsweredFault(conversation_id, kind, status))
        headers = {"Retry-After": str(max(1, math.ceil(remaining)))} if kind is FaultKind.THROTTLED else {}
        return self._error(status, code, message, headers)

    @staticmethod
    def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
        return web.Response(text=json.dumps({"error": {"code": code, "message": message}}), status=status,
                            content_type="application/json", headers=headers)


_FAULT_FLAG = re.compile(r"(?P<kind>[a-z]+)(?:x(?P<count>\d+))?(?:@(?P<after>\d+))?(?::(?P<retry>[^:]*))?")


def parse_fault(text: str) -> dict[str, Any]:
    """``KIND[xCOUNT][@AFTER][:RETRY_AFTER]`` (e.g. ``unavailable``, ``throttledx2:3``, ``gone@1``) as keyword
    arguments of ``ConnectorFaults.inject``, for the CLIs' ``--fault`` flag. Raises ValueError naming the problem."""
    kinds = ", ".join(kind.value for kind in FaultKind)
    match = _FAULT_FLAG.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"--fault {text!r}: expected KIND[xCOUNT][@AFTER][:RETRY_AFTER], KIND one of {kinds}")
    if match["kind"] not in {kind.value for kind in FaultKind}:
        raise ValueError(f"--fault {text!r}: the kind must be one of {kinds}")
    arguments: dict[str, Any] = {"kind": match["kind"], "count": int(match["count"] or 1),
                                 "after": int(match["after"] or 0)}
    if match["retry"] is not None:
        try:
            arguments["retry_after_seconds"] = float(match["retry"])
        except ValueError:
            raise ValueError(f"--fault {text!r}: the Retry-After after ':' must be seconds, got {match['retry']!r}"
                             ) from None
    try:
        ConnectorFaults().inject(**arguments)  # checked now, so a bad flag is a usage error rather than a crash later
    except ValueError as error:
        raise ValueError(f"--fault {text!r}: {error}") from None
    return arguments
