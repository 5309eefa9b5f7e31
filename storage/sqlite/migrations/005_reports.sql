-- Reports and privacy: the key behind respondents' pseudonyms, and what an erasure keeps.

-- 32 random bytes per guild: pseudonym = HMAC-SHA256(key, user id). Never shown or exported.
CREATE TABLE guild_secrets (
    guild_id       INTEGER PRIMARY KEY,
    pseudonym_key  BLOB NOT NULL,
    created_at     TEXT NOT NULL
);

-- `/mastermind privacy delete` replaces the person's id everywhere by one random negative id
-- (Discord ids are positive), so attendance, ratings, floor time and next-step completion still
-- add up while nothing leads back to them. This table only makes each such id unique.
CREATE TABLE erasures (
    anon_id    INTEGER PRIMARY KEY CHECK (anon_id < 0),
    erased_at  TEXT NOT NULL
);

-- An erased respondent's form text is removed; how many resources and referrals it listed is
-- kept here so the reports' counts stay correct. NULL: count the lines of the text itself.
ALTER TABLE feedback ADD COLUMN resources_count INTEGER;
ALTER TABLE feedback ADD COLUMN referrals_count INTEGER;

CREATE INDEX sessions_group_ended ON sessions (group_id, ended_at);
CREATE INDEX next_steps_session ON next_steps (session_id);
CREATE INDEX notes_author ON notes (author_id);
CREATE INDEX notes_for_member ON notes (for_member_id);
