"""Index a Python v2-model function app the way the Python worker does (reference §B1, §B2)."""

import importlib
import inspect
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devhost.functions.errors import AppLoadError

HTTP, ORCHESTRATOR, ACTIVITY, ENTITY, TIMER, OTHER = "http", "orchestrator", "activity", "entity", "timer", "other"
_KINDS = {"httpTrigger": HTTP, "orchestrationTrigger": ORCHESTRATOR, "activityTrigger": ACTIVITY,
          "entityTrigger": ENTITY, "timerTrigger": TIMER}
DEFAULT_SCRIPT = "function_app.py"
AUTH_LEVELS = ("anonymous", "function", "admin")


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    kind: str
    trigger_type: str
    trigger_param: str
    user_function: Callable[..., Any]
    # The name orchestrations call it by (activity/orchestration property, else the function name).
    durable_name: str
    is_async: bool
    params: tuple[str, ...]
    durable_client_param: str | None = None
    route: str = ""
    methods: tuple[str, ...] = ()
    # The HTTP trigger's authLevel (anonymous, function, admin); the Http extension's default is function.
    auth_level: str = "function"
    # timerTrigger: the schedule as written (parsed by devhost/functions/timer_schedule.py) and its two switches,
    # with the host's defaults for what the decorator leaves out (TimerTriggerAttribute: UseMonitor true).
    schedule: str = ""
    run_on_startup: bool = False
    use_monitor: bool = True


@dataclass(frozen=True)
class LoadedApp:
    script: Path
    functions: tuple[FunctionSpec, ...]

    def of_kind(self, kind: str) -> list[FunctionSpec]:
        return [f for f in self.functions if f.kind == kind]


def load_app(app_root: Path, script_name: str = DEFAULT_SCRIPT) -> LoadedApp:
    """Import the app's script (the caller passes PYTHON_SCRIPT_FILE_NAME when set) and index its functions."""
    import azure.functions as func  # imported late: the SDK is heavy and the CLI may fail earlier

    root = app_root.resolve()
    script = root / script_name
    if not script.is_file():
        raise AppLoadError(f"No function app found: {script} does not exist. Point --app-root at the folder that "
                           "holds function_app.py (or set PYTHON_SCRIPT_FILE_NAME).")
    module_name = script.stem
    # First on sys.path, so `function_app` resolves here even if another app root (or cwd) also has one.
    if str(root) in sys.path:
        sys.path.remove(str(root))
    sys.path.insert(0, str(root))
    # A fresh import each time, so one process can host several apps one after another (tests).
    sys.modules.pop(module_name, None)
    try:
        module = importlib.import_module(module_name)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise AppLoadError(f"Error importing {script}:\n{traceback.format_exc()}") from exc
    registers = [getattr(module, n) for n in dir(module) if isinstance(getattr(module, n), func.FunctionRegister)]
    unique = list({id(r): r for r in registers}.values())
    if not unique:
        raise AppLoadError(f"Could not find top level function app instances in {script}: define one "
                           "`app = func.FunctionApp()` or `app = df.DFApp()` at module level.")
    if len(unique) > 1:
        raise AppLoadError(f"More than one function app instance is defined in {script}; the worker allows one.")
    try:
        functions = unique[0].get_functions()  # only ONCE: a second call fails on "unique function name"
    except Exception as exc:
        raise AppLoadError(f"Error indexing the functions of {script}: {exc}") from exc
    return LoadedApp(script, tuple(_spec(f) for f in functions))


def _spec(function: Any) -> FunctionSpec:
    trigger = function.get_trigger()
    if trigger is None:
        raise AppLoadError(f"Function {function.get_function_name()} has no trigger")
    trigger_dict = _plain(trigger.get_dict_repr())
    trigger_type = str(trigger_dict.get("type"))
    name = str(function.get_function_name())
    user_function = function.get_user_function()
    kind = _KINDS.get(trigger_type, OTHER)
    durable_name = str(trigger_dict.get("activity") or trigger_dict.get("orchestration")
                       or trigger_dict.get("entityName") or name)
    client = None
    for binding in function.get_bindings():
        data = _plain(binding.get_dict_repr())
        if data.get("type") == "durableClient":
            client = str(data["name"])
    methods = tuple(str(m).upper() for m in trigger_dict.get("methods") or ())
    auth_level = str(trigger_dict.get("authLevel") or "function").lower()
    if kind == HTTP and auth_level not in AUTH_LEVELS:
        raise AppLoadError(f"Function {name}: authLevel {auth_level!r} is not one of {', '.join(AUTH_LEVELS)}")
    target = getattr(user_function, "client_function", user_function)
    return FunctionSpec(
        name=name, kind=kind, trigger_type=trigger_type, trigger_param=str(trigger_dict.get("name")),
        user_function=user_function, durable_name=durable_name,
        is_async=inspect.iscoroutinefunction(user_function),
        params=tuple(inspect.signature(target).parameters), durable_client_param=client,
        route=str(trigger_dict.get("route") or name), methods=methods, auth_level=auth_level,
        schedule=str(trigger_dict.get("schedule") or ""),
        run_on_startup=bool(trigger_dict.get("runOnStartup") or False),
        use_monitor=trigger_dict.get("useMonitor") is not False)


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """Binding dicts hold enum members; the JSON the host sees holds their values."""
    def value(v: Any) -> Any:
        if isinstance(v, list):
            return [value(x) for x in v]
        return getattr(v, "value", v)

    return {k: value(v) for k, v in data.items()}
