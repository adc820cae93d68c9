"""botbuilder's MemoryStorage with conversation state expiry (bot/state_expiry.py): lost on restart, as before."""

from collections.abc import Iterable
from typing import Any

from botbuilder.core import MemoryStorage

from bot.state_expiry import StateExpiry


class ExpiringMemoryStorage(MemoryStorage):  # type: ignore[misc]  # botbuilder ships no type hints
    """Each key's last write time beside botbuilder's dict; an expired key reads as absent and is dropped then, or by
    ``sweep_expired``. The eTag rules stay botbuilder's."""

    def __init__(self, expiry: StateExpiry | None = None) -> None:
        super().__init__()
        self._expiry = expiry or StateExpiry()
        self._last_activity: dict[str, float] = {}

    async def read(self, keys: list[str]) -> dict[str, Any]:
        self._drop([key for key in keys or () if self._expired(key)])
        result: dict[str, Any] = await super().read(keys)
        return result

    async def write(self, changes: dict[str, Any]) -> None:
        # An expired key that was not dropped yet is overwritten as in the other stores (its row or blob is there
        # until the sweep): a fresh item carries no eTag, so it is last-writer-wins.
        await super().write(changes)
        now = self._expiry.now()
        for key in changes or ():
            self._last_activity[key] = now

    async def delete(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        await super().delete(keys)
        for key in keys:
            self._last_activity.pop(key, None)

    async def sweep_expired(self) -> int:
        expired = [key for key in list(self.memory) if self._expired(key)]
        self._drop(expired)
        return len(expired)

    def _expired(self, key: str) -> bool:
        last = self._last_activity.get(key)
        return key in self.memory and last is not None and self._expiry.is_expired(last)

    def _drop(self, keys: list[str]) -> None:
        for key in keys:
            self.memory.pop(key, None)
            self._last_activity.pop(key, None)
