"""The four Functions triggers. Thin on purpose: parse, call the plain function, shape the answer.

The trigger functions' names are the durable names the host routes by (orchestrator.names).
"""

from typing import Any

import azure.durable_functions as df
import azure.functions as func

from orchestrator import notify, starter, steps, workflow
from orchestrator.directline import DirectLineClient
from orchestrator.errors import SettingsError
from orchestrator.http_session import shared_session
from orchestrator.payloads import NotifyRequest, StepRequest
from orchestrator.settings import load_settings

bp = df.Blueprint()


# The SDK's decorators are untyped; the ignores keep the functions' own signatures checked.
@bp.route(route="operations", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)  # type: ignore[untyped-decorator]
@bp.durable_client_input(client_name="client")  # type: ignore[untyped-decorator]
async def start_operation(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    try:
        settings = load_settings()
    except SettingsError as error:
        return starter.not_configured_response(error)
    return await starter.start_operation(req, client, settings)


@bp.orchestration_trigger(context_name="context")  # type: ignore[untyped-decorator]
def long_operation(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    return (yield from workflow.long_operation(context))


@bp.activity_trigger(input_name="request")  # type: ignore[untyped-decorator]
async def run_operation_step(request: dict[str, Any]) -> dict[str, Any]:
    result = await steps.run_operation_step(StepRequest.from_json(request), load_settings())
    return result.to_json()


@bp.activity_trigger(input_name="request")  # type: ignore[untyped-decorator]
async def notify_bot(request: dict[str, Any]) -> dict[str, Any]:
    settings = load_settings()
    settings.require_notify_secrets()
    client = DirectLineClient(await shared_session.get(), settings.direct_line_endpoint, settings.direct_line_secret)
    result = await notify.notify_bot(NotifyRequest.from_json(request), settings, client)
    return result.to_json()
