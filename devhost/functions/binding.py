"""The durableClient binding value and the check-status payload, pointing at this host (reference §C1)."""

import json
from typing import Final

WEBHOOK_PATH: Final = "/runtime/webhooks/durabletask"


def _query(hub: str) -> str:
    return f"taskHub={hub}&connection=Storage"


def management_urls(origin: str, hub: str, instance_id: str) -> dict[str, str]:
    base = f"{origin}{WEBHOOK_PATH}/instances/{instance_id}"
    q = _query(hub)
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


def client_binding(origin: str, hub: str) -> str:
    """The JSON string the worker passes for a durableClient binding; rpcBaseUrl serves the same routes."""
    base = f"{origin}{WEBHOOK_PATH}"
    q = _query(hub)
    return json.dumps({
        "taskHubName": hub,
        "creationUrls": {
            "createNewInstancePostUri": f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]?{q}",
            "createAndWaitOnNewInstancePostUri": f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]"
                                                 f"?timeout={{timeoutInSeconds}}&pollingInterval={{intervalInSeconds}}&{q}",
        },
        "managementUrls": management_urls(origin, hub, "INSTANCEID"),
        "baseUrl": base,
        "requiredQueryStringParameters": q,
        "rpcBaseUrl": f"{base}/",
        "httpBaseUrl": "",
        "connectionName": "Storage",
    })
