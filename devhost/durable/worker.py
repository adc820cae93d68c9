"""What the engine needs from a function app: replay an orchestrator, run an activity."""

from typing import Protocol

from devhost.durable.trace_context import TraceContext


class ActivityFailure(Exception):
    """An activity raised; ``reason``/``details`` become the TaskFailed event's fields (reference §B3)."""

    def __init__(self, reason: str, details: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


class Worker(Protocol):
    def orchestrator_names(self) -> list[str]: ...

    def activity_names(self) -> list[str]: ...

    def run_orchestrator(self, name: str, request_json: str) -> str:
        """Call the orchestrator's ``handle`` with the request JSON; return its state JSON or raise what it raised.

        Synchronous and CPU-only (replay), so the engine may call it from any thread.
        """
        ...

    async def run_activity(self, name: str, input_json: str | None, trace: TraceContext) -> str | None:
        """Run an activity with its input text, as a span ``trace`` (the invocation's trace context); return the
        output as JSON text; raise ActivityFailure."""
        ...
