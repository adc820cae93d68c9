"""A loopback stand-in for the Durable extension's RPC endpoint, just ``POST orchestrators/{name}/{id}``.

It answers like the real extension (durable-host-protocol §C3): 202 with the check-status body, or 400
with ExceptionMessage for an unknown orchestrator. The durable client binding (§C1) points at it, so
the SDK's ``start_new`` and ``create_check_status_response`` run for real.
"""

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

PUBLIC_BASE = "http://localhost:7071/runtime/webhooks/durabletask"
QUERY = "taskHub=LongOperationHub&connection=Storage&code=system-key"


@dataclass
class StartCall:
    name: str
    instance_id: str
    body: Any


@dataclass
class FakeDurableHost:
    starts: list[StartCall] = field(default_factory=list)
    fail_with: int | None = None
    orchestrators: tuple[str, ...] = ("long_operation",)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/durabletask/orchestrators/{name}/{instance_id}", self._start)
        return app

    async def _start(self, request: web.Request) -> web.Response:
        name, instance_id = request.match_info["name"], request.match_info["instance_id"]
        self.starts.append(StartCall(name, instance_id, await request.json()))
        if self.fail_with is not None:
            return web.json_response({"Message": "Something went wrong while processing your request"},
                                     status=self.fail_with)
        if name not in self.orchestrators:
            return web.json_response({"Message": "One or more of the arguments submitted is incorrect",
                                      "ExceptionMessage": f"The function '{name}' doesn't exist"}, status=400)
        return web.json_response({"id": instance_id, **management_urls(instance_id)}, status=202)


def management_urls(instance_id: str) -> dict[str, str]:
    base = f"{PUBLIC_BASE}/instances/{instance_id}"
    return {
        "id": instance_id,
        "statusQueryGetUri": f"{base}?{QUERY}",
        "sendEventPostUri": f"{base}/raiseEvent/{{eventName}}?{QUERY}",
        "terminatePostUri": f"{base}/terminate?reason={{text}}&{QUERY}",
        "rewindPostUri": f"{base}/rewind?reason={{text}}&{QUERY}",
        "purgeHistoryDeleteUri": f"{base}?{QUERY}",
        "restartPostUri": f"{base}/restart?{QUERY}",
        "suspendPostUri": f"{base}/suspend?reason={{text}}&{QUERY}",
        "resumePostUri": f"{base}/resume?reason={{text}}&{QUERY}",
    }


def binding_json(rpc_base_url: str) -> str:
    """The durable client binding value the extension hands the starter (§C1)."""
    management = management_urls("INSTANCEID")
    return json.dumps({
        "taskHubName": "LongOperationHub",
        "creationUrls": {
            "createNewInstancePostUri": f"{PUBLIC_BASE}/orchestrators/{{functionName}}[/{{instanceId}}]?{QUERY}",
            "createAndWaitOnNewInstancePostUri": f"{PUBLIC_BASE}/orchestrators/{{functionName}}[/{{instanceId}}]"
                                                 f"?timeout={{timeoutInSeconds}}&pollingInterval={{intervalInSeconds}}"
                                                 f"&{QUERY}",
        },
        "managementUrls": management,
        "baseUrl": PUBLIC_BASE,
        "requiredQueryStringParameters": QUERY,
        "rpcBaseUrl": rpc_base_url,
    })


def server_for(fake: FakeDurableHost) -> TestServer:
    return TestServer(fake.app(), host="127.0.0.1")
