-- Group schedules: the recurring meeting, the Discord event kept for the next one,
-- skipped meetings, and which reminder of which meeting was sent (so none is sent twice).
CREATE TABLE schedules (
    group_id          INTEGER PRIMARY KEY REFERENCES groups (id) ON DELETE CASCADE,
    guild_id          INTEGER NOT NULL,
    weekday           INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    local_time        TEXT NOT NULL,
    every_weeks       INTEGER NOT NULL CHECK (every_weeks BETWEEN 1 AND 4),
    duration_minutes  INTEGER NOT NULL CHECK (duration_minutes BETWEEN 30 AND 240),
    timezone          TEXT NOT NULL,
    anchor            TEXT NOT NULL,
    set_by            INTEGER NOT NULL,
    set_at            TEXT NOT NULL,
    event_id          INTEGER,
    event_start       TEXT
);
CREATE UNIQUE INDEX schedules_event ON schedules (event_id) WHERE event_id IS NOT NULL;

CREATE TABLE schedule_skips (
    group_id   INTEGER NOT NULL REFERENCES schedules (group_id) ON DELETE CASCADE,
    starts_at  TEXT NOT NULL,
    PRIMARY KEY (group_id, starts_at)
);

CREATE TABLE schedule_reminders (
    group_id   INTEGER NOT NULL REFERENCES schedules (group_id) ON DELETE CASCADE,
    starts_at  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    sent_at    TEXT NOT NULL,
    PRIMARY KEY (group_id, starts_at, kind)
);
