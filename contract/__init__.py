"""The wire contract between the bot and the function app.

Everything that crosses the wire between the two sides is defined here once, as dataclasses with
``to_json``/``from_json``. No Azure or botbuilder imports, so both sides import it cheaply.
"""

from contract.error_body import error_body, error_message
from contract.errors import ContractError
from contract.events import (
    CONTINUE_CONVERSATION_EVENT,
    DELIVERY_RECEIPT_EVENT,
    LONG_OPERATION_RESPONSE_EVENT,
    OPTIONS,
    OUTCOME_KIND,
    QUESTION_KIND,
)
from contract.instance_ids import instance_id_prefix, make_instance_id
from contract.legacy_outcome import verify_legacy_outcome
from contract.outcome import Outcome, OutcomeStatus
from contract.outcome_event import ORCHESTRATOR_SENDER, OutcomeEvent, QuestionEvent, event_kind
from contract.outcome_window import OUTCOME_WINDOW_SECONDS
from contract.progress import Progress, Stage
from contract.progress_report import (
    PROGRESS_KIND,
    ProgressEvent,
    ProgressReport,
    sign_progress,
    verify_progress,
)
from contract.question import ANSWER_EVENT_PREFIX, MAX_ANSWER_CHARS, Answer, Question, answer_event_name
from contract.receipt import DeliveryReceipt, ReceiptVerdict, sign_receipt, verify_receipt
from contract.retry_after import retry_after_seconds
from contract.routing import Routing
from contract.signing import normalize_signing_key, sign_outcome, sign_question, verify_outcome, verify_question
from contract.start import MAX_START_BODY_BYTES, StartRequest, validate_continuation
from contract.stop_reason import StopReason, Unanswered

__all__ = [
    "ANSWER_EVENT_PREFIX",
    "CONTINUE_CONVERSATION_EVENT",
    "DELIVERY_RECEIPT_EVENT",
    "LONG_OPERATION_RESPONSE_EVENT",
    "MAX_ANSWER_CHARS",
    "MAX_START_BODY_BYTES",
    "OPTIONS",
    "ORCHESTRATOR_SENDER",
    "OUTCOME_KIND",
    "OUTCOME_WINDOW_SECONDS",
    "PROGRESS_KIND",
    "QUESTION_KIND",
    "Answer",
    "ContractError",
    "DeliveryReceipt",
    "Outcome",
    "OutcomeEvent",
    "OutcomeStatus",
    "Progress",
    "ProgressEvent",
    "ProgressReport",
    "Question",
    "QuestionEvent",
    "ReceiptVerdict",
    "Routing",
    "Stage",
    "StartRequest",
    "StopReason",
    "Unanswered",
    "answer_event_name",
    "error_body",
    "error_message",
    "event_kind",
    "instance_id_prefix",
    "make_instance_id",
    "normalize_signing_key",
    "retry_after_seconds",
    "sign_outcome",
    "sign_progress",
    "sign_question",
    "sign_receipt",
    "validate_continuation",
    "verify_legacy_outcome",
    "verify_outcome",
    "verify_progress",
    "verify_question",
    "verify_receipt",
]
