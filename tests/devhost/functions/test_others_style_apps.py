"""Apps written the way other people write them: func.FunctionApp + df.Blueprint, renamed functions, aliases,
an empty routePrefix, a %Setting% hub name from local.settings.json, function-level functions called with a
function key or the host key."""

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.devhost.functions.hosting import APPS, HostThread, wait_status


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostThread]:
    before = set(os.environ)
    running = HostThread(APPS / "blueprints", Path(tmp_path_factory.mktemp("blueprint-data")))
    yield running
    running.close()
    for name in set(os.environ) - before:
        del os.environ[name]


def post(host: HostThread, path: str, key: str, body: Any = None) -> tuple[int, dict[str, str], str]:
    async def go() -> tuple[int, dict[str, str], str]:
        async with aiohttp.ClientSession() as session, session.post(
                host.base_url + path, json=body, headers={"x-functions-key": key}) as response:
            return response.status, dict(response.headers), await response.text()

    return host.run(go())


def test_hub_name_and_settings_come_from_host_json_and_local_settings(host: HostThread) -> None:
    assert host.host.host_json.hub_name == "OrdersHub"
    assert host.host.host_json.route_prefix == ""
    names = {f.name: f for f in host.host.app.functions}
    assert names["OrderWorkflow"].durable_name == "OrderWorkflow"
    assert names["price"].durable_name == "PriceOrder"
    assert "place_order: [POST] " + host.base_url + "/orders/{orderId}" in host.host.describe()


def test_blueprint_order_workflow_end_to_end(host: HostThread) -> None:
    # The header's key is the one checked; the code= beside it is not looked at.
    status, headers, text = post(host, "/orders/42?code=ignored", host.keys.function_key("place_order"),
                                 {"items": [{"qty": 2, "price": 5}]})
    assert status == 202
    body = json.loads(text)
    assert body["id"] == "order-42"
    assert "taskHub=OrdersHub" in headers["Location"]

    async def wait_for_approval_stage(client: Any) -> None:
        status = await wait_status(client, "order-42", "Running")
        while status.custom_status is None:
            status = await client.get_status("order-42")
        assert status.custom_status == {"stage": "awaiting approval", "total": 10}

    host.scenario(wait_for_approval_stage)
    assert post(host, "/orders/42/approve", host.keys.host_key)[0] == 202

    async def finished(client: Any) -> Any:
        return await wait_status(client, "order-42")

    final = host.scenario(finished)
    # call_activity(ship) with the FunctionBuilder sends the def name; the event arrives as JSON text.
    assert final.output == "Order shipped: 10 (approved=true)"


def test_empty_route_prefix_serves_functions_at_the_root(host: HostThread) -> None:
    async def go() -> tuple[int, str]:
        async with aiohttp.ClientSession() as session, session.get(
                host.base_url + "/health", headers={"x-functions-key": host.keys.host_key}) as response:
            return response.status, await response.text()

    assert host.run(go()) == (200, "ok")
