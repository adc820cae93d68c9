"""The engine's one exception tree; the HTTP API maps each class to the status code the extension uses."""


class DurableError(Exception):
    """Base of every error the engine raises on purpose."""


class InvalidRequest(DurableError):
    """Bad input: unknown orchestrator, bad instance id (HTTP 400 with the error's ``message`` and type).

    HttpApiHandler answers an ArgumentException with ``{"Message": "One or more of the arguments submitted is
    incorrect", "ExceptionMessage": <the text>, ...}``; some handlers name their own ``Message``.
    """

    def __init__(self, text: str, message: str = "One or more of the arguments submitted is incorrect",
                 exception_type: str = "System.ArgumentException") -> None:
        super().__init__(text)
        self.message = message
        self.exception_type = exception_type


class InstanceNotFound(DurableError):
    """No instance with that id (HTTP 404)."""


class InstanceGone(DurableError):
    """The instance has finished, so the operation no longer applies (HTTP 410)."""


class InstanceConflict(DurableError):
    """An instance with that id is still running (HTTP 500, as the extension answers)."""


class InvalidInstanceState(DurableError):
    """The operation does not fit the instance's state, e.g. resume of a running one (HTTP 500)."""
