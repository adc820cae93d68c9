"""The delivery receipt: the bot's answer, in the function app's carrier conversation, to an outcome it could not
deliver to the user's conversation.

Only a failed delivery has one: the bot posts it (``replyToId`` = the outcome event's id) and then fails its turn, so
Direct Line answers the function app's post with an error (502) and ``notify_bot`` looks for a receipt only then.
A delivered outcome costs nothing extra. ``verdict`` says what the function app should do:

- ``refused``: the user's channel refused the outcome for good (403/404: the conversation is gone, or the bot may no
  longer post there). Retrying cannot help; the orchestration ends and says so.
- ``deferred``: a transient failure (a 5xx, a timeout, a 429 past its retries). The retry policy acts, as for any
  failed post; the receipt only names the cause in the orchestration's history.

Signed like the outcome (HMAC-SHA256, same key): whoever holds the Direct Line secret can post into the carrier
conversation, and a forged "refused" would silence an outcome.
"""

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from contract._fields import Signed, optional_str, require_member, require_object, require_str
from contract.errors import ContractError
from contract.signing import signature_matches, signature_of


class ReceiptVerdict(StrEnum):
    REFUSED = "refused"
    DEFERRED = "deferred"


@dataclass(frozen=True)
class DeliveryReceipt(Signed):
    instance_id: str
    verdict: ReceiptVerdict
    # What the user's channel answered: its HTTP status (None: no answer, e.g. a timeout) and error code.
    channel_status: int | None
    channel_code: str = ""
    # For logs and the orchestration's status, never shown to the user.
    detail: str = ""
    signature: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "instanceId": self.instance_id,
            "verdict": self.verdict.value,
            "channelStatus": self.channel_status,
            "channelCode": self.channel_code,
            "detail": self.detail,
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, value: object) -> "DeliveryReceipt":
        data = require_object(value, "receipt")
        verdict = require_member(data, "verdict", ReceiptVerdict, "receipt.")
        status = data.get("channelStatus")
        if status is not None and (not isinstance(status, int) or isinstance(status, bool)):
            raise ContractError("receipt.channelStatus", "expected an integer or null")
        return cls(
            instance_id=require_str(data, "instanceId", "receipt."),
            verdict=verdict,
            channel_status=status,
            channel_code=optional_str(data, "channelCode", "receipt.") or "",
            detail=optional_str(data, "detail", "receipt.") or "",
            signature=optional_str(data, "signature", "receipt.") or "",
        )

    def describe(self) -> str:
        """'HTTP 404, code ConversationNotFound: conversation not found' (or 'no answer: ...')."""
        where = "no answer" if self.channel_status is None else f"HTTP {self.channel_status}"
        code = f", code {self.channel_code}" if self.channel_code else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{where}{code}{detail}"


def sign_receipt(receipt: DeliveryReceipt, key: str) -> DeliveryReceipt:
    return replace(receipt, signature=signature_of(receipt.signing_fields(), key))


def verify_receipt(receipt: DeliveryReceipt, key: str) -> bool:
    return signature_matches(receipt.signing_fields(), key, receipt.signature)
