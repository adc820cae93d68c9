"""The delivery receipt (signed like the outcome) and the Retry-After reader both sides use."""

from datetime import UTC, datetime

import pytest

from contract import ContractError, DeliveryReceipt, ReceiptVerdict, retry_after_seconds, sign_receipt, verify_receipt

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
KEY = "receipt-key"


@pytest.mark.parametrize(("header", "seconds"), [
    ("3", 3.0),
    (" 120 ", 120.0),
    ("0", 0.0),
    ("Fri, 02 Jan 2026 03:04:15 GMT", 10.0),
    ("Fri, 02 Jan 2026 03:04:00 GMT", 0.0),  # a date in the past: now
    (None, None),
    ("", None),
    ("-1", None),
    ("1.5", None),  # delay-seconds is whole digits only (RFC 9110 §10.2.3)
    ("soon", None),
])
def test_retry_after_is_delay_seconds_or_an_http_date(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header, NOW) == seconds


def test_a_receipt_round_trips_and_its_signature_covers_every_field() -> None:
    receipt = sign_receipt(DeliveryReceipt("op-1", ReceiptVerdict.REFUSED, 404, "ConversationNotFound", "gone"), KEY)
    again = DeliveryReceipt.from_json(receipt.to_json())
    assert again == receipt and verify_receipt(again, KEY)
    assert not verify_receipt(again, "another-key")
    tampered = DeliveryReceipt.from_json({**receipt.to_json(), "verdict": "deferred"})
    assert not verify_receipt(tampered, KEY)
    assert receipt.describe() == "HTTP 404, code ConversationNotFound: gone"
    assert DeliveryReceipt("op-1", ReceiptVerdict.DEFERRED, None, detail="timeout").describe() == "no answer: timeout"


@pytest.mark.parametrize(("value", "field"), [
    ({"verdict": "refused"}, "receipt.instanceId"),
    ({"instanceId": "op-1", "verdict": "maybe"}, "receipt.verdict"),
    ({"instanceId": "op-1", "verdict": "refused", "channelStatus": "404"}, "receipt.channelStatus"),
    ("refused", "receipt"),
])
def test_a_malformed_receipt_names_its_field(value: object, field: str) -> None:
    with pytest.raises(ContractError) as raised:
        DeliveryReceipt.from_json(value)
    assert raised.value.field == field
