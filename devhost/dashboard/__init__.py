"""The local dashboard: orchestrations, their progress and history, terminate and purge, over the Durable HTTP API."""

from devhost.dashboard.app import create_app
from devhost.dashboard.settings import DashboardError, DashboardSettings

__all__ = ["DashboardError", "DashboardSettings", "create_app"]
