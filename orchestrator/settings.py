"""The function app's settings, parsed once from the environment (Functions app settings are env vars).

Every setting, its default and meaning:

DirectLineSecret         required to notify. Secret of the bot's Direct Line channel; notify_bot starts a
                         conversation with it.
DirectLineEndpoint       default https://directline.botframework.com/v3/directline. The full Direct Line prefix
                         incl. /v3/directline (as DirectLineJS takes it): a regional host, or
                         http://127.0.0.1:PORT/v3/directline locally. A trailing slash is tolerated. Plain
                         http only to this machine (localhost, 127.x, ::1): the secret would travel unencrypted.
OperationSigningKey      required to notify. HMAC key that signs the outcome; the bot holds the same key.
OperationSeconds         default 15. Total simulated duration of an operation, split evenly over its steps
                         (fractions allowed, >= 0). A step (OperationSeconds / OperationSteps) may take at
                         most 540 s, just under host.json's functionTimeout of 10 minutes.
OperationSteps           default 5. Checkpointed steps (1-1000); progress is reported after each.
OperationTimeoutSeconds  default 120 (at most 86400). Overall deadline from the orchestration's start; past it
                         the outcome is timed_out.
StepsPerGeneration       default 10 (1-1000). Steps one generation of the orchestration runs before it continues
                         as new with the progress so far, so its history (replayed on every episode) stays
                         bounded: the same instance id and status URL, a fresh history (orchestrator/workflow.py).
StepRetryAttempts        default 3. Attempts per step in all (1 = no retry) before the outcome is failed.
StepFirstRetrySeconds    default 1. Delay between two attempts of a step (no backoff: every retry waits this
                         long). A retry whose delay would end at or past the deadline is not made: timed_out.
NotifyRetryAttempts      default 6. Attempts to deliver the outcome to the bot before the orchestration fails.
NotifyFirstRetrySeconds  default 5. Delay before the second delivery attempt.
NotifyBackoffCoefficient default 2 (>= 1). Each later delay is the previous one times this (1 = constant delay).
NotifyMaxRetrySeconds    default 60. No delay between delivery attempts is longer than this. The retry window is
                         the sum of the delays: 5 + 10 + 20 + 40 + 60 = 135 s with the defaults
                         (orchestrator.decisions.retry_window).
                         Together with the deadline, the delivery may take at most contract.OUTCOME_WINDOW_SECONDS
                         (2 days) counting each attempt at functionTimeout (10 minutes): OperationTimeoutSeconds +
                         NotifyRetryAttempts x 600 + the retry window. The bot's conversation state outlives it.
NotifyPostsPerConversation default 50 (1-1000). Outcomes one Direct Line conversation carries before a new one is
                         started (1 = a conversation per outcome, as Microsoft's sample; orchestrator/carrier.py).
HistoryRetentionDays     default 30 (1-36500). The history_purge timer purges the history of finished instances
                         (Completed, Failed, Terminated, Canceled) created more than this many days ago;
                         running ones are never purged (orchestrator/retention.py).
HistoryPurgeSchedule     default "0 0 3 * * *" (daily at 03:00, in WEBSITE_TIME_ZONE, UTC by default). The NCRONTAB
                         schedule of the history_purge timer. Read when the app is indexed (a trigger's schedule is
                         fixed then), so a change needs a restart, which Azure does when app settings change; the
                         host names the function and the expression if it does not parse.
OTEL_TRACES_EXPORTER, APPLICATIONINSIGHTS_CONNECTION_STRING, OTEL_SERVICE_NAME
                         tracing (contract/tracing.py; off by default): read once when the app is indexed
                         (tracing_settings, orchestrator/tracing.py), so a bad value stops the app from loading
                         with a message naming the setting.
OperationFaults          default empty. TEST/DEMO ONLY: comma-separated "<option>@<step>" or "<option>@<step>x<n>"
                         items. "option 2@3" makes step 3 of option 2 raise on every attempt (the failure path);
                         "option 2@3x1" makes only its first attempt raise, "x2" its first two (the retry path).

The orchestration input carries the numbers the orchestrator needs (steps, step seconds, deadline, retry
policies), so the orchestrator itself never reads settings: its replay stays deterministic even if the
settings change while an instance runs.
"""

import functools
import ipaddress
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from contract import OUTCOME_WINDOW_SECONDS, ContractError, normalize_signing_key
from contract.tracing import TracingSettings, parse_tracing_settings
from orchestrator.catalogue import CATALOGUE
from orchestrator.errors import SettingsError

DEFAULT_DIRECT_LINE_ENDPOINT = "https://directline.botframework.com/v3/directline"
# One day. Durable timers beyond 6 days become chained "long timers" (§A1); no operation here needs that.
MAX_TIMEOUT_SECONDS = 86400.0
# Each step is one activity call, and host.json's functionTimeout (00:10:00) kills an activity that runs longer:
# the user would see "failed". 540 s stays just under it, leaving the activity a minute for everything else.
MAX_STEP_SECONDS = 540.0
# host.json's functionTimeout: the longest one notify_bot attempt can run before the host stops it.
FUNCTION_TIMEOUT_SECONDS = 600.0
DEFAULT_HISTORY_PURGE_SCHEDULE = "0 0 3 * * *"
MAX_RETENTION_DAYS = 36500


@dataclass(frozen=True)
class RetryPolicy:
    """How often to try and how long to wait in between (the delays: orchestrator.decisions.retry_delay).

    The delay after failed attempt ``n`` is ``first_retry_seconds * backoff_coefficient ** (n - 1)``, capped at
    ``max_retry_seconds`` (None: no cap). Steps keep a constant delay (coefficient 1, no cap).
    """

    attempts: int
    first_retry_seconds: float
    backoff_coefficient: float = 1.0
    max_retry_seconds: float | None = None


@dataclass(frozen=True)
class StepFault:
    """An injected failure (``OperationFaults``): step ``step`` of ``option`` raises on its first
    ``failing_attempts`` attempts, or on every attempt when that is None."""

    option: str
    step: int
    failing_attempts: int | None = None

    def fails(self, option: str, step: int, attempt: int) -> bool:
        if (option, step) != (self.option, self.step):
            return False
        return self.failing_attempts is None or attempt <= self.failing_attempts


@dataclass(frozen=True)
class Settings:
    direct_line_endpoint: str = DEFAULT_DIRECT_LINE_ENDPOINT
    operation_seconds: float = 15.0
    operation_steps: int = 5
    timeout_seconds: float = 120.0
    steps_per_generation: int = 10
    step_retry: RetryPolicy = RetryPolicy(3, 1.0)
    notify_retry: RetryPolicy = RetryPolicy(6, 5.0, 2.0, 60.0)
    notify_posts_per_conversation: int = 50
    history_retention_days: int = 30
    # Steps set to fail: a test/demo setting.
    faults: frozenset[StepFault] = frozenset()
    # Secrets stay out of repr so that logging a Settings object can never leak them.
    direct_line_secret: str = field(default="", repr=False)
    signing_key: str = field(default="", repr=False)

    @property
    def step_seconds(self) -> float:
        return self.operation_seconds / self.operation_steps

    def injects_fault(self, option: str, step: int, attempt: int) -> bool:
        """Whether attempt ``attempt`` (1-based) of step ``step`` of ``option`` is set to fail."""
        return any(fault.fails(option, step, attempt) for fault in self.faults)

    def require_notify_secrets(self) -> None:
        """Raise SettingsError naming every secret that notifying the bot needs but is not set."""
        missing = [
            name
            for name, value in (
                ("DirectLineSecret", self.direct_line_secret),
                ("OperationSigningKey", self.signing_key),
            )
            if not value
        ]
        if missing:
            raise SettingsError(", ".join(missing), "not set; the function app cannot notify the bot without it")
        secrets = (("DirectLineSecret", self.direct_line_secret), ("OperationSigningKey", self.signing_key))
        placeholders = [name for name, value in secrets if value.startswith("<") and value.endswith(">")]
        if placeholders:
            # A copied but unedited local.settings.json.example would sign with a publicly known key.
            raise SettingsError(", ".join(placeholders), "still holds the placeholder from local.settings.json.example")


def parse_settings(env: Mapping[str, str]) -> Settings:
    """Settings from an environment mapping; SettingsError names the first bad setting."""
    defaults = Settings()
    step, notify = defaults.step_retry, defaults.notify_retry
    settings = Settings(
        direct_line_endpoint=_endpoint(env, "DirectLineEndpoint", defaults.direct_line_endpoint),
        operation_seconds=_number(env, "OperationSeconds", defaults.operation_seconds, minimum=0.0),
        operation_steps=_integer(env, "OperationSteps", defaults.operation_steps, minimum=1, maximum=1000),
        timeout_seconds=_number(
            env, "OperationTimeoutSeconds", defaults.timeout_seconds, minimum=0.0, exclusive=True,
            maximum=MAX_TIMEOUT_SECONDS,
        ),
        steps_per_generation=_integer(env, "StepsPerGeneration", defaults.steps_per_generation, minimum=1,
                                      maximum=1000),
        step_retry=RetryPolicy(
            _integer(env, "StepRetryAttempts", step.attempts, minimum=1, maximum=100),
            _number(env, "StepFirstRetrySeconds", step.first_retry_seconds, minimum=0.0, exclusive=True),
        ),
        notify_retry=RetryPolicy(
            _integer(env, "NotifyRetryAttempts", notify.attempts, minimum=1, maximum=100),
            _number(env, "NotifyFirstRetrySeconds", notify.first_retry_seconds, minimum=0.0, exclusive=True),
            _number(env, "NotifyBackoffCoefficient", notify.backoff_coefficient, minimum=1.0, what="a number"),
            # The setting always caps the delay: an uncapped default (None) would read as the largest cap.
            _number(
                env, "NotifyMaxRetrySeconds", notify.max_retry_seconds or MAX_TIMEOUT_SECONDS, minimum=0.0,
                exclusive=True, maximum=MAX_TIMEOUT_SECONDS,
            ),
        ),
        notify_posts_per_conversation=_integer(
            env, "NotifyPostsPerConversation", defaults.notify_posts_per_conversation, minimum=1, maximum=1000
        ),
        history_retention_days=_integer(
            env, "HistoryRetentionDays", defaults.history_retention_days, minimum=1, maximum=MAX_RETENTION_DAYS
        ),
        faults=_faults(env, "OperationFaults"),
        direct_line_secret=env.get("DirectLineSecret", "").strip(),
        signing_key=normalize_signing_key(env.get("OperationSigningKey", "")),
    )
    if settings.step_seconds > MAX_STEP_SECONDS:
        raise SettingsError(
            "OperationSeconds, OperationSteps",
            f"each step would take {settings.step_seconds:g} s (OperationSeconds / OperationSteps); at most "
            f"{MAX_STEP_SECONDS:g} s, just under host.json's functionTimeout (10 minutes) that would kill it: "
            "use more steps",
        )
    latest = latest_outcome_seconds(settings)
    if latest > OUTCOME_WINDOW_SECONDS:
        # The bot keeps a conversation's state at least this long (ConversationStateDays): an outcome arriving later
        # could find the conversation expired and be dropped.
        raise SettingsError(
            "OperationTimeoutSeconds, NotifyRetryAttempts, NotifyFirstRetrySeconds, NotifyBackoffCoefficient, "
            "NotifyMaxRetrySeconds",
            f"an outcome could reach the bot {latest:.0f} s after the start (the deadline, "
            f"{settings.notify_retry.attempts} delivery attempts of up to {FUNCTION_TIMEOUT_SECONDS:g} s each, and the "
            f"back-off between them); at most {OUTCOME_WINDOW_SECONDS} s (2 days), which the bot's conversation state "
            "outlives",
        )
    return settings


def latest_outcome_seconds(settings: Settings) -> float:
    """The latest an outcome can reach the bot after the start: the deadline, then every delivery attempt running
    up to functionTimeout, with the back-off between them (contract.OUTCOME_WINDOW_SECONDS bounds it)."""
    from orchestrator.decisions import retry_window  # decisions imports this module's RetryPolicy

    attempts = settings.notify_retry.attempts
    return settings.timeout_seconds + attempts * FUNCTION_TIMEOUT_SECONDS + retry_window(settings.notify_retry)


@functools.cache
def load_settings() -> Settings:
    """The process's settings, read from os.environ once.

    Triggers cannot receive parameters, so this cached function is the one place that reads the
    environment; everything below the triggers receives a Settings object.
    """
    return parse_settings(os.environ)


def tracing_settings(env: Mapping[str, str]) -> TracingSettings:
    """The tracing settings (contract/tracing.py); SettingsError names a bad one."""
    try:
        return parse_tracing_settings(env)
    except ContractError as error:
        raise SettingsError(error.field, error.problem) from None


def history_purge_schedule(env: Mapping[str, str]) -> str:
    """The history_purge timer's NCRONTAB schedule (``HistoryPurgeSchedule``, default daily at 03:00).

    Separate from Settings: blueprint.py needs it when the app is indexed, where a SettingsError in any other setting
    must not stop every function from loading (the starter answers it with a 500 naming the setting instead).
    """
    return _raw(env, "HistoryPurgeSchedule") or DEFAULT_HISTORY_PURGE_SCHEDULE


def _raw(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None or not value.strip():
        return None
    return value.strip()


def _number(
    env: Mapping[str, str],
    name: str,
    default: float,
    *,
    minimum: float,
    exclusive: bool = False,
    maximum: float = math.inf,
    what: str = "a number of seconds",
) -> float:
    raw = _raw(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(name, f"expected {what}, got {raw!r}") from None
    if not math.isfinite(value) or value < minimum or (exclusive and value == minimum):
        bound = f"greater than {minimum:g}" if exclusive else f"at least {minimum:g}"
        raise SettingsError(name, f"must be {bound}, got {raw!r}")
    if value > maximum:
        raise SettingsError(name, f"must be at most {maximum:g}, got {raw!r}")
    return value


def _integer(env: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = _raw(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(name, f"expected a whole number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise SettingsError(name, f"must be between {minimum} and {maximum}, got {value}")
    return value


def _endpoint(env: Mapping[str, str], name: str, default: str) -> str:
    raw = _raw(env, name) or default
    expected = f"expected an http(s) URL such as {DEFAULT_DIRECT_LINE_ENDPOINT}, got {raw!r}"
    try:
        parts = urlsplit(raw)
        _ = parts.port  # raises ValueError for a port that is not a number in 0-65535
    except ValueError as error:  # and urlsplit for a malformed IPv6 host
        raise SettingsError(name, f"{expected} ({error})") from None
    if parts.scheme not in ("http", "https"):
        raise SettingsError(name, expected)
    if not parts.hostname:
        raise SettingsError(name, f"{expected}: it names no host")
    if parts.scheme == "http" and not _is_local(parts.hostname):
        # The secret travels in the Authorization header: only over TLS, or to this machine or a private network
        # (a devhost stand-in, e.g. `devhost up --host 0.0.0.0` or a LAN address).
        raise SettingsError(name, f"plain http would send the Direct Line secret unencrypted to a public host; use "
                                  f"https, got {raw!r}")
    return raw.rstrip("/")


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def _faults(env: Mapping[str, str], name: str) -> frozenset[StepFault]:
    raw = _raw(env, name)
    if raw is None:
        return frozenset()
    faults: set[StepFault] = set()
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        option, sep, where = item.rpartition("@")
        option = option.strip()
        if not sep or not option:
            raise SettingsError(name, f"expected items like 'option 2@3' or 'option 2@3x1', got {item!r}")
        if option not in CATALOGUE:
            raise SettingsError(name, f"unknown option {option!r} in {item!r}; known: {', '.join(CATALOGUE)}")
        step_text, times_sep, times_text = where.partition("x")
        try:
            step = int(step_text)
        except ValueError:
            raise SettingsError(name, f"expected a step number after '@' in {item!r}") from None
        if step < 1:
            raise SettingsError(name, f"steps count from 1, got {item!r}")
        failing_attempts: int | None = None
        if times_sep:
            try:
                failing_attempts = int(times_text)
            except ValueError:
                raise SettingsError(name, f"expected a number of failing attempts after 'x' in {item!r}") from None
            if failing_attempts < 1:
                raise SettingsError(name, f"the number of failing attempts must be at least 1, got {item!r}")
        if any((fault.option, fault.step) == (option, step) for fault in faults):
            raise SettingsError(name, f"step {step} of {option!r} is listed twice")
        faults.add(StepFault(option, step, failing_attempts))
    return frozenset(faults)
