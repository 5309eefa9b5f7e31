-- Feedback after each session, the next steps members commit to, and native polls.
CREATE TABLE feedback_requests (
    session_id        INTEGER PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    group_id          INTEGER NOT NULL REFERENCES groups (id),
    channel_id        INTEGER,
    message_id        INTEGER,
    opened_at         TEXT NOT NULL,
    closes_at         TEXT NOT NULL,
    remind_at         TEXT NOT NULL,
    reminded_at       TEXT,
    closed_at         TEXT
);
CREATE INDEX feedback_requests_open ON feedback_requests (closed_at);

CREATE TABLE feedback (
    session_id    INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL,
    rating        INTEGER CHECK (rating BETWEEN 1 AND 5),
    resources     TEXT NOT NULL DEFAULT '',
    referrals     TEXT NOT NULL DEFAULT '',
    next_steps    TEXT NOT NULL DEFAULT '',
    comments      TEXT NOT NULL DEFAULT '',
    submitted_at  TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (session_id, user_id)
);

-- Ids are shown to people (`#12`) and sit in buttons: AUTOINCREMENT never hands out the id of
-- a step that was removed (a form sent again without it), so an old button cannot hit a new step.
CREATE TABLE next_steps (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id  INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    group_id    INTEGER NOT NULL REFERENCES groups (id),
    owner_id    INTEGER NOT NULL,
    text        TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'done', 'partly', 'not_yet')),
    created_at  TEXT NOT NULL,
    status_at   TEXT,
    status_by   INTEGER
);
CREATE INDEX next_steps_owner ON next_steps (group_id, owner_id, status);

CREATE TABLE polls (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    group_id    INTEGER NOT NULL REFERENCES groups (id),
    channel_id  INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    question    TEXT NOT NULL,
    options     TEXT NOT NULL,
    created_by  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    closes_at   TEXT NOT NULL,
    closed_at   TEXT,
    results     TEXT
);
CREATE INDEX polls_open ON polls (closed_at, closes_at);
