"""The question a step asks mid-run and its answer: round trips, validation naming the field, and a signature that
covers the question and its routing but can never pass for an outcome's."""

from dataclasses import fields, replace

import pytest

from contract import (
    Answer,
    ContractError,
    Outcome,
    OutcomeStatus,
    Question,
    QuestionEvent,
    Routing,
    StopReason,
    Unanswered,
    event_kind,
    sign_outcome,
    sign_question,
    verify_outcome,
    verify_question,
)

KEY = "test-signing-key"
CONTINUATION = {"type": "event", "name": "ContinueConversation", "channelId": "directline",
                "serviceUrl": "https://directline.botframework.com/", "conversation": {"id": "conv-1"},
                "from": {"id": "user-1"}, "recipient": {"id": "bot"}}
ROUTING = Routing.of(CONTINUATION)


def _question(**changes: object) -> Question:
    question = Question("op-abc-123456", "conv-1", 1, "Delete the 60 duplicates?", ("Yes", "No"), 120.0,
                        "2026-12-02T00:02:00+00:00")
    return replace(question, **changes)


def test_a_question_round_trips_and_names_its_id_and_event() -> None:
    question = _question()
    assert Question.from_json(question.to_json()) == question
    assert question.to_json()["timeoutSeconds"] == 120
    assert (question.question_id, question.event_name) == ("op-abc-123456:1", "LongOperationAnswer-1")
    free = _question(choices=None)
    assert Question.from_json(free.to_json()) == free


@pytest.mark.parametrize(("change", "message"), [
    ({"kind": "LongOperationComplete"}, "question.kind: expected 'LongOperationQuestion', got 'LongOperationComplete'"),
    ({"step": 0}, "question.step: expected 1 or more, got 0"),
    ({"choices": []}, "question.choices: expected non-empty strings, or null for a free-text answer"),
    ({"choices": "Yes"}, "question.choices: expected an array of strings or null"),
    ({"timeoutSeconds": 0}, "question.timeoutSeconds: expected a finite number above 0, got 0.0"),
    ({"text": ""}, "question.text: expected a non-empty string, got an empty string"),
])
def test_a_malformed_question_is_refused_naming_the_field(change: dict[str, object], message: str) -> None:
    with pytest.raises(ContractError) as raised:
        Question.from_json({**_question().to_json(), **change})
    assert str(raised.value) == message


def test_a_question_takes_exactly_one_of_its_choices_or_bounded_free_text() -> None:
    assert _question().accepts("Yes")
    assert not _question().accepts("yes")
    assert not _question().accepts("Maybe")
    free = _question(choices=None)
    assert free.accepts("keep the newest")
    assert not free.accepts("   ")
    assert not free.accepts("x" * 1001)


def test_the_signature_covers_every_field_and_the_routing() -> None:
    signed = sign_question(_question(), ROUTING, KEY)
    assert verify_question(signed, ROUTING, KEY)
    assert verify_question(Question.from_json(signed.to_json()), ROUTING, KEY)
    assert not verify_question(signed, ROUTING, "another-key")
    assert not verify_question(replace(signed, signature=""), ROUTING, KEY)
    assert not verify_question(signed, replace(ROUTING, conversation_id="conv-2"), KEY)
    for field in fields(Question):
        if field.name in ("signature", "kind"):
            continue
        value = getattr(signed, field.name)
        changed: object = ("Yes",) if isinstance(value, tuple) else value + ("x" if isinstance(value, str) else 1)
        assert not verify_question(replace(signed, **{field.name: changed}), ROUTING, KEY), field.name


def test_a_questions_signature_never_passes_for_an_outcomes() -> None:
    outcome = Outcome("op-abc-123456", "conv-1", OutcomeStatus.COMPLETED, "done")
    signed_outcome = sign_outcome(outcome, ROUTING, KEY)
    signed_question = sign_question(_question(), ROUTING, KEY)
    assert not verify_question(replace(signed_question, signature=signed_outcome.signature), ROUTING, KEY)
    assert not verify_outcome(replace(signed_outcome, signature=signed_question.signature), ROUTING, KEY)


def test_the_question_event_carries_the_continuation_and_names_its_kind() -> None:
    event = QuestionEvent(CONTINUATION, sign_question(_question(), ROUTING, KEY)).to_json()
    assert (event["type"], event["name"]) == ("event", "LongOperationResponse")
    assert event_kind(event["value"]) == "LongOperationQuestion"
    assert QuestionEvent.from_value(event["value"]).question == sign_question(_question(), ROUTING, KEY)
    assert event_kind({"value": {"kind": 3}}) is None
    assert event_kind("nothing") is None


def test_an_answer_round_trips_and_names_what_is_missing() -> None:
    answer = Answer("op-abc-123456:1", "Yes")
    assert Answer.from_json(answer.to_json()) == answer
    with pytest.raises(ContractError) as raised:
        Answer.from_json({"questionId": "op-abc-123456:1"})
    assert str(raised.value) == "answer.answer: expected a non-empty string, got null"


def test_an_unanswered_reason_round_trips_and_a_reason_without_it_keeps_the_previous_form() -> None:
    reason = StopReason(2, 2, 0, 60, unanswered=Unanswered("Delete the 60 duplicates?", 120, by_deadline=False))
    assert StopReason.from_json(reason.to_json()) == reason
    assert reason.to_json()["unanswered"] == {"question": "Delete the 60 duplicates?", "timeoutSeconds": 120,
                                              "byDeadline": False}
    assert "unanswered" not in StopReason(2, 2, 0, 60).to_json()
    with pytest.raises(ContractError) as raised:
        StopReason.from_json({**reason.to_json(), "unanswered": {"question": "q", "timeoutSeconds": 1,
                                                                 "byDeadline": "no"}})
    assert str(raised.value) == "outcome.reason.unanswered.byDeadline: expected a boolean"
