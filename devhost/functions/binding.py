"""The durableClient binding value and the check-status payload, pointing at this host (reference §C1).

As the Durable extension builds them (Azure/azure-functions-durable-extension,
src/WebJobs.Extensions.DurableTask/HttpApiHandler.cs): the webhook URL is ``<origin>/runtime/webhooks/durabletask``
with ``?code=<durabletask_extension system key>`` when the host has keys. ``GetClientResponseLinks`` puts
``taskHub=..&connection=..`` and then that query on every management URL; ``GetInstanceCreationLinks`` and
``GetUniversalQueryStrings`` (the binding's ``requiredQueryStringParameters``, ``Bindings/BindingHelper.cs``) carry
the query alone. The binding's ``rpcBaseUrl`` is the extension's own loopback listener (``LocalHttpListener``,
``http://127.0.0.1:<port>/durabletask/``), which checks no keys: the SDK's client calls go there.
"""

import json
from typing import Final
from urllib.parse import quote

WEBHOOK_PATH: Final = "/runtime/webhooks/durabletask"
RPC_PATH: Final = "/durabletask"


def _code(system_key: str | None) -> str:
    return f"code={quote(system_key, safe='')}" if system_key else ""


def _query(hub: str, system_key: str | None) -> str:
    return "&".join(part for part in (f"taskHub={hub}&connection=Storage", _code(system_key)) if part)


def management_urls(origin: str, hub: str, instance_id: str, system_key: str | None) -> dict[str, str]:
    base = f"{origin}{WEBHOOK_PATH}/instances/{instance_id}"
    q = _query(hub, system_key)
    return {
        "id": instance_id,
        "statusQueryGetUri": f"{base}?{q}",
        "sendEventPostUri": f"{base}/raiseEvent/{{eventName}}?{q}",
        "terminatePostUri": f"{base}/terminate?reason={{text}}&{q}",
        "rewindPostUri": f"{base}/rewind?reason={{text}}&{q}",
        "purgeHistoryDeleteUri": f"{base}?{q}",
        "restartPostUri": f"{base}/restart?{q}",
        "suspendPostUri": f"{base}/suspend?reason={{text}}&{q}",
        "resumePostUri": f"{base}/resume?reason={{text}}&{q}",
    }


def client_binding(origin: str, hub: str, rpc_base_url: str, system_key: str | None) -> str:
    """The JSON string the worker passes for a durableClient binding."""
    base = f"{origin}{WEBHOOK_PATH}"
    code = _code(system_key)
    return json.dumps({
        "taskHubName": hub,
        "creationUrls": {
            "createNewInstancePostUri": f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]?{code}",
            "createAndWaitOnNewInstancePostUri": f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]"
                                                 f"?timeout={{timeoutInSeconds}}&pollingInterval={{intervalInSeconds}}"
                                                 f"&{code}",
        },
        "managementUrls": management_urls(origin, hub, "INSTANCEID", system_key),
        "baseUrl": base,
        "requiredQueryStringParameters": code,
        "rpcBaseUrl": rpc_base_url,
        "httpBaseUrl": "",
        "connectionName": "Storage",
    })
