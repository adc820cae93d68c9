"""Runtime status strings of the status API (reference §C3)."""

from typing import Final

RUNNING: Final = "Running"
COMPLETED: Final = "Completed"
CONTINUED_AS_NEW: Final = "ContinuedAsNew"
FAILED: Final = "Failed"
CANCELED: Final = "Canceled"
TERMINATED: Final = "Terminated"
PENDING: Final = "Pending"
SUSPENDED: Final = "Suspended"

ALL: Final = frozenset({RUNNING, COMPLETED, CONTINUED_AS_NEW, FAILED, CANCELED, TERMINATED, PENDING, SUSPENDED})
TERMINAL: Final = frozenset({COMPLETED, FAILED, CANCELED, TERMINATED})
ACTIVE: Final = frozenset({RUNNING, PENDING, CONTINUED_AS_NEW, SUSPENDED})
# Active and not suspended: the states a suspend request applies to.
SUSPENDABLE: Final = frozenset({RUNNING, PENDING, CONTINUED_AS_NEW})
