"""The one error the contract raises: a payload that does not have the agreed shape."""


class ContractError(ValueError):
    """A wire payload is malformed. The message names the offending field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
