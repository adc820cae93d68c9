"""The bot wired to a TestAdapter, a copying MemoryStorage and the loopback fake function app."""

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import jsonpickle
from botbuilder.core import MemoryStorage, Storage
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    Entity,
)

from bot.conversation_state import SnapshotConversationState
from bot.long_operation_bot import LongOperationBot
from bot.long_operation_dialog import LongOperationDialog
from bot.memory_storage import ExpiringMemoryStorage
from bot.operations_client import OperationsClient
from bot.settings import BotSettings
from contract import Outcome, OutcomeStatus, Question, Routing, StopReason, sign_outcome, sign_question
from contract.signing import canonical_hmac
from tests.bot.fake_operations_service import FakeOperationsService

SIGNING_KEY = "test-signing-key-0123456789"
USER_CONVERSATION = "Convo1"
# The function app posts the outcome in its own, throw-away Direct Line conversation.
FUNCTION_APP_CONVERSATION = "function-app-conversation"


class CopyingMemoryStorage(ExpiringMemoryStorage):
    """The bot's memory store whose reads are copies, like a real store: a turn that forgets to save loses its
    changes."""

    async def read(self, keys: list[str]) -> dict[str, Any]:
        return copy.deepcopy(await super().read(keys))


class RecordingTestAdapter(TestAdapter):  # type: ignore[misc]
    """TestAdapter that remembers every conversation it was asked to continue (proactive turns)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.continued: list[ConversationReference] = []

    async def continue_conversation(self, reference: ConversationReference, *args: Any, **kwargs: Any) -> None:
        self.continued.append(reference)
        await super().continue_conversation(reference, *args, **kwargs)


def legacy_signed(outcome: dict[str, Any], key: str) -> dict[str, Any]:
    """``outcome`` (wire JSON) as a function app of the previous contract signed it: over its own fields and an
    issuedAt, not the routing (tests/contract pins this against signatures of that contract's own code)."""
    fields = {name: outcome[name] for name in ("kind", "instanceId", "conversationId", "status", "result")}
    fields["issuedAt"] = "2026-11-30T09:15:00Z"
    return fields | {"signature": canonical_hmac(fields, key)}


@dataclass
class BotHarness:
    service: FakeOperationsService
    adapter: RecordingTestAdapter
    bot: LongOperationBot
    storage: Storage
    settings: BotSettings

    async def say(self, text: str) -> list[Activity]:
        """Send a user message; the replies of the whole turn."""
        return await self._turn(text)

    async def post(self, activity: Activity) -> list[Activity]:
        return await self._turn(activity)

    async def _turn(self, activity: str | Activity) -> list[Activity]:
        self.adapter.activity_buffer.clear()
        await self.adapter.receive_activity(activity)
        replies = list(self.adapter.activity_buffer)
        self.adapter.activity_buffer.clear()
        return replies

    def continuation(self) -> dict[str, Any]:
        """The continuation activity the bot sent with its (only) start request."""
        return dict(self.service.only_instance()[1].request.continuation)

    def outcome_event(
        self,
        status: OutcomeStatus = OutcomeStatus.COMPLETED,
        result: str = "(Result for long operation one!)",
        *,
        reason: StopReason | None = None,
        instance_id: str | None = None,
        conversation_id: str | None = None,
        key: str | None = SIGNING_KEY,
        continuation: dict[str, Any] | None = None,
        signature: str | None = None,
        posted_continuation: dict[str, Any] | None = None,
        legacy: bool = False,
        data: dict[str, Any] | None = None,
    ) -> Activity:
        """The LongOperationResponse event as the function app posts it through Direct Line, signed over the outcome
        and ``continuation``'s routing; ``posted_continuation`` is what the event carries instead, if it differs
        (changed on the way); ``legacy`` signs as a function app of the previous contract did."""
        continuation = dict(continuation if continuation is not None else self.continuation())
        outcome = Outcome(
            instance_id=instance_id or self.service.only_instance()[0],
            conversation_id=conversation_id or continuation["conversation"]["id"],
            status=status,
            result="" if data is not None else result,
            reason=reason,
            data=data,
        )
        if key is not None:
            outcome = sign_outcome(outcome, Routing.of(continuation), key)
        if signature is not None:
            outcome = Outcome(**{**outcome.__dict__, "signature": signature})
        wire = outcome.to_json()
        if legacy:
            assert key is not None
            wire = legacy_signed(wire, key)
        continuation = dict(posted_continuation if posted_continuation is not None else continuation)
        continuation["value"] = wire
        return Activity(
            type=ActivityTypes.event,
            name="LongOperationResponse",
            channel_id="directline",
            conversation=ConversationAccount(id=FUNCTION_APP_CONVERSATION),
            from_property=ChannelAccount(id="function-app"),
            value=continuation,
        )

    def question_event(
        self,
        text: str = "Delete the 60 duplicates?",
        choices: tuple[str, ...] | None = ("Yes", "No"),
        *,
        step: int = 1,
        timeout_seconds: float = 120.0,
        expires_at: str = "2099-01-01T00:00:00+00:00",
        instance_id: str | None = None,
        continuation: dict[str, Any] | None = None,
        key: str = SIGNING_KEY,
    ) -> Activity:
        """The LongOperationResponse event carrying a step's question (contract/question.py), signed as ask_bot
        signs it."""
        continuation = dict(continuation if continuation is not None else self.continuation())
        question = sign_question(Question(
            instance_id or self.service.only_instance()[0], continuation["conversation"]["id"], step, text, choices,
            timeout_seconds, expires_at,
        ), Routing.of(continuation), key)
        return Activity(
            type=ActivityTypes.event,
            name="LongOperationResponse",
            channel_id="directline",
            conversation=ConversationAccount(id=FUNCTION_APP_CONVERSATION),
            from_property=ChannelAccount(id="function-app"),
            value={**continuation, "value": question.to_json()},
        )

    def state_snapshot(self) -> str:
        assert isinstance(self.storage, MemoryStorage)
        return str(jsonpickle.encode(self.storage.memory))


# The Emulator's conversations (reference §2.1): channel "emulator", ids on every activity, traces delivered.
EMULATOR_CONVERSATION = Activity(
    channel_id="emulator",
    service_url="http://localhost:50001",
    from_property=ChannelAccount(id="emulator-user", name="User", role="user"),
    recipient=ChannelAccount(id="bot", name="Bot", role="bot"),
    conversation=ConversationAccount(id="emulator-conversation|livechat"),
)

# Teams, as its activities arrive at a bot: a tenant in conversation and channelData, "28:" bot and "29:" user ids.
TEAMS_TENANT = "tenant-0b7d4f3e"
TEAMS_BOT = ChannelAccount(id="28:bot-app-id", name="Bot")
ALICE = ChannelAccount(id="29:alice", name="Alice")
BOB = ChannelAccount(id="29:bob", name="Bob")
TEAMS_CONVERSATIONS = {
    "groupChat": "19:group-chat-5f2c@thread.v2",
    "channel": "19:general-8a1b@thread.tacv2;messageid=1700000000000",
}


def teams_group_conversation(conversation_type: str = "groupChat") -> Activity:
    """A Teams group chat or channel conversation as Teams sends it (wire JSON), with Alice as the sender."""
    activity: Activity = Activity().deserialize({
        "channelId": "msteams",
        "serviceUrl": "https://smba.trafficmanager.net/emea/",
        "from": ALICE.serialize(),
        "recipient": TEAMS_BOT.serialize(),
        "conversation": {
            "id": TEAMS_CONVERSATIONS[conversation_type],
            "isGroup": True,
            "conversationType": conversation_type,
            "tenantId": TEAMS_TENANT,
        },
        "channelData": {"tenant": {"id": TEAMS_TENANT}},
    })
    return activity


def teams_message(sender: ChannelAccount, words: str, *, mention: bool = True) -> Activity:
    """What Teams delivers when ``sender`` writes ``words``: in a group, after an @mention of the bot."""
    if not mention:
        return Activity(type=ActivityTypes.message, text=words, from_property=sender)
    at = f"<at>{TEAMS_BOT.name}</at>"
    return Activity(
        type=ActivityTypes.message,
        text=f"{at} {words}",
        from_property=sender,
        entities=[Entity().deserialize(
            {"type": "mention", "mentioned": {"id": TEAMS_BOT.id, "name": TEAMS_BOT.name}, "text": at}
        )],
    )


@asynccontextmanager
async def bot_harness(
    storage: Storage | None = None, operations_url: str | None = None, conversation: Activity | None = None
) -> AsyncIterator[BotHarness]:
    async with FakeOperationsService() as service, aiohttp.ClientSession() as session:
        yield make_harness(service, session, storage, operations_url, conversation)


def make_harness(
    service: FakeOperationsService,
    session: aiohttp.ClientSession,
    storage: Storage | None = None,
    operations_url: str | None = None,
    conversation: Activity | None = None,
) -> BotHarness:
    """A fresh bot (as after a restart) over ``storage``."""
    settings = BotSettings(signing_key=SIGNING_KEY, operations_url=operations_url or service.url)
    storage = storage if storage is not None else CopyingMemoryStorage()
    bot = LongOperationBot(
        settings,
        SnapshotConversationState(storage),
        LongOperationDialog(OperationsClient(session, settings)),
    )
    # By default channel "directline" (botbuilder-notes §4): state keys survive the reference's JSON round trip,
    # and choices render as suggested actions, as on the real channel. ``conversation`` is a template activity
    # for another channel. Traces are delivered where CloudAdapter delivers them: on the emulator channel only.
    template = conversation if conversation is not None else ConversationReference(channel_id="directline")
    adapter = RecordingTestAdapter(bot.on_turn, template, send_trace_activities=template.channel_id == "emulator")
    adapter.on_turn_error = bot.on_turn_error
    return BotHarness(service, adapter, bot, storage, settings)


def texts(replies: list[Activity]) -> list[str]:
    return [reply.text for reply in replies]
