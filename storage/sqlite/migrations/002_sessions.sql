-- Live sessions: the persisted state machine, and the records each session leaves behind.
CREATE TABLE sessions (
    id                INTEGER PRIMARY KEY,
    group_id          INTEGER NOT NULL REFERENCES groups (id),
    guild_id          INTEGER NOT NULL,
    format            TEXT NOT NULL,
    started_by        INTEGER NOT NULL,
    started_at        TEXT NOT NULL,
    ended_at          TEXT,
    end_reason        TEXT,
    state             TEXT NOT NULL,
    next_due          TEXT,
    panel_channel_id  INTEGER,
    panel_message_id  INTEGER
);
CREATE UNIQUE INDEX sessions_one_live_per_group ON sessions (group_id) WHERE ended_at IS NULL;
CREATE INDEX sessions_live ON sessions (ended_at, next_due);

CREATE TABLE segments (
    session_id       INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq              INTEGER NOT NULL,
    speaker_id       INTEGER NOT NULL,
    round            TEXT NOT NULL,
    phase            TEXT NOT NULL,
    planned_seconds  INTEGER NOT NULL,
    actual_seconds   INTEGER NOT NULL,
    outcome          TEXT NOT NULL,
    started_at       TEXT,
    ended_at         TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
);
CREATE INDEX segments_speaker ON segments (speaker_id);

CREATE TABLE attendance (
    session_id       INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id          INTEGER NOT NULL,
    first_joined_at  TEXT NOT NULL,
    seconds          INTEGER NOT NULL,
    PRIMARY KEY (session_id, user_id)
);
CREATE INDEX attendance_user ON attendance (user_id);

CREATE TABLE notes (
    id             INTEGER PRIMARY KEY,
    session_id     INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    author_id      INTEGER,
    for_member_id  INTEGER,
    kind           TEXT NOT NULL CHECK (kind IN ('resource', 'referral', 'insight')),
    text           TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX notes_session ON notes (session_id);

CREATE TABLE hotseat_history (
    group_id         INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id          INTEGER NOT NULL,
    last_hotseat_at  TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);

-- Server mutes the talking stick made on someone who left voice before it could undo them.
CREATE TABLE owed_unmutes (
    guild_id  INTEGER NOT NULL,
    user_id   INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);
