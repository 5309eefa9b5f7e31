"""Storage: the repositories that return core models, over either backend's database."""

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
        """Storage in the SQLite file at `path`."""
        return cls.over(SqliteDatabase(path))

    @classmethod
    def over(cls, db: Database) -> Storage:
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
