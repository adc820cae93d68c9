"""botbuilder's ConversationState with a change check that walks the state instead of jsonpickling it.

botbuilder tells whether a turn changed its state by comparing a hash taken at load with one taken at save, and takes
it once more after each write: ``str(jsonpickle.Pickler().flatten(state))`` (botbuilder-python,
libraries/botbuilder-core/botbuilder/core/bot_state.py, CachedBotState.compute_hash, called from CachedBotState's
constructor in BotState.load, from is_changed and at the end of save_changes). The state holds SDK objects
(DialogState, DialogInstance, prompt options with msrest Activity models), and jsonpickle's checks on every value
made those hashes about 18% of the bot's CPU in a py-spy profile of ``python -m bench system``.

``snapshot`` takes the same information at a sixth of the cost: a nested tuple of the state's values, with each plain
object's class and attributes and each enum member's class and value (what jsonpickle records for them). Anything
else (a set, a subclass of a built-in, an object with its own pickling hooks or slots, a reference cycle) sends the
whole state to jsonpickle, as before. Two states get equal snapshots only if jsonpickle would record the same values
for both; where they differ only in which values are shared objects, the stored items decode to equal values.
"""

from enum import Enum
from typing import Any

from botbuilder.core import ConversationState, TurnContext
from botbuilder.core.bot_state import CachedBotState
from jsonpickle.pickler import Pickler

# Values that stand for themselves. Numbers are tagged with their type (1, 1.0 and True are equal in Python but not
# to jsonpickle), floats by repr (so -0.0 is not 0.0).
_NUMBERS = frozenset({int, bool, bytes})


class _Unsupported(Exception):
    """A value ``snapshot`` does not walk: the whole state is then hashed by jsonpickle."""


def _is_plain_object(value: object) -> bool:
    # Only instances whose state is exactly their __dict__: no pickling hooks, no slots (jsonpickle honours both).
    kind = type(value)
    return (
        hasattr(value, "__dict__")
        and kind.__reduce_ex__ is object.__reduce_ex__
        and kind.__reduce__ is object.__reduce__
        and kind.__getstate__ is object.__getstate__
        and "__slots__" not in kind.__dict__
        and not isinstance(value, type)
    )


def _walk(value: object, path: set[int]) -> object:
    kind = type(value)
    if kind is str or value is None:
        return value
    if kind in _NUMBERS:
        return (kind.__name__, value)
    if kind is float:
        return ("float", repr(value))
    if id(value) in path:
        raise _Unsupported("a reference cycle")
    path.add(id(value))
    try:
        if kind is dict:
            return ("dict", tuple((_walk(key, path), _walk(item, path)) for key, item in value.items()))  # type: ignore[attr-defined]
        if kind is list or kind is tuple:
            return (kind.__name__, tuple(_walk(item, path) for item in value))  # type: ignore[attr-defined]
        if isinstance(value, Enum):
            # A member is its class and value (jsonpickle reduces it to both): the prompt's ActivityTypes, InputHints.
            return ("enum", kind.__module__, kind.__qualname__, _walk(value.value, path))
        if _is_plain_object(value):
            return (kind.__module__, kind.__qualname__, _walk(vars(value), path))
        raise _Unsupported(kind.__qualname__)
    finally:
        path.discard(id(value))


def snapshot(state: object) -> object:
    """What the state's values are now, as an immutable value: equal for two states botbuilder counts as unchanged."""
    try:
        return ("walked", _walk(state, set()))
    except _Unsupported:
        return ("jsonpickle", str(Pickler().flatten(state)))


class _SnapshotCachedState(CachedBotState):  # type: ignore[misc]  # botbuilder ships no type hints
    def compute_hash(self, obj: object) -> Any:
        return snapshot(obj)


class SnapshotConversationState(ConversationState):  # type: ignore[misc]
    """ConversationState whose per-turn cache takes ``snapshot`` for its hash. Only ``load`` differs from botbuilder's
    BotState.load: it builds that cache; save_changes calls the cache's own compute_hash."""

    async def load(self, turn_context: TurnContext, force: bool = False) -> None:
        # botbuilder 4.17's BotState.load, with the cache class swapped: read unless cached with a non-empty state.
        cached = self.get_cached_state(turn_context)
        if force or not cached or not cached.state:
            storage_key = self.get_storage_key(turn_context)
            items = await self._storage.read([storage_key])
            turn_context.turn_state[self._context_service_key] = _SnapshotCachedState(items.get(storage_key))
