"""The wire contract: round trips, validation messages, and signatures that catch every tampered field."""

import json
from dataclasses import fields, replace

import pytest

from contract import (
    OPTIONS,
    ORCHESTRATOR_SENDER,
    ContractError,
    Outcome,
    OutcomeEvent,
    OutcomeStatus,
    Progress,
    Stage,
    StartRequest,
    error_body,
    error_message,
    instance_id_prefix,
    make_instance_id,
    normalize_signing_key,
    sign_outcome,
    verify_outcome,
)

KEY = "test-signing-key"
CONTINUATION = {
    "type": "event",
    "name": "ContinueConversation",
    "channelId": "directline",
    "serviceUrl": "https://directline.botframework.com/",
    "conversation": {"id": "conv-1"},
    "from": {"id": "user-1"},
    "recipient": {"id": "bot"},
}


def _outcome() -> Outcome:
    return Outcome(
        instance_id="op-abc-123456",
        conversation_id="conv-1",
        status=OutcomeStatus.COMPLETED,
        result="(Result for long operation one!)",
        issued_at="2026-11-24T12:00:00Z",
    )


def test_outcome_round_trips_through_wire_json() -> None:
    signed = sign_outcome(_outcome(), KEY)
    assert Outcome.from_json(signed.to_json()) == signed
    assert signed.to_json()["kind"] == "LongOperationComplete"


def test_progress_round_trips_and_computes_percent() -> None:
    progress = Progress.of("option 2", Stage.RUNNING, 2, 5, "step 2 of 5")
    assert progress.percent == 40
    assert Progress.from_json(progress.to_json()) == progress
    assert progress.to_json()["stage"] == "running"


def test_progress_rejects_unknown_stage_naming_the_field() -> None:
    data = Progress.of("option 1", Stage.RUNNING, 1, 5, "").to_json() | {"stage": "sleeping"}
    with pytest.raises(ContractError, match=r"progress\.stage"):
        Progress.from_json(data)


def test_start_request_round_trips() -> None:
    request = StartRequest("option 1", CONTINUATION)
    assert StartRequest.from_json(request.to_json()) == request
    assert request.channel_id == "directline"
    assert request.conversation_id == "conv-1"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ({"continuation": CONTINUATION}, "option"),
        ({"option": 3, "continuation": CONTINUATION}, "option"),
        ({"option": "option 1"}, "continuation"),
        ({"option": "option 1", "continuation": {**CONTINUATION, "channelId": ""}}, "continuation.channelId"),
        ({"option": "option 1", "continuation": {**CONTINUATION, "serviceUrl": None}}, "continuation.serviceUrl"),
        ({"option": "option 1", "continuation": {**CONTINUATION, "conversation": {}}}, "continuation.conversation.id"),
        ({"option": "option 1", "continuation": {**CONTINUATION, "conversation": "x"}}, "continuation.conversation"),
    ],
)
def test_start_request_names_the_bad_field(body: object, field: str) -> None:
    with pytest.raises(ContractError) as raised:
        StartRequest.from_json(body)
    assert raised.value.field == field


def test_signature_accepts_the_genuine_outcome() -> None:
    assert verify_outcome(sign_outcome(_outcome(), KEY), KEY)


def test_signature_rejects_wrong_key_and_missing_signature() -> None:
    assert not verify_outcome(sign_outcome(_outcome(), KEY), "another-key")
    assert not verify_outcome(_outcome(), KEY)
    assert not verify_outcome(sign_outcome(_outcome(), KEY), "")


@pytest.mark.parametrize(
    "field_name", [f.name for f in fields(Outcome) if f.name != "signature"]
)
def test_signature_rejects_every_tampered_field(field_name: str) -> None:
    signed = sign_outcome(_outcome(), KEY)
    original = getattr(signed, field_name)
    tampered_value = OutcomeStatus.FAILED if field_name == "status" else f"{original}x"
    tampered = replace(signed, **{field_name: tampered_value})
    assert not verify_outcome(tampered, KEY)


def test_signature_survives_the_wire_and_breaks_on_wire_tampering() -> None:
    wire = sign_outcome(_outcome(), KEY).to_json()
    assert verify_outcome(Outcome.from_json(wire), KEY)
    wire["result"] = "(Forged result)"
    assert not verify_outcome(Outcome.from_json(wire), KEY)


def test_outcome_rejects_foreign_kind() -> None:
    with pytest.raises(ContractError, match=r"outcome\.kind"):
        Outcome.from_json(sign_outcome(_outcome(), KEY).to_json() | {"kind": "Other"})


def test_instance_ids_share_a_per_conversation_prefix() -> None:
    first = make_instance_id("directline", "conv-1", "a1b2c3d4")
    second = make_instance_id("directline", "conv-1", "ffffeeee")
    other = make_instance_id("directline", "conv-2", "a1b2c3d4")
    prefix = instance_id_prefix("directline", "conv-1")
    assert first.startswith(prefix) and second.startswith(prefix)
    assert not other.startswith(prefix)
    assert prefix.startswith("op-")
    with pytest.raises(ValueError):
        make_instance_id("directline", "conv-1", "BAD/ID")


def test_outcome_event_carries_the_continuation_with_the_signed_outcome_as_its_value() -> None:
    signed = sign_outcome(_outcome(), KEY)
    event = OutcomeEvent(CONTINUATION, signed).to_json()
    assert event["type"] == "event"
    assert event["name"] == "LongOperationResponse"
    assert event["from"] == ORCHESTRATOR_SENDER
    assert event["value"] == {**CONTINUATION, "value": signed.to_json()}
    parsed = OutcomeEvent.from_value(event["value"])
    assert parsed.continuation == CONTINUATION
    assert verify_outcome(parsed.outcome, KEY)


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("not an object", "value"),
        ({**CONTINUATION, "serviceUrl": ""}, "continuation.serviceUrl"),
        ({**CONTINUATION, "value": None}, "outcome"),
        ({**CONTINUATION, "value": {"kind": "Other"}}, "outcome.kind"),
    ],
)
def test_outcome_event_names_what_is_malformed(value: object, field: str) -> None:
    with pytest.raises(ContractError) as raised:
        OutcomeEvent.from_value(value)
    assert raised.value.field == field


def test_both_sides_normalize_the_signing_key_alike() -> None:
    # An app setting pasted with a trailing newline must not make every signature fail.
    assert normalize_signing_key("  k3y \n") == "k3y"
    signed = sign_outcome(_outcome(), normalize_signing_key("k3y\n"))
    assert verify_outcome(signed, normalize_signing_key(" k3y"))


def test_options_are_the_three_of_the_original_sample() -> None:
    assert OPTIONS == ("option 1", "option 2", "option 3")


def test_error_body_is_the_function_apps_one_field_object_and_reads_back() -> None:
    body = error_body("option: unknown option 'x'")
    # The bytes on the wire stay {"error": "<message>"}: older bots parse exactly that.
    assert json.dumps(body) == '{"error": "option: unknown option \'x\'"}'
    assert error_message(json.loads(json.dumps(body))) == "option: unknown option 'x'"


@pytest.mark.parametrize(
    "body",
    [None, "error", ["error"], {}, {"error": ""}, {"error": 5}, {"error": {"code": "BadArgument", "message": "m"}}],
)
def test_error_message_is_none_for_anything_but_a_non_empty_error_body(body: object) -> None:
    # Direct Line's {"error": {"code", "message"}} is a different shape, not this one.
    assert error_message(body) is None


def test_progress_message_is_optional_but_must_be_text() -> None:
    data = Progress.of("option 1", Stage.RUNNING, 1, 5, "").to_json()
    del data["message"]
    assert Progress.from_json(data).message == ""
    with pytest.raises(ContractError, match=r"^progress\.message: expected a string, got a number$"):
        Progress.from_json(data | {"message": 5})
