"""Post a progress report to the bot: sign it and post it over Direct Line like an outcome (orchestrator/notify.py).

Progress is a nicety and must never fail or hold up the operation: one attempt, bounded by
PROGRESS_POST_TIMEOUT_SECONDS, and any failure (Direct Line refusing or throttling, the bot's turn failing, no
connection, missing settings) is logged and answered as ``posted: false``. So the activity always completes, and the
orchestrator's history holds a plain TaskCompleted that replays the same way every time. No receipt is read: a
report the user did not get is simply superseded by the next one, or by the outcome.
"""

import asyncio
import logging

from contract import ORCHESTRATOR_SENDER, ProgressEvent, Routing, sign_progress
from orchestrator.carrier import carrier_conversations
from orchestrator.directline import DirectLineClient
from orchestrator.payloads import ProgressPosted, ProgressRequest
from orchestrator.settings import Settings

logger = logging.getLogger(__name__)

# Well under a step's usual length and Direct Line's own 15 s bound on the bot's turn: a slow post is abandoned
# rather than delaying the next step.
PROGRESS_POST_TIMEOUT_SECONDS = 10.0


async def notify_progress(request: ProgressRequest, settings: Settings, client: DirectLineClient,
                          timeout: float = PROGRESS_POST_TIMEOUT_SECONDS) -> ProgressPosted:  # noqa: ASYNC109
    report = request.report
    try:
        signed = sign_progress(report, Routing.of(request.continuation), settings.signing_key)
        async with asyncio.timeout(timeout):
            await carrier_conversations.post(client, ProgressEvent(request.continuation, signed).to_json(),
                                             ORCHESTRATOR_SENDER, settings.notify_posts_per_conversation)
    except Exception as error:  # every failure alike: logged, skipped, never retried (see the module doc)
        detail = "no answer in time" if isinstance(error, TimeoutError) else f"{type(error).__name__}: {error}"
        logger.warning("progress report not posted, skipped instance_id=%s step=%d/%d: %s", report.instance_id,
                       report.step, report.steps, detail)
        return ProgressPosted(False, detail[:200])
    logger.info("progress report posted instance_id=%s step=%d/%d", report.instance_id, report.step, report.steps)
    return ProgressPosted(True)
