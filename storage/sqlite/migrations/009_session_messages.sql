-- The bot's own transient messages of a session (announcements, warnings, older panels turned
-- into pointers), kept until the tidy after the session deletes them: rows of an ended session
-- are a tidy still to do, so one survives a restart. And the server's choice to keep them.
CREATE TABLE session_messages (
    session_id  INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    channel_id  INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('announcement', 'warning', 'pointer')),
    PRIMARY KEY (session_id, message_id)
);

ALTER TABLE guild_settings ADD COLUMN tidy_sessions INTEGER NOT NULL DEFAULT 1;
