"""The one place operations are registered: the bot offers, and the function app runs, exactly these, in order.

To add an operation, write one module (README "Add your own operation") and add one line to ``REGISTERED``.
"""

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from operations import primes, seed
from operations.api import Operation

REGISTERED: list[Operation] = [
    seed.OPTION_1,
    seed.OPTION_2,
    seed.OPTION_3,
    primes.OPERATION,
]


def registry_of(operations: Iterable[Operation]) -> Mapping[str, Operation]:
    found: dict[str, Operation] = {}
    for operation in operations:
        if operation.id in found:
            raise ValueError(f"two operations have the id {operation.id!r}")
        found[operation.id] = operation
    return MappingProxyType(found)


REGISTRY: Mapping[str, Operation] = registry_of(REGISTERED)
