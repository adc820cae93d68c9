"""How the Durable HTTP API reads its query string and bodies, and the check-status payload it answers with.

Each rule is the extension's (Azure/azure-functions-durable-extension, src/WebJobs.Extensions.DurableTask/):
query names are case-insensitive and repeated values join with "," (``HttpRequestMessageExtensions
.GetQueryNameValuePairs``, a NameValueCollection); a value that does not parse is ignored, not an error
(``HttpApiHandler.TryGet*QueryParameterValue``: .NET's bool/int/double/DateTime/Enum ``TryParse``); bodies are
read with Newtonsoft (``JsonConvert.DeserializeObject``, ``MessagePayloadDataConverter.ConvertToJToken``), whose
MaxDepth is 64.
"""

import json
import math
import re
from datetime import UTC
from typing import Any, Final
from urllib.parse import quote_plus

from aiohttp import web
from dateutil import parser as date_parser

from devhost.durable import runtime_status as rs
from devhost.durable.errors import DurableError, InvalidRequest
from devhost.durable.store import InstanceQuery
from devhost.durable.timefmt import to_epoch
from devhost.functions.binding import management_urls

_JSON_MAX_DEPTH: Final = 64
# OrchestrationRuntimeStatus's values, for Enum.TryParse of a number.
_STATUS_BY_NUMBER: Final = {0: rs.RUNNING, 1: rs.COMPLETED, 2: rs.CONTINUED_AS_NEW, 3: rs.FAILED, 4: rs.CANCELED,
                            5: rs.TERMINATED, 6: rs.PENDING, 7: rs.SUSPENDED}
_DOUBLE: Final = re.compile(r"[+-]?(\d[\d,]*\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INT: Final = re.compile(r"[+-]?\d+")
_HAS_DATE: Final = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")
# TimeSpan.MaxValue in seconds: beyond it TimeSpan.FromSeconds overflows.
_TIMESPAN_MAX_SECONDS: Final = 922337203685.4775


class HostException(DurableError):
    """An exception the extension does not map: HandleRequestAsync answers 500 naming its type."""

    def __init__(self, text: str, exception_type: str) -> None:
        super().__init__(text)
        self.exception_type = exception_type


class Params:
    """The query string as a case-insensitive NameValueCollection."""

    def __init__(self, request: web.Request) -> None:
        values: dict[str, list[str]] = {}
        for name, value in request.query.items():
            values.setdefault(name.strip().lower(), []).append(value.strip())
        self._values = {name: ",".join(parts) for name, parts in values.items()}

    def text(self, name: str) -> str | None:
        return self._values.get(name.lower())

    def flag(self, name: str, default: bool) -> bool:
        value = (self.text(name) or "").lower()
        return {"true": True, "false": False}.get(value, default)

    def integer(self, name: str) -> int | None:
        value = self.text(name)
        if value is None or not _INT.fullmatch(value) or not -2**31 <= int(value) < 2**31:
            return None
        return int(value)

    def number(self, name: str) -> float | None:
        """double.TryParse: NaN and Infinity parse (and fail later, as TimeSpans); other junk is ignored."""
        value = self.text(name)
        if value is None:
            return None
        lowered = value.lower()
        if lowered.lstrip("+-") == "nan":
            return math.nan
        if lowered.lstrip("+-") in ("infinity", "∞"):
            return -math.inf if lowered.startswith("-") else math.inf
        if not _DOUBLE.fullmatch(value):
            return None
        return float(value.replace(",", ""))

    def time(self, name: str) -> float | None:
        value = self.text(name)
        if not value:
            return None
        # DateTime.TryParse wants a date: a bare number or a word is no time (dateutil alone would take "5").
        if not _HAS_DATE.search(value):
            return None
        try:
            moment = date_parser.parse(value)
        except (ValueError, OverflowError):
            return None
        return to_epoch(moment if moment.tzinfo else moment.replace(tzinfo=UTC))

    def statuses(self) -> frozenset[str]:
        found: set[str] = set()
        for raw in (self.text("runtimeStatus") or "").split(","):
            part = raw.strip()
            if part in rs.ALL:  # Enum.TryParse without ignoreCase: "running" is not a status
                found.add(part)
            elif _INT.fullmatch(part):
                # A number parses whatever its value; one no status has matches nothing.
                found.add(_STATUS_BY_NUMBER.get(int(part), f"(undefined status {int(part)})"))
        return frozenset(found)

    def query(self) -> InstanceQuery:
        return InstanceQuery(self.time("createdTimeFrom"), self.time("createdTimeTo"), self.statuses(),
                             self.text("instanceIdPrefix") or None)


def seconds_to_timespan(seconds: float) -> float:
    """TimeSpan.FromSeconds: NaN is an ArgumentException (400), out of range an OverflowException (500)."""
    if math.isnan(seconds):
        raise InvalidRequest("TimeSpan does not accept floating point Not-a-Number values.")
    if abs(seconds) > _TIMESPAN_MAX_SECONDS:
        raise HostException("TimeSpan overflowed because the duration is too long.", "System.OverflowException")
    return seconds


def dotnet_number(value: float) -> str:
    """double.ToString() for the values a wait parameter can take."""
    return str(int(value)) if value.is_integer() else repr(value)


def parse_json_body(data: bytes, empty_is_null: bool = True) -> str | None:
    """A request body as canonical JSON text; 400 "Invalid JSON content" when Newtonsoft would not read it."""
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    if not text.strip():
        if empty_is_null:
            return None  # no content, or JsonConvert.DeserializeObject of blanks: null
        raise _invalid_json("Error reading JToken from JsonReader. Path '', line 0, position 0.")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _invalid_json(f"The request body is not valid JSON: {exc}.") from None
    except RecursionError:  # [[[[... nested deeper than the parser's stack
        raise _invalid_json("The reader's MaxDepth of 64 has been exceeded.") from None
    if _depth(value) > _JSON_MAX_DEPTH:
        raise _invalid_json("The reader's MaxDepth of 64 has been exceeded.")
    return json.dumps(value)


def _invalid_json(text: str) -> InvalidRequest:
    return InvalidRequest(text, "Invalid JSON content", "Newtonsoft.Json.JsonReaderException")


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def url_encode(text: str) -> str:
    """WebUtility.UrlEncode: alphanumerics and -_.!*() stay, a space is "+", the rest %XX."""
    return quote_plus(text, safe="!*()").replace("~", "%7E")


def check_status_payload(origin: str, hub: str, instance_id: str, system_key: str | None) -> dict[str, str]:
    """CreateCheckStatusResponseMessage: eight keys, no rewind URI, the id URL-encoded in the URLs."""
    urls = management_urls(origin, hub, url_encode(instance_id), system_key)
    keys = ("statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri", "restartPostUri",
            "suspendPostUri", "resumePostUri")
    return {"id": instance_id, **{key: urls[key] for key in keys}}
