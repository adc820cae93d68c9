"""The progress report: its wire form, its signature (routing included, never valid as an outcome's) and the kind
the bot dispatches on."""

from dataclasses import replace

import pytest

from contract import (
    ContractError,
    Outcome,
    OutcomeEvent,
    OutcomeStatus,
    ProgressEvent,
    ProgressReport,
    Routing,
    event_kind,
    sign_outcome,
    sign_progress,
    verify_outcome,
    verify_progress,
)

KEY = "key"
CONTINUATION = {"type": "message", "channelId": "msteams", "serviceUrl": "https://smba.example/", "id": "c1",
                "conversation": {"id": "conv"}, "from": {"id": "user"}, "recipient": {"id": "bot"}}
ROUTING = Routing.of(CONTINUATION)
REPORT = ProgressReport("op-1", "conv", "count primes", 2, 4)


def test_a_report_round_trips_through_its_event_and_names_its_kind() -> None:
    signed = sign_progress(REPORT, ROUTING, KEY)
    event = ProgressEvent(CONTINUATION, signed).to_json()

    assert event["name"] == "LongOperationResponse"
    assert event_kind(event["value"]) == "LongOperationProgress"
    read = ProgressEvent.from_value(event["value"])
    assert read.report == signed and read.routing == ROUTING
    assert signed.percent == 50


def test_the_signature_covers_every_field_and_the_routing() -> None:
    signed = sign_progress(REPORT, ROUTING, KEY)
    assert verify_progress(signed, ROUTING, KEY)
    assert not verify_progress(signed, ROUTING, "other key")
    assert not verify_progress(replace(signed, step=3), ROUTING, KEY)
    assert not verify_progress(replace(signed, option="option 1"), ROUTING, KEY)
    assert not verify_progress(signed, replace(ROUTING, conversation_id="another"), KEY)
    assert not verify_progress(REPORT, ROUTING, KEY)


def test_a_reports_signature_never_passes_for_an_outcomes() -> None:
    # Both HMACs are over {"<what>": fields, "routing": ...}: the top-level key keeps them apart.
    outcome = sign_outcome(Outcome("op-1", "conv", OutcomeStatus.COMPLETED, "done"), ROUTING, KEY)
    report = sign_progress(REPORT, ROUTING, KEY)
    assert verify_outcome(outcome, ROUTING, KEY)
    assert not verify_outcome(replace(outcome, signature=report.signature), ROUTING, KEY)
    assert event_kind(OutcomeEvent(CONTINUATION, outcome).to_json()["value"]) == "LongOperationComplete"
    assert event_kind({"value": "text"}) is None and event_kind(None) is None


@pytest.mark.parametrize(("change", "message"), [
    ({"kind": "LongOperationComplete"}, "progress.kind: expected 'LongOperationProgress', got 'LongOperationComplete'"),
    ({"step": 0}, "progress.step: expected 1 to 4, got 0"),
    ({"step": 5}, "progress.step: expected 1 to 4, got 5"),
    ({"steps": 0}, "progress.steps: expected 1 or more, got 0"),
    ({"step": "2"}, "progress.step: expected an integer, got a string"),
    ({"option": ""}, "progress.option: expected a non-empty string, got an empty string"),
])
def test_a_malformed_report_names_its_field(change: dict[str, object], message: str) -> None:
    with pytest.raises(ContractError) as raised:
        ProgressReport.from_json({**REPORT.to_json(), **change})
    assert str(raised.value) == message
