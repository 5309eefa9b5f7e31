-- When each person joined the voice channel they are in, so `order=joined` survives a restart.
CREATE TABLE voice_joins (
    guild_id    INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    channel_id  INTEGER NOT NULL,
    joined_at   TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);
CREATE INDEX voice_joins_channel ON voice_joins (channel_id);
