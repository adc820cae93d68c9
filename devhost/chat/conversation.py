"""One conversation between the terminal user and the bot: what was sent, what arrived, and waiting for it."""

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from devhost.attachment_store import AttachmentStore
from devhost.chat.choices import Choice, choices_of, pick
from devhost.chat.errors import WaitTimeout
from devhost.chat.files import LocalFile, read_local_file
from devhost.connector_attachments import view_path

log = logging.getLogger(__name__)

Activity = dict[str, Any]
Change = Literal["new", "updated", "deleted"]

# Web Chat, the Emulator's chat, holds a bot activity whose replyToId names an activity it has not shown, until that
# activity arrives or for REPLY_TIMEOUT = 5000 ms, then shows it with a console warning. It never holds the bot's
# first activity, nor one whose replyToId an activity already shown also replies to (it waited for that one).
# Source: BotFramework-WebChat packages/core/src/sagas/queueIncomingActivitySaga.ts (queueIncomingActivity,
# waitForActivityId). Each held activity waits on its own: later activities that need no wait overtake it.
WEB_CHAT_REPLY_TIMEOUT_SECONDS = 5.0


@dataclass(eq=False)  # holds are compared by identity
class _Hold:
    activity: Activity
    reply_to: str
    timer: asyncio.TimerHandle | None = None


@dataclass(frozen=True)
class TranscriptEntry:
    sender: Literal["user", "bot"]
    activity: Activity
    change: Change = "new"


Listener = Callable[[TranscriptEntry], None]
PostToBot = Callable[[Activity], Awaitable[None]]


class Conversation:
    """Created by ``ChatClient.start_conversation``; the client routes the bot's activities here.

    ``transcript`` holds every entry in arrival order; ``listeners`` see each entry as it arrives; ``wait_for``
    waits for a matching bot activity.
    """

    def __init__(self, conversation_id: str, *, user: dict[str, Any], bot: dict[str, Any], channel_id: str,
                 service_url: str, locale: str, post: PostToBot,
                 reply_hold_seconds: float = WEB_CHAT_REPLY_TIMEOUT_SECONDS,
                 attachments: AttachmentStore | None = None) -> None:
        self.id = conversation_id
        self.user = user
        self.bot = bot
        self.channel_id = channel_id
        self.service_url = service_url
        self.locale = locale
        self.transcript: list[TranscriptEntry] = []
        self.listeners: list[Listener] = []
        # The options of the bot's latest message; a later message without options withdraws them, as suggested
        # actions vanish in the Emulator once something new arrives.
        self.choices: list[Choice] = []
        # Every bot activity that had to wait for the activity it replies to (kept after it is shown): a bot whose
        # replies name activities the channel never saw shows up here, and in a warning.
        self.held: list[Activity] = []
        self.reply_hold_seconds = reply_hold_seconds
        self._holds: list[_Hold] = []
        self._post = post
        # Where sent files are kept; the client serves this store on its Bot Connector face.
        self.attachments = attachments if attachments is not None else AttachmentStore()
        self._changed = asyncio.Event()
        self._bot_count_at_last_send = 0

    # --- sending -------------------------------------------------------------------------------------------

    def stamp(self, activity: Activity) -> Activity:
        """The Emulator's fields (reference §2.1) around a client activity."""
        now = datetime.now(UTC)
        return {
            "from": self.user,
            "locale": self.locale,
            **activity,
            "channelId": self.channel_id,
            "conversation": {"id": self.id},
            "id": str(uuid.uuid1()),
            "timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "localTimestamp": now.astimezone().isoformat(timespec="milliseconds"),
            "recipient": self.bot,
            "serviceUrl": self.service_url,
        }

    async def send_activity(self, activity: Activity) -> Activity:
        """Send any activity to the bot; returns it as sent. Returns once the bot has finished its turn."""
        stamped = self.stamp(activity)
        if stamped.get("type") != "conversationUpdate":
            self._bot_count_at_last_send = self.bot_activity_count
            self._add(TranscriptEntry("user", stamped))
        await self._post(stamped)
        return stamped

    async def say(self, text: str) -> Activity:
        return await self.send_activity({"type": "message", "text": text})

    async def send_file(self, path: Path) -> LocalFile:
        """Send the file at ``path`` as the Emulator sends an upload (devhost/chat/files.py) and return it;
        FileRejected, with nothing sent, if it cannot be."""
        local = await asyncio.to_thread(read_local_file, path)
        await self.send_local_file(local)
        return local

    async def send_local_file(self, local: LocalFile) -> Activity:
        stored = self.attachments.add(local.content_type, local.name, local.data, local.data)
        attachment = {"name": local.name, "contentType": local.content_type,
                      "contentUrl": f"{self.service_url}{view_path(stored.id)}"}
        return await self.send_activity({"type": "message", "attachments": [attachment]})

    async def send_line(self, line: str) -> Activity:
        """What typing ``line`` does: a number picks one of the offered choices, anything else is said as is."""
        choice = pick(self.choices, line)
        if choice is not None:
            return await self.send_activity(choice.as_message())
        return await self.say(line)

    async def choose(self, number: int) -> Activity:
        choice = pick(self.choices, str(number))
        if choice is None:
            raise ValueError(f"there is no choice {number}; the bot offers {len(self.choices)}")
        return await self.send_activity(choice.as_message())

    # --- receiving (called by the client's Bot Connector routes) ---------------------------------------

    def receive(self, activity: Activity) -> None:
        """Show a bot activity, or hold it as Web Chat does while the activity it replies to is unseen."""
        reply_to = activity.get("replyToId")
        if isinstance(reply_to, str) and reply_to and self._must_wait_for(reply_to):
            log.warning(
                "holding the bot's activity %s for up to %g s, as Web Chat does: its replyToId %r names an "
                "activity conversation %s has not shown", activity.get("id"), self.reply_hold_seconds, reply_to,
                self.id,
            )
            self.held.append(activity)
            hold = _Hold(activity, reply_to)
            hold.timer = asyncio.get_running_loop().call_later(self.reply_hold_seconds, self._time_out, hold)
            self._holds.append(hold)
            return
        self._show(activity)

    def _must_wait_for(self, reply_to: str) -> bool:
        if not any(entry.sender == "bot" for entry in self.transcript):
            return False
        return not any(
            entry.activity.get("id") == reply_to or entry.activity.get("replyToId") == reply_to
            for entry in self.transcript
        )

    def _show(self, activity: Activity) -> None:
        if activity.get("type") == "message":
            self.choices = choices_of(activity)
        self._add(TranscriptEntry("bot", activity))

    def _time_out(self, hold: _Hold) -> None:
        if hold in self._holds:
            self._holds.remove(hold)
            log.info("showing the bot's activity %s after %g s: activity %r never arrived",
                     hold.activity.get("id"), self.reply_hold_seconds, hold.reply_to)
            self._show(hold.activity)

    def _release_answered(self, entry: TranscriptEntry) -> None:
        """Show the held activities that ``entry`` answers: it is their activity, or replies to it as they do."""
        ids = {entry.activity.get("id"), entry.activity.get("replyToId")} - {None}
        for hold in [hold for hold in self._holds if hold.reply_to in ids]:
            if hold in self._holds:
                self._holds.remove(hold)
                if hold.timer is not None:
                    hold.timer.cancel()
                self._show(hold.activity)

    def update(self, activity_id: str, activity: Activity) -> bool:
        for hold in self._holds:
            if hold.activity.get("id") == activity_id:
                # Not shown yet: it is shown as updated when its wait ends.
                hold.activity = activity
                return True
        for index, entry in enumerate(self.transcript):
            if entry.sender == "bot" and entry.activity.get("id") == activity_id:
                self.transcript[index] = TranscriptEntry("bot", activity, "updated")
                self._notify(self.transcript[index])
                return True
        return False

    def delete(self, activity_id: str) -> bool:
        for hold in self._holds:
            if hold.activity.get("id") == activity_id:
                self._holds.remove(hold)
                if hold.timer is not None:
                    hold.timer.cancel()
                return True
        for index, entry in enumerate(self.transcript):
            if entry.sender == "bot" and entry.activity.get("id") == activity_id:
                self.transcript[index] = TranscriptEntry("bot", entry.activity, "deleted")
                self._notify(self.transcript[index])
                return True
        return False

    # --- reading ------------------------------------------------------------------------------------------

    @property
    def bot_activities(self) -> list[Activity]:
        return [entry.activity for entry in self.transcript if entry.sender == "bot" and entry.change != "deleted"]

    @property
    def bot_activity_count(self) -> int:
        return sum(1 for entry in self.transcript if entry.sender == "bot")

    def bot_texts(self) -> list[str]:
        return [a.get("text") or "" for a in self.bot_activities if a.get("type") == "message"]

    async def wait_for(self, predicate: Callable[[Activity], bool], timeout: float,  # noqa: ASYNC109
                       *, since: int | None = None, description: str = "a matching activity") -> Activity:
        """The first bot activity matching ``predicate`` among those that arrived since the last send (or since
        the ``since``-th bot activity, 0 meaning all); waits up to ``timeout`` seconds for one."""
        start = self._bot_count_at_last_send if since is None else since
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            bot_entries = [entry.activity for entry in self.transcript if entry.sender == "bot"]
            for activity in bot_entries[start:]:
                if predicate(activity):
                    return activity
            changed = self._changed
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise WaitTimeout(f"{description} did not arrive from the bot within {timeout:g} s")
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                raise WaitTimeout(f"{description} did not arrive from the bot within {timeout:g} s") from None

    async def wait_for_text(self, fragment: str, timeout: float, *, since: int | None = None) -> Activity:  # noqa: ASYNC109
        """A bot message whose text contains ``fragment`` (case-insensitive)."""
        needle = fragment.casefold()
        return await self.wait_for(
            lambda a: a.get("type") == "message" and needle in (a.get("text") or "").casefold(), timeout, since=since,
            description=f"a message containing {fragment!r}",
        )

    # --- internals ------------------------------------------------------------------------------------------

    def _add(self, entry: TranscriptEntry) -> None:
        self.transcript.append(entry)
        self._notify(entry)
        if self._holds:
            self._release_answered(entry)

    def _notify(self, entry: TranscriptEntry) -> None:
        # Wake every waiter, then arm a fresh event for the next change.
        self._changed.set()
        self._changed = asyncio.Event()
        for listener in list(self.listeners):
            listener(entry)
