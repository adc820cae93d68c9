"""When each operation really started: the ExecutionStarted event of its orchestration's history.

The completion overhead the issue targets is the user's wait beyond the work itself, from the moment the work
began (the orchestration's ExecutionStarted, stamped by the host) to the result's arrival in the user's chat. The
status API's createdTime has whole seconds only, so the start comes from the history (``showHistory=true``), whose
timestamps have sub-millisecond digits. Both clocks are this machine's wall clock: the host and the load generator
run side by side.
"""

import asyncio
from datetime import UTC, datetime
from typing import Any

import aiohttp

STATUS_API = "/runtime/webhooks/durabletask/instances/"
GATE = 20


def epoch_seconds(stamp: str) -> float:
    """A history event's Timestamp as epoch seconds. .NET writes seven fractional digits and a Z; fromisoformat
    (3.11) takes both. A stamp without a zone is UTC, as the host writes every stamp."""
    moment = datetime.fromisoformat(stamp)
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).timestamp()


def execution_started_at(status: dict[str, Any]) -> float | None:
    """Epoch seconds of the ExecutionStarted event in a status body fetched with showHistory=true."""
    for event in status.get("historyEvents") or ():
        if isinstance(event, dict) and event.get("EventType") == "ExecutionStarted":
            stamp = event.get("Timestamp")
            if not isinstance(stamp, str):
                return None
            try:
                return epoch_seconds(stamp)
            except ValueError:
                return None
    return None


async def operation_starts(functions_url: str, headers: dict[str, str],
                           instance_ids: list[str]) -> dict[str, float | None]:
    """Each instance's start (epoch seconds), or None where its history could not be read; ``headers`` carry a key
    the Durable API takes (the durabletask system key)."""
    gate = asyncio.Semaphore(GATE)
    async with aiohttp.ClientSession(headers=headers) as session:
        async def started(instance_id: str) -> float | None:
            async with gate, session.get(f"{functions_url}{STATUS_API}{instance_id}",
                                         params={"showHistory": "true"}) as response:
                if response.status not in (200, 202):
                    return None
                return execution_started_at(await response.json())

        starts = await asyncio.gather(*(started(instance_id) for instance_id in instance_ids))
    return dict(zip(instance_ids, starts, strict=True))
