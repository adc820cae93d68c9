"""The one-pass body serializer sends what msrest sends, byte for byte (bot/connector_serializer.py)."""

import copy
import datetime
import json
from collections import OrderedDict
from typing import Any

import pytest
from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    CardAction,
    CardImage,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    Entity,
    HeroCard,
    InputHints,
    Mention,
    SuggestedActions,
    TextHighlight,
)
from botframework.connector import models
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials
from msrest import Serializer
from msrest.exceptions import SerializationError

from bot.connector_serializer import FastBodySerializer, use_fast_body_serializer
from bot.progress_cards import progress_message
from bot.result_cards import facts_card

MODELS = {name: kind for name, kind in vars(models).items() if isinstance(kind, type)}


class _Opaque:
    """An object msrest knows nothing of: it sends its str()."""

    def __str__(self) -> str:
        return "opaque"


def _reply(**fields: Any) -> Activity:
    base: dict[str, Any] = {
        "type": ActivityTypes.message, "channel_id": "emulator", "service_url": "http://127.0.0.1:1",
        "conversation": ConversationAccount(id="c1", is_group=False), "reply_to_id": "in-1",
        "from_property": ChannelAccount(id="bot", name="Bot", role="bot"), "recipient": ChannelAccount(id="u"),
    }
    return Activity(**{**base, **fields})


def _varied() -> dict[str, Activity]:
    with_text = MessageFactory.text("...one moment please....", input_hint=InputHints.expecting_input)
    return {
        "plain text": _reply(text="hello", input_hint=InputHints.accepting_input, locale="en-US"),
        "message factory": with_text,
        "suggested actions": MessageFactory.suggested_actions(
            [CardAction(type="imBack", title=t, value=t) for t in ("option 1", "option 2")], "Please select"),
        "progress card": progress_message("option 1", 1, 2, 50),
        "facts card": _reply(attachments=[facts_card("count", {"facts": [{"name": "n", "value": 3}]})]),
        "hero card": _reply(attachment_layout="carousel", attachments=[CardFactory.hero_card(HeroCard(
            title="T", images=[CardImage(url="http://i/1.png")], buttons=[CardAction(type="openUrl", value="u")]))]),
        "mention entity": _reply(text="<at>Alice</at> hi", entities=[
            Mention(mentioned=ChannelAccount(id="29:a", name="Alice"), text="<at>Alice</at>", type="mention"),
            Entity(type="clientInfo")]),
        "teams channel data": _reply(channel_data={"tenant": {"id": "t"}, "notification": {"alert": True},
                                                    "n": 1, "f": 1.5, "none": None, "list": [1, None, "x"]}),
        "event with value": _reply(type=ActivityTypes.event, name="outcome", value={"instanceId": "op-1",
                                   "nested": [{"a": [True, False]}], "unicode": "é ✓ \u2028"}),
        "opaque objects under object": _reply(type="trace", value={"dialog": _Opaque(), "pair": (1, 2),
                                              "ordered": OrderedDict(a=1), "set": {3}}),
        "model under object": _reply(value=ConversationReference(channel_id="x", user=ChannelAccount(id="u"))),
        "timestamps": _reply(timestamp=datetime.datetime(2026, 12, 2, 7, 0, 1, 250000, tzinfo=datetime.UTC),
                             local_timestamp=datetime.datetime(2026, 12, 2, 8, 0, 1, tzinfo=datetime.timezone(
                                 datetime.timedelta(hours=1)))),
        "lists with None and empty": _reply(attachments=[], entities=[None], listen_for=["a", "b"],
                                            members_added=[ChannelAccount(id="m")]),
        "text highlights and relates to": _reply(text_highlights=[TextHighlight(text="x", occurrence=1)],
                                                 relates_to=ConversationReference(activity_id="a", bot=None)),
        "a model where another was declared": _reply(from_property=ConversationAccount(id="c", tenant_id="t")),
        "a str field holding a number": _reply(text=5, history_disclosed=True),
        "dicts where models are declared": _reply(attachments=[{"contentType": "text/plain", "content": "x"}],
                                                  suggested_actions={"actions": [{"type": "imBack", "value": "a"}]}),
        "a string timestamp": _reply(timestamp="2026-12-02T07:00:00Z"),
        "a date under object": _reply(value={"when": datetime.date(2026, 12, 2)}),
        "a tuple where a list is declared": _reply(listen_for=("a",)),
        "an int key under object": _reply(value={1: "one"}),
        "suggested actions to": _reply(suggested_actions=SuggestedActions(to=["u"], actions=[CardAction(
            type="imBack", title="A", value={"k": "v"}, image="http://i", display_text="d")])),
    }


def _fast() -> FastBodySerializer:
    # As the bot's connector clients have it (bot/connector_clients.py skip_schema_validation).
    serializer = FastBodySerializer(MODELS)
    serializer.client_side_validation = False
    return serializer


def _msrest_json(activity: Activity) -> str:
    # msrest's body may rewrite the activity (dicts into models): it gets a copy of its own.
    return json.dumps(Serializer(MODELS).body(copy.deepcopy(activity), "Activity"))


@pytest.mark.parametrize("name", list(_varied()))
def test_the_body_is_msrests_byte_for_byte(name: str) -> None:
    activity = _varied()[name]
    expected = _msrest_json(activity) if name != "opaque objects under object" else None
    got = json.dumps(_fast().body(activity, "Activity"))
    if expected is None:
        # str() of the opaque objects must be of these very objects, so msrest runs on them after the fast pass.
        expected = json.dumps(Serializer(MODELS).body(activity, "Activity"))
    assert got == expected


def test_an_enum_under_object_is_refused_as_msrest_refuses_it() -> None:
    activity = _reply(value={"hint": InputHints.ignoring_input})
    with pytest.raises(SerializationError):
        Serializer(MODELS).body(copy.deepcopy(activity), "Activity")
    with pytest.raises(SerializationError):
        _fast().body(activity, "Activity")


def test_the_common_reply_is_serialized_without_msrests_passes_over_the_activity() -> None:
    # msrest's body runs a Deserializer over the activity first, which assigns each list attribute a new list.
    activity = _reply(attachments=[facts_card("count", {"facts": []})])
    attachments = activity.attachments
    _fast().body(activity, "Activity")
    assert activity.attachments is attachments
    Serializer(MODELS).body(activity, "Activity")
    assert activity.attachments is not attachments


def test_with_client_side_validation_on_msrest_serializes() -> None:
    serializer = FastBodySerializer(MODELS)
    serializer.client_side_validation = True
    activity = _reply(attachments=[facts_card("count", {"facts": []})])
    attachments = activity.attachments
    assert json.dumps(serializer.body(activity, "Activity")) == _msrest_json(activity)
    assert activity.attachments is not attachments


def test_the_client_and_its_operation_groups_share_one_fast_serializer_with_its_settings() -> None:
    client = ConnectorClient(MicrosoftAppCredentials("", ""), base_url="http://127.0.0.1:1")
    client._serialize.client_side_validation = False
    use_fast_body_serializer(client)
    assert isinstance(client._serialize, FastBodySerializer)
    assert client.conversations._serialize is client._serialize
    assert client.attachments._serialize is client._serialize
    assert client._serialize.client_side_validation is False
    assert client._serialize.dependencies == MODELS


def test_other_body_types_are_msrests() -> None:
    reference = ConversationReference(channel_id="x", user=ChannelAccount(id="u"))
    assert _fast().body(reference, "ConversationReference") == Serializer(MODELS).body(
        copy.deepcopy(reference), "ConversationReference")
    assert _fast().body([Attachment(content_type="x")], "[Attachment]") == [{"contentType": "x"}]
