"""Written the way the samples and most blog posts do it: a df.Blueprint, renamed functions, an activity alias."""

import logging
import os

import azure.durable_functions as df
import azure.functions as func

bp = df.Blueprint()


@bp.route(route="orders/{orderId}", methods=[func.HttpMethod.POST], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="starter")
async def place_order(req: func.HttpRequest, starter: df.DurableOrchestrationClient,
                      context: func.Context) -> func.HttpResponse:
    logging.info("invocation %s", context.invocation_id)
    instance_id = await starter.start_new("OrderWorkflow", f"order-{req.route_params['orderId']}",
                                          req.get_json())
    return starter.create_check_status_response(req, instance_id)


@bp.route(route="orders/{orderId}/approve", methods=["POST"])
@bp.durable_client_input(client_name="starter")
async def approve_order(req: func.HttpRequest, starter: df.DurableOrchestrationClient) -> func.HttpResponse:
    await starter.raise_event(f"order-{req.route_params['orderId']}", "Approved", True)
    return func.HttpResponse(status_code=202)


@bp.function_name("OrderWorkflow")
@bp.orchestration_trigger(context_name="context")
def order_workflow(context: df.DurableOrchestrationContext):
    order = context.get_input()
    priced = yield context.call_activity("PriceOrder", order)
    context.set_custom_status({"stage": "awaiting approval", "total": priced["total"]})
    approved = yield context.wait_for_external_event("Approved")
    receipt = yield context.call_activity(ship, {"total": priced["total"], "approved": approved})
    return receipt


@bp.activity_trigger(input_name="order", activity="PriceOrder")
def price(order: dict) -> dict:
    return {"total": sum(item["qty"] * item["price"] for item in order["items"])}


@bp.activity_trigger(input_name="shipment")
async def ship(shipment: dict) -> str:
    return f"{os.environ['ORDERS_GREETING']} shipped: {shipment['total']} (approved={shipment['approved']})"
