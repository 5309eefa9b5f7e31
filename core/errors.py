"""Errors the domain raises for people to read."""


class UserError(Exception):
    """A refusal the person who asked can act on; shown to them ephemerally, changes nothing."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StaleSession(Exception):
    """A session's state was saved from a version another process has already moved past:
    nothing was written, and the caller must reload the session before acting on it."""

    def __init__(self, session_id: int) -> None:
        super().__init__(f"session {session_id} was changed by another process")
        self.session_id = session_id
