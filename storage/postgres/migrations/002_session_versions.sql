-- Several processes may share one database (one per group of shards). A session's state is
-- saved only over the version it was read at, and each save counts one more: a process whose
-- copy is stale learns so instead of overwriting a newer state.
ALTER TABLE sessions ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

-- An outbox row is claimed by one process before it is delivered (`claimed_by`), until
-- `lease_until`; a claim of a process that died runs out and another process takes the row.
-- Times are ISO 8601 UTC text compared byte by byte, as in every other table of the schema.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT COLLATE "C";
ALTER TABLE outbox ADD COLUMN lease_until TEXT COLLATE "C";

-- A process re-arms and dispatches its own shards' guilds: both lookups go by guild.
CREATE INDEX sessions_live_guild ON sessions (guild_id) WHERE ended_at IS NULL;
CREATE INDEX outbox_pending_guild ON outbox (guild_id, scope) WHERE state = 'pending';
