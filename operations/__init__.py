"""Long operations: the project's extension point (operations/api.py), registered in operations/registry.py.

No Azure or botbuilder imports here: the bot and the function app both read the registry.
"""

from operations.api import (
    Ask,
    ChoiceInput,
    Done,
    Input,
    JsonObject,
    Next,
    NumberInput,
    Operation,
    StepInput,
    StepOutput,
)
from operations.registry import REGISTRY

__all__ = [
    "REGISTRY",
    "Ask",
    "ChoiceInput",
    "Done",
    "Input",
    "JsonObject",
    "Next",
    "NumberInput",
    "Operation",
    "StepInput",
    "StepOutput",
]
