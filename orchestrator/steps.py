"""One checkpointed step of an operation, looked up in the catalogue."""

import logging

from orchestrator.catalogue import CATALOGUE
from orchestrator.errors import InjectedFault, UnknownOperationError
from orchestrator.payloads import StepRequest, StepResult
from orchestrator.settings import Settings

logger = logging.getLogger(__name__)


async def run_operation_step(request: StepRequest, settings: Settings) -> StepResult:
    operation = CATALOGUE.get(request.option)
    if operation is None:
        raise UnknownOperationError(f"unknown option {request.option!r}; known: {', '.join(CATALOGUE)}")
    if settings.injects_fault(request.option, request.step, request.attempt):
        # Raised from the real activity, so retries and the failed outcome go through the real code path.
        raise InjectedFault(
            f"step {request.step} of {request.option} is set to fail by OperationFaults (attempt {request.attempt})"
        )
    logger.info(
        "running step instance_id=%s option=%s step=%d/%d attempt=%d", request.instance_id, request.option,
        request.step, request.steps, request.attempt,
    )
    return StepResult(request.step, await operation.run_step(request))
