"""The wire contract: round trips, validation messages, and signatures that catch every tampered field."""

import json
from collections.abc import Callable
from dataclasses import fields, replace

import pytest

from contract import (
    OPTIONS,
    ORCHESTRATOR_SENDER,
    ContractError,
    DeliveryReceipt,
    Outcome,
    OutcomeEvent,
    OutcomeStatus,
    Progress,
    Routing,
    Stage,
    StartRequest,
    StopReason,
    error_body,
    error_message,
    instance_id_prefix,
    make_instance_id,
    normalize_signing_key,
    sign_outcome,
    verify_legacy_outcome,
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


ROUTING = Routing.of(CONTINUATION)
STOPPED = StopReason(step=2, steps=3, attempts=2, timeout_seconds=60.0)


def _outcome() -> Outcome:
    return Outcome(
        instance_id="op-abc-123456",
        conversation_id="conv-1",
        status=OutcomeStatus.COMPLETED,
        result="(Result for long operation one!)",
    )


def _failed() -> Outcome:
    return Outcome("op-abc-123456", "conv-1", OutcomeStatus.FAILED, reason=STOPPED)


def test_outcome_round_trips_through_wire_json() -> None:
    signed = sign_outcome(_outcome(), ROUTING, KEY)
    assert Outcome.from_json(signed.to_json()) == signed
    assert signed.to_json() == {
        "kind": "LongOperationComplete", "instanceId": "op-abc-123456", "conversationId": "conv-1",
        "status": "completed", "result": "(Result for long operation one!)", "reason": None,
        "signature": signed.signature,
    }


def test_a_stopped_outcome_carries_its_reason_as_facts_not_a_sentence() -> None:
    signed = sign_outcome(_failed(), ROUTING, KEY)
    wire = signed.to_json()
    assert (wire["result"], wire["reason"]) == ("", {"step": 2, "steps": 3, "attempts": 2, "timeoutSeconds": 60})
    assert Outcome.from_json(wire) == signed
    assert verify_outcome(Outcome.from_json(json.loads(json.dumps(wire))), ROUTING, KEY)


def test_a_whole_timeout_signs_the_same_however_a_json_stack_on_the_way_writes_it() -> None:
    wire = sign_outcome(_failed(), ROUTING, KEY).to_json()
    as_float = wire | {"reason": wire["reason"] | {"timeoutSeconds": 60.0}}
    assert verify_outcome(Outcome.from_json(as_float), ROUTING, KEY)
    fraction = StopReason(1, 3, 0, 0.25)
    assert StopReason.from_json(fraction.to_json()) == fraction
    assert fraction.to_json()["timeoutSeconds"] == 0.25


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ([], "outcome.reason: expected a JSON object, got an array"),
        ({"steps": 3, "attempts": 1, "timeoutSeconds": 60}, "outcome.reason.step: expected an integer, got null"),
        ({"step": 4, "steps": 3, "attempts": 1, "timeoutSeconds": 60}, "outcome.reason.step: expected 1 to 3, got 4"),
        ({"step": 0, "steps": 3, "attempts": 1, "timeoutSeconds": 60}, "outcome.reason.step: expected 1 to 3, got 0"),
        ({"step": 1, "steps": 0, "attempts": 1, "timeoutSeconds": 60},
         "outcome.reason.steps: expected at least 1, got 0"),
        ({"step": 1, "steps": 3, "attempts": -1, "timeoutSeconds": 60},
         "outcome.reason.attempts: expected 0 or more, got -1"),
        ({"step": 1, "steps": 3, "attempts": True, "timeoutSeconds": 60},
         "outcome.reason.attempts: expected an integer, got a boolean"),
        ({"step": 1, "steps": 3, "attempts": 1, "timeoutSeconds": "60"},
         "outcome.reason.timeoutSeconds: expected a number, got a string"),
        ({"step": 1, "steps": 3, "attempts": 1, "timeoutSeconds": 0},
         "outcome.reason.timeoutSeconds: expected a finite number above 0, got 0.0"),
    ],
)
def test_a_malformed_reason_is_refused_naming_the_field(reason: object, message: str) -> None:
    wire = _failed().to_json() | {"reason": reason}
    with pytest.raises(ContractError) as raised:
        Outcome.from_json(wire)
    assert str(raised.value) == message


def test_a_completed_outcome_has_no_reason() -> None:
    with pytest.raises(ContractError) as raised:
        Outcome.from_json(_outcome().to_json() | {"reason": STOPPED.to_json()})
    assert str(raised.value) == "outcome.reason: a completed outcome has no reason"


def test_a_stopped_outcome_without_a_reason_still_parses() -> None:
    # What a function app of the previous contract sends, and an outcome already in an orchestration's history.
    parsed = Outcome.from_json(_failed().to_json() | {"reason": None, "result": "Sorry, it failed."})
    assert (parsed.status, parsed.reason) == (OutcomeStatus.FAILED, None)


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
        ({"option": "option 1", "continuation": CONTINUATION, "inputs": [1]}, "inputs"),
    ],
)
def test_start_request_names_the_bad_field(body: object, field: str) -> None:
    with pytest.raises(ContractError) as raised:
        StartRequest.from_json(body)
    assert raised.value.field == field


def test_signature_accepts_the_genuine_outcome() -> None:
    assert verify_outcome(sign_outcome(_outcome(), ROUTING, KEY), ROUTING, KEY)
    assert verify_outcome(sign_outcome(_failed(), ROUTING, KEY), ROUTING, KEY)


def test_signature_rejects_wrong_key_and_missing_signature() -> None:
    assert not verify_outcome(sign_outcome(_outcome(), ROUTING, KEY), ROUTING, "another-key")
    assert not verify_outcome(_outcome(), ROUTING, KEY)
    assert not verify_outcome(sign_outcome(_outcome(), ROUTING, KEY), ROUTING, "")


def _tampered(value: object) -> object:
    if isinstance(value, OutcomeStatus):
        return OutcomeStatus.TIMED_OUT
    if isinstance(value, StopReason):
        return replace(value, attempts=value.attempts + 1)
    if isinstance(value, dict):
        return {**value, "count": 2}
    return f"{value}x"


@pytest.mark.parametrize("field_name", [f.name for f in fields(Outcome) if f.name != "signature"])
def test_signature_rejects_every_tampered_field(field_name: str) -> None:
    # A structured result exists only on a completed outcome; every other field is tampered on a failed one.
    with_data = replace(_outcome(), result="", data={"kind": "facts", "count": 1})
    signed = sign_outcome(with_data if field_name == "data" else _failed(), ROUTING, KEY)
    tampered = replace(signed, **{field_name: _tampered(getattr(signed, field_name))})
    assert not verify_outcome(tampered, ROUTING, KEY)


@pytest.mark.parametrize("field_name", [f.name for f in fields(Routing)])
def test_signature_rejects_every_changed_routing_field(field_name: str) -> None:
    signed = sign_outcome(_outcome(), ROUTING, KEY)
    assert not verify_outcome(signed, replace(ROUTING, **{field_name: getattr(ROUTING, field_name) + "x"}), KEY)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("channelId",), "msteams"),
        (("serviceUrl",), "https://attacker.example/"),
        (("conversation", "id"), "conv-2"),
        (("recipient", "id"), "another-bot"),
        (("from", "id"), "user-2"),
    ],
)
def test_routing_is_read_from_the_continuation_and_each_of_its_fields_counts(path: tuple[str, ...], value: str) -> None:
    assert Routing("directline", "https://directline.botframework.com/", "conv-1", "bot", "user-1") == ROUTING
    changed = json.loads(json.dumps(CONTINUATION))
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert Routing.of(changed) != ROUTING


def test_routing_of_a_continuation_without_bot_or_user_is_empty_there() -> None:
    bare = {k: v for k, v in CONTINUATION.items() if k not in ("from", "recipient")}
    assert Routing.of(bare) == Routing("directline", "https://directline.botframework.com/", "conv-1", "", "")
    assert Routing.of(bare | {"from": "user-1"}).user_id == ""


def test_signature_survives_the_wire_and_breaks_on_wire_tampering() -> None:
    wire = sign_outcome(_outcome(), ROUTING, KEY).to_json()
    assert verify_outcome(Outcome.from_json(wire), ROUTING, KEY)
    wire["result"] = "(Forged result)"
    assert not verify_outcome(Outcome.from_json(wire), ROUTING, KEY)


def test_outcome_rejects_foreign_kind() -> None:
    with pytest.raises(ContractError, match=r"outcome\.kind"):
        Outcome.from_json(sign_outcome(_outcome(), ROUTING, KEY).to_json() | {"kind": "Other"})


# Signed by the previous contract's code (commit 9fb18c7, contract/signing.py) with KEY: an HMAC over the outcome's
# own fields, issuedAt included, and no routing.
LEGACY_FAILED = {
    "kind": "LongOperationComplete", "instanceId": "op-0123456789ab-feedc0de", "conversationId": "conv-1",
    "status": "failed", "result": "Sorry, option 2 failed at step 1 of 4 (tried 3 times).",
    "issuedAt": "2026-11-30T09:15:00.123456Z",
    "signature": "0407530fb68b60feffbe3da8954e3c1bf58b43f3c5f3906265a0344b7db9b014",
}
LEGACY_COMPLETED = {
    "kind": "LongOperationComplete", "instanceId": "op-0123456789ab-feedc0de", "conversationId": "conv-1",
    "status": "completed", "result": "(Result for long operation one!)", "issuedAt": "2026-11-30T09:15:00.123456Z",
    "signature": "ba248d81ccc7d02f077f97d839f8718f2780a5ad3c7115137d20aef99be17eb7",
}


def test_an_outcome_signed_by_the_previous_contract_is_recognised_as_such() -> None:
    legacy = verify_legacy_outcome(LEGACY_FAILED, KEY)
    assert legacy == Outcome("op-0123456789ab-feedc0de", "conv-1", OutcomeStatus.FAILED,
                             "Sorry, option 2 failed at step 1 of 4 (tried 3 times).",
                             signature=LEGACY_FAILED["signature"])
    assert verify_legacy_outcome(LEGACY_COMPLETED, KEY) == Outcome.from_json(LEGACY_COMPLETED)
    # It is not a signature of this contract: that one covers the routing.
    assert not verify_outcome(Outcome.from_json(LEGACY_COMPLETED), ROUTING, KEY)


@pytest.mark.parametrize(
    "changed",
    [{"result": "(Forged result)"}, {"issuedAt": "2026-11-30T09:16:00Z"}, {"status": "completed"},
     {"instanceId": "op-0123456789ab-00000000"}, {"signature": ""}, {"kind": "Other"}],
)
def test_a_previous_contracts_outcome_with_any_field_changed_is_not_vouched_for(changed: dict[str, str]) -> None:
    assert verify_legacy_outcome(LEGACY_FAILED | changed, KEY) is None


def test_a_previous_contracts_signature_vouches_for_nothing_it_did_not_cover() -> None:
    assert verify_legacy_outcome(LEGACY_FAILED, "another-key") is None
    assert verify_legacy_outcome("not an object", KEY) is None
    # A reason added on the way was never signed: it is dropped, so the bot words the outcome without it.
    with_reason = verify_legacy_outcome(LEGACY_FAILED | {"reason": STOPPED.to_json()}, KEY)
    assert with_reason is not None and with_reason.reason is None
    # This contract's outcomes are not legacy ones.
    assert verify_legacy_outcome(sign_outcome(_outcome(), ROUTING, KEY).to_json(), KEY) is None


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
    signed = sign_outcome(_outcome(), ROUTING, KEY)
    event = OutcomeEvent(CONTINUATION, signed).to_json()
    assert event["type"] == "event"
    assert event["name"] == "LongOperationResponse"
    assert event["from"] == ORCHESTRATOR_SENDER
    assert event["value"] == {**CONTINUATION, "value": signed.to_json()}
    parsed = OutcomeEvent.from_value(event["value"])
    assert parsed.continuation == CONTINUATION
    assert parsed.routing == ROUTING
    assert verify_outcome(parsed.outcome, parsed.routing, KEY)


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
    signed = sign_outcome(_outcome(), ROUTING, normalize_signing_key("k3y\n"))
    assert verify_outcome(signed, ROUTING, normalize_signing_key(" k3y"))


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


def test_start_request_carries_inputs_and_omits_none() -> None:
    request = StartRequest("count primes", CONTINUATION, {"limit": 1000})
    assert StartRequest.from_json(request.to_json()) == request
    assert "inputs" not in StartRequest("option 1", CONTINUATION).to_json()


def test_outcome_data_round_trips_and_is_absent_when_none() -> None:
    outcome = replace(_outcome(), result="", data={"kind": "facts", "facts": []})
    assert Outcome.from_json(outcome.to_json()) == outcome
    # Without data the wire form is the previous contract's, key for key (so are its signatures).
    assert "data" not in _outcome().to_json()


def test_only_a_completed_outcome_has_data() -> None:
    with pytest.raises(ContractError) as raised:
        replace(_failed(), data={"kind": "facts"})
    assert str(raised.value) == "outcome.data: only a completed outcome has a result"


COMPLETED_JSON = Outcome("op-1", "conv-1", OutcomeStatus.COMPLETED).to_json()


@pytest.mark.parametrize(("parse", "value", "message"), [
    (Outcome.from_json, COMPLETED_JSON | {"status": "paused"},
     "outcome.status: unknown status 'paused'"),
    (Progress.from_json, Progress.of("option 1", Stage.RUNNING, 1, 5, "").to_json() | {"stage": "sleeping"},
     "progress.stage: unknown stage 'sleeping'"),
    (DeliveryReceipt.from_json, {"instanceId": "op-1", "verdict": "maybe"}, "receipt.verdict: unknown verdict 'maybe'"),
    (Outcome.from_json, COMPLETED_JSON | {"status": ""},
     "outcome.status: expected a non-empty string, got an empty string"),
    (Outcome.from_json, COMPLETED_JSON | {"kind": "LongOperationQuestion"},
     "outcome.kind: expected 'LongOperationComplete', got 'LongOperationQuestion'"),
])
def test_an_unknown_status_stage_verdict_or_kind_is_refused_naming_the_field_and_the_value(
    parse: Callable[[object], object], value: object, message: str
) -> None:
    with pytest.raises(ContractError) as raised:
        parse(value)
    assert str(raised.value) == message
