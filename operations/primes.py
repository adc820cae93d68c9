"""Count the primes up to a limit the user gives: real CPU work, in four checkpointed steps.

Each step sieves its quarter of 2..limit (a segmented sieve of Eratosthenes) and hands the count so far and the
largest prime found on to the next step; the last one returns the facts as a structured result, which the bot
shows as an Adaptive Card (kind "facts", bot/result_cards.py). ``run`` is a plain function: the activity runs it in
a worker thread, off the event loop.
"""

import math

from operations.api import Done, Next, NumberInput, Operation, StepInput, StepOutput

STEPS = 4


def primes_below(limit: int) -> list[int]:
    """Every prime below ``limit`` (a plain sieve; the base primes of the segments)."""
    if limit < 3:
        return []
    sieve = bytearray([1]) * limit
    sieve[0:2] = b"\x00\x00"
    for number in range(2, math.isqrt(limit - 1) + 1):
        if sieve[number]:
            sieve[number * number :: number] = bytes(len(range(number * number, limit, number)))
    return [number for number in range(limit) if sieve[number]]


def segment_primes(low: int, high: int) -> list[int]:
    """The primes in ``low <= p < high`` (``low >= 2``), sieved with the primes up to sqrt(high)."""
    if high <= low:
        return []
    marks = bytearray([1]) * (high - low)
    for prime in primes_below(math.isqrt(high - 1) + 1):
        first = max(prime * prime, (low + prime - 1) // prime * prime)
        marks[first - low :: prime] = bytes(len(range(first, high, prime)))
    return [low + offset for offset, mark in enumerate(marks) if mark]


def count_primes_step(step: StepInput) -> StepOutput:
    limit = int(step.inputs["limit"])
    state = step.state or {"count": 0, "largest": None}
    # Step n of N sieves [2 + (n-1)*span, 2 + n*span), the last one up to the limit itself.
    span = (limit - 1 + step.steps - 1) // step.steps
    low = 2 + (step.step - 1) * span
    high = min(limit + 1, low + span)
    found = segment_primes(low, high)
    count = int(state["count"]) + len(found)
    largest = found[-1] if found else state["largest"]
    if step.step < step.steps:
        return Next({"count": count, "largest": largest})
    return Done(data={
        "kind": "facts",
        "facts": [
            {"name": "Limit", "value": f"{limit:,}"},
            {"name": "Primes found", "value": f"{count:,}"},
            {"name": "Largest prime", "value": "none" if largest is None else f"{largest:,}"},
            {"name": "Steps", "value": str(step.steps)},
        ],
    })


OPERATION = Operation(
    id="count primes",
    title="count primes",
    run=count_primes_step,
    inputs=(NumberInput("limit", "the upper limit (a whole number from 1000 to 5000000)", 1000, 5_000_000),),
    steps=STEPS,
    # A large limit takes a while on a slow worker: the user sees the bar move instead of waiting blind.
    progress_every_seconds=2,
)
