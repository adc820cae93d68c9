"""One checkpointed step of an operation (operations/api.py), looked up in the registry.

The step's own function does the work: a plain function runs in a worker thread (``Operation.run_step`` uses
``asyncio.to_thread``), so blocking work never holds the worker's event loop; a coroutine function is awaited.
"""

import logging

from operations import Ask, Done, StepInput
from orchestrator.catalogue import CATALOGUE
from orchestrator.errors import InjectedFault, UnknownOperationError
from orchestrator.payloads import AskSpec, StepRequest, StepResult
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
    output = await operation.run_step(StepInput(
        step=request.step, steps=request.steps, inputs=request.inputs, state=request.state,
        step_seconds=request.step_seconds, instance_id=request.instance_id, attempt=request.attempt,
        answer=request.answer,
    ))
    if isinstance(output, Done):
        return StepResult(request.step, result=output.text, data=output.data)
    if isinstance(output, Ask):
        return StepResult(request.step, state=output.state,
                          ask=AskSpec(output.question, output.choices, output.timeout_seconds))
    return StepResult(request.step, state=output.state)
