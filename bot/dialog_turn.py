"""One dialog turn: continue the active dialog, or begin the root dialog if none is active.

The seam between the bot and botbuilder's dialog runner. It does what ``DialogExtensions.run_dialog`` does for a bot
that is not a skill (the samples' ``DialogHelper.run_dialog``, 05.multi-turn-prompt), and deliberately not its
"Bot State" trace.

Decision (README, Decisions): no state snapshot trace. botbuilder-python 4.17's
``DialogExtensions._send_state_snapshot_trace`` (botbuilder-dialogs dialog_extensions.py) calls
``Activity.create_trace_activity(name, value, value_type, label)`` with value and value type swapped, so the
Emulator, which recognizes a state trace only by ``valueType == "https://www.botframework.com/schemas/botState"``
(BotFramework-Emulator packages/app/shared/src/enums/valueTypes.ts; chat/traceActivity.tsx renders it only in debug
mode), shows nothing for it. Repaired, it would show the memory snapshot, which holds the waiting prompt's state: the
operation's status and terminate URLs with the Durable webhooks' key in ``code=``, a secret no channel client may
see. And CloudAdapter sends traces on the emulator channel only: one more POST per turn for every Emulator user,
whom the benchmark simulates. So it is dropped rather than repaired.
"""

from botbuilder.core import StatePropertyAccessor, TurnContext
from botbuilder.dialogs import Dialog, DialogSet, DialogTurnResult, DialogTurnStatus


class DialogRunner:
    """Runs ``dialog`` as the root of the dialog stack kept under ``accessor``."""

    def __init__(self, dialog: Dialog, accessor: StatePropertyAccessor) -> None:
        self._dialog = dialog
        self._dialogs = DialogSet(accessor)
        self._dialogs.add(dialog)

    async def run(self, turn_context: TurnContext) -> DialogTurnResult:
        dialog_context = await self._dialogs.create_context(turn_context)
        result = await dialog_context.continue_dialog()
        if result.status == DialogTurnStatus.Empty:
            result = await dialog_context.begin_dialog(self._dialog.id)
        return result
