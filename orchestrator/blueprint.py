"""The seven Functions triggers. Thin on purpose: parse, call the plain function, shape the answer.

The trigger functions' names are the durable names the host routes by (orchestrator.names).
"""

import os
from datetime import UTC, datetime
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from orchestrator import notify, progress, retention, starter, steps, tracing, workflow
from orchestrator.directline import DirectLineClient
from orchestrator.errors import SettingsError
from orchestrator.http_session import shared_session
from orchestrator.payloads import AskRequest, NotifyRequest, ProgressPosted, ProgressRequest, StepRequest
from orchestrator.settings import Settings, history_purge_schedule, load_settings

bp = df.Blueprint()


# The SDK's decorators are untyped; the ignores keep the functions' own signatures checked.
@bp.route(route="operations", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)  # type: ignore[untyped-decorator]
@bp.durable_client_input(client_name="client")  # type: ignore[untyped-decorator]
async def start_operation(req: func.HttpRequest, client: df.DurableOrchestrationClient,
                          context: func.Context) -> func.HttpResponse:
    with tracing.invocation_span("start_operation", context, {}):
        try:
            settings = load_settings()
        except SettingsError as error:
            return starter.not_configured_response(error)
        return await starter.start_operation(req, client, settings)


@bp.orchestration_trigger(context_name="context")  # type: ignore[untyped-decorator]
def long_operation(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    return (yield from workflow.long_operation(context))


@bp.activity_trigger(input_name="request")  # type: ignore[untyped-decorator]
async def run_operation_step(request: dict[str, Any], context: func.Context) -> dict[str, Any]:
    step = StepRequest.from_json(request)
    with tracing.invocation_span("run_operation_step", context, tracing.step_attributes(step)):
        result = await steps.run_operation_step(step, load_settings())
    return result.to_json()


async def _posting() -> tuple[Settings, DirectLineClient]:
    """The settings and the client of the three posting activities (one aiohttp session per worker,
    orchestrator/http_session.py); SettingsError when the secrets they post with are missing."""
    settings = load_settings()
    settings.require_notify_secrets()
    client = DirectLineClient(await shared_session.get(), settings.direct_line_endpoint, settings.direct_line_secret)
    return settings, client


@bp.activity_trigger(input_name="request")  # type: ignore[untyped-decorator]
async def notify_bot(request: dict[str, Any], context: func.Context) -> dict[str, Any]:
    notice = NotifyRequest.from_json(request)
    with tracing.invocation_span("notify_bot", context, tracing.notify_attributes(notice)):
        settings, client = await _posting()
        result = await notify.notify_bot(notice, settings, client)
    return result.to_json()


@bp.activity_trigger(input_name="request")  # type: ignore[untyped-decorator]
async def ask_bot(request: dict[str, Any], context: func.Context) -> dict[str, Any]:
    ask = AskRequest.from_json(request)
    with tracing.invocation_span("ask_bot", context, tracing.ask_attributes(ask)):
        settings, client = await _posting()
        result = await notify.ask_bot(ask, settings, client)
    return result.to_json()


@bp.activity_trigger(input_name="request")  # type: ignore[untyped-decorator]
async def notify_progress(request: dict[str, Any], context: func.Context) -> dict[str, Any]:
    # Never raises (orchestrator/progress.py): a report that cannot be posted is skipped, not retried.
    progress_request = ProgressRequest.from_json(request)
    with tracing.invocation_span("notify_progress", context, tracing.progress_attributes(progress_request)):
        try:
            settings, client = await _posting()
        except SettingsError as error:
            return ProgressPosted(False, f"not configured: {error}").to_json()
        result = await progress.notify_progress(progress_request, settings, client)
    return result.to_json()


# The schedule is part of the function's metadata, read when the worker indexes the app; a missing %Setting% would
# stop the app from indexing, so the setting is read here with its default instead (orchestrator/settings.py).
# No run_on_startup: every restart and scale-out would purge (Microsoft advises against it in production).
@bp.timer_trigger(schedule=history_purge_schedule(os.environ), arg_name="timer")  # type: ignore[untyped-decorator]
@bp.durable_client_input(client_name="client")  # type: ignore[untyped-decorator]
async def history_purge(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    await retention.purge_finished_history(client, load_settings(), datetime.now(UTC))
