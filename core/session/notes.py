"""What a session note may be: one of three kinds, not empty, not longer than Discord allows
for the text a member types into the form."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import UserError

NOTE_KINDS = ("resource", "referral", "insight")
NOTE_MAX = 1000


@dataclass(frozen=True, slots=True)
class CleanNote:
    kind: str
    text: str


def clean_note(kind: str, text: str) -> CleanNote:
    """The note as stored (kind lower-cased, text trimmed), or a UserError saying why not."""
    clean_kind = kind.strip().lower()
    if clean_kind not in NOTE_KINDS:
        raise UserError("A note's kind is `resource`, `referral` or `insight`.")
    body = text.strip()
    if not body:
        raise UserError("The note is empty.")
    if len(body) > NOTE_MAX:
        raise UserError(f"A note can be at most {NOTE_MAX} characters.")
    return CleanNote(clean_kind, body)
