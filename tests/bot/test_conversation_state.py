"""SnapshotConversationState: botbuilder's change check (save only a changed state) with ``snapshot`` for its hash.

Each change below is one jsonpickle's hash (botbuilder's CachedBotState.compute_hash) tells; ``snapshot`` must tell
it too, or a turn's change would not be saved.
"""

import asyncio
import copy
from collections.abc import Callable
from typing import Any

import jsonpickle
import pytest
from botbuilder.core import MemoryStorage, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.core.bot_state import CachedBotState
from botbuilder.dialogs import DialogInstance, DialogState
from botbuilder.dialogs.choices import Choice
from botbuilder.dialogs.prompts import PromptOptions
from botbuilder.schema import Activity, ActivityTypes, ConversationAccount, InputHints

from bot.conversation_state import SnapshotConversationState, snapshot


def dialog_state() -> dict[str, Any]:
    """A conversation's state as the bot keeps it: a prompt waiting inside the dialog, and the outcomes shown."""
    prompt = Activity(type=ActivityTypes.message, text="Please select a long operation test option.",
                      input_hint=InputHints.accepting_input)
    options = PromptOptions(prompt=prompt, choices=[Choice("option 1"), Choice("option 2")])
    inner = DialogState([DialogInstance("OptionPrompt", {"options": options, "state": {"attemptCount": 0}})])
    outer = DialogInstance("LongOperationDialog", {"dialogs": inner, "stepIndex": 1, "values": {"limit": 1}})
    return {"DialogState": DialogState([outer]), "DeliveredOutcomes": ["a" * 32], "score": 0.0, "e_tag": "1"}


def _prompt(state: dict[str, Any]) -> Activity:
    prompt: Activity = state["DialogState"].dialog_stack[0].state["dialogs"].dialog_stack[0].state["options"].prompt
    return prompt


def _values(state: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = state["DialogState"].dialog_stack[0].state["values"]
    return values


CHANGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "a top-level value": lambda state: state.__setitem__("DeliveredOutcomes", ["b" * 32]),
    "a list grown": lambda state: state["DeliveredOutcomes"].append("b" * 32),
    "a new key": lambda state: state.__setitem__("PendingDelivery", {"instanceId": "b", "sent": []}),
    "an object's attribute deep inside": lambda state: setattr(_prompt(state), "text", "Pick one."),
    "an enum member": lambda state: setattr(_prompt(state), "input_hint", InputHints.ignoring_input),
    "a dialog popped": lambda state: state["DialogState"].dialog_stack[0].state["dialogs"].dialog_stack.pop(),
    "an int become a bool": lambda state: _values(state).__setitem__("limit", True),
    "an int become a float": lambda state: _values(state).__setitem__("limit", 1.0),
    "0.0 become -0.0": lambda state: state.__setitem__("score", -0.0),
    "keys reordered": lambda state: state.update({"DialogState": state.pop("DialogState")}),
    "a list become a tuple": lambda state: state.__setitem__("DeliveredOutcomes", ("a" * 32,)),
}


def jsonpickle_hash(state: object) -> object:
    return CachedBotState().compute_hash(state)


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_a_change_jsonpickle_tells_is_told(change: str) -> None:
    before = dialog_state()
    after = copy.deepcopy(before)
    CHANGES[change](after)
    assert jsonpickle_hash(after) != jsonpickle_hash(before)
    assert snapshot(after) != snapshot(before)


def test_an_equal_state_has_an_equal_snapshot_also_after_the_stores_round_trip() -> None:
    state = dialog_state()
    # SqliteStorage and BlobStorage keep items as jsonpickle text: the state a turn loads is decoded from it.
    decoded = jsonpickle.decode(jsonpickle.encode(state))
    assert snapshot(decoded) == snapshot(copy.deepcopy(state)) == snapshot(state)
    # The bot's own state is walked, not handed to jsonpickle (that would cost as much as before).
    assert snapshot(decoded)[0] == "walked"  # type: ignore[index]


def test_a_value_it_does_not_walk_leaves_the_whole_state_to_jsonpickle() -> None:
    state = dialog_state()
    state["tags"] = {"x"}
    assert snapshot(state) == ("jsonpickle", jsonpickle_hash(state))
    grown = copy.deepcopy(state)
    grown["tags"].add("y")
    assert snapshot(grown) != snapshot(state)


def test_a_reference_cycle_leaves_the_whole_state_to_jsonpickle() -> None:
    state = dialog_state()
    state["self"] = [state]
    assert snapshot(state)[0] == "jsonpickle"  # type: ignore[index]


class CountingStorage(MemoryStorage):  # type: ignore[misc]  # botbuilder ships no type hints
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    async def write(self, changes: dict[str, Any]) -> None:
        self.writes += 1
        await super().write(changes)


def test_state_is_written_only_when_a_turn_changed_it() -> None:
    async def main() -> None:
        storage = CountingStorage()
        state = SnapshotConversationState(storage)
        dialogs = state.create_property("DialogState")
        adapter = TestAdapter()

        def turn() -> TurnContext:
            activity = Activity(type=ActivityTypes.message, channel_id="test", text="hi",
                                conversation=ConversationAccount(id="conversation-1"))
            return TurnContext(adapter, activity)

        first = turn()
        await dialogs.set(first, dialog_state()["DialogState"])
        await state.save_changes(first)
        assert storage.writes == 1

        # A turn that only reads saves nothing.
        reading = turn()
        assert (await dialogs.get(reading)).dialog_stack[0].id == "LongOperationDialog"
        await state.save_changes(reading)
        assert storage.writes == 1

        # A change deep inside an SDK object is saved, once, and read back by the next turn.
        changing = turn()
        (await dialogs.get(changing)).dialog_stack[0].state["stepIndex"] = 2
        await state.save_changes(changing)
        await state.save_changes(changing)
        assert storage.writes == 2
        assert (await dialogs.get(turn())).dialog_stack[0].state["stepIndex"] == 2

    asyncio.run(main())
