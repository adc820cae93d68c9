"""BotSettings: parsed once from the environment; a missing or malformed setting is named."""

import dataclasses

import pytest

from bot.errors import SettingsError
from bot.settings import DEFAULT_STATE_STORE, BotSettings, StateStore, parse_state_store


def test_defaults_need_only_the_signing_key() -> None:
    settings = BotSettings.from_env({"OperationSigningKey": "k"})
    assert settings.signing_key == "k"
    assert settings.app_id == ""
    assert settings.app_type == "MultiTenant"
    assert settings.operations_url == "http://127.0.0.1:7071"
    assert settings.operations_key == ""
    assert settings.port == 3978
    assert settings.state_store == DEFAULT_STATE_STORE
    assert settings.conversation_state_days == 30
    # Two sends (the result, the prompt) must fit well inside the ~15 s of the outcome event's turn.
    assert settings.proactive_send_timeout == 5.0


def test_settings_built_in_code_default_as_the_environment_does_but_keep_state_in_memory() -> None:
    from_env = BotSettings.from_env({"OperationSigningKey": "k"})
    assert dataclasses.replace(from_env, state_store="memory") == BotSettings(signing_key="k")


def test_every_setting_is_read_by_its_documented_name() -> None:
    settings = BotSettings.from_env(
        {
            "OperationSigningKey": "k",
            "MicrosoftAppId": "app",
            "MicrosoftAppPassword": "pw",
            "MicrosoftAppType": "SingleTenant",
            "MicrosoftAppTenantId": "tenant",
            "OperationsUrl": "http://functions.example:7071/",
            "OperationsKey": "fn",
            "PORT": "4000",
            "BotStateStore": "memory",
            "OperationsTimeout": "2.5",
            "ConversationStateDays": "90",
            "ProactiveSendTimeout": "3",
        }
    )
    assert (settings.app_id, settings.app_password, settings.app_type, settings.app_tenant_id) == (
        "app", "pw", "SingleTenant", "tenant",
    )
    assert settings.operations_url == "http://functions.example:7071"
    assert (settings.operations_key, settings.port, settings.state_store) == ("fn", 4000, "memory")
    assert settings.operations_timeout == 2.5
    assert settings.conversation_state_days == 90
    assert settings.proactive_send_timeout == 3.0
    assert BotSettings.from_env({"OperationSigningKey": "k", "ConversationLeaseSeconds": "2"}).lease_seconds == 2
    assert BotSettings.from_env({"OperationSigningKey": "k"}).lease_seconds == 15


def test_a_missing_signing_key_is_named() -> None:
    with pytest.raises(SettingsError, match="OperationSigningKey"):
        BotSettings.from_env({})


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"OperationsUrl": "ftp://x"}, "OperationsUrl"),
        ({"OperationsUrl": "http://host:notaport"}, "OperationsUrl: .*the port is not a number"),
        ({"OperationsUrl": "http://host:70000"}, "OperationsUrl: .*the port is not a number"),
        ({"OperationsUrl": "http://host:0"}, "OperationsUrl: .*the port is not a number"),
        ({"OperationsUrl": "http://:7071"}, "OperationsUrl: expected an http\\(s\\) URL with a host"),
        ({"OperationsUrl": "http:///api"}, "OperationsUrl: expected an http\\(s\\) URL with a host"),
        ({"BotStateStore": "redis://x"}, "BotStateStore"),
        ({"BotStateStore": "sqlite:"}, "BotStateStore"),
        ({"OperationsTimeout": "0"}, "OperationsTimeout"),
        ({"OperationsTimeout": "nan"}, "OperationsTimeout"),
        ({"OperationsTimeout": "inf"}, "OperationsTimeout"),
        ({"OperationsTimeout": "20"}, "OperationsTimeout"),
        ({"ProactiveSendTimeout": "0"}, "ProactiveSendTimeout: expected seconds above 0 and at most 7"),
        ({"ProactiveSendTimeout": "nan"}, "ProactiveSendTimeout"),
        ({"ProactiveSendTimeout": "15"}, "ProactiveSendTimeout"),
        ({"ProactiveSendTimeout": "soon"}, "ProactiveSendTimeout: expected a number"),
        ({"MicrosoftAppType": "Anonymous"}, "MicrosoftAppType"),
        ({"ConversationLeaseSeconds": "0"}, "ConversationLeaseSeconds: expected whole seconds from 1 to 60, got 0"),
        ({"ConversationLeaseSeconds": "2.5"}, "ConversationLeaseSeconds: expected an integer"),
        ({"ConversationLeaseSeconds": "5", "BotStateStore": "blob:state", "BotStateConnection": "AccountName=a"},
         r"ConversationLeaseSeconds: expected whole seconds from 15 to 60 \(Azure's blob leases last 15-60 s\), got 5"),
        ({"ConversationStateDays": "a month"}, "ConversationStateDays: expected an integer, got 'a month'"),
        ({"ConversationStateDays": "2.5"}, "ConversationStateDays: expected an integer"),
        ({"ConversationStateDays": "36501"}, "ConversationStateDays: expected whole days from 3 to 36500"),
        ({"MicrosoftAppType": "SingleTenant", "MicrosoftAppId": "a", "MicrosoftAppPassword": "p"},
         "MicrosoftAppTenantId"),
        ({"MicrosoftAppType": "UserAssignedMSI", "MicrosoftAppId": "a"}, "MicrosoftAppTenantId"),
    ],
)
def test_a_malformed_setting_is_named(env: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        BotSettings.from_env({"OperationSigningKey": "k", **env})


@pytest.mark.parametrize("url", ["http://functions.example", "https://fn.azurewebsites.net", "http://127.0.0.1:7071",
                                 "http://[::1]:7071"])
def test_an_operations_url_with_a_host_and_an_optional_port_is_accepted(url: str) -> None:
    assert BotSettings.from_env({"OperationSigningKey": "k", "OperationsUrl": url}).operations_url == url


def test_the_repr_holds_no_secret() -> None:
    settings = BotSettings(signing_key="sign-secret", app_id="app", app_password="app-secret",
                           operations_key="fn-secret")
    assert "secret" not in repr(settings)


def test_state_store_names_memory_a_sqlite_path_or_a_blob_container() -> None:
    assert parse_state_store("memory") == StateStore("memory")
    assert parse_state_store("sqlite:/tmp/x.sqlite") == StateStore("sqlite", "/tmp/x.sqlite")
    assert parse_state_store("blob:bot-state") == StateStore("blob", "bot-state")


@pytest.mark.parametrize(
    "value",
    ["", "disk", "sqlite:", "blob:", "blob:ab", "blob:Bot-State", "blob:bot--state", "blob:-bot", "blob:bot_state",
     "blob:" + "a" * 64],
)
def test_a_bad_state_store_names_the_setting(value: str) -> None:
    with pytest.raises(SettingsError, match="BotStateStore"):
        parse_state_store(value)


AZURITE = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
    "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
)


def test_a_blob_store_reads_its_connection_string_and_keeps_it_out_of_the_repr() -> None:
    settings = BotSettings.from_env(
        {"OperationSigningKey": "k", "BotStateStore": "blob:bot-state", "BotStateConnection": AZURITE}
    )
    assert (settings.state_store, settings.state_connection) == ("blob:bot-state", AZURITE)
    assert "a2V5" not in repr(settings) and "AccountKey" not in repr(settings)


@pytest.mark.parametrize(
    ("connection", "problem"),
    [
        ("", "is required when BotStateStore is 'blob:bot-state'"),
        ("just-a-secret-word", "is not a connection string"),
        ("AccountKey=secret-key;EndpointSuffix=core.windows.net", "names no storage account"),
    ],
)
def test_a_blob_store_without_a_usable_connection_string_stops_start_up(connection: str, problem: str) -> None:
    env = {"OperationSigningKey": "k", "BotStateStore": "blob:bot-state", "BotStateConnection": connection}
    with pytest.raises(SettingsError, match=f"BotStateConnection: {problem}") as raised:
        BotSettings.from_env(env)
    assert "secret" not in str(raised.value)


def test_the_connection_string_is_needed_only_by_a_blob_store() -> None:
    assert BotSettings.from_env({"OperationSigningKey": "k", "BotStateStore": "memory"}).state_connection == ""
    development = {"BotStateStore": "blob:bot-state", "BotStateConnection": "UseDevelopmentStorage=true"}
    assert BotSettings.from_env({"OperationSigningKey": "k", **development}).state_store == "blob:bot-state"


def test_the_signing_key_is_read_as_the_function_app_reads_it() -> None:
    # Surrounding whitespace is dropped on both sides (contract.normalize_signing_key), or every outcome would fail.
    assert BotSettings.from_env({"OperationSigningKey": " k3y\n"}).signing_key == "k3y"


CLOUD = {
    "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": "http://127.0.0.1:9000/v1/.well-known/openidconfiguration",
    "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": "http://127.0.0.1:9000",
    "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL": "http://127.0.0.1:9000/botframework.com/v2.0/.well-known/openid-configuration",
    "TO_CHANNEL_FROM_BOT_LOGIN_URL": "https://127.0.0.1:9001/botframework.com",
    "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE": "https://api.botframework.com",
}


def test_another_clouds_settings_are_read_by_botbuilders_names_and_handed_to_botbuilder() -> None:
    from bot.adapter import _AuthConfiguration

    settings = BotSettings.from_env({"OperationSigningKey": "k", **CLOUD, "OAUTH_URL": "https://127.0.0.1:9002",
                                     "VALIDATE_AUTHORITY": "false"})
    configuration = _AuthConfiguration(settings)
    for name, value in CLOUD.items():
        assert getattr(configuration, name) == value
    assert configuration.OAUTH_URL == "https://127.0.0.1:9002"
    assert configuration.VALIDATE_AUTHORITY is False
    # The public cloud: nothing set, so botbuilder's defaults apply.
    public = _AuthConfiguration(BotSettings.from_env({"OperationSigningKey": "k"}))
    assert not hasattr(public, "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER")
    assert not hasattr(public, "CHANNEL_SERVICE")


def test_a_partial_cloud_is_refused_naming_the_first_missing_setting() -> None:
    partial = {k: v for k, v in CLOUD.items() if k != "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER"}
    with pytest.raises(SettingsError) as raised:
        BotSettings.from_env({"OperationSigningKey": "k", **partial})
    assert str(raised.value) == (
        "setting TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: is required when any of TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL, "
        "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER, TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL, TO_CHANNEL_FROM_BOT_LOGIN_URL, "
        "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE or OAUTH_URL is set (botbuilder then reads the whole cloud from settings)"
    )


@pytest.mark.parametrize(("name", "value", "message"), [
    ("CHANNEL_SERVICE", "https://elsewhere.example", "setting CHANNEL_SERVICE: expected empty (public cloud) or "
     "https://botframework.azure.us (US Government), got 'https://elsewhere.example'"),
    ("VALIDATE_AUTHORITY", "maybe", "setting VALIDATE_AUTHORITY: expected true or false, got 'maybe'"),
    ("TO_CHANNEL_FROM_BOT_LOGIN_URL", "login", "setting TO_CHANNEL_FROM_BOT_LOGIN_URL: expected an http(s) URL "
     "with a host, got 'login'"),
])
def test_a_malformed_cloud_setting_is_named(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        BotSettings.from_env({"OperationSigningKey": "k", **CLOUD, name: value})
    assert str(raised.value) == message


def test_an_app_id_without_a_password_is_refused_unless_it_is_a_managed_identity() -> None:
    with pytest.raises(SettingsError) as raised:
        BotSettings.from_env({"OperationSigningKey": "k", "MicrosoftAppId": "app"})
    assert str(raised.value) == ("setting MicrosoftAppPassword: is required with MicrosoftAppId when MicrosoftAppType "
                                 "is MultiTenant (the bot's replies need a token)")
    msi = BotSettings.from_env({"OperationSigningKey": "k", "MicrosoftAppId": "app",
                                "MicrosoftAppType": "UserAssignedMSI", "MicrosoftAppTenantId": "t"})
    assert msi.app_password == ""


def test_a_password_without_an_app_id_is_refused() -> None:
    with pytest.raises(SettingsError) as raised:
        BotSettings.from_env({"OperationSigningKey": "k", "MicrosoftAppPassword": "pw"})
    assert str(raised.value) == "setting MicrosoftAppId: is required when MicrosoftAppPassword is set"


def test_conversation_state_must_outlive_the_longest_an_outcome_may_take_to_arrive() -> None:
    assert BotSettings(signing_key="k", conversation_state_days=3).conversation_state_days == 3
    with pytest.raises(SettingsError) as raised:
        BotSettings.from_env({"OperationSigningKey": "k", "ConversationStateDays": "2"})
    assert str(raised.value) == (
        "setting ConversationStateDays: expected whole days from 3 to 36500 (an outcome may arrive up to 2 days "
        "after its operation started, and the conversation must still be waiting for it), got 2"
    )


def test_tracing_is_off_unless_set_and_read_from_the_standard_names() -> None:
    assert not BotSettings.from_env({"OperationSigningKey": "k"}).tracing.enabled
    traced = BotSettings.from_env({"OperationSigningKey": "k", "OTEL_TRACES_EXPORTER": "console",
                                   "OTEL_SERVICE_NAME": "my-bot"}).tracing
    assert (traced.exporter, traced.service_name) == ("console", "my-bot")
    assert BotSettings.from_env({"OperationSigningKey": "k", "APPLICATIONINSIGHTS_CONNECTION_STRING":
                                 "InstrumentationKey=00000000-0000-0000-0000-000000000001"}).tracing.azure_monitor


def test_a_bad_tracing_setting_stops_start_up_naming_it() -> None:
    with pytest.raises(SettingsError) as caught:
        BotSettings.from_env({"OperationSigningKey": "k", "OTEL_TRACES_EXPORTER": "jaeger"})
    assert str(caught.value) == "setting OTEL_TRACES_EXPORTER: expected one of none, console, otlp, got 'jaeger'"
