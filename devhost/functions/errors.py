"""The functions host's exception tree: what stops start-up, with a message for the user."""


class FunctionsHostError(Exception):
    """Base of every error the functions host raises on purpose."""


class ConfigError(FunctionsHostError):
    """host.json or local.settings.json cannot be used."""


class AppLoadError(FunctionsHostError):
    """The function app cannot be found or imported (the message includes any traceback)."""
