"""Errors the domain raises for people to read."""


class UserError(Exception):
    """A refusal the person who asked can act on; shown to them ephemerally, changes nothing."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DuplicateName(Exception):
    """Something of that name already exists where names must be unique (a group or a cohort
    in a guild, compared case-blind): a race the command's own check could not see."""


class StaleSession(Exception):
    """A session's state was saved from an older version than the stored one: another process
    (or task) advanced it first, so this transition is void: nothing was written, and the
    caller reloads the session before acting on it."""

    def __init__(self, session_id: int) -> None:
        super().__init__(f"session {session_id} was changed elsewhere")
        self.session_id = session_id
