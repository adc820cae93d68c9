"""Names that identify the outcome event on its way from the orchestration to the waiting prompt."""

from typing import Final

# The Direct Line event the function app posts to the bot (the name of Microsoft's C# sample).
LONG_OPERATION_RESPONSE_EVENT: Final = "LongOperationResponse"
# The name botbuilder gives the activity of a proactive continue_conversation turn.
CONTINUE_CONVERSATION_EVENT: Final = "ContinueConversation"
# The `kind` of an outcome; the prompt recognizes an outcome by it.
OUTCOME_KIND: Final = "LongOperationComplete"
# The `kind` of a question a step asks mid-run (contract/question.py), carried in the same event as an outcome.
QUESTION_KIND: Final = "LongOperationQuestion"

# The operations a user can pick; the function app's catalogue implements exactly these (a test checks it).
OPTIONS: Final = ("option 1", "option 2", "option 3")
# The event the bot answers an outcome event with, in the function app's Direct Line conversation, when it could not
# deliver the outcome to the user (contract/receipt.py).
DELIVERY_RECEIPT_EVENT: Final = "LongOperationDeliveryReceipt"
