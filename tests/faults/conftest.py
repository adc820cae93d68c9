"""Every fault test runs twice: as the devhost runs by default, and with Bot Framework authentication end to end
(``devhost up --auth``: channel tokens to the bot, the bot's tokens to the channels, the Emulator's token), so a fault
path that only works without tokens fails here."""

import pytest


@pytest.fixture(params=[False, True], ids=["auth off", "auth on"])
def auth(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)
