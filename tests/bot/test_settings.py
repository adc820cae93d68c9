"""BotSettings: parsed once from the environment; a missing or malformed setting is named."""

import pytest

from bot.errors import SettingsError
from bot.settings import DEFAULT_STATE_STORE, BotSettings, parse_state_store


def test_defaults_need_only_the_signing_key() -> None:
    settings = BotSettings.from_env({"OperationSigningKey": "k"})
    assert settings.signing_key == "k"
    assert settings.app_id == ""
    assert settings.app_type == "MultiTenant"
    assert settings.operations_url == "http://127.0.0.1:7071"
    assert settings.operations_key == ""
    assert settings.port == 3978
    assert settings.state_store == DEFAULT_STATE_STORE


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
        }
    )
    assert (settings.app_id, settings.app_password, settings.app_type, settings.app_tenant_id) == (
        "app", "pw", "SingleTenant", "tenant",
    )
    assert settings.operations_url == "http://functions.example:7071"
    assert (settings.operations_key, settings.port, settings.state_store) == ("fn", 4000, "memory")
    assert settings.operations_timeout == 2.5


def test_a_missing_signing_key_is_named() -> None:
    with pytest.raises(SettingsError, match="OperationSigningKey"):
        BotSettings.from_env({})


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"OperationsUrl": "ftp://x"}, "OperationsUrl"),
        ({"BotStateStore": "redis://x"}, "BotStateStore"),
        ({"BotStateStore": "sqlite:"}, "BotStateStore"),
        ({"OperationsTimeout": "0"}, "OperationsTimeout"),
    ],
)
def test_a_malformed_setting_is_named(env: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        BotSettings.from_env({"OperationSigningKey": "k", **env})


def test_the_repr_holds_no_secret() -> None:
    settings = BotSettings(signing_key="sign-secret", app_password="app-secret", operations_key="fn-secret")
    assert "secret" not in repr(settings)


def test_state_store_names_memory_or_a_sqlite_path() -> None:
    assert parse_state_store("memory") is None
    assert parse_state_store("sqlite:/tmp/x.sqlite") == "/tmp/x.sqlite"
