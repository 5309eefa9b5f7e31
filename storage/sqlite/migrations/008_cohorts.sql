-- Cohorts: sign-ups, proposals of groups, and the plan that creates them exactly once.
CREATE TABLE cohorts (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    group_size  INTEGER NOT NULL CHECK (group_size BETWEEN 4 AND 8),
    mix         TEXT NOT NULL CHECK (mix IN ('mixed', 'similar')),
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'formed')),
    channel_id  INTEGER,
    message_id  INTEGER,
    created_by  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (guild_id, name_key)
);

CREATE TABLE cohort_members (
    cohort_id     INTEGER NOT NULL REFERENCES cohorts (id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL,
    career_stage  TEXT,
    timezone      TEXT,
    hours         TEXT,
    institution   TEXT,
    focus         TEXT,
    joined_at     TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (cohort_id, user_id)
);
CREATE INDEX cohort_members_user ON cohort_members (user_id);

CREATE TABLE cohort_proposals (
    id           INTEGER PRIMARY KEY,
    cohort_id    INTEGER NOT NULL REFERENCES cohorts (id) ON DELETE CASCADE,
    fingerprint  TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_by   INTEGER NOT NULL,
    created_at   TEXT NOT NULL
);

CREATE TABLE cohort_plans (
    cohort_id    INTEGER PRIMARY KEY REFERENCES cohorts (id) ON DELETE CASCADE,
    proposal_id  INTEGER NOT NULL REFERENCES cohort_proposals (id),
    started_by   INTEGER NOT NULL,
    channel_id   INTEGER,
    started_at   TEXT NOT NULL,
    finished_at  TEXT
);

CREATE TABLE cohort_plan_groups (
    cohort_id      INTEGER NOT NULL REFERENCES cohort_plans (cohort_id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    name           TEXT NOT NULL,
    group_id       INTEGER REFERENCES groups (id) ON DELETE SET NULL,
    members_done   INTEGER NOT NULL DEFAULT 0,
    schedule_done  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (cohort_id, position)
);
CREATE INDEX cohort_plan_groups_group ON cohort_plan_groups (group_id);
