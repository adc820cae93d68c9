"""Retry options of the out-of-process actions, as the Durable extension reads and DurableTask.Core applies them.

``RetryOptionsConverter.ReadJson`` (Azure/azure-functions-durable-extension, src/WebJobs.Extensions.DurableTask/
RetryOptionsConverter.cs) requires ``firstRetryIntervalInMilliseconds`` and ``maxNumberOfAttempts`` and honours
``backoffCoefficient``, ``maxRetryIntervalInMilliseconds`` and ``retryTimeoutInMilliseconds`` when present (the
1.7 SDK sends only the first two). The extension's ``RetryOptions`` caps the interval at 6 days by default, and
DurableTask.Core's rejects a first interval that is not positive (src/DurableTask.Core/RetryOptions.cs). The delay
rule is ``RetryInterceptor.ComputeNextDelay`` (src/DurableTask.Core/RetryInterceptor.cs).
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from devhost.durable.extension_rules import ShimFault

# AzureStorageDurabilityProvider.MaximumDelayTime, also the extension's default MaxRetryInterval.
MAX_DELAY: Final = timedelta(days=6)


@dataclass(frozen=True)
class RetryOptions:
    first_interval: timedelta
    max_attempts: int
    backoff: float = 1.0
    max_interval: timedelta = MAX_DELAY
    timeout: timedelta | None = None  # TimeSpan.MaxValue: no limit

    def validate_delays(self) -> None:
        """CallDurableTaskFunctionAsync: ValidateDelayTime for MaxRetryInterval, then FirstRetryInterval."""
        for value, parameter in ((self.max_interval, "MaxRetryInterval"), (self.first_interval, "FirstRetryInterval")):
            if value > MAX_DELAY:
                raise ShimFault(f"The Azure Storage provider supports a maximum of {MAX_DELAY.days} days for "
                                f"time-based delays (Parameter '{parameter}')")

    def next_delay(self, attempt: int, first_attempt: datetime, now: datetime) -> timedelta:
        if self.timeout is not None and not now < first_attempt + self.timeout:
            return timedelta(0)
        try:
            millis = self.first_interval / timedelta(milliseconds=1) * math.pow(self.backoff, attempt)
        except OverflowError:
            millis = math.inf
        if millis < self.max_interval / timedelta(milliseconds=1):
            return timedelta(milliseconds=millis)
        return self.max_interval


def parse_retry_options(raw: Any) -> RetryOptions | None:
    """The action's ``retryOptions``; ShimFault with the extension's message when it cannot be read."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ShimFault("Error reading JObject from JsonReader. Current JsonReader item is not an object.")
    for name in ("firstRetryIntervalInMilliseconds", "maxNumberOfAttempts"):
        if name not in raw:
            raise ShimFault(f"Invalid JSON. Must contain field {name} (Parameter 'reader')")
    first = timedelta(milliseconds=_int(raw["firstRetryIntervalInMilliseconds"]))
    if first <= timedelta(0):
        raise ShimFault("Invalid interval.  Specify a TimeSpan value greater then TimeSpan.Zero. "
                        "(Parameter 'firstRetryInterval')")
    options = RetryOptions(first, _int(raw["maxNumberOfAttempts"]))
    if "backoffCoefficient" in raw:
        options = RetryOptions(options.first_interval, options.max_attempts, float(raw["backoffCoefficient"]),
                               options.max_interval, options.timeout)
    if "maxRetryIntervalInMilliseconds" in raw:
        options = RetryOptions(options.first_interval, options.max_attempts, options.backoff,
                               timedelta(milliseconds=_int(raw["maxRetryIntervalInMilliseconds"])), options.timeout)
    if "retryTimeoutInMilliseconds" in raw:
        options = RetryOptions(options.first_interval, options.max_attempts, options.backoff, options.max_interval,
                               timedelta(milliseconds=_int(raw["retryTimeoutInMilliseconds"])))
    return options


def _int(value: Any) -> int:
    # JToken.Value<int>(): numbers convert (floats round), anything else fails the conversion.
    try:
        return round(float(value))
    except (TypeError, ValueError, OverflowError):
        raise ShimFault(f"Could not convert to integer: {value}.") from None
