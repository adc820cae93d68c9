"""The catalogue of long operations: the one place that knows what each option does.

An operation runs as checkpointed steps; the orchestrator calls ``run_step`` once per step (through the
``run_operation_step`` activity, so with retries) and reports progress in between. To add a real operation,
write a class with ``async def run_step(self, request: StepRequest) -> str | None`` that does one idempotent
chunk of the work (activities run at least once) and returns the result text on the last step, then add it
to CATALOGUE under the option the bot offers.
"""

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from orchestrator.payloads import StepRequest


class Operation(Protocol):
    async def run_step(self, request: "StepRequest") -> str | None:
        """Do step ``request.step`` of ``request.steps``; return the result text on the last step, else None."""
        ...


@dataclass(frozen=True)
class SimulatedOperation:
    """Stands in for real work, as the original sample does: each step waits its share of the duration."""

    result: str

    async def run_step(self, request: "StepRequest") -> str | None:
        await asyncio.sleep(request.step_seconds)
        return self.result if request.step >= request.steps else None


CATALOGUE: Mapping[str, Operation] = MappingProxyType(
    {
        "option 1": SimulatedOperation("(Result for long operation one!)"),
        "option 2": SimulatedOperation("(A different result for operation two!)"),
        "option 3": SimulatedOperation("(Yet another result, this one for operation three!)"),
    }
)

