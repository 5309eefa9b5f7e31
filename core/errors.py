"""Errors the domain raises for people to read."""


class UserError(Exception):
    """A refusal the person who asked can act on; shown to them ephemerally, changes nothing."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
