"""Serialize the Bot Connector's request bodies (replies, proactive messages) in one pass over the activity.

Why: msrest 0.7's ``Serializer.body`` walks an outgoing activity twice: first with a Deserializer "in case it is a
dict" (for a model it only re-assigns every list and sub-model to itself), then with ``_serialize``, which copies
each attribute's description, splits its key for flattening and re-dispatches on the type name at every value.
That was 13-24% of the bot's CPU in py-spy profiles of ``python -m bench system``.

``FastBodySerializer.body`` gives the same dict (same keys, same order, same values, so the same JSON on the wire)
from one walk with the attribute list of each model class computed once. It handles what the Bot Framework schema
declares (botbuilder-schema 4.17: models, lists and dicts of models, ``str``, ``bool``, ``int``, ``float``,
``iso-8601`` and ``object``; no flattened keys, no read-only or constant attributes, no additional properties)
holding the values botbuilder and this bot put there: models where a model is declared, ``str`` (or an Enum, sent
as its value) where a string is, and under ``object`` JSON-like values (dicts with string keys, lists, str, int, float,
bool, None, models) and other objects, which msrest sends as their ``str()`` (the Emulator's "Bot State" trace holds
dialog instances). On anything else (a dict where a model is declared, a string where a date is, a date under
``object``, client-side validation switched on) it hands the original, untouched activity to msrest's own
``body``, so odd inputs are converted, stringified or refused exactly as before.
"""

import datetime
import decimal
from enum import Enum
from typing import Any
from xml.etree import ElementTree

from msrest.serialization import Model, Serializer

# Types msrest's serialize_object formats itself (dates and times as ISO 8601, Decimal as float): left to it.
_MSREST_OBJECT_TYPES = frozenset({datetime.datetime, datetime.date, datetime.time, datetime.timedelta, decimal.Decimal})
# msrest's basic types: a value of exactly the declared type serializes to itself.
_SAME = {"str": str, "bool": bool, "int": int, "float": float}
_JSON_SCALARS = (str, int, float, bool)


class _NotFast(Exception):
    """A value outside what the fast path reproduces: msrest's ``body`` serializes the whole body instead."""


class FastBodySerializer(Serializer):
    def __init__(self, classes: dict[str, type] | None = None) -> None:
        super().__init__(classes)  # type: ignore[no-untyped-call]  # msrest's hints are partial
        # Per model class: (attribute, JSON key, declared type) in _attribute_map order.
        self._plans: dict[type, tuple[tuple[str, str, str], ...]] = {}
        self._dependency_types = frozenset(self.dependencies.values())

    def body(self, data: Any, data_type: str, **kwargs: Any) -> Any:
        if (not kwargs and not self.client_side_validation and isinstance(data, Model)
                and data_type in self.dependencies and not _is_enum(self.dependencies[data_type])):
            try:
                return self._model(data)
            except _NotFast:
                pass
        return super().body(data, data_type, **kwargs)  # type: ignore[no-untyped-call]

    def _plan(self, kind: Any) -> tuple[tuple[str, str, str], ...]:
        plan = self._plans.get(kind)
        if plan is None:
            validation = getattr(kind, "_validation", None) or {}
            if getattr(kind, "_subtype_map", None) or kind.is_xml_model():
                raise _NotFast(kind.__name__)
            entries = []
            for attr, description in kind._attribute_map.items():
                key = description["key"]
                # Flattened ("a.b") or additional-properties ("") keys, read-only or constant attributes: msrest's.
                if not key or "." in key or validation.get(attr) or set(description) - {"key", "type"}:
                    raise _NotFast(f"{kind.__name__}.{attr}")
                entries.append((attr, key, description["type"]))
            plan = tuple(entries)
            self._plans[kind] = plan
        return plan

    def _model(self, model: Model) -> dict[str, Any]:
        serialized: dict[str, Any] = {}
        for attr, key, data_type in self._plan(type(model)):
            value = getattr(model, attr)
            # msrest leaves out an attribute that is None.
            if value is not None:
                serialized[key] = self._value(value, data_type)
        return serialized

    def _value(self, value: Any, data_type: str) -> Any:
        same = _SAME.get(data_type)
        if same is not None:
            if type(value) is same:
                return value
            if data_type == "str" and isinstance(value, Enum):
                return value.value  # msrest's serialize_unicode sends an Enum's value
            raise _NotFast(data_type)
        if data_type == "object":
            return self._object(value)
        if data_type == "iso-8601":
            if type(value) is not datetime.datetime:
                raise _NotFast(data_type)
            return Serializer.serialize_iso(value)  # type: ignore[no-untyped-call]
        if data_type.startswith("[") and data_type.endswith("]"):
            if type(value) is not list:
                raise _NotFast(data_type)
            inner = data_type[1:-1]
            return [None if item is None else self._value(item, inner) for item in value]
        if data_type.startswith("{") and data_type.endswith("}"):
            if type(value) is not dict:
                raise _NotFast(data_type)
            inner = data_type[1:-1]
            return {_str_key(key): None if item is None else self._value(item, inner) for key, item in value.items()}
        declared = self.dependencies.get(data_type)
        if declared is None or _is_enum(declared) or not isinstance(value, Model):
            raise _NotFast(data_type)
        # As msrest: a model is serialized by its own class's attributes, whichever model class was declared.
        return self._model(value)

    def _object(self, value: Any) -> Any:
        # msrest's serialize_object, in its order. It tests exact types, so a subclass of a built-in (a str Enum, an
        # OrderedDict, a tuple) is not a string, dict or list to it: it ends as str(value), unless it is one of the
        # client's model or enum classes (an enum there is refused, by msrest's own path).
        kind = type(value)
        if value is None or kind in _JSON_SCALARS:
            return value
        if kind in _MSREST_OBJECT_TYPES or isinstance(value, ElementTree.Element):
            raise _NotFast(kind.__name__)
        if kind in self._dependency_types or isinstance(value, Model):
            if not isinstance(value, Model):
                raise _NotFast(kind.__name__)
            return self._model(value)
        if kind is dict:
            return {_str_key(key): self._object(item) for key, item in value.items()}
        if kind is list:
            return [self._object(item) for item in value]
        return str(value)


def _str_key(key: Any) -> str:
    if type(key) is not str:
        raise _NotFast("a key that is not a string")
    return key


def _is_enum(kind: type) -> bool:
    return isinstance(kind, type) and issubclass(kind, Enum)


def use_fast_body_serializer(client: Any) -> None:
    """Give an msrest SDK client (ConnectorClient) and its operation groups one FastBodySerializer, with the same
    model classes and validation setting; what each operation sends is unchanged."""
    old = client._serialize
    serializer = FastBodySerializer(old.dependencies)
    serializer.client_side_validation = old.client_side_validation
    for holder in (client, *vars(client).values()):
        if getattr(holder, "_serialize", None) is old:
            holder._serialize = serializer
