"""Issue 15: two bot instances behind HAProxy on one SQLite state file (``devhost up --bots 2``), as real processes.

Races are made by posting to the instances directly (``StackConfig.instance_url``), both at once: the same outcome
event to each, as a Direct Line retry or a duplicated notify could; the outcome to one and the user's "cancel" to the
other. Whatever the order the conversation lease lets them run in, the user sees one ending. An instance SIGKILLed
mid-turn, holding its conversation's lease, is replaced by the other once the lease lapses, in a SQLite file and in a
Blob container (Azurite) alike.
"""

import asyncio
import json
import os
import signal
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from azure.storage.blob.aio import BlobClient

from bot.blob_coordination import CLAIM_PREFIX, LEASE_PREFIX
from bot.blob_storage import blob_name
from contract import ORCHESTRATOR_SENDER, Outcome, OutcomeEvent, OutcomeStatus, Routing, sign_outcome
from devhost.chat import BotRejected, BotUnreachable, Conversation
from devhost.connector_faults import FaultKind
from orchestrator.directline import DirectLineClient
from tests.bot.azurite import running_azurite
from tests.faults.harness import (
    CHOOSE,
    ONE_MOMENT,
    RESULT_1,
    WAIT,
    FaultStack,
    count,
    log_lines,
    poll,
    running_stack,
)

# Slow (whole-system runs, headless Chromium, several processes): `make pytest-slow`, which CI runs too.
pytestmark = pytest.mark.slow

RESULT = "(a result posted by the test)"
DELIVERED = f"Thanks for waiting. {RESULT}"
CANCELLED = "Cancelled the long operation: option 1."
# Operations far longer than the test: the outcomes are the test's own.
LONG = {"OperationSeconds": "600", "OperationSteps": "300", "OperationTimeoutSeconds": "900"}


class Instances:
    """Posts to one bot instance, bypassing the balancer, as Direct Line and the Emulator post to the bot."""

    def __init__(self, faults: FaultStack) -> None:
        self.faults = faults
        self.config = faults.config
        secrets = faults.stack.secrets
        self.signing_key = secrets.signing_key
        self.directline = DirectLineClient(faults.session, self.config.directline_url, secrets.directline_secret)

    async def post(self, name: str, activity: dict[str, Any], timeout: float | None = None) -> int:  # noqa: ASYNC109
        """The instance's answer; ``timeout`` for a turn that may wait out another instance's lease (up to twice
        ConversationLeaseSeconds: longer than the session's 10 s with Blob's 15 s minimum)."""
        # No ``timeout`` argument at all keeps the session's: aiohttp reads an explicit None as "no timeout".
        limit = {} if timeout is None else {"timeout": aiohttp.ClientTimeout(total=timeout)}
        async with self.faults.session.post(f"{self.config.instance_url(name)}/api/messages", json=activity,
                                            **limit) as answer:
            return answer.status

    async def outcome_event(self, instance_id: str, conversation: Conversation) -> dict[str, Any]:
        """A genuine outcome event for the user's operation, as Direct Line forwards notify_bot's post to the bot:
        in a Direct Line conversation of its own (where a receipt would go), signed with the stack's key."""
        status = await self.faults.status(instance_id)
        plan = status["input"]
        continuation: dict[str, Any] = (json.loads(plan) if isinstance(plan, str) else plan)["continuation"]
        outcome = Outcome(instance_id, conversation.id, OutcomeStatus.COMPLETED, RESULT)
        signed = sign_outcome(outcome, Routing.of(continuation), self.signing_key)
        carrier = await self.directline.start_conversation(ORCHESTRATOR_SENDER)
        directline_root = self.config.directline_url.removesuffix("v3/directline")
        return {
            **OutcomeEvent(continuation, signed).to_json(),
            "id": f"{carrier.conversation_id}|0000001",
            "channelId": "directline",
            "serviceUrl": directline_root,
            "conversation": {"id": carrier.conversation_id},
            "recipient": {"id": "bot", "role": "bot"},
        }


def bot_log(faults: FaultStack, name: str) -> str:
    return "\n".join(log_lines(faults.stack, name))


def turns_served(faults: FaultStack, name: str) -> int:
    return bot_log(faults, name).count('"POST /api/messages HTTP/1.1"')


def test_two_instances_behind_haproxy_serve_one_conversation_in_turn_round_robin(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_stack(tmp_path, {"OperationSeconds": "1", "OperationSteps": "1"}, bots=2) as faults:
            conversation = await faults.user_at_choice()
            await conversation.say("option 1")
            await conversation.wait_for_text(RESULT_1, WAIT)
            await conversation.wait_for_text(CHOOSE, WAIT)
            # conversationUpdate, "hi", "option 1" and the outcome event: round robin gives each instance some.
            assert turns_served(faults, "bot-1") >= 1 and turns_served(faults, "bot-2") >= 1
            assert count(conversation, RESULT_1) == 1

    asyncio.run(scenario())


@pytest.mark.parametrize("store", ["sqlite", "blob"])
def test_one_outcome_delivered_to_both_instances_at_once_shows_one_message(tmp_path: Path, store: str) -> None:
    async def scenario(settings: dict[str, str]) -> None:
        async with running_stack(tmp_path, settings, bots=2) as faults:
            instances = Instances(faults)
            users = [await faults.user_waiting("option 1") for _ in range(3)]
            for conversation, instance_id in users:
                event = await instances.outcome_event(instance_id, conversation)
                statuses = await asyncio.gather(instances.post("bot-1", event), instances.post("bot-2", event))
                # Each post answers once its turn is over: the delivering one 201; the other 201 too when it found
                # the outcome delivered, or 503 when it met the claim in flight (notify_bot would retry it).
                assert all(status in (201, 503) for status in statuses), statuses
                assert 201 in statuses, statuses
                # The delivering turn posted its messages to the chat before its post answered.
                assert conversation.bot_texts()[-2:] == [DELIVERED, CHOOSE], conversation.bot_texts()
                # Direct Line's retry of the same event, through the balancer, adds nothing either.
                carrier = await instances.directline.start_conversation(ORCHESTRATOR_SENDER)
                await instances.directline.post_activity(carrier, OutcomeEvent.from_value(event["value"]).to_json())
            for conversation, _ in users:
                assert count(conversation, DELIVERED) == 1, conversation.bot_texts()
                assert conversation.bot_texts()[-2:] == [DELIVERED, CHOOSE]

    if store == "sqlite":
        asyncio.run(scenario(LONG))
        return
    # The instances share a container on Azurite: blob leases and claims.
    with running_azurite(tmp_path / "azurite") as azurite:
        asyncio.run(scenario({**LONG, "BotStateStore": "blob:bot-state",
                              "BotStateConnection": azurite.connection_string()}))


@pytest.mark.parametrize("store", ["sqlite", "blob"])
def test_cancel_on_one_instance_racing_the_outcome_on_the_other_ends_the_operation_once(
        tmp_path: Path, store: str) -> None:
    async def scenario(settings: dict[str, str]) -> None:
        async with running_stack(tmp_path, settings, bots=2) as faults:
            instances = Instances(faults)
            endings: list[str] = []
            for _ in range(3):
                conversation, instance_id = await faults.user_waiting("option 1")
                event = await instances.outcome_event(instance_id, conversation)
                cancel = conversation.stamp({"type": "message", "text": "cancel"})
                # Both posts answer once their turns are over, and a turn posts its replies to the chat within it:
                # everything either turn sent has arrived (shown, or held as Web Chat holds a reply to an activity
                # it has not seen: the cancel was not typed in this chat).
                await asyncio.gather(instances.post("bot-1", event), instances.post("bot-2", cancel))
                received = {activity["id"]: activity.get("text")
                            for activity in [*conversation.bot_activities, *conversation.held]}
                shown = [text for text in received.values() if text in (DELIVERED, CANCELLED)]
                assert len(shown) == 1, list(received.values())
                endings.append(str(shown[0]))
            assert set(endings) <= {DELIVERED, CANCELLED}

    if store == "sqlite":
        asyncio.run(scenario(LONG))
        return
    with running_azurite(tmp_path / "azurite") as azurite:
        asyncio.run(scenario({**LONG, "BotStateStore": "blob:bot-state",
                              "BotStateConnection": azurite.connection_string()}))


def lease_holder(faults: FaultStack, conversation: Conversation) -> str | None:
    """The instance ("host:pid") holding the conversation's lease in the shared SQLite file, if any."""
    path = faults.config.state_store.removeprefix("sqlite:")
    with sqlite3.connect(path, timeout=10) as db:
        row = db.execute("SELECT instance FROM bot_lease WHERE key = ?",
                         (f"{conversation.channel_id}/{conversation.id}",)).fetchone()
    return None if row is None else str(row[0])


def test_an_instance_killed_mid_turn_holding_the_lease_is_replaced_by_the_other_once_the_lease_lapses(
        tmp_path: Path) -> None:
    async def scenario() -> None:
        settings = {"OperationSeconds": "1", "OperationSteps": "1", "ConversationLeaseSeconds": "3",
                    "OperationsTimeout": "14"}
        async with running_stack(tmp_path, settings, bots=2) as faults:
            conversation = await faults.user_at_choice()
            functions = faults.stack.processes["functions"]
            # The functions host stops answering, so the "option 1" turn waits for the starter, holding the lease.
            os.killpg(functions.pid, signal.SIGSTOP)
            try:
                stuck = asyncio.create_task(conversation.say("option 1"))
                holder = await poll(lambda: _value(lease_holder(faults, conversation)), lambda: "a lease holder")
                pids = {str(faults.stack.processes[name].pid): name for name in faults.config.bot_names}
                victim = pids[holder.rpartition(":")[2]]
                survivor = next(name for name in faults.config.bot_names if name != victim)
                faults.stack.kill(victim)
                try:
                    await stuck
                    raise AssertionError("the turn of a killed instance must fail")
                except (BotRejected, BotUnreachable):
                    pass  # HAProxy answers 502: the instance died under the request
            finally:
                os.killpg(functions.pid, signal.SIGCONT)
            # The user tries again; the balancer sends it to the survivor, which waits out the lapsed lease.
            mark = len(log_lines(faults.stack, survivor))
            await conversation.say("option 1")
            await conversation.wait_for_text(ONE_MOMENT, WAIT)
            await conversation.wait_for_text(RESULT_1, WAIT)
            taken_over = [line for line in log_lines(faults.stack, survivor)[mark:]
                          if f"conversation lease taken over from {holder}, whose lease lapsed" in line]
            assert taken_over, bot_log(faults, survivor)[-3000:]
            assert count(conversation, RESULT_1) == 1

    asyncio.run(scenario())


async def claim_in_flight(faults: FaultStack, instance_id: str, blob_connection: str | None) -> bool:
    """Whether the outcome's claim in the shared store is held and not settled (bot/outcome_claims.py): a row of the
    SQLite file, or the container's ``claims/`` blob, whose ``expires`` is null once settled."""
    if blob_connection is None:
        path = faults.config.state_store.removeprefix("sqlite:")
        with sqlite3.connect(path, timeout=10) as db:
            row = db.execute("SELECT expires FROM bot_outcome_claim WHERE instance_id = ?", (instance_id,)).fetchone()
        return row is not None and row[0] is not None
    container = faults.config.state_store.removeprefix("blob:")
    async with BlobClient.from_connection_string(blob_connection, container,
                                                 CLAIM_PREFIX + blob_name(instance_id)) as blob:
        record = json.loads(await (await blob.download_blob()).readall())
    return record["expires"] is not None


@pytest.mark.parametrize("store", ["sqlite", "blob"])
def test_an_instance_killed_between_the_outcomes_send_and_its_settle_leaves_it_shown_again_never_lost(
        tmp_path: Path, store: str) -> None:
    # bot-1 sends the result and dies before it hears back: the channel stores the message and loses its answer
    # ("lost"), and bot-1 is killed while it waits, well within its ProactiveSendTimeout. Its claim is never settled
    # nor released, so when notify_bot's retry reaches bot-2 it is deferred until the claim lapses
    # (ConversationLeaseSeconds + 2 x ProactiveSendTimeout), then delivered: the result twice, by design never zero.
    async def scenario(settings: dict[str, str], blob_connection: str | None) -> None:
        async with running_stack(tmp_path, {**LONG, "ProactiveSendTimeout": "7", **settings}, bots=2) as faults:
            instances = Instances(faults)
            conversation, instance_id = await faults.user_waiting("option 1")
            event = await instances.outcome_event(instance_id, conversation)
            faults.chat.faults.inject(FaultKind.LOST, conversation_id=conversation.id)
            doomed = asyncio.create_task(instances.post("bot-1", event))
            await conversation.wait_for_text(DELIVERED, WAIT)
            faults.stack.kill("bot-1")
            with pytest.raises(aiohttp.ClientError):
                await doomed  # the instance died under the request
            assert await claim_in_flight(faults, instance_id, blob_connection)
            assert conversation.bot_texts()[-2:] == [ONE_MOMENT, DELIVERED]

            # notify_bot's retries, through bot-2: deferred (503) while the dead delivery's claim is live.
            answers: list[int] = []

            async def delivered() -> bool:
                answers.append(await instances.post("bot-2", event, timeout=WAIT))
                if answers[-1] != 201:
                    await asyncio.sleep(0.5)  # notify_bot backs off between attempts
                return answers[-1] == 201

            await poll(delivered, lambda: f"bot-2 to deliver the outcome; it answered {answers}", timeout=3 * WAIT)
            assert answers[0] == 503 and set(answers[:-1]) == {503}, answers
            log = bot_log(faults, "bot-2")
            assert "another delivery of this outcome is in flight (another bot instance)" in log, log[-3000:]
            assert conversation.bot_texts()[-4:] == [ONE_MOMENT, DELIVERED, DELIVERED, CHOOSE]
            assert not await claim_in_flight(faults, instance_id, blob_connection)

    if store == "sqlite":
        asyncio.run(scenario({"ConversationLeaseSeconds": "3"}, None))
        return
    with running_azurite(tmp_path / "azurite") as azurite:
        connection = azurite.connection_string()
        asyncio.run(scenario({"ConversationLeaseSeconds": str(BLOB_LEASE_SECONDS), "BotStateStore": "blob:bot-state",
                              "BotStateConnection": connection}, connection))


BLOB_LEASE_SECONDS = 15  # Azure's shortest blob lease


async def blob_lease_state(connection: str, container: str, conversation: Conversation) -> str:
    """The Azure lease state (available, leased, expired, breaking, broken) of the conversation's lease blob."""
    key = f"{conversation.channel_id}/{conversation.id}"
    async with BlobClient.from_connection_string(connection, container, LEASE_PREFIX + blob_name(key)) as blob:
        properties = await blob.get_blob_properties()
    return str(properties.lease.state)


def test_an_instance_killed_mid_turn_holding_a_blob_lease_is_replaced_by_the_other_once_the_lease_lapses(
        tmp_path: Path) -> None:
    # A blob lease does not say whose it is, so the doomed turn is posted to bot-1 directly (bypassing the balancer).
    async def scenario(connection: str) -> None:
        settings = {"OperationSeconds": "1", "OperationSteps": "1", "OperationsTimeout": "14",
                    "ConversationLeaseSeconds": str(BLOB_LEASE_SECONDS),
                    "BotStateStore": "blob:bot-state", "BotStateConnection": connection}
        async with running_stack(tmp_path, settings, bots=2) as faults:
            instances = Instances(faults)
            conversation = await faults.user_at_choice()
            functions = faults.stack.processes["functions"]
            loop = asyncio.get_running_loop()
            # The functions host stops answering, so bot-1's "option 1" turn waits for the starter, holding the lease.
            os.killpg(functions.pid, signal.SIGSTOP)
            try:
                posted_at = loop.time()
                stuck = asyncio.create_task(
                    instances.post("bot-1", conversation.stamp({"type": "message", "text": "option 1"})))

                async def leased() -> bool:
                    return await blob_lease_state(connection, "bot-state", conversation) == "leased"

                await poll(leased, lambda: "bot-1's turn holding the conversation's blob lease")
                faults.stack.kill("bot-1")
                with pytest.raises(aiohttp.ClientError):
                    await stuck  # the instance died under the request
                # Nothing released it: the dead instance's lease is still live.
                assert await blob_lease_state(connection, "bot-state", conversation) == "leased"
            finally:
                os.killpg(functions.pid, signal.SIGCONT)
            # The user tries again; the balancer sends it to bot-2, which waits out the lapsed lease.
            mark = len(log_lines(faults.stack, "bot-2"))
            await conversation.say("option 1")
            await conversation.wait_for_text(ONE_MOMENT, WAIT)
            # Azure lets a lease go no sooner than its duration after it was acquired, which was after the post.
            assert loop.time() - posted_at >= BLOB_LEASE_SECONDS - 1
            await conversation.wait_for_text(RESULT_1, WAIT)
            taken_over = [line for line in log_lines(faults.stack, "bot-2")[mark:]
                          if "conversation lease taken over from another instance, whose lease lapsed" in line]
            assert taken_over, bot_log(faults, "bot-2")[-3000:]
            assert count(conversation, RESULT_1) == 1
            assert count(conversation, ONE_MOMENT) == 1

    with running_azurite(tmp_path / "azurite") as azurite:
        asyncio.run(scenario(azurite.connection_string()))


async def _value(value: str | None) -> str | None:
    return value
