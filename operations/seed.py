"""The seed's three options, as the original sample has them: each step waits its share of the duration."""

import asyncio
from dataclasses import dataclass

from operations.api import Done, Next, Operation, StepInput, StepOutput


@dataclass(frozen=True)
class SimulatedWork:
    """Stands in for real work: waits StepSeconds per step, then the last step returns the fixed result text."""

    result: str

    async def __call__(self, step: StepInput) -> StepOutput:
        await asyncio.sleep(step.step_seconds)
        return Done(text=self.result) if step.step >= step.steps else Next()


OPTION_1 = Operation("option 1", "option 1", SimulatedWork("(Result for long operation one!)"))
OPTION_2 = Operation("option 2", "option 2", SimulatedWork("(A different result for operation two!)"))
OPTION_3 = Operation("option 3", "option 3", SimulatedWork("(Yet another result, this one for operation three!)"))

OPERATIONS = (OPTION_1, OPTION_2, OPTION_3)
