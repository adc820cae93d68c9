"""The bot: ``create_app(settings)`` builds the aiohttp application; ``python -m bot`` serves it."""

from bot.settings import BotSettings

__all__ = ["BotSettings", "create_app"]


def __getattr__(name: str) -> object:
    # Lazy, so reading settings (and `python -m bot` reporting a bad one) does not load botbuilder.
    if name == "create_app":
        from bot.app import create_app

        return create_app
    raise AttributeError(name)
