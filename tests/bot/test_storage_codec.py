"""The stores' codec writes jsonpickle's text and reads it back as jsonpickle does (bot/storage_codec.py)."""

import datetime
import json
from collections import OrderedDict
from enum import Enum
from pathlib import Path
from typing import Any

import jsonpickle
import pytest
from botbuilder.dialogs import DialogInstance, DialogState
from botbuilder.dialogs.choices import Choice
from botbuilder.dialogs.prompts import PromptOptions
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount, InputHints

from bot import storage_codec

FIXTURES = Path(__file__).parent / "fixtures"


class Colour(Enum):
    RED = 1


class Boxed(Enum):
    BOX = (1, 2)


class WithGetstate:
    def __init__(self) -> None:
        self.a = 1

    def __getstate__(self) -> dict[str, int]:
        return {"a": self.a}

    def __setstate__(self, state: dict[str, int]) -> None:
        self.a = state["a"]


def _fixture_items() -> dict[str, object]:
    items: dict[str, object] = {}
    for path in sorted(FIXTURES.glob("*.json")):
        saved = json.loads(path.read_text())
        for key, item in jsonpickle.decode(json.dumps(saved["storage"])).items():
            items[f"{path.name} {key}"] = item
    return items


def _dialog_state() -> dict[str, Any]:
    prompt = Activity(type=ActivityTypes.message, text="Please select a long operation test option.",
                      input_hint=InputHints.accepting_input, from_property=ChannelAccount(id="bot"),
                      conversation=ConversationAccount(id="c1", is_group=False))
    # The same enum member twice (the prompt's type and the retry's): jsonpickle's second one is a py/id.
    retry = Activity(type=ActivityTypes.message, text="Pick one ✓", input_hint=InputHints.accepting_input)
    options = PromptOptions(prompt=prompt, retry_prompt=retry, choices=[Choice("option 1"), Choice("option 2")])
    inner = DialogState([DialogInstance("OptionPrompt", {"options": options, "state": {"attemptCount": 0}})])
    outer = DialogInstance("LongOperationDialog", {"dialogs": inner, "stepIndex": 1, "values": {"limit": 1}})
    return {"DialogState": DialogState([outer]), "DeliveredOutcomes": ["a" * 32], "score": -0.0, "big": 10**20,
            "empty": [[], {}], "pair": ("x", 1, None), "flag": True}


def _shared() -> dict[str, Any]:
    values = {"n": 1}
    cycle: list[Any] = [1]
    cycle.append(cycle)
    return {"first": values, "second": values, "cycle": cycle, "colour": [Colour.RED, Colour.RED],
            "instance": DialogInstance("d", values)}


FAST = {"a dialog's state": _dialog_state, "shared values, a cycle, an enum twice": _shared,
        **{name: (lambda item=item: item) for name, item in _fixture_items().items()}}
# Values the codec leaves to jsonpickle.
UNUSUAL = {
    "a datetime": lambda: {"when": datetime.datetime(2026, 12, 2, 7, 0, tzinfo=datetime.UTC)},
    "a set": lambda: {"seen": {"a"}},
    "bytes": lambda: {"raw": b"\x00\x01"},
    "a non-string key": lambda: {1: "one", None: "none"},
    "a key like a tag": lambda: {"py/object": "not an object", "x": 1},
    "an object with its own getstate": lambda: {"o": WithGetstate()},
    "an OrderedDict": lambda: {"o": OrderedDict(a=1)},
    "an enum of a non-primitive value": lambda: {"e": Boxed.BOX},
}


@pytest.mark.parametrize("name", [*FAST, *UNUSUAL])
def test_encode_writes_jsonpickles_text(name: str) -> None:
    item = {**FAST, **UNUSUAL}[name]()
    assert storage_codec.encode(item) == jsonpickle.encode(item)


@pytest.mark.parametrize("name", [*FAST, *UNUSUAL])
def test_decode_restores_what_jsonpickle_restores(name: str) -> None:
    text = jsonpickle.encode({**FAST, **UNUSUAL}[name]())
    ours, theirs = storage_codec.decode(text), jsonpickle.decode(text)
    assert type(ours) is type(theirs)
    assert jsonpickle.encode(ours) == jsonpickle.encode(theirs) == text


def test_decode_keeps_shared_values_shared_and_cycles_closed() -> None:
    restored = storage_codec.decode(jsonpickle.encode(_shared()))
    assert restored["first"] is restored["second"] is restored["instance"].state
    assert restored["cycle"][1] is restored["cycle"]
    assert restored["colour"] == [Colour.RED, Colour.RED]


def test_decode_restores_the_classes_and_enum_members_of_a_dialogs_state() -> None:
    restored = storage_codec.decode(jsonpickle.encode(_dialog_state()))
    prompt = restored["DialogState"].dialog_stack[0].state["dialogs"].dialog_stack[0].state["options"].prompt
    assert type(prompt) is Activity
    assert prompt.input_hint is InputHints.accepting_input
    assert prompt.conversation.is_group is False
    assert restored["pair"] == ("x", 1, None)


@pytest.mark.parametrize("name", list(FAST))
def test_the_bots_usual_state_is_encoded_and_decoded_without_jsonpickles_pickler(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    item = FAST[name]()
    text = jsonpickle.encode(item)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("jsonpickle's own pickler was used")

    monkeypatch.setattr(jsonpickle, "encode", refuse)
    monkeypatch.setattr(jsonpickle, "decode", refuse)
    assert storage_codec.encode(item) == text
    restored = storage_codec.decode(text)
    monkeypatch.undo()
    assert jsonpickle.encode(restored) == text


def test_a_backend_told_to_sort_keys_is_left_to_jsonpickle() -> None:
    item = _dialog_state()
    jsonpickle.set_encoder_options("json", sort_keys=True)
    try:
        assert storage_codec.encode(item) == jsonpickle.encode(item)
    finally:
        jsonpickle.set_encoder_options("json", sort_keys=False)
