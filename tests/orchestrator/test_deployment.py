"""The function app deploys from requirements.txt alone: indexed in a virtualenv built from that file, from the files
`.funcignore` lets through, it needs nothing of the bot, the devhost or the tools."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from orchestrator.names import (
    ASK_BOT,
    HISTORY_PURGE,
    LONG_OPERATION,
    NOTIFY_BOT,
    NOTIFY_PROGRESS,
    RUN_OPERATION_STEP,
    START_OPERATION,
)
from tests.orchestrator.deployment import ROOT, copy_deployment, deployment_files, functionapp_venv

# The Python worker's indexing (azure-functions-python-worker, azure_functions_worker/loader.py,
# index_function_app): import the script by name from the app root, find its one FunctionRegister, get_functions().
# -I keeps PYTHONPATH and the user's site-packages out, so only the virtualenv and the deployment are importable.
INDEX_SCRIPT = """
import importlib.metadata, importlib.util, json, os, sys
sys.path.insert(0, os.getcwd())
for name in ("DirectLineSecret", "OperationSigningKey"):
    os.environ.pop(name, None)
import azure.functions as func
module = __import__("function_app")
apps = [value for value in vars(module).values() if isinstance(value, func.FunctionRegister)]
assert len(apps) == 1, apps
print(json.dumps({
    "functions": {f.get_function_name(): f.get_trigger().get_binding_name() for f in apps[0].get_functions()},
    "modules": sorted({name.split(".")[0] for name in sys.modules}),
    "installed": sorted(d.metadata["Name"] for d in importlib.metadata.distributions()),
    "findable": [name for name in ("botbuilder", "botframework", "jsonpickle", "emoji", "babel",
                                   "bot", "devhost", "pytest") if importlib.util.find_spec(name) is not None],
    "tracing_sdk_loaded": sorted(name for name in ("opentelemetry.sdk", "azure.monitor.opentelemetry", "msrest")
                                 if name in sys.modules),
}))
"""


def pinned_for_this_python(requirements: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate():
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", f"requirements.txt: {line!r} is not pinned with =="
            pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The deployment indexed in the requirements-only virtualenv, once for the tests of this module."""
    python = functionapp_venv()
    app = copy_deployment(tmp_path_factory.mktemp("deployment") / "wwwroot")
    completed = subprocess.run(
        [str(python), "-I", "-c", INDEX_SCRIPT], cwd=app, capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def test_the_deployed_files_index_the_seven_functions_in_a_venv_of_requirements_txt_alone(
    indexed: dict[str, Any],
) -> None:
    assert indexed["functions"] == {
        START_OPERATION: "httpTrigger",
        LONG_OPERATION: "orchestrationTrigger",
        RUN_OPERATION_STEP: "activityTrigger",
        NOTIFY_BOT: "activityTrigger",
        ASK_BOT: "activityTrigger",
        NOTIFY_PROGRESS: "activityTrigger",
        HISTORY_PURGE: "timerTrigger",
    }
    # Nothing of the bot's framework is installed, nor the local-only parts deployed, and indexing loaded none.
    assert indexed["findable"] == []
    assert not {"bot", "devhost", "tests", "bench", "botbuilder", "msrest"} & set(indexed["modules"])
    # Tracing is off without its settings: neither the SDK nor the Azure Monitor distro (which brings msrest) loads.
    assert indexed["tracing_sdk_loaded"] == []


def test_requirements_txt_pins_every_package_the_function_app_installs(indexed: dict[str, Any]) -> None:
    installed = {canonicalize_name(name) for name in indexed["installed"]} - {"pip", "setuptools"}
    # Every package pip brought in is pinned (no transitive dependency floats), and nothing pinned goes unused.
    assert installed == set(pinned_for_this_python(ROOT / "requirements.txt"))


def test_each_python_gets_the_azure_functions_line_it_supports() -> None:
    pins = pinned_for_this_python(ROOT / "requirements.txt")
    # azure-functions 1.x declares Requires-Python <3.13 and 2.x >=3.13.
    expected = "2.3.0" if sys.version_info >= (3, 13) else "1.26.0"
    assert (pins["azure-functions"], pins["azure-functions-durable"]) == (expected, "1.7.0")


def test_the_deployment_leaves_out_the_bot_devhost_tests_bench_and_local_files() -> None:
    top_level = {path.parts[0] for path in deployment_files()}
    assert top_level == {
        "function_app.py", "host.json", "requirements.txt", "orchestrator", "contract", "operations",
    }


def test_the_bot_and_the_tools_have_requirement_files_of_their_own() -> None:
    bot = (ROOT / "bot" / "requirements.txt").read_text(encoding="utf-8")
    dev = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8").splitlines()
    function_app = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert "botbuilder-core==4.17.1" in bot.splitlines()
    # (msrest and msal come with the Azure Monitor exporter; botbuilder's own packages stay the bot's.)
    assert "botbuilder" not in function_app and "botframework" not in function_app
    assert dev[1:4] == ["-r requirements.txt", "-r bot/requirements.txt", "-r requirements-test.txt"]
