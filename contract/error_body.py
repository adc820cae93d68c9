"""The function app's error body: ``{"error": "<message naming the problem>"}``.

The starter answers every refusal (4xx, 5xx) with it and the bot shows its message to the user. Not Direct
Line's ``{"error": {"code", "message"}}``: that one is Direct Line's own shape, parsed by its clients.
"""


def error_body(message: str) -> dict[str, str]:
    """The error body naming ``message``."""
    return {"error": message}


def error_message(body: object) -> str | None:
    """The message of an error body, or None when ``body`` is not one (or its message is empty)."""
    message = body.get("error") if isinstance(body, dict) else None
    return message if isinstance(message, str) and message else None
