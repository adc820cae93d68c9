"""History retention: purge finished instances created more than HistoryRetentionDays ago (the history_purge timer).

Every operation leaves an instance (its history, its row in the instances table, its large payloads) in the task
hub forever unless something purges it, and the hub's size, cost and list latency grow with it.

Purge by filter is a trap, read from the real source: the Durable extension's HTTP API requires ``createdTimeFrom``
(400 without it) and defaults ``createdTimeTo`` to now (Azure/azure-functions-durable-extension,
HttpApiHandler.HandleDeleteHistoryWithFiltersRequestAsync); the Azure Storage backend keeps only the terminal
statuses of the filter, and an empty filter matches every status, so a purge without ``runtimeStatus`` deletes
Running instances too, mid-operation (Azure/durabletask, AzureTableTrackingStore.PurgeInstanceHistoryAsync and
OrchestrationInstanceStatusQueryCondition.ToOData: ``CreatedTime ge from``, ``CreatedTime le to``). So every purge
here names both ends of the time range and the terminal statuses explicitly.
"""

import logging
from datetime import UTC, datetime, timedelta
from typing import Final

import azure.durable_functions as df
from azure.durable_functions.models.OrchestrationRuntimeStatus import OrchestrationRuntimeStatus

from orchestrator.settings import Settings

logger = logging.getLogger(__name__)

# The lower end of every purge: older than any instance. The SDK formats it with strftime('%Y-%m-%dT%H:%M:%S.%fZ')
# (RpcManagementOptions._add_date_arg), which writes year 1 as "1-01-01" on Linux: a fixed modern date, not
# datetime.min.
EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
# Finished for good: nothing will append to their history again. Running, Pending, Suspended and ContinuedAsNew
# instances are never purged, whatever their age.
FINISHED: Final = (
    OrchestrationRuntimeStatus.Completed,
    OrchestrationRuntimeStatus.Failed,
    OrchestrationRuntimeStatus.Terminated,
    OrchestrationRuntimeStatus.Canceled,
)


def purge_cutoff(now: datetime, settings: Settings) -> datetime:
    """Instances created at or before this moment are old enough to purge: ``now`` minus HistoryRetentionDays."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware: the SDK writes the time as UTC with a 'Z'")
    return now.astimezone(UTC) - timedelta(days=settings.history_retention_days)


async def purge_finished_history(client: df.DurableOrchestrationClient, settings: Settings, now: datetime) -> int:
    """Purge every finished instance created at or before ``purge_cutoff(now)``; the number purged.

    Errors from the Durable host propagate (the SDK raises a bare Exception naming the status code), so the timer's
    invocation fails visibly and the next one tries again; purging is idempotent.
    """
    cutoff = purge_cutoff(now, settings)
    result = await client.purge_instance_history_by(
        created_time_from=EARLIEST, created_time_to=cutoff, runtime_status=list(FINISHED)
    )
    # 404 (nothing matched) reads as 0 in the SDK (DurableOrchestrationClient._parse_purge_instance_history_response).
    purged = int(result.instances_deleted)
    logger.info("history purge: %d finished instances created before %s purged (HistoryRetentionDays=%d)",
                purged, cutoff.strftime("%Y-%m-%dT%H:%M:%SZ"), settings.history_retention_days)
    return purged
