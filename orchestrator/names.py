"""Function names the Durable host routes by; the triggers are registered under exactly these names."""

from typing import Final

START_OPERATION: Final = "start_operation"
LONG_OPERATION: Final = "long_operation"
RUN_OPERATION_STEP: Final = "run_operation_step"
NOTIFY_BOT: Final = "notify_bot"
ASK_BOT: Final = "ask_bot"
NOTIFY_PROGRESS: Final = "notify_progress"
HISTORY_PURGE: Final = "history_purge"
