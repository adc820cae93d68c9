"""The functions host checks keys as the Functions host does on Azure (devhost/functions/auth.py names the sources).

Each kind of key against each kind of route: a function-level function, an admin-level one, an anonymous one and
the Durable webhooks; the header read before ``code=``; a refusal is 401 with an empty body; the check-status
payload carries the system key. test_keys_setup.py has the keys file and the off switch.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from devhost.functions.keys import HostKeys
from tests.devhost.functions.hosting import APPS, HostThread

API = "/runtime/webhooks/durabletask"
LISTING = f"{API}/instances/?top=1"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostThread]:
    running = HostThread(APPS / "keys", Path(tmp_path_factory.mktemp("keys-data")))
    yield running
    running.close()


def send(host: HostThread, method: str, url: str, *, header: str | None = None,
         code: str | None = None) -> tuple[int, str]:
    """(status, body text); ``header`` goes in x-functions-key, ``code`` in the query (None: not sent at all)."""
    headers = {} if header is None else {"x-functions-key": header}
    params = {} if code is None else {"code": code}
    target = url if url.startswith("http") else host.base_url + url

    async def go() -> tuple[int, str]:
        async with aiohttp.ClientSession() as session, session.request(method, target, headers=headers,
                                                                        params=params) as response:
            return response.status, await response.text()

    return host.run(go())


def key_of(keys: HostKeys, kind: str) -> str:
    return {
        "master": keys.master,
        "host": keys.host_key,
        "system": keys.durable_system_key,
        "own function": keys.function_key("guarded"),
        "other function": keys.function_key("other"),
        "made up": "not-a-key-of-this-host",
    }[kind]


@pytest.mark.parametrize(("kind", "status"), [
    ("own function", 200), ("host", 200), ("master", 200),
    ("other function", 401), ("system", 401), ("made up", 401),
])
@pytest.mark.parametrize("where", ["header", "code"])
def test_a_function_level_function_takes_its_own_key_a_host_key_or_the_master_key(
        host: HostThread, kind: str, status: int, where: str) -> None:
    key = key_of(host.keys, kind)
    sent = send(host, "GET", "/api/guarded", **{where: key})  # type: ignore[arg-type]
    assert sent == ((200, "guarded") if status == 200 else (401, ""))


def test_a_function_level_function_without_a_key_is_401_with_an_empty_body(host: HostThread) -> None:
    assert send(host, "GET", "/api/guarded") == (401, "")


@pytest.mark.parametrize(("kind", "status"), [
    ("master", 200), ("host", 401), ("own function", 401), ("system", 401),
])
def test_an_admin_level_function_takes_only_the_master_key(host: HostThread, kind: str, status: int) -> None:
    keys = host.keys
    key = keys.function_key("admin_only") if kind == "own function" else key_of(keys, kind)
    assert send(host, "GET", "/api/admin-only", header=key) == ((200, "admin") if status == 200 else (401, ""))


@pytest.mark.parametrize("header", [None, "not-a-key-of-this-host"])
def test_an_anonymous_function_is_open_whatever_the_key(host: HostThread, header: str | None) -> None:
    assert send(host, "GET", "/api/open", header=header) == (200, "open")


@pytest.mark.parametrize(("kind", "status"), [
    ("system", 200), ("master", 200),
    ("host", 401), ("own function", 401), ("made up", 401),
])
@pytest.mark.parametrize("where", ["header", "code"])
def test_the_durable_webhooks_take_only_the_durabletask_system_key_or_the_master_key(
        host: HostThread, kind: str, status: int, where: str) -> None:
    sent_status, text = send(host, "GET", LISTING, **{where: key_of(host.keys, kind)})  # type: ignore[arg-type]
    assert sent_status == status
    if status == 401:
        assert text == ""


def test_every_path_under_the_webhooks_is_checked_before_its_route(host: HostThread) -> None:
    assert send(host, "GET", f"{API}/no-such-route") == (401, "")
    assert send(host, "GET", f"{API}/no-such-route", header=host.keys.durable_system_key)[0] == 404


@pytest.mark.parametrize("url", ["/api/guarded", LISTING])
@pytest.mark.parametrize("header", ["not-a-key-of-this-host", ""])
def test_the_header_wins_over_code_even_when_wrong_or_empty(host: HostThread, url: str, header: str) -> None:
    right = host.keys.master
    assert send(host, "GET", url, header=header, code=right) == (401, "")
    assert send(host, "GET", url, code=right)[0] == 200


def test_the_check_status_urls_carry_the_system_key_and_work_without_a_header(host: HostThread) -> None:
    # The starter's SDK client starts the instance through the keyless loopback RPC endpoint, and
    # create_check_status_response builds the URLs from the binding's managementUrls, which carry code=.
    status, text = send(host, "POST", "/api/start", header=host.keys.function_key("start"))
    assert status == 202, text
    payload = json.loads(text)
    code = f"code={host.keys.durable_system_key}"
    for name in ("statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri",
                 "restartPostUri", "suspendPostUri", "resumePostUri"):
        assert payload[name].endswith(f"&{code}"), (name, payload[name])
    assert send(host, "GET", payload["statusQueryGetUri"])[0] == 202
    # What the bot did before its fix: its function key in the header beside the code= (the header wins).
    assert send(host, "GET", payload["statusQueryGetUri"], header=host.keys.function_key("start")) == (401, "")
    raised = payload["sendEventPostUri"].replace("{eventName}", "Go")

    async def go() -> int:
        async with aiohttp.ClientSession() as session, session.post(raised, json=True) as response:
            return response.status

    assert host.run(go()) == 202


def test_the_sdk_clients_loopback_endpoint_takes_no_key(host: HostThread) -> None:
    rpc_base_url = json.loads(host.host.binding)["rpcBaseUrl"]
    assert rpc_base_url.startswith("http://127.0.0.1:") and rpc_base_url.endswith("/durabletask/")
    assert send(host, "GET", f"{rpc_base_url}instances/?top=1")[0] == 200
    binding = json.loads(host.host.binding)
    assert binding["requiredQueryStringParameters"] == f"code={host.keys.durable_system_key}"
