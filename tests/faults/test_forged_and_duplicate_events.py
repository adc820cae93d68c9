"""Issue 5, fault 5: outcome events nobody should see, posted through the Direct Line stand-in's client API.

Anybody holding the Direct Line secret can post any event to the bot, and ``notify_bot`` runs at least once, so the bot
must drop: the same outcome twice, an outcome with a bad or missing signature, a genuine outcome re-posted with its
continuation's routing changed (channel, serviceUrl, conversation, bot or user), one for another conversation's instance
and one for an instance no prompt waits for. None reaches a user, and each is logged with its instance id.

Events are posted as ``orchestrator/notify.py`` posts them (``contract.OutcomeEvent`` and its ``DirectLineClient``;
the valid ones through ``notify_bot`` itself, signed with the stack's key). The stand-in answers the POST only after
the bot's turn is over, and the bot's proactive messages are posted to the chat client inside that turn, so once a POST
has returned, a message it caused would already be in the transcript: comparing transcripts right after is a bounded
wait.
"""

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from contract import Outcome, OutcomeEvent, OutcomeStatus, Routing, make_instance_id, sign_outcome
from devhost.chat import Conversation
from orchestrator.directline import DirectLineClient
from orchestrator.notify import notify_bot
from orchestrator.payloads import NotifyRequest
from orchestrator.settings import parse_settings
from tests.bot.harness import legacy_signed
from tests.faults.harness import CHOOSE, FaultStack, log_lines, running_stack, wait_for_bot_warning

# Operations far longer than the test: both users wait for their own operation the whole time.
SETTINGS = {"OperationSeconds": "600", "OperationSteps": "300", "OperationTimeoutSeconds": "900"}
RESULT = "(a result posted by the test)"
DELIVERED = f"Thanks for waiting. {RESULT}"
REJECTED_SIGNATURE = (
    "outcome event rejected: the outcome signature is missing or wrong, or the outcome or its routing was changed"
)


class Poster:
    """Posts outcome events into a fresh Direct Line conversation, as ``notify_bot`` does, and reads the bot's log."""

    def __init__(self, faults: FaultStack) -> None:
        self.faults = faults
        secrets = faults.stack.secrets
        self.settings = parse_settings({
            "DirectLineEndpoint": faults.config.directline_url,
            "DirectLineSecret": secrets.directline_secret,
            "OperationSigningKey": secrets.signing_key,
        })
        self.client = DirectLineClient(faults.session, faults.config.directline_url, secrets.directline_secret)

    async def continuation(self, instance_id: str) -> dict[str, Any]:
        """The continuation the bot sent when it started the operation (the orchestration's input)."""
        status = await self.faults.status(instance_id)
        plan = status["input"]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        continuation: dict[str, Any] = plan["continuation"]
        return continuation

    def request(self, instance_id: str, conversation_id: str, continuation: dict[str, Any]) -> NotifyRequest:
        outcome = Outcome(instance_id, conversation_id, OutcomeStatus.COMPLETED, RESULT)
        return NotifyRequest(instance_id, continuation, outcome)

    async def notify(self, request: NotifyRequest) -> dict[str, Any]:
        """The real ``notify_bot`` activity code: signs with the key, posts; returns the event it posted."""
        result = await notify_bot(request, self.settings, self.client)
        return OutcomeEvent(request.continuation, result.outcome).to_json()

    async def post(self, event: dict[str, Any]) -> None:
        conversation = await self.client.start_conversation()
        await self.client.post_activity(conversation, event)  # raises unless Direct Line answered 200

    def signed(self, outcome: Outcome, continuation: dict[str, Any]) -> Outcome:
        """``outcome`` signed with the stack's key for ``continuation``'s routing, as notify_bot signs it."""
        return sign_outcome(outcome, Routing.of(continuation), self.settings.signing_key)

    def log_mark(self) -> int:
        return len(log_lines(self.faults.stack, "bot"))

    async def logged_since(self, mark: int, *fragments: str) -> str:
        return await wait_for_bot_warning(self.faults, *fragments, since_line=mark)


def _snapshot(*conversations: Conversation) -> list[int]:
    return [len(conversation.transcript) for conversation in conversations]


def test_duplicate_forged_foreign_and_unknown_outcomes_reach_nobody_and_are_logged(tmp_path: Path, auth: bool) -> None:
    async def scenario() -> None:
        async with running_stack(tmp_path, SETTINGS, auth=auth) as faults:
            poster = Poster(faults)
            alice, alice_instance = await faults.user_waiting("option 1")
            bob, bob_instance = await faults.user_waiting("option 3")
            alice_continuation = await poster.continuation(alice_instance)
            bob_continuation = await poster.continuation(bob_instance)

            async def dropped(event: dict[str, Any], *logged: str) -> None:
                """Post the event; nobody's transcript changes; the bot logs a line with every fragment."""
                before, mark = _snapshot(alice, bob), poster.log_mark()
                await poster.post(event)
                assert _snapshot(alice, bob) == before, (alice.bot_texts(), bob.bot_texts())
                await poster.logged_since(mark, *logged)

            # Control: a genuine outcome for what Alice waits for reaches her, once, and ends her waterfall.
            first = await poster.notify(poster.request(alice_instance, alice.id, alice_continuation))
            assert alice.bot_texts()[-2:] == [DELIVERED, CHOOSE]

            # 1. The same outcome event again, byte for byte, and as a retried notify_bot would send it (re-signed).
            await dropped(first, "duplicate outcome dropped", f"instance_id={alice_instance}")
            mark = poster.log_mark()
            before = _snapshot(alice, bob)
            await poster.notify(poster.request(alice_instance, alice.id, alice_continuation))
            assert _snapshot(alice, bob) == before
            await poster.logged_since(mark, "duplicate outcome dropped", f"instance_id={alice_instance}")

            # 2. Bob's awaited instance, but with a wrong, a missing, or another key's signature.
            genuine = poster.signed(Outcome(bob_instance, bob.id, OutcomeStatus.COMPLETED, RESULT), bob_continuation)
            wrong = replace(genuine, signature=("0" if genuine.signature[0] != "0" else "1") + genuine.signature[1:])
            tampered = replace(genuine, result="(a result the attacker chose)")
            other_key = sign_outcome(genuine.unsigned(), Routing.of(bob_continuation), "not-the-signing-key")
            for forged in (wrong, genuine.unsigned(), tampered, other_key):
                request = poster.request(bob_instance, bob.id, bob_continuation)
                await dropped(OutcomeEvent(request.continuation, forged).to_json(), REJECTED_SIGNATURE,
                              f"instance_id={bob_instance}")

            # 2b. Bob's genuine outcome, re-posted with one field of its continuation's routing changed: towards
            #     Alice's conversation, another service, channel, bot or user.
            for field, value in (("conversation", alice_continuation["conversation"]),
                                 ("serviceUrl", "https://attacker.example/"), ("channelId", "msteams"),
                                 ("recipient", {"id": "another-bot"}), ("from", {"id": "another-user"})):
                rerouted = {**bob_continuation, field: value}
                await dropped(OutcomeEvent(rerouted, genuine).to_json(), REJECTED_SIGNATURE,
                              f"instance_id={bob_instance}")

            # 3. Another conversation's instance, validly signed for Bob's continuation (only the key's holder can):
            #    as Alice's outcome, and relabelled with Bob's conversation id.
            alices = Outcome(alice_instance, alice.id, OutcomeStatus.COMPLETED, RESULT)
            foreign = poster.signed(alices, bob_continuation)
            await dropped(OutcomeEvent(bob_continuation, foreign).to_json(),
                          "the outcome belongs to another conversation than the continuation",
                          f"instance_id={alice_instance}")
            relabelled = poster.signed(replace(alices, conversation_id=bob.id), bob_continuation)
            await dropped(OutcomeEvent(bob_continuation, relabelled).to_json(),
                          "the instance id does not belong to this channel and conversation",
                          f"instance_id={alice_instance}")

            # 4. An instance of Bob's conversation that nobody started (so no prompt waits for it).
            unknown = make_instance_id(bob.channel_id, bob.id, "0123456789abcdef0123456789abcdef")
            mark = poster.log_mark()
            before = _snapshot(alice, bob)
            await poster.notify(poster.request(unknown, bob.id, bob_continuation))
            assert _snapshot(alice, bob) == before
            await poster.logged_since(mark, "stale outcome dropped", f"instance_id={unknown}")

            # Control: after all that, Bob's prompt still waits for exactly his operation and gets it, once.
            await poster.notify(poster.request(bob_instance, bob.id, bob_continuation))
            assert bob.bot_texts()[-2:] == [DELIVERED, CHOOSE]
            assert alice.bot_texts().count(DELIVERED) == 1
            assert bob.bot_texts().count(DELIVERED) == 1

    asyncio.run(scenario())


def test_an_outcome_signed_by_the_previous_contract_reaches_its_user_once_during_an_upgrade(
        tmp_path: Path, auth: bool) -> None:
    """A function app not yet upgraded signs without the routing; the bot, upgraded first, still delivers it, and
    the proactive turn's serviceUrl check still drops one re-posted towards another service."""

    async def scenario() -> None:
        async with running_stack(tmp_path, SETTINGS, auth=auth) as faults:
            poster = Poster(faults)
            carol, carol_instance = await faults.user_waiting("option 2")
            continuation = await poster.continuation(carol_instance)

            def legacy_event(routed_to: dict[str, Any]) -> dict[str, Any]:
                event = OutcomeEvent(routed_to, Outcome(carol_instance, carol.id, OutcomeStatus.COMPLETED, RESULT))
                wire = event.to_json()
                wire["value"]["value"] = legacy_signed(wire["value"]["value"], poster.settings.signing_key)
                return wire

            before, mark = _snapshot(carol), poster.log_mark()
            await poster.post(legacy_event({**continuation, "serviceUrl": "https://attacker.example/"}))
            assert _snapshot(carol) == before
            await poster.logged_since(mark, "serviceUrl differs", f"instance_id={carol_instance}")

            event = legacy_event(continuation)
            await poster.post(event)
            assert carol.bot_texts() == [CHOOSE, "...one moment please....", DELIVERED, CHOOSE]
            mark = poster.log_mark()
            await poster.post(event)
            await poster.logged_since(mark, "duplicate outcome dropped", f"instance_id={carol_instance}")
            assert carol.bot_texts().count(DELIVERED) == 1

    asyncio.run(scenario())
