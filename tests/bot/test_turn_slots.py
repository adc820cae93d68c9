"""Turn slots: bounded turns in arrival order, slots given back on the network, resumers first, nothing leaked."""

import asyncio

import pytest

from bot.errors import SettingsError
from bot.settings import BotSettings
from bot.turn_slots import TurnSlots, network_wait


async def settle() -> None:
    """Let every ready task run until all of them wait on something."""
    for _ in range(20):
        await asyncio.sleep(0)


def test_at_most_the_limit_compute_at_once_and_the_rest_start_in_arrival_order() -> None:
    async def scenario() -> None:
        slots = TurnSlots(2)
        release = asyncio.Event()
        started: list[int] = []

        async def turn(n: int) -> None:
            async with slots.turn():
                started.append(n)
                await release.wait()

        tasks = [asyncio.ensure_future(turn(n)) for n in range(5)]
        await settle()
        assert started == [0, 1]
        assert (slots.busy, slots.waiting) == (2, 3)
        release.set()
        await asyncio.gather(*tasks)
        assert started == [0, 1, 2, 3, 4]
        assert (slots.busy, slots.waiting) == (0, 0)

    asyncio.run(scenario())


def test_a_turn_waiting_on_the_network_lends_its_slot_and_gets_one_back_before_new_turns() -> None:
    async def scenario() -> None:
        slots = TurnSlots(1)
        answer = asyncio.Event()
        log: list[str] = []
        hold_b = asyncio.Event()

        async def a() -> None:
            async with slots.turn():
                log.append("a computes")
                async with network_wait():
                    await answer.wait()
                log.append("a resumes")

        async def b() -> None:
            async with slots.turn():
                log.append("b computes")
                await hold_b.wait()

        async def c() -> None:
            async with slots.turn():
                log.append("c computes")

        task_a = asyncio.ensure_future(a())
        await settle()
        task_b = asyncio.ensure_future(b())
        await settle()
        assert log == ["a computes", "b computes"]  # a's slot went to b while a waited
        task_c = asyncio.ensure_future(c())
        await settle()
        answer.set()
        await settle()
        hold_b.set()
        await asyncio.gather(task_a, task_b, task_c)
        # a came back from the network before c, which had not started yet, although c queued first.
        assert log == ["a computes", "b computes", "a resumes", "c computes"]

    asyncio.run(scenario())


def test_a_child_task_cannot_give_away_its_parents_slot() -> None:
    async def scenario() -> None:
        slots = TurnSlots(1)
        entered: list[str] = []

        async def child() -> None:
            async with network_wait():  # inherits the parent's context, but does not own the slot
                await asyncio.sleep(0)

        async def parent() -> None:
            async with slots.turn():
                await asyncio.ensure_future(child())
                entered.append("parent still alone")
                await settle()

        async def other() -> None:
            async with slots.turn():
                entered.append("other")

        first = asyncio.ensure_future(parent())
        await settle()
        second = asyncio.ensure_future(other())
        await asyncio.gather(first, second)
        assert entered == ["parent still alone", "other"]
        assert slots.busy == 0

    asyncio.run(scenario())


def test_network_wait_outside_a_turn_and_a_nested_turn_are_harmless() -> None:
    async def scenario() -> None:
        slots = TurnSlots(1)
        async with network_wait():
            pass
        async with slots.turn(), slots.turn():  # the inner turn keeps the slot the outer one has
            assert slots.busy == 1
        assert slots.busy == 0

    asyncio.run(asyncio.wait_for(scenario(), 10))


def test_a_turn_cancelled_while_waiting_for_a_slot_leaks_nothing() -> None:
    async def scenario() -> None:
        slots = TurnSlots(1)
        gate = asyncio.Event()

        async def turn() -> None:
            async with slots.turn():
                await gate.wait()

        holder = asyncio.ensure_future(turn())
        await settle()
        queued = asyncio.ensure_future(turn())
        await settle()
        queued.cancel()
        gate.set()
        await asyncio.gather(holder, queued, return_exceptions=True)
        assert (slots.busy, slots.waiting) == (0, 0)

    asyncio.run(asyncio.wait_for(scenario(), 10))


def test_a_turn_cancelled_while_on_the_network_leaks_nothing() -> None:
    async def scenario() -> None:
        slots = TurnSlots(1)
        gate = asyncio.Event()

        async def networked() -> None:
            async with slots.turn(), network_wait():
                await asyncio.Event().wait()

        async def computing() -> None:
            async with slots.turn():
                await gate.wait()

        on_network = asyncio.ensure_future(networked())
        await settle()
        holder = asyncio.ensure_future(computing())  # takes the slot the networked turn lent
        await settle()
        on_network.cancel()  # it must get a slot back before unwinding, then give it up
        await settle()
        gate.set()
        await asyncio.gather(on_network, holder, return_exceptions=True)
        assert on_network.cancelled()
        assert (slots.busy, slots.waiting) == (0, 0)

    asyncio.run(asyncio.wait_for(scenario(), 10))


def test_the_limit_is_checked() -> None:
    with pytest.raises(ValueError, match="1-1024"):
        TurnSlots(0)


@pytest.mark.parametrize("value", ["0", "1025", "eight"])
def test_max_concurrent_turns_setting_is_validated_by_name(value: str) -> None:
    with pytest.raises(SettingsError, match="MaxConcurrentTurns"):
        BotSettings.from_env({"OperationSigningKey": "k" * 32, "MaxConcurrentTurns": value})


def test_max_concurrent_turns_defaults_to_eight_and_can_be_set() -> None:
    assert BotSettings.from_env({"OperationSigningKey": "k" * 32}).max_concurrent_turns == 8
    settings = BotSettings.from_env({"OperationSigningKey": "k" * 32, "MaxConcurrentTurns": "32"})
    assert settings.max_concurrent_turns == 32
