"""The function app's view of the operation registry (operations/registry.py): the one list of operations.

Kept as a module so the function app's imports stay where they were; the operations themselves, and how to add
one, are in operations/ (README "Add your own operation").
"""

from collections.abc import Mapping

from operations import REGISTRY, Operation
from operations.seed import SimulatedWork

CATALOGUE: Mapping[str, Operation] = REGISTRY

__all__ = ["CATALOGUE", "Operation", "SimulatedWork"]
