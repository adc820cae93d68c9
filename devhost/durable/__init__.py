"""A Durable Task engine on SQLite that drives azure-functions-durable 1.7 the way the Durable extension does.

The engine knows nothing about how functions are loaded; it calls a :class:`~devhost.durable.worker.Worker`
(orchestrator replay and activity execution), which ``devhost.functions`` implements for a Python v2 app.
"""

from devhost.durable.engine import Engine, EngineSettings
from devhost.durable.errors import (
    DurableError,
    InstanceConflict,
    InstanceGone,
    InstanceNotFound,
    InvalidInstanceState,
    InvalidRequest,
)
from devhost.durable.worker import ActivityFailure, Worker

__all__ = [
    "ActivityFailure",
    "DurableError",
    "Engine",
    "EngineSettings",
    "InstanceConflict",
    "InstanceGone",
    "InstanceNotFound",
    "InvalidInstanceState",
    "InvalidRequest",
    "Worker",
]
