"""The bot's settings, parsed once from the environment into a frozen object that handlers receive."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from bot.cloud import BotFrameworkCloud
from bot.conversation_leases import (
    DEFAULT_LEASE_SECONDS,
    MAX_LEASE_SECONDS,
    MIN_BLOB_LEASE_SECONDS,
    MIN_LEASE_SECONDS,
)
from bot.errors import SettingsError
from bot.state_expiry import DEFAULT_CONVERSATION_STATE_DAYS, SECONDS_PER_DAY
from bot.turn_slots import DEFAULT_TURN_SLOTS, MAX_TURN_SLOTS
from contract import OUTCOME_WINDOW_SECONDS, ContractError, normalize_signing_key
from contract.tracing import TracingSettings, parse_tracing_settings

DEFAULT_PORT = 3978
# devhost/part_identity.py's names, repeated: the bot does not import the devhost.
PART_NONCE_ENV = "DEVHOST_PART_NONCE"
PART_NONCE_HEADER = "X-Devhost-Part-Nonce"
DEFAULT_APP_TYPE = "MultiTenant"
DEFAULT_OPERATIONS_URL = "http://127.0.0.1:7071"
# The default of the BotStateStore setting (``python -m bot``): state survives a restart.
DEFAULT_STATE_STORE = "sqlite:.devhost/bot-state.sqlite"
# The default of a BotSettings built in code (tests, in-process hosts): nothing written to disk.
IN_PROCESS_STATE_STORE = "memory"
DEFAULT_OPERATIONS_TIMEOUT = 10.0
MAX_OPERATIONS_TIMEOUT = 14.0
# A proactive send (the outcome and the prompt after it) holds the user's conversation lock while the function app's
# Direct Line post waits for the whole turn, which Direct Line gives about 15 s: two sends must fit well inside it.
DEFAULT_PROACTIVE_SEND_TIMEOUT = 5.0
MAX_PROACTIVE_SEND_TIMEOUT = 7.0
# What botbuilder's ConfigurationBotFrameworkAuthentication understands (it compares case-insensitively).
# A conversation's state must outlive the longest an outcome can take to arrive (contract.OUTCOME_WINDOW_SECONDS,
# 2 days, which the function app enforces), with a day to spare, or an awaited outcome could find it expired.
MIN_CONVERSATION_STATE_DAYS = int(OUTCOME_WINDOW_SECONDS // SECONDS_PER_DAY) + 1
MAX_CONVERSATION_STATE_DAYS = 36500
APP_TYPES = {"multitenant": "MultiTenant", "singletenant": "SingleTenant", "userassignedmsi": "UserAssignedMSI"}


@dataclass(frozen=True)
class BotSettings:
    """Every setting the bot reads, by its environment name.

    MicrosoftAppId / MicrosoftAppPassword / MicrosoftAppType / MicrosoftAppTenantId
        Bot Framework credentials; an empty app id disables auth (Emulator, devhost).
    OperationsUrl     base URL of the function app (default http://127.0.0.1:7071)
    OperationsKey     function key sent as ``x-functions-key`` to the starter only (default empty: header omitted)
    OperationSigningKey  HMAC key that outcomes are signed with (required, shared with the function app)
    PORT              port for ``python -m bot`` (default 3978)
    BotStateStore     ``memory``, ``sqlite:<path>`` or ``blob:<container>`` (default sqlite:.devhost/bot-state.sqlite;
                      ``memory`` for a BotSettings built in code)
    BotStateConnection  Azure Storage connection string for ``blob:<container>`` (required then; a secret)
    OperationsTimeout seconds the bot waits for the function app per call (default 10; a turn has ~15 s)
    MaxConcurrentTurns  turns that compute at once, the rest wait in arrival order (default 8; bot/turn_slots.py)
    ConversationStateDays  whole days a conversation's state is kept after its last turn, in every store (default 30,
                      at least 3: longer than an outcome may take to arrive; bot/state_expiry.py). Past it the
                      conversation starts afresh, and a sweep deletes the state.
    CHANNEL_SERVICE, TO_BOT_FROM_*, TO_CHANNEL_FROM_BOT_*, OAUTH_URL, VALIDATE_AUTHORITY
                      botbuilder's settings for another Bot Framework cloud (bot/cloud.py; default: the public cloud)
    DEVHOST_PART_NONCE  set only by ``devhost up``: /api/health answers it back, so the stack knows it reached the
                      bot it just started (devhost/part_identity.py; not a secret; unset in production)
    ConversationLeaseSeconds  whole seconds a bot instance's lease on a conversation lasts unless renewed (default 15;
                      1-60, and 15-60 for blob: Azure's lease rule). Several instances on one sqlite or blob store
                      take it per turn (bot/conversation_leases.py); an instance that dies mid-turn holds its
                      conversation for at most this long.
    ProactiveSendTimeout  seconds one send into the user's conversation may take when delivering an outcome
                      (default 5, at most 7; a timed-out delivery fails and the function app retries it)
    OTEL_TRACES_EXPORTER / APPLICATIONINSIGHTS_CONNECTION_STRING / OTEL_SERVICE_NAME
                      tracing (contract/tracing.py, bot/tracing.py; off by default)
    """

    signing_key: str
    app_id: str = ""
    app_password: str = ""
    app_type: str = DEFAULT_APP_TYPE
    app_tenant_id: str = ""
    operations_url: str = DEFAULT_OPERATIONS_URL
    operations_key: str = ""
    port: int = DEFAULT_PORT
    state_store: str = IN_PROCESS_STATE_STORE
    operations_timeout: float = DEFAULT_OPERATIONS_TIMEOUT
    state_connection: str = ""
    max_concurrent_turns: int = DEFAULT_TURN_SLOTS
    conversation_state_days: int = DEFAULT_CONVERSATION_STATE_DAYS
    cloud: BotFrameworkCloud = field(default_factory=BotFrameworkCloud)
    part_nonce: str = ""
    proactive_send_timeout: float = DEFAULT_PROACTIVE_SEND_TIMEOUT
    lease_seconds: int = DEFAULT_LEASE_SECONDS
    tracing: TracingSettings = field(default_factory=TracingSettings)

    def __post_init__(self) -> None:
        if not self.signing_key:
            raise SettingsError("OperationSigningKey", "is required (the key the function app signs outcomes with)")
        _check_operations_url(self.operations_url)
        if not 0 < self.port < 65536:
            raise SettingsError("PORT", f"expected a port number 1-65535, got {self.port}")
        if not 0 < self.operations_timeout <= MAX_OPERATIONS_TIMEOUT:  # also rejects nan
            raise SettingsError(
                "OperationsTimeout",
                f"expected seconds above 0 and at most {MAX_OPERATIONS_TIMEOUT:g} (a turn has about 15 s in all), "
                f"got {self.operations_timeout}",
            )
        if not 0 < self.proactive_send_timeout <= MAX_PROACTIVE_SEND_TIMEOUT:  # also rejects nan
            raise SettingsError(
                "ProactiveSendTimeout",
                f"expected seconds above 0 and at most {MAX_PROACTIVE_SEND_TIMEOUT:g} (an outcome's turn has about "
                f"15 s for the result and the prompt after it), got {self.proactive_send_timeout}",
            )
        if not 1 <= self.max_concurrent_turns <= MAX_TURN_SLOTS:
            raise SettingsError("MaxConcurrentTurns",
                                f"expected 1-{MAX_TURN_SLOTS} turns, got {self.max_concurrent_turns}")
        if not MIN_CONVERSATION_STATE_DAYS <= self.conversation_state_days <= MAX_CONVERSATION_STATE_DAYS:
            raise SettingsError(
                "ConversationStateDays",
                f"expected whole days from {MIN_CONVERSATION_STATE_DAYS} to {MAX_CONVERSATION_STATE_DAYS} (an "
                f"outcome may arrive up to {OUTCOME_WINDOW_SECONDS // SECONDS_PER_DAY:g} days after its operation "
                f"started, and the conversation must still be waiting for it), got {self.conversation_state_days}",
            )
        if self.app_type.lower() not in APP_TYPES:
            raise SettingsError("MicrosoftAppType", f"expected one of {', '.join(APP_TYPES.values())}, "
                                                    f"got {self.app_type!r}")
        if self.app_id and self.app_type.lower() != "userassignedmsi" and not self.app_password:
            # botbuilder would take the channel's activities and fail at the first reply, asking AAD for a token.
            raise SettingsError("MicrosoftAppPassword", f"is required with MicrosoftAppId when MicrosoftAppType is "
                                                        f"{self.app_type} (the bot's replies need a token)")
        if self.app_password and not self.app_id:
            raise SettingsError("MicrosoftAppId", "is required when MicrosoftAppPassword is set")
        if self.app_type.lower() in ("singletenant", "userassignedmsi") and not self.app_tenant_id:
            raise SettingsError("MicrosoftAppTenantId", f"is required when MicrosoftAppType is {self.app_type}")
        store = parse_state_store(self.state_store)
        if store.kind == "blob":
            _check_connection_string(self.state_store, self.state_connection)
        _check_lease_seconds(self.lease_seconds, store)

    def __repr__(self) -> str:
        # Secrets never reach logs, even through a repr in a traceback.
        return (
            f"BotSettings(app_id={self.app_id!r}, app_type={self.app_type!r}, operations_url={self.operations_url!r}, "
            f"port={self.port}, state_store={self.state_store!r})"
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "BotSettings":
        return cls(
            signing_key=normalize_signing_key(env.get("OperationSigningKey", "")),
            app_id=env.get("MicrosoftAppId", ""),
            app_password=env.get("MicrosoftAppPassword", ""),
            app_type=env.get("MicrosoftAppType", "") or DEFAULT_APP_TYPE,
            app_tenant_id=env.get("MicrosoftAppTenantId", ""),
            operations_url=(env.get("OperationsUrl", "") or DEFAULT_OPERATIONS_URL).rstrip("/"),
            operations_key=env.get("OperationsKey", ""),
            port=_int(env, "PORT", DEFAULT_PORT),
            state_store=env.get("BotStateStore", "") or DEFAULT_STATE_STORE,
            operations_timeout=_float(env, "OperationsTimeout", DEFAULT_OPERATIONS_TIMEOUT),
            state_connection=env.get("BotStateConnection", ""),
            max_concurrent_turns=_int(env, "MaxConcurrentTurns", DEFAULT_TURN_SLOTS),
            conversation_state_days=_int(env, "ConversationStateDays", DEFAULT_CONVERSATION_STATE_DAYS),
            cloud=BotFrameworkCloud.from_env(env),
            part_nonce=env.get(PART_NONCE_ENV, ""),
            proactive_send_timeout=_float(env, "ProactiveSendTimeout", DEFAULT_PROACTIVE_SEND_TIMEOUT),
            lease_seconds=_int(env, "ConversationLeaseSeconds", DEFAULT_LEASE_SECONDS),
            tracing=_tracing(env),
        )


@dataclass(frozen=True)
class StateStore:
    """Where the bot keeps its state: ``location`` is the SQLite path or the blob container ("" for memory)."""

    kind: Literal["memory", "sqlite", "blob"]
    location: str = ""


# Azure's container naming rules, checked here so a bad name stops start-up instead of failing the first turn.
_CONTAINER_NAME = re.compile(r"^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$")
_STORE_FORMS = "'memory', 'sqlite:<path>' or 'blob:<container>'"


def parse_state_store(value: str) -> StateStore:
    """The store named by a BotStateStore value: ``memory``, ``sqlite:<path>`` or ``blob:<container>``."""
    if value == "memory":
        return StateStore("memory")
    kind, _, location = value.partition(":")
    if kind == "sqlite" and location:
        return StateStore("sqlite", location)
    if kind == "blob" and location:
        if not _CONTAINER_NAME.match(location):
            raise SettingsError(
                "BotStateStore",
                f"{location!r} is not a valid blob container name (3-63 characters: lowercase letters, digits and "
                "single hyphens, starting and ending with a letter or digit)",
            )
        return StateStore("blob", location)
    raise SettingsError("BotStateStore", f"expected {_STORE_FORMS}, got {value!r}")


def _check_operations_url(value: str) -> None:
    # Checked here, so a typo stops start-up instead of failing every start of an operation.
    problem = f"expected an http(s) URL with a host (http://host[:port]), got {value!r}"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError("OperationsUrl", problem)
    try:
        port = parts.port  # parsed only on access: ValueError for "host:notaport" or a port over 65535
    except ValueError:
        port = 0
    if port is not None and not 0 < port < 65536:
        raise SettingsError("OperationsUrl", f"{problem}: the port is not a number 1-65535")


def _check_connection_string(state_store: str, value: str) -> None:
    """The shape the Azure SDK parses (``Key=Value;...`` naming an account or a blob endpoint), so a malformed
    string stops start-up rather than the first turn. Messages never quote the value: it holds the account key."""
    name = "BotStateConnection"
    if not value:
        raise SettingsError(name, f"is required when BotStateStore is {state_store!r} (an Azure connection string)")
    pairs = [part.split("=", 1) for part in value.rstrip(";").split(";")]
    if any(len(pair) != 2 or not pair[0].strip() for pair in pairs):
        raise SettingsError(name, "is not a connection string (expected Key=Value pairs separated by ';')")
    keys = {key.strip().lower(): val for key, val in pairs}
    if keys.get("usedevelopmentstorage", "").lower() != "true" and not ({"accountname", "blobendpoint"} & keys.keys()):
        raise SettingsError(name, "names no storage account (expected AccountName=... or BlobEndpoint=...)")


def _check_lease_seconds(seconds: int, store: StateStore) -> None:
    low = MIN_BLOB_LEASE_SECONDS if store.kind == "blob" else MIN_LEASE_SECONDS
    if not low <= seconds <= MAX_LEASE_SECONDS:
        why = " (Azure's blob leases last 15-60 s)" if store.kind == "blob" else ""
        raise SettingsError("ConversationLeaseSeconds",
                            f"expected whole seconds from {low} to {MAX_LEASE_SECONDS}{why}, got {seconds}")


def _tracing(env: Mapping[str, str]) -> TracingSettings:
    try:
        return parse_tracing_settings(env)
    except ContractError as error:
        raise SettingsError(error.field, error.problem) from None


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, "")
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise SettingsError(name, f"expected an integer, got {text!r}") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "")
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise SettingsError(name, f"expected a number, got {text!r}") from None
