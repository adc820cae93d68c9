"""Simulated users speaking the Emulator protocol (devhost.chat): the load of ``python -m bench system``.

Every user first gets to the choice prompt (set-up, not measured, with bounded concurrency), then all users act
at once (or, with a ramp, at evenly spaced moments within it), so N users means N operations in flight together as
long as the ramp is shorter than an operation. Arrival times come from a transcript listener, called
when the chat client's Bot Connector route receives the bot's activity, not when a waiter wakes up.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from bench.accounting import is_outcome_text
from bench.workload import Answer, ChosenOperation, seen
from bot.texts import ONE_MOMENT
from devhost.chat import ChatClient, Conversation
from devhost.chat.conversation import TranscriptEntry

SETUP_CONCURRENCY = 50


# Arrival times are monotonic; an operation's start comes from the host's wall clock. Measured once per process:
# the load generator's runs last seconds, far too short for clock slewing to matter at millisecond resolution.
_WALL_MINUS_MONOTONIC = time.time() - time.monotonic()


def wall_clock(monotonic: float) -> float:
    """A ``time.monotonic()`` reading as epoch seconds, to compare with the host's timestamps."""
    return monotonic + _WALL_MINUS_MONOTONIC


@dataclass
class Arrivals:
    """The bot's messages in one conversation with their arrival times (monotonic seconds), each as the user sees
    it (its text and any cards, bench/workload.py ``seen``)."""

    messages: list[tuple[float, str]] = field(default_factory=list)

    def listener(self, entry: TranscriptEntry) -> None:
        activity = entry.activity
        if entry.sender == "bot" and entry.change == "new" and activity.get("type") == "message":
            self.messages.append((time.monotonic(), seen(activity.get("text") or "", activity.get("attachments"))))

    def first(self, predicate: Callable[[str], bool], after: float) -> float | None:
        return next((t for t, text in self.messages if t >= after and predicate(text)), None)

    def outcome_texts(self) -> list[str]:
        return [text for _, text in self.messages if is_outcome_text(text)]


@dataclass
class UserRun:
    """What one user saw. Times are monotonic seconds; None where the step did not happen."""

    option: str
    # The bot's questions for the operation's inputs and the user's answers, in order (bench/workload.py).
    answers: tuple[Answer, ...] = ()
    conversation: Conversation | None = None
    arrivals: Arrivals = field(default_factory=Arrivals)
    option_sent: float | None = None
    ack_arrived: float | None = None
    busy_sent: float | None = None
    busy_reply_arrived: float | None = None
    result_arrived: float | None = None
    error: str | None = None

    @property
    def start_turn(self) -> float | None:
        return None if self.option_sent is None or self.ack_arrived is None else self.ack_arrived - self.option_sent

    @property
    def busy_turn(self) -> float | None:
        if self.busy_sent is None or self.busy_reply_arrived is None:
            return None
        return self.busy_reply_arrived - self.busy_sent


def _contains(fragment: str) -> Callable[[str], bool]:
    return lambda text: fragment in text


async def _setup(client: ChatClient, run: UserRun, gate: asyncio.Semaphore, ready_text: str,
                 timeout: float) -> None:  # noqa: ASYNC109
    async with gate:
        conversation = await client.start_conversation(run.arrivals.listener)
        run.conversation = conversation
        await conversation.say("hi")
        await conversation.wait_for_text(ready_text, timeout)


async def _guarded(run: UserRun, step: Awaitable[None]) -> None:
    try:
        await step
    except Exception as error:  # one user's failure is a finding of the run, not a crash of the benchmark
        run.error = f"{type(error).__name__}: {error}"


async def set_up_users(client: ChatClient, workload: Sequence[ChosenOperation], count: int, ready_text: str,
                       timeout: float) -> list[UserRun]:  # noqa: ASYNC109
    """``count`` users, round-robin over the chosen operations, each past its "hi" (the bot's ``ready_text``)."""
    runs = [UserRun(chosen.id, chosen.answers)
            for chosen in (workload[index % len(workload)] for index in range(count))]
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)
    await asyncio.gather(*(_guarded(run, _setup(client, run, gate, ready_text, timeout)) for run in runs))
    return runs


def start_delays(count: int, ramp_seconds: float) -> list[float]:
    """When each of ``count`` users acts, spread evenly over ``[0, ramp_seconds)``; all at 0 for no ramp."""
    if ramp_seconds <= 0 or count <= 0:
        return [0.0] * max(count, 0)
    return [ramp_seconds * index / count for index in range(count)]


async def _operate(run: UserRun, timeout: float, delay: float) -> None:  # noqa: ASYNC109
    conversation = run.conversation
    assert conversation is not None
    await asyncio.sleep(delay)
    run.option_sent = time.monotonic()
    await conversation.say(run.option)
    for answer in run.answers:
        await conversation.wait_for_text(answer.question, timeout)
        # The start turn is the one that starts the operation: the last answer's, when it has inputs.
        run.option_sent = time.monotonic()
        await conversation.say(answer.reply)
    await conversation.wait_for_text(ONE_MOMENT, timeout)
    run.ack_arrived = run.arrivals.first(_contains(ONE_MOMENT), run.option_sent)
    # A message while the operation runs: the bot reads live progress from the status API.
    run.busy_sent = time.monotonic()
    await conversation.say("are you done yet?")
    reply = await conversation.wait_for(lambda a: a.get("type") == "message", timeout)
    run.busy_reply_arrived = run.arrivals.first(lambda text: True, run.busy_sent)
    if is_outcome_text(reply.get("text") or ""):
        # The operation ended before the busy turn; it is the result, not a busy reply.
        run.busy_sent = run.busy_reply_arrived = None
    await conversation.wait_for(lambda a: is_outcome_text(a.get("text") or ""), timeout, since=0)
    run.result_arrived = run.arrivals.first(is_outcome_text, run.option_sent)


async def operate_all(runs: Sequence[UserRun], timeout: float, ramp_seconds: float = 0.0) -> None:  # noqa: ASYNC109
    """Every ready user: choose, get the acknowledgement, ask while it runs, wait for the result."""
    ready = [run for run in runs if run.error is None]
    delays = start_delays(len(ready), ramp_seconds)
    await asyncio.gather(*(_guarded(run, _operate(run, timeout, delay))
                           for run, delay in zip(ready, delays, strict=True)))


async def _echo(run: UserRun, timeout: float, delay: float) -> None:  # noqa: ASYNC109
    conversation = run.conversation
    assert conversation is not None
    await asyncio.sleep(delay)
    run.option_sent = time.monotonic()
    await conversation.say(run.option)
    echo = f"Echo: {run.option}"
    await conversation.wait_for_text(echo, timeout)
    run.ack_arrived = run.arrivals.first(lambda text: text == echo, run.option_sent)
    run.busy_sent = time.monotonic()
    await conversation.say("are you done yet?")
    await conversation.wait_for_text("Echo: are you done yet?", timeout)
    run.busy_reply_arrived = run.arrivals.first(_contains("are you done yet?"), run.busy_sent)


async def echo_all(runs: Sequence[UserRun], timeout: float, ramp_seconds: float = 0.0) -> None:  # noqa: ASYNC109
    """The same two user turns against the echo bot: its start-turn latency is option message to its echo."""
    ready = [run for run in runs if run.error is None]
    delays = start_delays(len(ready), ramp_seconds)
    await asyncio.gather(*(_guarded(run, _echo(run, timeout, delay))
                           for run, delay in zip(ready, delays, strict=True)))
