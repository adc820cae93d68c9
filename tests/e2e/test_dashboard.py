"""The dashboard in headless Chromium against the whole offline stack: a running operation's bar moves, its history
shows as a timeline, the Terminate and Purge buttons work, and an instance id that is HTML shows as text.

``dashboard_driver.js`` drives the page with playwright-core (tests/devhost/webchat's node_modules) and Debian's
chromium, and writes a screenshot into this test's tmp_path (its path is printed).
"""

import asyncio
import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from contract import instance_id_prefix
from devhost.addresses import free_ports
from devhost.chat import ChatClient, ChatConfig
from devhost.stack import Stack
from tests.e2e.stack_fixture import stack_config

# Slow (whole-system runs, headless Chromium, several processes): `make pytest-slow`, which CI runs too.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).resolve().parent / "dashboard_driver.js"
MODULES = ROOT / "tests" / "devhost" / "webchat" / "node_modules"
CHROMIUM = "/usr/bin/chromium"
# 40 steps of half a second: the bar moves often, and the operation is still running when it is terminated.
SETTINGS = {"OperationSeconds": "20", "OperationSteps": "40", "OperationTimeoutSeconds": "120"}
CHOOSE = "Please select a long operation test option."
ONE_MOMENT = "...one moment please...."
HOSTILE_ID = '<img src=x onerror="window.__xss=1">-not-an-operation'
WAIT = 60.0
API = "/runtime/webhooks/durabletask"


@pytest.fixture(scope="module", autouse=True)
def browser_installed() -> None:
    """playwright-core, installed once in tests/devhost/webchat (npm ci from its lock) if make has not; a missing
    browser is a failure naming the fix, never a skip."""
    if not (MODULES / "playwright-core").is_dir():
        npm = shutil.which("npm")
        assert npm, "npm is required for the dashboard's browser test"
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=MODULES.parent, check=True, timeout=600)
    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium)"


async def the_only_instance(http: aiohttp.ClientSession, functions_url: str, prefix: str) -> str:
    deadline = asyncio.get_running_loop().time() + WAIT
    while asyncio.get_running_loop().time() < deadline:
        async with http.get(f"{functions_url}{API}/instances", params={"instanceIdPrefix": prefix}) as response:
            assert response.status == 200, await response.text()
            found = await response.json()
        if found:
            assert len(found) == 1, found
            return str(found[0]["instanceId"])
        await asyncio.sleep(0.1)
    raise AssertionError(f"no instance with prefix {prefix} within {WAIT} s")


async def drive(arguments: dict[str, Any]) -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "node is required for the dashboard's browser test"
    process = await asyncio.create_subprocess_exec(
        node, str(DRIVER), json.dumps(arguments), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=180)
    assert process.returncode == 0, f"driver exited {process.returncode}: {stdout.decode()} {stderr.decode()}"
    result: dict[str, Any] = json.loads(stdout.decode().strip().splitlines()[-1])
    return result


def test_the_dashboard_shows_a_bar_moving_and_terminates_and_purges_with_its_buttons(tmp_path: Path) -> None:
    config = stack_config(tmp_path / "stack", SETTINGS)
    [dashboard] = free_ports(1, avoid={config.functions_port, config.bot_port, config.directline_port})
    config = replace(config, dashboard_port=dashboard)
    assert config.dashboard_url is not None
    screenshot = tmp_path / "dashboard.png"

    async def scenario() -> tuple[str, str, dict[str, Any], int]:
        async with Stack(config) as stack, ChatClient(ChatConfig(bot_url=config.messages_url)) as client, \
                aiohttp.ClientSession(headers=stack.durable_headers) as http:
            conversation = await client.start_conversation()
            await conversation.say("hi")
            await conversation.wait_for_text(CHOOSE, WAIT)
            await conversation.say("option 1")
            await conversation.wait_for_text(ONE_MOMENT, WAIT)
            prefix = instance_id_prefix(conversation.channel_id, conversation.id)
            instance_id = await the_only_instance(http, config.functions_url, prefix)
            # Started straight through the Durable API with an input the orchestrator rejects: it fails at once.
            async with http.post(f"{config.functions_url}{API}/orchestrators/long_operation/"
                                 f"{quote(HOSTILE_ID, safe='')}", json={"option": "<b>bold</b>"}) as response:
                assert response.status == 202, await response.text()
            result = await drive({
                "pageUrl": f"{config.dashboard_url}?refresh=0.3", "modulesDir": str(MODULES), "chromium": CHROMIUM,
                "instanceId": instance_id, "hostileId": HOSTILE_ID, "screenshot": str(screenshot),
                "timeoutMs": int(WAIT * 1000),
            })
            async with http.get(f"{config.functions_url}{API}/instances/{instance_id}") as response:
                after_purge = response.status
            return prefix, instance_id, result, after_purge

    prefix, instance_id, result, after_purge = asyncio.run(scenario())
    print(f"dashboard screenshot: {screenshot}")
    assert screenshot.stat().st_size > 0

    # The bar moved while the operation ran, in its conversation's group.
    assert 0 < result["first"] < result["second"] < 100
    assert result["running"]["status"] == "Running"
    assert result["running"]["idText"] == instance_id
    assert result["running"]["delivery"] == "Not yet: the operation is running."
    assert result["running"]["group"] == f"Conversation {prefix} (1 operation)"
    assert result["conversation"] == prefix
    # Its history as a timeline: the start, then checkpointed steps.
    assert result["timeline"][0] == "ExecutionStarted"
    assert "TaskCompleted" in result["timeline"]

    # The id that is HTML is shown as its text; nothing in it ran or rendered.
    assert result["hostile"] == {"row": {
        "idText": HOSTILE_ID, "percent": None, "status": "Failed",
        "delivery": "No: the orchestration failed: Orchestrator function 'long_operation' failed: 'continuation'",
        "group": "Not a conversation's operation (1)"}, "injected": None, "images": 0}

    # Terminate, then purge, each after a confirmation; the instance is gone from the host too.
    assert result["dialogs"] == [f"Terminate {instance_id}? Its outcome will not reach the conversation.",
                                 f"Purge {instance_id}? Its history is deleted for good."]
    assert result["terminated"]["status"] == "Terminated"
    assert result["terminated"]["delivery"] == "No: terminated (Terminated from the devhost dashboard.)."
    assert result["notice"] == f"Terminate requested for {instance_id}."
    assert result["purgedNotice"] == f"Purged {instance_id}."
    assert after_purge == 404

    # The page talked only to its own origin, and only to the page's files and the Durable API paths.
    origin = config.dashboard_url.rstrip("/")
    assert result["offLoopback"] == []
    assert result["consoleErrors"] == []
    assert result["failedResponses"] == []
    paths = {request.split(" ", 1)[1].split("?", 1)[0] for request in result["requests"]}
    assert all(path.startswith(origin + "/") for path in paths), paths
    assert {path.removeprefix(origin) for path in paths} - {"/", "/dashboard.css", "/model.js", "/dashboard.js",
                                                          "/config.json"} <= {
        f"{API}/instances", f"{API}/instances/{quote(instance_id, safe='')}",
        f"{API}/instances/{quote(instance_id, safe='')}/terminate"}
