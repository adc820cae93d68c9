"""Small typed readers for JSON objects; each names the field it rejects."""

from enum import StrEnum
from typing import Any, TypeVar

from contract.errors import ContractError

Member = TypeVar("Member", bound=StrEnum)


class Signed:
    """Base of a wire dataclass whose JSON carries a ``signature`` over all its other fields (contract/signing.py)."""

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError

    def signing_fields(self) -> dict[str, Any]:
        """Every field except the signature, in wire names: the value's part of what the HMAC covers."""
        data = self.to_json()
        del data["signature"]
        return data


def require_object(value: object, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ContractError(field, f"expected a JSON object, got {_kind(value)}")
    return value


def require_str(data: dict[str, Any], key: str, prefix: str = "") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ContractError(prefix + key, f"expected a non-empty string, got {_kind(value)}")
    return value


def optional_str(data: dict[str, Any], key: str, prefix: str = "") -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ContractError(prefix + key, f"expected a string, got {_kind(value)}")
    return value


def require_int(data: dict[str, Any], key: str, prefix: str = "") -> int:
    value = data.get(key)
    # bool is an int in Python, but never a count on the wire.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ContractError(prefix + key, f"expected an integer, got {_kind(value)}")
    return value


def require_number(data: dict[str, Any], key: str, prefix: str = "") -> float:
    value = data.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ContractError(prefix + key, f"expected a number, got {_kind(value)}")
    return float(value)


def require_kind(data: dict[str, Any], expected: str, prefix: str) -> str:
    """The ``kind`` a signed value names, which must be ``expected``: one shape's JSON never passes for another's."""
    kind = require_str(data, "kind", prefix)
    if kind != expected:
        raise ContractError(prefix + "kind", f"expected {expected!r}, got {kind!r}")
    return kind


def require_member(data: dict[str, Any], key: str, members: type[Member], prefix: str = "") -> Member:
    """The member of ``members`` that the string at ``key`` names; its message names the unknown value."""
    text = require_str(data, key, prefix)
    try:
        return members(text)
    except ValueError:
        raise ContractError(prefix + key, f"unknown {key} {text!r}") from None


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "an empty string" if not value else "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
