-- The feedback reminder goes out as one outbox row per attendee (a DM) and one last row (one
-- message in the group channel for those a DM could not reach). A DM refused because the
-- member's DMs are closed is recorded here, so the channel message names exactly them.
CREATE TABLE feedback_reminder_misses (
    session_id  INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    PRIMARY KEY (session_id, user_id)
);
