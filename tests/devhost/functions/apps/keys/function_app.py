"""One HTTP function of each auth level, and a starter whose check-status payload comes from the SDK."""

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.route(route="open", auth_level=func.AuthLevel.ANONYMOUS)
def open_door(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("open")


@app.route(route="guarded")
def guarded(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("guarded")


@app.route(route="other")
def other(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("other")


@app.route(route="admin-only", auth_level=func.AuthLevel.ADMIN)
def admin_only(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("admin")


@app.route(route="start", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    instance_id = await client.start_new("waiter")
    return client.create_check_status_response(req, instance_id)


@app.orchestration_trigger(context_name="context")
def waiter(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    yield context.wait_for_external_event("Go")
    return "went"
