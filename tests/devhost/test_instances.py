"""``python -m devhost instances`` against a real functions host running the project's function app."""

import asyncio
import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from aiohttp import web
from aiohttp.test_utils import TestServer

from contract import Progress, Stage
from devhost.addresses import free_port
from devhost.functions.keys import KEYS_FILE, read_keys
from devhost.instances import durable_key, main, parse_args, row, run

ROOT = Path(__file__).resolve().parents[2]
CONTINUATION = {"type": "event", "channelId": "directline", "serviceUrl": "http://127.0.0.1:9/",
                "conversation": {"id": "conv-instances"}, "from": {"id": "user"}, "recipient": {"id": "bot"}}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("functions")


@pytest.fixture(scope="module")
def functions_url(data_dir: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "DirectLineSecret": "s", "OperationSigningKey": "k", "OperationSeconds": "600",
           "OperationSteps": "4", "DirectLineEndpoint": "http://127.0.0.1:9/v3/directline"}
    process = subprocess.Popen(
        [sys.executable, "-m", "devhost", "functions", "--app-root", str(ROOT), "--port", str(port),
         "--data-dir", str(data_dir)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{url}/runtime/webhooks/durabletask/instances/?top=1", timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None and time.monotonic() < deadline, "functions host did not start"
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_lists_a_running_operation_with_its_progress(functions_url: str, data_dir: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    key = read_keys(data_dir / KEYS_FILE).function_key("start_operation")
    started = requests.post(f"{functions_url}/api/operations", json={"option": "option 1",
                                                                       "continuation": CONTINUATION},
                            headers={"x-functions-key": key}, timeout=10)
    assert started.status_code == 202, started.text
    instance_id = started.json()["id"]
    # Poll until the orchestrator's first episode has set its progress.
    deadline = time.monotonic() + 30
    while requests.get(started.json()["statusQueryGetUri"], timeout=5).json().get("customStatus") is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)

    # The host's system key, read from its data dir's keys file.
    assert main(["--functions-url", functions_url, "--data-dir", str(data_dir), "--prefix", instance_id]) == 0
    header, line = capsys.readouterr().out.strip().splitlines()
    assert header.split() == ["instance", "name", "status", "stage", "progress", "updated", "message"]
    assert line.split()[:5] == [instance_id, "long_operation", "Running", "running", "0%"]
    assert "(0/4)" in line


def test_an_empty_selection_says_so(functions_url: str, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys = read_keys(data_dir / KEYS_FILE)
    # The master key opens the Durable API too. `--key=` form: a generated key may start with "-", which argparse
    # would take for an option.
    assert main(["--functions-url", functions_url, f"--key={keys.master}", "--prefix", "nothing-has-this-prefix"]) == 0
    assert capsys.readouterr().out.strip() == "(no orchestration instances)"


@pytest.mark.parametrize("which", ["none", "function key", "host key"])
def test_a_host_that_refuses_the_key_is_a_clear_error(functions_url: str, data_dir: Path, which: str,
                                                       tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys = read_keys(data_dir / KEYS_FILE)
    key = {"none": "", "function key": keys.function_key("start_operation"), "host key": keys.host_key}[which]
    # An empty data dir: no keys file to fall back on.
    assert main(["--functions-url", functions_url, "--data-dir", str(tmp_path), f"--key={key}"]) == 1
    refused = "a request without a key" if which == "none" else "the key sent"
    assert capsys.readouterr().err.strip() == (
        f"devhost instances: {functions_url}/runtime/webhooks/durabletask/instances/ answered HTTP 401: the "
        f"functions host checks keys and refused {refused}; pass --key with its durabletask system key or master "
        f"key, or --data-dir with its {KEYS_FILE}")


def test_the_local_keys_file_is_read_for_a_local_host_only(data_dir: Path) -> None:
    system_key = read_keys(data_dir / KEYS_FILE).durable_system_key
    # devhost up's layout: <data dir>/functions/keys.json.
    up_dir = data_dir.parent / "up-layout"
    (up_dir / "functions").mkdir(parents=True, exist_ok=True)
    (up_dir / "functions" / KEYS_FILE).write_bytes((data_dir / KEYS_FILE).read_bytes())

    def key(url: str, directory: Path) -> str:
        return durable_key(parse_args(["--functions-url", url, "--data-dir", str(directory)]))

    assert key("http://127.0.0.1:7071", data_dir) == system_key
    assert key("http://localhost:7071", up_dir) == system_key
    assert key("https://myapp.azurewebsites.net", data_dir) == ""


def test_an_unreachable_host_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--functions-url", f"http://127.0.0.1:{free_port()}"]) == 1
    assert "cannot reach the functions host" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["--status", "Sleeping"], "unknown runtime status Sleeping"),
    (["--top", "0"], "--top must be at least 1"),
    (["--functions-url", "ftp://x"], "must be an http(s) URL"),
])
def test_bad_arguments_exit_2_naming_the_problem(argv: list[str], message: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def _serve_and_list(body: bytes, content_type: str) -> int:
    """``instances`` against a loopback server answering 200 with ``body``: the exit code."""

    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type=content_type)

    async def scenario() -> int:
        app = web.Application()
        app.router.add_get("/runtime/webhooks/durabletask/instances/", answer)
        async with TestServer(app, host="127.0.0.1") as server:
            return await run(parse_args(["--functions-url", str(server.make_url(""))]), io.StringIO())

    return asyncio.run(scenario())


@pytest.mark.parametrize(("body", "content_type"), [(b"<html>a proxy page</html>", "text/html"),
                                                    (b"{not json", "application/json")])
def test_an_answer_that_is_not_json_is_named_as_such(body: bytes, content_type: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert _serve_and_list(body, content_type) == 1
    err = capsys.readouterr().err
    assert "did not answer JSON" in err
    assert "cannot reach" not in err


def test_rows_show_the_contract_progress_and_any_other_custom_status_as_it_is() -> None:
    progress = Progress.of("option 2", Stage.RUNNING, 1, 4, "step 1 done")
    base = {"instanceId": "op-1", "name": "long_operation", "runtimeStatus": "Running", "lastUpdatedTime": "t"}
    assert row({**base, "customStatus": progress.to_json()}) == (
        "op-1", "long_operation", "Running", "running", "25% (1/4)", "t", "step 1 done")
    assert row({**base, "customStatus": {"percent": "lots"}})[3:] == ("", "", "t", "{'percent': 'lots'}")
    assert row({**base, "customStatus": None})[3:] == ("", "", "t", "")
