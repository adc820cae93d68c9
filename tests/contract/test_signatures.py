"""Known answers for every signature on the wire: the bot and the function app are upgraded one after the other,
and outcomes, questions and reports signed before an upgrade are verified after it, so the bytes each signature
covers must never change by accident (a refactor that signed other bytes would still pass every round trip)."""

from contract import (
    DeliveryReceipt,
    Outcome,
    OutcomeStatus,
    ProgressReport,
    Question,
    ReceiptVerdict,
    Routing,
    StopReason,
    sign_outcome,
    sign_progress,
    sign_question,
    sign_receipt,
    verify_outcome,
    verify_progress,
    verify_question,
    verify_receipt,
)

KEY = "k3y-for-known-answers"
ROUTING = Routing.of({"type": "message", "channelId": "directline", "serviceUrl": "https://smba.example/",
                      "conversation": {"id": "conv-1"}, "from": {"id": "user-1"}, "recipient": {"id": "bot-1"}})


def test_a_stopped_outcomes_signature_is_the_known_one() -> None:
    outcome = sign_outcome(Outcome("op-1", "conv-1", OutcomeStatus.FAILED, reason=StopReason(2, 3, 2, 20.0)),
                           ROUTING, KEY)
    assert outcome.signature == "960e3e09c8f63da586fa948a481590deea0b5678646d9ba2cc074a742f520721"
    assert verify_outcome(outcome, ROUTING, KEY)


def test_a_completed_outcome_with_data_has_the_known_signature() -> None:
    outcome = sign_outcome(Outcome("op-1", "conv-1", OutcomeStatus.COMPLETED, "done",
                                   data={"kind": "table", "rows": [1]}), ROUTING, KEY)
    assert outcome.signature == "78f6181db34ec51185f0dc497774eee4aa5adb79bec10a4c9f56d66cdc5f50de"
    assert verify_outcome(outcome, ROUTING, KEY)


def test_a_questions_signature_is_the_known_one() -> None:
    question = sign_question(Question("op-1", "conv-1", 1, "Delete the 60 duplicates?", ("Yes", "No"), 10.0,
                                      "2024-05-01T12:00:11+00:00"), ROUTING, KEY)
    assert question.signature == "e54c2349888233bbdb48d8555a600c4360f6da4f30aece0f31e8ac22ae7057b0"
    assert verify_question(question, ROUTING, KEY)


def test_a_progress_reports_signature_is_the_known_one() -> None:
    report = sign_progress(ProgressReport("op-1", "conv-1", "option 1", 2, 3), ROUTING, KEY)
    assert report.signature == "d3e1fec9f67e84492c5d7d1af3d195d7661e57c39627a2f801d02ea2d5cc48b6"
    assert verify_progress(report, ROUTING, KEY)


def test_a_delivery_receipts_signature_is_the_known_one() -> None:
    receipt = sign_receipt(DeliveryReceipt("op-1", ReceiptVerdict.REFUSED, 404, "ConversationNotFound",
                                           "conversation not found"), KEY)
    assert receipt.signature == "2906a70ed6914534c631f2784ebd7742c8404c5ba5d43017a74b23cb1694a65f"
    assert verify_receipt(receipt, KEY)
