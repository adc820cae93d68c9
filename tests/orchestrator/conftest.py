"""Fixtures for the function app tests: app settings as the Functions host provides them (env vars)."""

from collections.abc import Callable, Iterator

import pytest

from orchestrator.settings import load_settings
from tests.orchestrator.fake_directline import SECRET

SIGNING_KEY = "signing-key-for-tests"

ALL_SETTINGS = (
    "DirectLineSecret", "DirectLineEndpoint", "OperationSigningKey", "OperationSeconds", "OperationSteps",
    "OperationTimeoutSeconds", "StepRetryAttempts", "StepFirstRetrySeconds", "NotifyRetryAttempts",
    "NotifyFirstRetrySeconds", "NotifyBackoffCoefficient", "NotifyMaxRetrySeconds", "OperationFaults",
    "HistoryRetentionDays",
)


@pytest.fixture
def app_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Call with setting=value pairs; replaces every function app setting and re-reads them."""

    def apply(**values: str) -> None:
        for name in ALL_SETTINGS:
            monkeypatch.delenv(name, raising=False)
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        load_settings.cache_clear()

    apply(DirectLineSecret=SECRET, OperationSigningKey=SIGNING_KEY)
    yield apply
    load_settings.cache_clear()
