-- The SEQUENCE of each group's calendar file (RFC 5545, 3.8.7.4): raised on every change of
-- the schedule (set, skip, clear) so calendar apps replace what they imported. Kept when the
-- schedule is cleared, so a later file still supersedes the old one.
CREATE TABLE calendar_sequences (
    group_id  INTEGER PRIMARY KEY REFERENCES groups (id) ON DELETE CASCADE,
    sequence  INTEGER NOT NULL
);

-- What someone typed in a feedback details form that was refused (a field over a limit), so
-- the form can be reopened filled in with it. Removed once a form of theirs is saved.
CREATE TABLE feedback_drafts (
    session_id  INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    resources   TEXT NOT NULL,
    referrals   TEXT NOT NULL,
    next_steps  TEXT NOT NULL,
    comments    TEXT NOT NULL,
    saved_at    TEXT NOT NULL,
    PRIMARY KEY (session_id, user_id)
);
