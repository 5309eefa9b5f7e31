"""Storage: the repositories that return core models, over SQLite or PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storage.cohorts import CohortRepository
from storage.feedback import FeedbackRepository
from storage.groups import GroupRepository
from storage.guilds import GuildRepository
from storage.outbox import OutboxRepository
from storage.privacy import PrivacyRepository
from storage.profiles import ProfileRepository
from storage.reports import ReportRepository
from storage.schedules import ScheduleRepository
from storage.session_messages import SessionMessageRepository
from storage.sessions import SessionRepository
from storage.sql import Database
from storage.sqlite import Database as SqliteDatabase

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class DatabaseUrlError(ValueError):
    """`MASTERMIND_DATABASE_URL` names no database this bot can use."""


def is_postgres_url(url: str) -> bool:
    return url.strip().lower().startswith(POSTGRES_SCHEMES)


@dataclass
class Storage:
    """Every repository over one database."""

    db: Database
    groups: GroupRepository
    profiles: ProfileRepository
    guilds: GuildRepository
    sessions: SessionRepository
    feedback: FeedbackRepository
    schedules: ScheduleRepository
    reports: ReportRepository
    privacy: PrivacyRepository
    cohorts: CohortRepository
    session_messages: SessionMessageRepository
    outbox: OutboxRepository

    @classmethod
    def at(cls, path: Path | str) -> Storage:
        """The SQLite database file at `path`."""
        return cls.for_database(SqliteDatabase(path))

    @classmethod
    def from_settings(cls, url: str | None, path: Path | str) -> Storage:
        """PostgreSQL when `url` is set (`postgresql://` or `postgres://`), else SQLite at
        `path`."""
        if url is None or not url.strip():
            return cls.at(path)
        if not is_postgres_url(url):
            scheme = url.split(":", 1)[0] if ":" in url else url
            raise DatabaseUrlError(
                f"MASTERMIND_DATABASE_URL must start with postgresql:// or postgres:// "
                f"(it starts with {scheme[:20]!r})"
            )
        from storage.postgres import Database as PostgresDatabase

        return cls.for_database(PostgresDatabase(url.strip()))

    @classmethod
    def for_database(cls, db: Database) -> Storage:
        """Every repository over `db`, whichever backend it is."""
        outbox = OutboxRepository(db)
        return cls(
            db=db,
            groups=GroupRepository(db),
            profiles=ProfileRepository(db),
            guilds=GuildRepository(db),
            sessions=SessionRepository(db),
            feedback=FeedbackRepository(db, outbox),
            schedules=ScheduleRepository(db, outbox),
            reports=ReportRepository(db),
            privacy=PrivacyRepository(db),
            cohorts=CohortRepository(db),
            session_messages=SessionMessageRepository(db),
            outbox=outbox,
        )

    async def open(self) -> None:
        await self.db.open()

    async def close(self) -> None:
        await self.db.close()
