-- The transactional outbox: every Discord side effect that follows a state change is a row
-- written in the same transaction as the change, and delivered afterwards, in `id` order
-- within its `scope` (a session, a group). `state`: 'pending' (to deliver, from
-- `next_attempt_at`), 'waiting' (until `wait_for` happens, e.g. a member is back in voice),
-- 'done' (delivered; `message_id` is what a create returned), 'failed' (given up: refused by
-- Discord, or too old), 'dropped' (collapsed away after downtime: superseded by a later row).
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    guild_id         INTEGER NOT NULL,
    scope            TEXT NOT NULL,
    kind             TEXT NOT NULL,
    payload          TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'waiting', 'done', 'failed', 'dropped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    wait_for         TEXT,
    message_id       INTEGER,
    error            TEXT,
    created_at       TEXT NOT NULL,
    finished_at      TEXT
);
CREATE INDEX outbox_pending ON outbox (scope, id) WHERE state = 'pending';
CREATE INDEX outbox_waiting ON outbox (wait_for) WHERE state = 'waiting';
CREATE INDEX outbox_finished ON outbox (finished_at) WHERE finished_at IS NOT NULL;

-- A permission the bot was refused in a channel, already reported to the facilitators: each
-- is reported once, until a delivery in that channel succeeds again.
CREATE TABLE outbox_notices (
    channel_id   INTEGER NOT NULL,
    permission   TEXT NOT NULL,
    reported_at  TEXT NOT NULL,
    PRIMARY KEY (channel_id, permission)
);

-- The unmutes the bot still owes (people who left voice while it had them muted) become
-- ordinary outbox rows that wait until the member is next in voice.
INSERT INTO outbox (guild_id, scope, kind, payload, state, next_attempt_at, wait_for, created_at)
SELECT guild_id,
       'unmute:' || guild_id || ':' || user_id,
       'session.unmute',
       json_object('member_id', user_id),
       'waiting',
       strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'),
       'voice:' || guild_id || ':' || user_id,
       strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')
FROM owed_unmutes;
DROP TABLE owed_unmutes;
