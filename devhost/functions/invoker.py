"""Calling user functions as the Python worker does (reference §B3).

Keyword arguments named after the bindings, an optional ``context`` (func.Context); coroutine functions run on
the host's ONE event loop (the SDK's aiohttp session binds to the first loop it sees), sync ones in a thread pool.
"""

import asyncio
import functools
import json
import threading
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import azure.functions as func
from azure.functions import _abc
from azure.functions.durable_functions import ActivityTriggerConverter
from azure.functions.meta import Datum

from devhost.durable.trace_context import TraceContext
from devhost.durable.worker import ActivityFailure
from devhost.functions.loader import ACTIVITY, ORCHESTRATOR, FunctionSpec, LoadedApp


class _InvocationTrace(_abc.TraceContext):
    """``context.trace_context``: the invocation's span as the Python worker hands it over (dispatcher.py
    ``_get_context`` copies the host's InvocationRequest.trace_context: trace_parent, trace_state, attributes)."""

    def __init__(self, trace: TraceContext) -> None:
        self._trace = trace

    @property
    def trace_state(self) -> str:
        return self._trace.state

    @property
    def trace_parent(self) -> str:
        return self._trace.traceparent

    @property
    def attributes(self) -> dict[str, str]:
        return {}


class InvocationContext(func.Context):
    """The ``context`` argument: a concrete func.Context for one invocation."""

    def __init__(self, function_name: str, function_directory: str, trace: TraceContext | None = None) -> None:
        self._invocation_id = str(uuid.uuid4())
        self._function_name = function_name
        self._function_directory = function_directory
        self._thread_local = threading.local()
        # A trigger with no caller (a timer) starts a trace of its own, as the host's invocation span does.
        self._trace = _InvocationTrace(trace if trace is not None else TraceContext.root())

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> Any:
        return self._thread_local

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def trace_context(self) -> _abc.TraceContext:
        return self._trace

    @property
    def retry_context(self) -> Any:
        return None


class AppWorker:
    """Runs one loaded app's functions; implements the engine's ``Worker`` protocol."""

    def __init__(self, app: LoadedApp, threads: int) -> None:
        self.app = app
        self._directory = str(app.script.parent)
        self._orchestrators = {f.durable_name: f for f in app.of_kind(ORCHESTRATOR)}
        self._activities = {f.durable_name: f for f in app.of_kind(ACTIVITY)}
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="devhost-worker")

    def close(self) -> None:
        # Running sync functions cannot be cancelled; don't wait for them (like a recycled worker).
        self._pool.shutdown(wait=False, cancel_futures=True)

    def orchestrator_names(self) -> list[str]:
        return sorted(self._orchestrators)

    def activity_names(self) -> list[str]:
        return sorted(self._activities)

    def run_orchestrator(self, name: str, request_json: str) -> str:
        spec = _lookup(self._orchestrators, name)
        if spec is None:
            raise LookupError(f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator "
                              "function.")
        # ``handle`` takes the trigger value positionally; the worker passes it as ``context``.
        result = spec.user_function(func.OrchestrationContext(request_json))
        return str(result)

    async def run_activity(self, name: str, input_json: str | None, trace: TraceContext) -> str | None:
        spec = _lookup(self._activities, name)
        if spec is None:
            known = ", ".join(f"'{n}'" for n in sorted(self._activities))
            raise ActivityFailure(f"Activity function '{name}' failed: The function '{name}' doesn't exist, is "
                                  f"disabled, or is not an activity function. Known activities: {known}.", "")
        try:
            value = ActivityTriggerConverter.decode(Datum(input_json or "null", "string"), trigger_metadata=None)
            result = await self.call(spec, {spec.trigger_param: value}, trace)
            encoded: str | None = ActivityTriggerConverter.encode(result, expected_type=None).value
        except Exception as exc:
            raise activity_failure(name, exc) from exc
        return encoded

    async def call(self, spec: FunctionSpec, kwargs: dict[str, Any], trace: TraceContext | None = None) -> Any:
        """Invoke a user function with binding kwargs (+ ``context`` when it asks for one), as span ``trace``."""
        if "context" in spec.params and "context" not in kwargs:
            kwargs["context"] = InvocationContext(spec.name, self._directory, trace)
        if spec.is_async:
            return await spec.user_function(**kwargs)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(spec.user_function, **kwargs))


def _lookup(specs: dict[str, FunctionSpec], name: str) -> FunctionSpec | None:
    # Function names are case-insensitive in the Functions host and the Durable extension (FunctionName.Equals).
    found = specs.get(name)
    if found is not None:
        return found
    wanted = name.casefold()
    return next((spec for known, spec in specs.items() if known.casefold() == wanted), None)


def activity_failure(name: str, exc: BaseException) -> ActivityFailure:
    """The TaskFailed an activity's exception becomes, as the extension words it.

    The Python worker reports ``<Type>: <message>`` and the host wraps it in an RpcException whose message is
    ``Result: Failure\nException: <that>\nStack: <trace>``; TaskActivityShim keeps what lies between "Exception:"
    and "\nStack:" (leading space included, OutOfProcExceptionHelpers.TryGetExceptionWithFriendlyMessage) and
    fails the task with "Activity function '<name>' failed: <that>" (TaskActivityShim.RunAsync), so two spaces.
    Details are the serialised friendly exception (Utils.SerializeCause), the RpcException inside it.
    """
    worker_message = f"{type(exc).__name__}: {exc}"
    stack = "".join(traceback.format_exception(exc)).rstrip()
    rpc_message = f"Result: Failure\nException: {worker_message}\nStack: {stack}"
    friendly = f" {worker_message}"
    details = json.dumps({
        "$type": "System.Exception, System.Private.CoreLib", "ClassName": "System.Exception", "Message": friendly,
        "Data": None,
        "InnerException": {
            "$type": "Microsoft.Azure.WebJobs.Script.Workers.Rpc.RpcException, Microsoft.Azure.WebJobs.Script",
            "ClassName": "Microsoft.Azure.WebJobs.Script.Workers.Rpc.RpcException", "Message": rpc_message,
            "Data": None, "InnerException": None, "HelpURL": None, "StackTraceString": None,
            "RemoteStackTraceString": None, "RemoteStackIndex": 0, "ExceptionMethod": None, "HResult": -2146233088,
            "Source": None, "WatsonBuckets": None},
        "HelpURL": None, "StackTraceString": None, "RemoteStackTraceString": None, "RemoteStackIndex": 0,
        "ExceptionMethod": None, "HResult": -2146233088, "Source": None, "WatsonBuckets": None,
    })
    return ActivityFailure(f"Activity function '{name}' failed: {friendly}", details)
