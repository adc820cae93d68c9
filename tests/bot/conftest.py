"""Fixtures shared by the bot's storage tests: one Azurite for the whole session, started only if a test asks."""

from collections.abc import Iterator

import pytest

from tests.bot.azurite import Azurite, running_azurite


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    # Tests share it and keep apart by using a container each (see tests/bot/storage_backends.py).
    with running_azurite(tmp_path_factory.mktemp("azurite")) as server:
        yield server
