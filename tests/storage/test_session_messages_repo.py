"""The bot's transient session messages on a real temporary database: what the tidy will
delete, which tidies are still to do, and the server's choice to keep everything."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.session import End, apply
from storage import Storage
from storage.sql import IntegrityViolation
from tests.storage.test_sessions_repo import NOW, create_session, make_group


async def test_messages_are_remembered_until_the_tidy_forgets_them(storage: Storage) -> None:
    group_id = await make_group(storage)
    state = await create_session(storage, group_id)
    repo = storage.session_messages
    await repo.add(state.session_id, 500, 12, "warning")
    await repo.add(state.session_id, 500, 11, "announcement")
    await repo.add(state.session_id, 500, 11, "announcement")  # a retried record: once
    await repo.add(state.session_id, 500, 10, "pointer")
    await repo.add(state.session_id, 501, 20, "announcement")
    assert await repo.of_session(state.session_id) == {500: [10, 11, 12], 501: [20]}
    # Below a panel posted as message 10: its own pointer does not count, the others do.
    assert await repo.count_after(state.session_id, 10) == 3
    with pytest.raises(ValueError, match="unknown kind"):
        await repo.add(state.session_id, 500, 13, "summary")

    # A live session has no tidy pending; once it has ended, it has, due from its end.
    assert await repo.pending_tidies() == []
    end_at = NOW + timedelta(minutes=3)
    ended, _ = apply(state, End(), end_at)
    await storage.sessions.finish(ended, group_id, ended.attendance_seconds(end_at), end_at)
    (pending,) = await repo.pending_tidies()
    assert (pending.session_id, pending.guild_id, pending.ended_at) == (
        state.session_id,
        10,
        end_at,
    )

    await repo.forget(state.session_id)
    assert await repo.of_session(state.session_id) == {}
    assert await repo.pending_tidies() == []


async def test_the_kind_is_checked_by_the_database_too(storage: Storage) -> None:
    group_id = await make_group(storage)
    state = await create_session(storage, group_id)
    with pytest.raises(IntegrityViolation):
        await storage.db.execute(
            "INSERT INTO session_messages (session_id, channel_id, message_id, kind)"
            " VALUES (?, 1, 2, 'member')",
            (state.session_id,),
        )


async def test_tidy_sessions_is_on_by_default_and_stored(storage: Storage) -> None:
    assert (await storage.guilds.settings(10)).tidy_sessions is True
    saved = await storage.guilds.update_settings(10, {"tidy_sessions": False})
    assert saved.tidy_sessions is False
    assert (await storage.guilds.settings(10)).tidy_sessions is False
    saved = await storage.guilds.update_settings(10, {"feedback_days": 3})
    assert (saved.tidy_sessions, saved.feedback_days) == (False, 3)
