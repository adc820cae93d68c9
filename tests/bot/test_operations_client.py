"""The real OperationsClient against a loopback server that speaks the function app's contract."""

import asyncio
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import unquote

import aiohttp
import pytest

from bot.errors import OperationRejected, OperationsUnavailable
from bot.operations_client import (
    MAX_STARTS_IN_FLIGHT,
    NO_ANSWER_IN_TIME,
    NOT_AVAILABLE,
    NOT_REACHABLE,
    NOT_UNDERSTOOD,
    AnswerResult,
    OperationsClient,
    StartedOperation,
    TerminateResult,
)
from bot.settings import BotSettings
from contract import Answer, Progress, Stage, StartRequest, error_body
from tests.bot.fake_operations_service import INSTANCES, SYSTEM_KEY, FakeOperationsService

CONTINUATION = {
    "type": "event",
    "name": "ContinueConversation",
    "channelId": "directline",
    "serviceUrl": "https://directline.example/",
    "conversation": {"id": "conv-1"},
}
REQUEST = StartRequest("option 1", CONTINUATION)


def run_with_client(
    test: Callable[[FakeOperationsService, OperationsClient], Awaitable[None]],
    key: str = "",
    client_key: str | None = None,
    timeout: float = 5.0,
) -> None:
    async def main() -> None:
        async with FakeOperationsService(key) as service, aiohttp.ClientSession() as session:
            settings = BotSettings(
                signing_key="s",
                operations_url=service.url,
                operations_key=key if client_key is None else client_key,
                operations_timeout=timeout,
            )
            await test(service, OperationsClient(session, settings))

    asyncio.run(main())


def test_start_returns_the_instance_and_its_management_urls() -> None:
    async def test(service: FakeOperationsService, client: OperationsClient) -> None:
        started = await client.start(REQUEST)
        instance_id, instance = service.only_instance()
        assert started.instance_id == instance_id
        assert started.option == "option 1"
        assert started.status_query_url.startswith(f"{service.url}/runtime/webhooks/durabletask/instances/")
        assert "{text}" in started.terminate_url
        assert started.service_url == "https://directline.example/"
        assert instance.request == REQUEST

    run_with_client(test)


def test_start_sends_the_function_key_when_one_is_set() -> None:
    async def test(service: FakeOperationsService, client: OperationsClient) -> None:
        await client.start(REQUEST)
        assert service.seen_keys == [("/api/operations", "fn-key")]

    run_with_client(test, key="fn-key")


def test_start_omits_the_key_header_when_the_key_is_empty() -> None:
    async def test(service: FakeOperationsService, client: OperationsClient) -> None:
        await client.start(REQUEST)
        assert service.seen_keys == [("/api/operations", None)]

    run_with_client(test)


def test_start_with_a_wrong_key_is_rejected_in_plain_words() -> None:
    async def test(service: FakeOperationsService, client: OperationsClient) -> None:
        with pytest.raises(OperationRejected) as caught:
            await client.start(REQUEST)
        assert caught.value.status == 401
        assert caught.value.reason == "the operations service did not accept the bot's key"

    run_with_client(test, key="fn-key", client_key="wrong")


@pytest.mark.parametrize("status", [400, 413])
def test_start_refused_with_an_error_body_names_the_error(status: int) -> None:
    async def test(service: FakeOperationsService, client: OperationsClient) -> None:
        service.start_answer = (status, error_body("option: unknown option"))
        with pytest.raises(OperationRejected) as caught:
            await client.start(REQUEST)
        assert caught.value.status == status
        assert caught.value.reason == "the operations service refused it (option: unknown option)"

    run_with_client(test)


def test_start_when_durable_is_unavailable_says_so() -> None:
    async def test(service: FakeOperationsService, client: OperationsClient) -> None:
        service.start_answer = (503, error_body("durable task hub unavailable"))
        with pytest.raises(OperationsUnavailable) as caught:
            await client.start(REQUEST)
        assert (caught.value.status, caught.value.reason) == (503, NOT_AVAILABLE)

    run_with_client(test)


def test_start_with_an_answer_missing_the_urls_is_not_understood() -> None:
    async def test(service: FakeOperationsService, client: OperationsClient) -> None:
        service.start_answer = (202, {"id": "op-1"})
        with pytest.raises(OperationRejected) as caught:
            await client.start(REQUEST)
        assert caught.value.reason == NOT_UNDERSTOOD

    run_with_client(test)


def test_start_against_a_closed_port_is_not_reachable() -> None:
    async def main() -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        # The port is closed again: connecting is refused.
        settings = BotSettings(signing_key="s", operations_url=f"http://127.0.0.1:{port}")
        async with aiohttp.ClientSession() as session:
            with pytest.raises(OperationsUnavailable) as caught:
                await OperationsClient(session, settings).start(REQUEST)
        assert caught.value.reason == NOT_REACHABLE

    asyncio.run(main())


def test_start_against_a_hung_service_gives_up_within_the_timeout() -> None:
    async def test(service: FakeOperationsService, client: OperationsClient) -> None:
        service.hang_until = asyncio.Event()
        with pytest.raises(OperationsUnavailable) as caught:
            await client.start(REQUEST)
        assert caught.value.reason == NO_ANSWER_IN_TIME

    run_with_client(test, timeout=0.2)


def test_status_reads_runtime_status_and_progress() -> None:
    async def test(service: FakeOperationsService, client: OperationsClient) -> None:
        started = await client.start(REQUEST)
        _, instance = service.only_instance()
        instance.progress = Progress.of("option 1", Stage.RUNNING, 2, 5, "step 2")
        running = await client.status(started)
        assert running.runtime_status == "Running"
        assert not running.finished
        assert running.progress == instance.progress
        instance.runtime_status = "Completed"
        completed = await client.status(started)
        assert completed.finished

    run_with_client(test)


def test_status_with_an_odd_custom_status_has_no_progress() -> None:
    async def test(service: FakeOperationsService, client: OperationsClient) -> None:
        started = await client.start(REQUEST)
        _, instance = service.only_instance()
        instance.raw_custom_status = {"percent": "lots"}
        status = await client.status(started)
        assert status.runtime_status == "Running"
        assert status.progress is None

    run_with_client(test)


def test_status_of_an_unknown_instance_is_rejected_with_404() -> None:
    async def test(service: FakeOperationsService, client: OperationsClient) -> None:
        unknown = _operation(service, "op-unknown")
        with pytest.raises(OperationRejected) as caught:
            await client.status(unknown)
        assert caught.value.status == 404

    run_with_client(test)


def test_only_the_start_carries_the_function_key_status_and_terminate_use_their_code() -> None:
    # The status and terminate URLs are Durable webhooks carrying the system key in code=; the Functions host reads
    # the x-functions-key header first, so the function key there would be 401 (the fake refuses it as Azure does).
    async def test(service: FakeOperationsService, client: OperationsClient) -> None:
        started = await client.start(REQUEST)
        assert (await client.status(started)).runtime_status == "Running"
        assert await client.terminate(started, "cancelled") is TerminateResult.TERMINATED
        assert service.seen_keys == [
            ("/api/operations", "fn-key"),
            (f"{INSTANCES}/{started.instance_id}", None),
            (f"{INSTANCES}/{started.instance_id}/terminate", None),
        ]

    run_with_client(test, key="fn-key")


def test_terminate_posts_the_url_quoted_reason() -> None:
    async def test(service: FakeOperationsService, client: OperationsClient) -> None:
        started = await client.start(REQUEST)
        assert await client.terminate(started, "cancelled by the user & co") is TerminateResult.TERMINATED
        _, instance = service.only_instance()
        assert [unquote(reason) for reason in instance.terminate_reasons] == ["cancelled by the user & co"]
        assert instance.runtime_status == "Terminated"

    run_with_client(test)


def test_terminate_of_a_finished_instance_is_already_finished() -> None:
    async def test(service: FakeOperationsService, client: OperationsClient) -> None:
        started = await client.start(REQUEST)
        service.only_instance()[1].runtime_status = "Completed"
        assert await client.terminate(started, "late") is TerminateResult.ALREADY_FINISHED

    run_with_client(test)


def test_terminate_of_an_unknown_instance_is_not_found() -> None:
    async def test(service: FakeOperationsService, client: OperationsClient) -> None:
        assert await client.terminate(_operation(service, "op-unknown"), "x") is TerminateResult.NOT_FOUND

    run_with_client(test)


def _operation(service: FakeOperationsService, instance_id: str) -> StartedOperation:
    base = f"{service.url}{INSTANCES}/{instance_id}"
    return StartedOperation(instance_id, "option 1", f"{base}?code={SYSTEM_KEY}",
                            f"{base}/terminate?reason={{text}}&code={SYSTEM_KEY}")




def test_at_most_sixteen_starts_are_at_the_function_app_at_once_and_the_rest_wait_their_turn() -> None:
    async def test(service: FakeOperationsService, client: OperationsClient) -> None:
        service.hang_until = asyncio.Event()
        starts = [asyncio.ensure_future(client.start(REQUEST)) for _ in range(MAX_STARTS_IN_FLIGHT + 4)]
        for _ in range(1000):  # poll, bounded: the requests reach the hung service
            if client.starts_waiting == 4 and len(service.seen_keys) == MAX_STARTS_IN_FLIGHT:
                break
            await asyncio.sleep(0.01)
        assert client.starts_waiting == 4
        assert [path for path, _ in service.seen_keys] == ["/api/operations"] * MAX_STARTS_IN_FLIGHT
        service.hang_until.set()
        started = await asyncio.gather(*starts)
        assert len({operation.instance_id for operation in started}) == MAX_STARTS_IN_FLIGHT + 4
        assert client.starts_waiting == 0

    # The waiting is not timed: only the function app's answer is (each start here answers within the timeout).
    run_with_client(test, timeout=14.0)


def test_an_answer_is_raised_through_the_send_event_url_with_its_system_key_and_no_function_key() -> None:
    async def test(service: FakeOperationsService, client: OperationsClient) -> None:
        started = await client.start(REQUEST)
        assert started.send_event_url.endswith(f"/raiseEvent/{{eventName}}?code={SYSTEM_KEY}")
        assert StartedOperation.from_state(started.to_state()) == started
        answer = Answer(f"{started.instance_id}:1", "Yes")
        assert await client.answer(started, "LongOperationAnswer-1", answer) is AnswerResult.SENT
        instance_id, instance = service.only_instance()
        assert instance.raised == [("LongOperationAnswer-1", {"questionId": f"{instance_id}:1", "answer": "Yes"})]
        assert service.seen_keys[-1] == (f"{INSTANCES}/{instance_id}/raiseEvent/LongOperationAnswer-1", None)
        instance.runtime_status = "Completed"
        assert await client.answer(started, "LongOperationAnswer-1", answer) is AnswerResult.ALREADY_FINISHED

    run_with_client(test, key="fn-key")


def test_a_state_saved_before_questions_has_no_send_event_url() -> None:
    state = {"instanceId": "op-1", "option": "option 1", "statusQueryGetUri": "s", "terminatePostUri": "t"}
    assert StartedOperation.from_state(state).send_event_url == ""
