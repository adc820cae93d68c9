"""jsonpickle's text for the bot's stored state, written and read in one pass over the values.

Why: the state stores keep each item as ``jsonpickle.encode(item)`` (bot/sqlite_storage.py, bot/blob_storage.py), and
every turn decodes its conversation's state and encodes it again. jsonpickle asks a dozen questions of every value
(handlers, reduce hooks, getstate, slots, iterators...) and restores through proxies: about 9% of the bot's CPU in a
py-spy profile of ``python -m bench system``.

``encode`` gives exactly ``jsonpickle.encode(item)`` (jsonpickle 3.4, default options) for the values the bot's state
holds: str, int, float, bool, None, lists, dicts with string keys, tuples, enum members (jsonpickle's ``py/reduce`` of
class and value) and plain objects (``py/object`` and their ``__dict__``: DialogState, DialogInstance, msrest models),
each list, dict, enum member and object numbered in the order jsonpickle numbers them, so a value met twice becomes
the same ``py/id`` reference. ``decode`` restores that same subset as jsonpickle does (``cls.__new__``, then
``setattr`` of each attribute; references to the objects they name). Anything else (a datetime, a set, bytes, a
class with its own pickling hooks or a jsonpickle handler, an unknown tag, a forward reference) sends the whole item
to jsonpickle itself, so the stored text and the restored values are jsonpickle's in every case: a file or container
written by an earlier version reads the same, and an earlier version reads what this one writes.

As before, only the bot's own store may be decoded: the text names the classes to import.
"""

from enum import Enum
from typing import Any

import jsonpickle
from jsonpickle import handlers, tags, util
from jsonpickle.unpickler import loadclass

_PRIMITIVES = frozenset({str, int, float, bool, type(None)})
_RESERVED = frozenset(tags.RESERVED)
# The keys jsonpickle's decoder dispatches on (Unpickler._restore_tags): its reserved tags and the two byte encodings.
_DISPATCH_TAGS = frozenset({*tags.RESERVED, tags.B64, tags.B85})
# Keys the encoder leaves to jsonpickle: its tags, and anything that looks like one.
_TAG_PREFIX = "py/"


class _NotFast(Exception):
    """A value outside what this module reproduces: jsonpickle encodes or decodes the whole item instead."""


# Per class: ("object", importable name) for a plain object, ("enum", importable name) for an enum, None for neither.
_KINDS: dict[type, tuple[str, str] | None] = {}
# Per importable name, as jsonpickle loads it: the class and whether it may be restored here.
_LOADED: dict[str, tuple[Any, str | None]] = {}


def _is_plain_instance(value: object) -> bool:
    # The questions jsonpickle's _flatten_obj_instance asks, in its terms: the answers that lead it to
    # {"py/object": name, **flattened __dict__}.
    kind = type(value)
    if handlers.get(kind, handlers.get(util.importable_name(kind))) is not None:
        return False
    has_own_getstate = kind.__getstate__ is not object.__getstate__
    return (
        util.has_reduce(value) == (False, False)
        and not has_own_getstate
        and not util.has_method(value, "__getnewargs__")
        and not util.has_method(value, "__getnewargs_ex__")
        and not util.has_method(value, "__getinitargs__")
        and not getattr(value, "_jsonpickle_exclude", ())
        and hasattr(value, "__dict__")
        and util.is_object(value)
        and not util.is_module_function(value)
        and not util.is_module(value)
        and not util.is_dictionary_subclass(value)
        and not util.is_sequence_subclass(value)
        and not util.is_iterator(value)
    )


def _kind_of(value: object) -> tuple[str, str] | None:
    kind = type(value)
    try:
        return _KINDS[kind]
    except KeyError:
        pass
    found: tuple[str, str] | None = None
    name = util.importable_name(kind)
    if isinstance(value, Enum):
        # jsonpickle reduces a member with Enum.__reduce_ex__: (class, (value,)).
        if (handlers.get(kind, handlers.get(name)) is None
                and kind.__reduce_ex__ is Enum.__reduce_ex__ and kind.__reduce__ is object.__reduce__):
            found = ("enum", name)
    elif _is_plain_instance(value):
        found = ("object", name)
    _KINDS[kind] = found
    return found


class _Encoder:
    def __init__(self) -> None:
        # id(value) -> its py/id, for lists, dicts, enum members and objects, numbered from 0 as met.
        self._ids: dict[int, int] = {}
        # Kept alive while encoding, so that no id() is reused by a temporary.
        self._seen: list[object] = []

    def _reference(self, value: object) -> dict[str, int] | None:
        key = id(value)
        found = self._ids.get(key)
        if found is not None:
            return {tags.ID: found}
        self._ids[key] = len(self._ids)
        self._seen.append(value)
        return None

    def flatten(self, value: Any) -> Any:
        kind = type(value)
        if kind in _PRIMITIVES:
            return value
        if kind is list:
            return self._reference(value) or [
                item if type(item) in _PRIMITIVES else self.flatten(item) for item in value]
        if kind is dict:
            return self._reference(value) or self._attributes(value, {})
        if kind is tuple:
            return {tags.TUPLE: [self.flatten(item) for item in value]}
        described = _kind_of(value)
        if described is None:
            raise _NotFast(kind.__qualname__)
        reference = self._reference(value)
        if reference is not None:
            return reference
        what, name = described
        if what == "enum":
            member_value = value.value
            if type(member_value) not in _PRIMITIVES:
                raise _NotFast(name)
            return {tags.REDUCE: [{tags.TYPE: name}, {tags.TUPLE: [member_value]}]}
        return self._attributes(vars(value), {tags.OBJECT: name})

    def _attributes(self, items: dict[Any, Any], into: dict[str, Any]) -> dict[str, Any]:
        for key, item in items.items():
            # jsonpickle drops tag-named keys and rewrites non-string ones (repr); "__" keys are name-mangled back.
            if type(key) is not str or key in _RESERVED or key.startswith(_TAG_PREFIX) or key.startswith("__"):
                raise _NotFast(repr(key))
            into[key] = item if type(item) in _PRIMITIVES else self.flatten(item)
        return into


def _sorts_keys() -> bool:
    # jsonpickle sorts object attributes when a backend was told to sort keys (Pickler._determine_sort_keys).
    options = getattr(jsonpickle.json, "_encoder_options", {})
    return any(kwargs.get("sort_keys", False) for _, kwargs in options.values())


def encode(item: object) -> str:
    """``jsonpickle.encode(item)``, the same text."""
    if not _sorts_keys():
        try:
            flat = _Encoder().flatten(item)
        except _NotFast:
            pass
        else:
            return str(jsonpickle.json.encode(flat, indent=None, separators=None))
    return str(jsonpickle.encode(item))


def _loaded(name: str) -> tuple[Any, str | None]:
    found = _LOADED.get(name)
    if found is None:
        cls = loadclass(name)
        what: str | None = None
        if isinstance(cls, type) and handlers.get(cls, handlers.get(name)) is None:
            if issubclass(cls, Enum):
                what = "enum"
            elif cls.__new__ is object.__new__ and cls.__setattr__ is object.__setattr__:
                what = "object"
        found = (cls, what)
        _LOADED[name] = found
    return found


class _Decoder:
    def __init__(self) -> None:
        # What each py/id names, in jsonpickle's order: lists, dicts, objects and reduced values, as they begin.
        self._objects: list[Any] = []

    def restore(self, value: Any) -> Any:
        kind = type(value)
        if kind is list:
            restored: list[Any] = []
            self._objects.append(restored)
            restored.extend(item if type(item) in _PRIMITIVES else self.restore(item) for item in value)
            return restored
        if kind is not dict:
            return value
        found = value.keys() & _DISPATCH_TAGS
        if not found:
            plain: dict[str, Any] = {}
            self._objects.append(plain)
            for key, item in value.items():
                plain[key] = item if type(item) in _PRIMITIVES else self.restore(item)
            return plain
        # jsonpickle's Unpickler._restore_tags picks one tag by precedence; exactly one tag leaves no doubt which.
        if len(found) == 1:
            (tag,) = found
            if tag == tags.OBJECT:
                return self._object(value)
            if tag == tags.TUPLE and type(value[tag]) is list:
                return tuple(self.restore(item) for item in value[tag])
            if tag == tags.ID:
                index = value[tag]
                if type(index) is not int or not 0 <= index < len(self._objects):
                    raise _NotFast("a reference forward")
                return self._objects[index]
            if tag == tags.REDUCE:
                return self._enum(value[tag])
        raise _NotFast("a tag")

    def _enum(self, reduced: Any) -> Enum:
        shape_ok = (type(reduced) is list and len(reduced) == 2 and type(reduced[0]) is dict
                    and list(reduced[0]) == [tags.TYPE] and type(reduced[1]) is dict
                    and list(reduced[1]) == [tags.TUPLE] and type(reduced[1][tags.TUPLE]) is list
                    and len(reduced[1][tags.TUPLE]) == 1)
        if not shape_ok:
            raise _NotFast("a reduce")
        cls, what = _loaded(reduced[0][tags.TYPE])
        member_value = reduced[1][tags.TUPLE][0]
        if what != "enum" or type(member_value) not in _PRIMITIVES:
            raise _NotFast("a reduce")
        member: Enum = cls(member_value)
        self._objects.append(member)
        return member

    def _object(self, value: dict[str, Any]) -> object:
        name = value[tags.OBJECT]
        if type(name) is not str:
            raise _NotFast("an object")
        cls, what = _loaded(name)
        if what != "object" or "default_factory" in value:
            raise _NotFast(name)
        instance = cls.__new__(cls)
        self._objects.append(instance)
        for key, item in value.items():
            if key.startswith("__"):
                # jsonpickle name-mangles these
                raise _NotFast(repr(key))
            if key != tags.OBJECT:
                setattr(instance, key, item if type(item) in _PRIMITIVES else self.restore(item))
        return instance


def decode(text: str) -> Any:
    """``jsonpickle.decode(text)``: the same values (this bot's own stored text only: it names classes to import)."""
    data = jsonpickle.json.decode(text)
    try:
        return _Decoder().restore(data)
    except _NotFast:
        return jsonpickle.decode(text)
