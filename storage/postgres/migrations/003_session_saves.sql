-- A live session's state is saved at every hand-over. `next_due` is only ever read from the
-- state itself, so an index over it was rewritten at every save for nothing; queries go by
-- whether (and when) a session ended, which changes once. With no indexed column changed by
-- a save and room left on each page, PostgreSQL writes the new row version beside the old
-- one and updates no index at all (a heap-only tuple update).
DROP INDEX sessions_live;
CREATE INDEX sessions_ended ON sessions (ended_at);
ALTER TABLE sessions SET (fillfactor = 50);
