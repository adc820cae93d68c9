"""The whole stack with one chat client on one event loop, plus what the fault tests read: durable status, logs.

Every fault test kills or stops real child processes (``Stack.kill``/``stop``/``start``) and then checks, over
loopback, what the user saw (the chat client's transcript), what the Durable status API says and what the bot logged.
Waits poll a condition with a generous bound; nothing sleeps to wait for something.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from contract import instance_id_prefix
from devhost.addresses import free_ports
from devhost.chat import ChatClient, ChatConfig, Conversation
from devhost.stack import Stack
from tests.e2e.stack_fixture import stack_config

T = TypeVar("T")

# Generous bounds: a loaded 2-core CI machine restarts a Python process in a few seconds.
WAIT = 60.0
POLL = 0.05
CHOOSE = "Please select a long operation test option."
ONE_MOMENT = "...one moment please...."
RESULT_1 = "Thanks for waiting. (Result for long operation one!)"


class FaultStack:
    """A ``Stack`` and a ``ChatClient`` on the test's event loop: ``async with running_stack(...) as faults``."""

    def __init__(self, stack: Stack, chat: ChatClient, session: aiohttp.ClientSession) -> None:
        self.stack = stack
        self.config = stack.config
        self.chat = chat
        self.session = session

    # --- the user ------------------------------------------------------------------------------------------

    async def user_at_choice(self) -> Conversation:
        conversation = await self.chat.start_conversation()
        await conversation.say("hi")
        await conversation.wait_for_text(CHOOSE, WAIT)
        return conversation

    async def user_waiting(self, option: str = "option 1") -> tuple[Conversation, str]:
        """A user whose operation runs; returns the conversation and the operation's instance id."""
        conversation = await self.user_at_choice()
        await conversation.say(option)
        await conversation.wait_for_text(ONE_MOMENT, WAIT)
        instances = await self.instances(conversation)
        assert len(instances) == 1, instances
        return conversation, str(instances[0]["instanceId"])

    # --- the Durable status API (it takes the functions host's durabletask system key) ---------------------

    @property
    def durable_url(self) -> str:
        return f"{self.config.functions_url}/runtime/webhooks/durabletask/instances"

    async def instances(self, conversation: Conversation) -> list[dict[str, Any]]:
        return await self.instances_of(conversation.channel_id, conversation.id)

    async def instances_of(self, channel_id: str, conversation_id: str) -> list[dict[str, Any]]:
        """The operations of one conversation (of any channel), from the status API."""
        prefix = instance_id_prefix(channel_id, conversation_id)
        async with self.session.get(f"{self.durable_url}/", params={"instanceIdPrefix": prefix},
                                    headers=self.stack.durable_headers) as response:
            assert response.status == 200, await response.text()
            found: list[dict[str, Any]] = await response.json()
            return found

    async def status(self, instance_id: str, *, history: bool = False) -> dict[str, Any]:
        params = {"showInput": "true"}
        if history:
            params.update(showHistory="true", showHistoryOutput="true")
        async with self.session.get(f"{self.durable_url}/{instance_id}", params=params,
                                    headers=self.stack.durable_headers) as response:
            assert response.status in (200, 202), await response.text()
            found: dict[str, Any] = await response.json()
            return found

    async def wait_for_status(
        self, instance_id: str, predicate: Callable[[dict[str, Any]], bool], what: str, *, history: bool = False
    ) -> dict[str, Any]:
        """Poll the status API until ``predicate`` holds; the functions host may be restarting meanwhile."""
        last: object = None

        async def check() -> dict[str, Any] | None:
            nonlocal last
            try:
                last = await self.status(instance_id, history=history)
            except (aiohttp.ClientError, TimeoutError) as error:
                last = error
                return None
            return last if predicate(last) else None

        return await poll(check, lambda: f"{instance_id}: {what} (last seen: {last!r})")

    async def wait_for_failed_notify(self, instance_id: str) -> dict[str, Any]:
        """Until the history shows a failed ``notify_bot`` attempt: proof the outcome met the outage."""
        return await self.wait_for_status(
            instance_id, lambda status: failed_notify_attempts(status) > 0, "a failed notify_bot attempt", history=True
        )


def failed_notify_attempts(status: dict[str, Any]) -> int:
    """How many ``notify_bot`` attempts the (condensed) history shows as failed."""
    return sum(
        1 for event in status.get("historyEvents") or []
        if event.get("EventType") == "TaskFailed" and event.get("FunctionName") == "notify_bot"
    )


async def poll(
    check: Callable[[], Awaitable[T | None]], what: Callable[[], str], timeout: float = WAIT  # noqa: ASYNC109
) -> T:
    """``check()`` until it returns something; ``what()`` describes the wait when it times out."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = await check()
        if found is not None and found is not False:
            return found
        if loop.time() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what()}")
        await asyncio.sleep(POLL)


async def wait_for_bot_warning(faults: FaultStack, *fragments: str, since_line: int = 0) -> str:
    """The first warning in the bot's log (from line ``since_line``) that holds every fragment."""

    async def check() -> str | None:
        lines = log_lines(faults.stack, "bot")[since_line:]
        return next((line for line in lines if all(f in line for f in ("WARNING", *fragments))), None)

    return await poll(check, lambda: f"a bot log warning with {fragments}")


def runtime_status_is(*wanted: str) -> Callable[[dict[str, Any]], bool]:
    return lambda status: status.get("runtimeStatus") in wanted


def count(conversation: Conversation, text: str) -> int:
    return conversation.bot_texts().count(text)


def log_lines(stack: Stack, part: str) -> list[str]:
    path = stack.log_path(part)
    assert path is not None, "the fault stacks log to files"
    if not path.exists():
        return []
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


@asynccontextmanager
async def running_stack(data_dir: Path, settings: Mapping[str, str], *, auth: bool = False, bots: int = 1
                        ) -> AsyncIterator[FaultStack]:
    """A fresh stack per test (it starts in about a second), so a test's faults cannot leak into the next one.
    With ``auth``, Bot Framework authentication end to end (``devhost up --auth``), the chat as the Emulator with the
    bot's credentials. With ``bots`` above 1, that many bot instances behind the balancer (``devhost up --bots``)."""
    config = stack_config(data_dir, settings, auth=auth)
    if bots > 1:
        taken = {config.functions_port, config.bot_port, config.directline_port, config.identity_port}
        config = replace(config, bots=bots, bot_instance_ports=tuple(free_ports(bots, avoid=taken)))
    timeout = aiohttp.ClientTimeout(total=10)
    stack = Stack(config)
    emulator = None if stack.auth is None else stack.auth.emulator_auth()
    # The chat client outlives the stack: a bot still replying while the test ends must find its user there
    # (else botbuilder's connector retries for seconds against a closed port).
    async with (
        ChatClient(ChatConfig(bot_url=config.messages_url, auth=emulator)) as chat,
        aiohttp.ClientSession(timeout=timeout) as session,
        stack,
    ):
        yield FaultStack(stack, chat, session)
