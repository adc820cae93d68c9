"""The one place operations are registered: the bot offers, and the function app runs, exactly these, in order.

Each entry of ``MODULES`` names a module of this package that defines ``OPERATION`` (or ``OPERATIONS``, a tuple, as
the seed does). To add an operation, write one module and add its one line here (README "Add your own operation").
"""

import importlib
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from operations.api import Operation

MODULES: tuple[str, ...] = (
    "operations.seed",
    "operations.primes",
    "operations.tidy",
)


def operations_of(module_name: str) -> tuple[Operation, ...]:
    module = importlib.import_module(module_name)
    found = getattr(module, "OPERATIONS", None)
    if found is None:
        found = (getattr(module, "OPERATION", None),)
    if not all(isinstance(operation, Operation) for operation in found):
        raise TypeError(f"{module_name} must define OPERATION (an Operation) or OPERATIONS (a tuple of them)")
    return tuple(found)


def registry_of(operations: Iterable[Operation]) -> Mapping[str, Operation]:
    found: dict[str, Operation] = {}
    for operation in operations:
        if operation.id in found:
            raise ValueError(f"two operations have the id {operation.id!r}")
        found[operation.id] = operation
    return MappingProxyType(found)


REGISTRY: Mapping[str, Operation] = registry_of(
    operation for module_name in MODULES for operation in operations_of(module_name)
)
