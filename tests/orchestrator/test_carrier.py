"""The carrier conversation: reused for several outcomes, replaced when full, old, refused or throttled."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from contract import ORCHESTRATOR_SENDER
from orchestrator.carrier import MAX_AGE_SECONDS, MAX_REPLACEMENTS, RETRY_AFTER_CAP_SECONDS, CarrierConversations
from orchestrator.directline import DirectLineClient
from orchestrator.errors import DirectLineError
from tests.orchestrator.fake_directline import SECRET, FakeDirectLine, server_for

EVENT = {"type": "event", "name": "LongOperationResponse", "from": ORCHESTRATOR_SENDER, "value": {"a": 1}}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run(fake: FakeDirectLine, scenario: Callable[[DirectLineClient], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with server_for(fake) as server, aiohttp.ClientSession() as session:
            return await scenario(DirectLineClient(session, str(server.make_url("/v3/directline")), SECRET))

    return asyncio.run(main())


def starts(fake: FakeDirectLine) -> int:
    return sum(1 for r in fake.requests if r.path.endswith("/conversations"))


def posts(fake: FakeDirectLine) -> int:
    return sum(1 for r in fake.requests if r.method == "POST" and r.path.endswith("/activities"))


def test_one_conversation_carries_several_outcomes_and_names_the_sender_at_its_start() -> None:
    fake, carriers = FakeDirectLine(), CarrierConversations()

    async def scenario(client: DirectLineClient) -> None:
        for _ in range(3):
            await carriers.post(client, EVENT, ORCHESTRATOR_SENDER, 50)

    run(fake, scenario)
    assert (starts(fake), posts(fake)) == (1, 3)
    assert fake.requests[0].body == {"user": ORCHESTRATOR_SENDER}


@pytest.mark.parametrize(("per_conversation", "expected_starts"), [(1, 5), (2, 3), (5, 1)])
def test_a_full_conversation_is_replaced(per_conversation: int, expected_starts: int) -> None:
    fake, carriers = FakeDirectLine(), CarrierConversations()

    async def scenario(client: DirectLineClient) -> None:
        for _ in range(5):
            await carriers.post(client, EVENT, ORCHESTRATOR_SENDER, per_conversation)

    run(fake, scenario)
    assert (starts(fake), posts(fake)) == (expected_starts, 5)


def test_a_burst_of_outcomes_starts_one_conversation() -> None:
    fake, carriers = FakeDirectLine(), CarrierConversations()

    async def scenario(client: DirectLineClient) -> None:
        await asyncio.gather(*(carriers.post(client, EVENT, ORCHESTRATOR_SENDER, 50) for _ in range(20)))

    run(fake, scenario)
    assert (starts(fake), posts(fake)) == (1, 20)


def test_a_burst_larger_than_a_conversation_starts_the_conversations_it_needs_at_once() -> None:
    # The fake answers no start until all three have arrived: starts one after another would fail.
    fake, carriers = FakeDirectLine(starts_together=3), CarrierConversations()

    async def scenario(client: DirectLineClient) -> None:
        await asyncio.gather(*(carriers.post(client, EVENT, ORCHESTRATOR_SENDER, 2) for _ in range(6)))

    run(fake, scenario)
    assert (starts(fake), posts(fake)) == (3, 6)


def test_a_failed_start_fails_its_posts_and_the_next_post_starts_anew() -> None:
    fake = FakeDirectLine(failures={"start": (500, "ServiceError", "start failed")}, failure_budget={"start": 1})
    carriers = CarrierConversations()

    async def scenario(client: DirectLineClient) -> None:
        with pytest.raises(DirectLineError, match="start conversation failed: HTTP 500"):
            await carriers.post(client, EVENT, ORCHESTRATOR_SENDER, 50)
        await carriers.post(client, EVENT, ORCHESTRATOR_SENDER, 50)

    run(fake, scenario)
    assert (starts(fake), posts(fake)) == (2, 1)


def test_an_old_conversation_is_replaced() -> None:
    fake, clock = FakeDirectLine(), Clock()
    carriers = CarrierConversations(clock)

    async def scenario(client: DirectLineClient) -> None:
        await carriers.post(client, EVENT, ORCHESTRATOR_SENDER, 50)
        clock.now += MAX_AGE_SECONDS - 1
        await carriers.post(client, EVENT, ORCHESTRATOR_SENDER, 50)
        clock.now += 1
        await carriers.post(client, EVENT, ORCHESTRATOR_SENDER, 50)

    run(fake, scenario)
    assert (starts(fake), posts(fake)) == (2, 3)


def test_another_endpoint_or_secret_gets_its_own_conversation() -> None:
    fake, carriers = FakeDirectLine(), CarrierConversations()

    async def scenario(client: DirectLineClient) -> None:
        await carriers.post(client, EVENT, ORCHESTRATOR_SENDER, 50)
        # Same server, another secret: the fake refuses it, so the start fails rather than a post on the old one.
        other = DirectLineClient(client._session, client._endpoint, "another-secret")
        with pytest.raises(DirectLineError, match="start conversation failed: HTTP 401"):
            await carriers.post(other, EVENT, ORCHESTRATOR_SENDER, 50)

    run(fake, scenario)
    assert (starts(fake), posts(fake)) == (2, 1)


@pytest.mark.parametrize("status", [403, 404])
def test_a_reused_conversation_that_is_refused_is_replaced_at_once(status: int) -> None:
    fake, carriers = FakeDirectLine(), CarrierConversations()

    async def scenario(client: DirectLineClient) -> str:
        await carriers.post(client, EVENT, ORCHESTRATOR_SENDER, 50)
        fake.failures["post"] = (status, "BadArgument", "Conversation not found")
        fake.failure_budget["post"] = 1
        _, activity_id = await carriers.post(client, EVENT, ORCHESTRATOR_SENDER, 50)
        return activity_id

    assert run(fake, scenario).endswith("|0000001")
    assert (starts(fake), posts(fake)) == (2, 3)


def test_a_fresh_conversation_that_is_refused_goes_to_the_retry_policy() -> None:
    fake = FakeDirectLine(failures={"post": (404, "BadArgument", "Conversation not found")})
    carriers = CarrierConversations()

    async def scenario(client: DirectLineClient) -> None:
        with pytest.raises(DirectLineError, match="HTTP 404"):
            await carriers.post(client, EVENT, ORCHESTRATOR_SENDER, 50)

    run(fake, scenario)
    assert (starts(fake), posts(fake)) == (1, 1)


def test_a_bot_failure_is_not_retried_here_and_the_next_attempt_starts_anew() -> None:
    fake, carriers = FakeDirectLine(), CarrierConversations()

    async def scenario(client: DirectLineClient) -> None:
        await carriers.post(client, EVENT, ORCHESTRATOR_SENDER, 50)
        fake.failures["post"] = (502, "BotRejectedActivity", "bot answered 500")
        fake.failure_budget["post"] = 1
        with pytest.raises(DirectLineError, match="HTTP 502"):
            await carriers.post(client, EVENT, ORCHESTRATOR_SENDER, 50)
        await carriers.post(client, EVENT, ORCHESTRATOR_SENDER, 50)

    run(fake, scenario)
    assert (starts(fake), posts(fake)) == (2, 3)


class RecordedSleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.mark.parametrize("reused", [False, True])
@pytest.mark.parametrize("retry_after", [None, "7"])
def test_a_throttled_post_moves_to_a_new_conversation_at_once(reused: bool, retry_after: str | None) -> None:
    fake, sleeps = FakeDirectLine(), RecordedSleeps()
    carriers = CarrierConversations(sleep=sleeps)

    async def scenario(client: DirectLineClient) -> str:
        if reused:
            await carriers.post(client, EVENT, ORCHESTRATOR_SENDER, 50)
        fake.failures["post"] = (429, "Throttled", "too many requests")
        fake.failure_headers["post"] = {} if retry_after is None else {"Retry-After": retry_after}
        fake.failure_budget["post"] = 1
        _, activity_id = await carriers.post(client, EVENT, ORCHESTRATOR_SENDER, 50)
        return activity_id

    assert run(fake, scenario).endswith("|0000001")
    assert sleeps.waits == []
    assert (starts(fake), posts(fake)) == ((2, 3) if reused else (2, 2))


def test_new_conversations_carry_no_more_posts_than_a_throttled_one_let_through_for_a_while() -> None:
    fake, clock = FakeDirectLine(), Clock()
    carriers = CarrierConversations(clock)

    async def scenario(client: DirectLineClient) -> None:
        for _ in range(3):
            await carriers.post(client, EVENT, ORCHESTRATOR_SENDER, 50)
        fake.failures["post"] = (429, "Throttled", "too many requests")
        fake.failure_budget["post"] = 1
        for _ in range(6):  # the 4th post is refused and moves: 3 let through, so 3 per conversation from now on
            await carriers.post(client, EVENT, ORCHESTRATOR_SENDER, 50)
        assert (starts(fake), posts(fake)) == (3, 10)
        clock.now += MAX_AGE_SECONDS  # forgotten with the carriers of its time
        for _ in range(5):
            await carriers.post(client, EVENT, ORCHESTRATOR_SENDER, 50)

    run(fake, scenario)
    assert (starts(fake), posts(fake)) == (4, 15)


def test_a_post_throttled_on_every_new_conversation_waits_retry_after_once_then_fails() -> None:
    fake, sleeps = FakeDirectLine(), RecordedSleeps()
    carriers = CarrierConversations(sleep=sleeps)
    fake.failures["post"] = (429, "Throttled", "too many requests")
    fake.failure_headers["post"] = {"Retry-After": "7"}

    async def scenario(client: DirectLineClient) -> None:
        with pytest.raises(DirectLineError) as failed:
            await carriers.post(client, EVENT, ORCHESTRATOR_SENDER, 50)
        assert str(failed.value) == "Direct Line post activity failed: HTTP 429, code Throttled, too many requests"

    run(fake, scenario)
    assert sleeps.waits == [7.0]
    # The first conversation, MAX_REPLACEMENTS new ones, and one more after the wait: each refused once.
    assert (starts(fake), posts(fake)) == (MAX_REPLACEMENTS + 2, MAX_REPLACEMENTS + 2)


def test_a_throttled_post_asking_for_longer_than_the_cap_fails_without_waiting() -> None:
    fake, sleeps = FakeDirectLine(), RecordedSleeps()
    carriers = CarrierConversations(sleep=sleeps)
    fake.failures["post"] = (429, "Throttled", "too many requests")
    fake.failure_headers["post"] = {"Retry-After": str(int(RETRY_AFTER_CAP_SECONDS) + 90)}

    async def scenario(client: DirectLineClient) -> None:
        with pytest.raises(DirectLineError) as failed:
            await carriers.post(client, EVENT, ORCHESTRATOR_SENDER, 50)
        assert str(failed.value) == ("Direct Line post activity failed: HTTP 429, code Throttled, Retry-After 120 s "
                                     "is longer than 30 s")

    run(fake, scenario)
    assert sleeps.waits == []
    assert (starts(fake), posts(fake)) == (MAX_REPLACEMENTS + 1, MAX_REPLACEMENTS + 1)
