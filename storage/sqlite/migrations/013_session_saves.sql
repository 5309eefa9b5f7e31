-- A live session's state is saved at every hand-over. `next_due` is only ever read from the
-- state itself, so an index over it was rewritten at every save for nothing; queries go by
-- whether (and when) a session ended, which changes once.
DROP INDEX sessions_live;
CREATE INDEX sessions_ended ON sessions (ended_at);
