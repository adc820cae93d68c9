"""The HTTP starter's logic: validate the request, start ``long_operation``, answer with check-status URLs."""

import json
import logging
import uuid
from dataclasses import replace
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from contract import MAX_START_BODY_BYTES, ContractError, StartRequest, error_body, make_instance_id
from orchestrator.catalogue import CATALOGUE
from orchestrator.errors import BadStartRequest, SettingsError
from orchestrator.names import LONG_OPERATION
from orchestrator.payloads import OperationPlan
from orchestrator.settings import Settings
from orchestrator.tracing import tag_instance

logger = logging.getLogger(__name__)


def error_response(status: int, message: str) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(error_body(message)), status_code=status, mimetype="application/json")


def not_configured_response(error: SettingsError) -> func.HttpResponse:
    """The 500 for a missing or malformed app setting; the message names the setting, never a secret."""
    logger.error("cannot start operations: %s", error)
    return error_response(500, f"the function app is not configured: {error}")


def parse_start_request(body: bytes) -> StartRequest:
    """The validated start request; BadStartRequest names the problem (size is checked before parsing)."""
    if len(body) > MAX_START_BODY_BYTES:
        raise BadStartRequest(413, f"request body is {len(body)} bytes; the limit is {MAX_START_BODY_BYTES} bytes")
    try:
        data: Any = json.loads(body)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError alike
        raise BadStartRequest(400, f"body: expected a JSON object ({error})") from None
    except RecursionError:
        # json.loads recurses per nesting level: a body of a few thousand '[' fits the size limit but not the stack.
        raise BadStartRequest(400, "body: JSON nested too deeply") from None
    try:
        request = StartRequest.from_json(data)
    except ContractError as error:
        raise BadStartRequest(400, str(error)) from None
    operation = CATALOGUE.get(request.option)
    if operation is None:
        known = ", ".join(repr(option) for option in CATALOGUE)
        raise BadStartRequest(400, f"option: unknown option {request.option!r}; known options: {known}")
    try:
        # The operation's own schema (operations/api.py): the 400 names the field, e.g. "inputs.limit: ...".
        inputs = operation.validate_inputs(request.inputs)
    except ContractError as error:
        raise BadStartRequest(400, str(error)) from None
    return replace(request, inputs=inputs)


async def start_operation(
    req: func.HttpRequest, client: df.DurableOrchestrationClient, settings: Settings
) -> func.HttpResponse:
    try:
        request = parse_start_request(req.get_body())
    except BadStartRequest as error:
        return error_response(error.status, str(error))
    try:
        # Refuse now rather than fail after the whole operation ran: without these it cannot report back.
        settings.require_notify_secrets()
    except SettingsError as error:
        return not_configured_response(error)

    instance_id = make_instance_id(request.channel_id, request.conversation_id, uuid.uuid4().hex)
    tag_instance(instance_id, request)
    operation = CATALOGUE[request.option]
    plan = OperationPlan.of(request, settings, operation.steps, operation.progress_every_seconds)
    try:
        await client.start_new(LONG_OPERATION, instance_id, plan.to_json())
    except Exception as error:  # the SDK raises bare Exception for every failure, incl. connection errors
        logger.error("could not start instance_id=%s: %s: %s", instance_id, type(error).__name__, error)
        return error_response(503, "could not start the operation: the Durable Functions host is unavailable")
    logger.info("started instance_id=%s option=%s", instance_id, request.option)
    response: func.HttpResponse = client.create_check_status_response(req, instance_id)
    return response
