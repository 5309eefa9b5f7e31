-- Guilds, groups, memberships, profiles, audit trail and bot metadata.
CREATE TABLE guild_settings (
    guild_id            INTEGER PRIMARY KEY,
    moderator_role_id   INTEGER,
    log_channel_id      INTEGER,
    turn_minutes        INTEGER,
    feedback_days       INTEGER NOT NULL DEFAULT 7,
    identified_exports  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE groups (
    id                INTEGER PRIMARY KEY,
    guild_id          INTEGER NOT NULL,
    name              TEXT NOT NULL,
    name_key          TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    capacity          INTEGER NOT NULL CHECK (capacity BETWEEN 2 AND 12),
    timezone          TEXT,
    role_id           INTEGER,
    category_id       INTEGER,
    text_channel_id   INTEGER,
    voice_channel_id  INTEGER,
    created_by        INTEGER NOT NULL,
    created_at        TEXT NOT NULL,
    archived_at       TEXT,
    UNIQUE (guild_id, name_key)
);
CREATE INDEX groups_text_channel ON groups (text_channel_id);
CREATE INDEX groups_voice_channel ON groups (voice_channel_id);

CREATE TABLE memberships (
    group_id        INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL,
    is_facilitator  INTEGER NOT NULL DEFAULT 0,
    joined_at       TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE profiles (
    user_id       INTEGER PRIMARY KEY,
    career_stage  TEXT,
    institution   TEXT,
    timezone      TEXT,
    focus         TEXT,
    hours         TEXT,
    updated_at    TEXT NOT NULL
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    actor_id    INTEGER NOT NULL,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
);
CREATE INDEX audit_log_guild ON audit_log (guild_id, created_at);

CREATE TABLE bot_meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
