"""A worker the SIGKILL test runs in a subprocess: the real storage layer under a stream of
session transitions and feedback submissions, until it is killed.

    python tests/fault/kill_worker.py <database> <run> <seed>

It imports everything first, prints `WAITING`, and opens the database only when a line
arrives on stdin (so the test can start the next worker while it checks the previous one).
It then continues from whatever the database holds: live sessions are adopted as the bot
adopts them at start-up, and the groups and ended sessions found there are reused.

It prints `RESUME <session> <records>` for each live session it adopts, then `READY`.
Every operation is announced before it starts (`DO ...`) and acknowledged after it was
committed (`ACK ...`), each line flushed at once:

    ACK group <group> <members...>
    ACK start <session> <group>
    ACK state <session> <updated_at unix> <records> <ended 0|1>
    ACK rate <session> <user> <rating>
    ACK details <session> <user> <token> <steps>

`DO` lines say what the operation is about to write, as far as it is known beforehand (a
rating or form in full; for a transition only the session). The time is fake and only moves
forward: run `r` starts at 2026-01-01 + r days and every operation advances it.
"""

from __future__ import annotations

import asyncio
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core.feedback import FeedbackDetails  # noqa: E402
from core.session import Due, Next, SessionState, default_config  # noqa: E402
from core.session.outbox import Where  # noqa: E402
from core.session.service import SessionService  # noqa: E402
from storage import Storage  # noqa: E402

GUILD = 1
GROUPS = 2
MEMBERS = 4
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def say(*parts: object) -> None:
    sys.stdout.write(" ".join(str(p) for p in parts) + "\n")
    sys.stdout.flush()


class Worker:
    def __init__(self, storage: Storage, run: int, seed: int) -> None:
        self.storage = storage
        self.service = SessionService(storage.sessions)
        self.rng = random.Random(seed)
        self.now = EPOCH + timedelta(days=run)
        self.run = run
        self.members: dict[int, list[int]] = {}
        self.ended: list[tuple[int, int]] = []

    def tick(self, seconds: int = 7) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    async def load(self) -> None:
        """What a previous (killed) worker left: groups, live sessions, ended sessions."""
        for group in await self.storage.groups.list_for_guild(GUILD):
            members = await self.storage.groups.members(group.id)
            self.members[group.id] = [m.user_id for m in members]
        for row in await self.storage.sessions.live():
            self.service.adopt(row.state, row.group_id)
            say("RESUME", row.id, len(row.state.records))
        rows = await self.storage.db.fetch_all(
            "SELECT id, group_id FROM sessions WHERE ended_at IS NOT NULL ORDER BY id"
        )
        self.ended = [(int(r[0]), int(r[1])) for r in rows]

    async def create_group(self) -> None:
        number = len(self.members) + 1
        creator = 100 * number
        say("DO group", number)
        group = await self.storage.groups.create(
            guild_id=GUILD,
            name=f"Circle {number}",
            description="",
            capacity=8,
            timezone=None,
            role_id=None,
            category_id=None,
            text_channel_id=None,
            voice_channel_id=None,
            created_by=creator,
            now=self.tick(),
        )
        members = [creator]
        for offset in range(1, MEMBERS):
            added = await self.storage.groups.add_member(
                group.id, creator + offset, self.tick(), capacity=group.capacity
            )
            assert added
            members.append(creator + offset)
        # Acknowledged only once every membership is in: a group without its members would
        # be resumed without them.
        self.members[group.id] = members
        say("ACK group", group.id, *members)

    async def start_session(self, group_id: int) -> None:
        members = self.members[group_id]
        fmt = self.rng.choice(["roundrobin", "standard", "hotseat"])
        config = default_config(fmt, turn_minutes=self.rng.choice([1, 2, 4]), hotseats=1)
        now = self.tick()
        present = [(m, now - timedelta(seconds=len(members) - i)) for i, m in enumerate(members)]
        say("DO start", group_id)
        transition = await self.service.start(
            where=lambda session_id: Where(session_id, group_id, GUILD, None, None),
            group_id=group_id,
            guild_id=GUILD,
            started_by=members[0],
            config=config,
            present=present,
            last_hotseat=await self.storage.sessions.last_hotseats(group_id),
            seed=self.rng.randrange(2**32),
            now=now,
        )
        state = transition.state
        say("ACK start", state.session_id, group_id)
        say("ACK state", *self._fields(state))

    async def transition(self, session_id: int) -> None:
        state = self.service.get(session_id)
        assert state is not None
        group_id = self.service.group_of(session_id)
        assert group_id is not None
        facilitator = self.members[group_id][0]
        due = state.next_due()
        if due is not None and self.rng.random() < 0.5:
            self.now = max(self.tick(), due)
            command: Due | Next = Due()
        else:
            command = Next(facilitator, True)
            self.tick()
        say("DO state", session_id)
        where = Where(session_id, group_id, GUILD, None, None)
        transition = await self.service.command(session_id, command, self.now, where=where)
        new = transition.state
        say("ACK state", *self._fields(new))
        if new.is_ended():
            self.ended.append((session_id, group_id))

    @staticmethod
    def _fields(state: SessionState) -> tuple[object, ...]:
        return (
            state.session_id,
            int(state.updated_at.timestamp()),
            len(state.records),
            int(state.is_ended()),
        )

    async def rate(self) -> None:
        session_id, group_id = self.rng.choice(self.ended)
        user = self.rng.choice(self.members[group_id])
        rating = self.rng.randint(1, 5)
        say("DO rate", session_id, user, rating)
        await self.storage.feedback.rate(session_id, user, rating, self.tick())
        say("ACK rate", session_id, user, rating)

    async def details(self) -> None:
        session_id, group_id = self.rng.choice(self.ended)
        user = self.rng.choice(self.members[group_id])
        token = f"r{self.run}x{self.rng.randrange(10**6)}"
        steps = [f"step {token} {n}" for n in range(self.rng.randint(0, 3))]
        say("DO details", session_id, user, token, len(steps))
        await self.storage.feedback.save_details(
            session_id=session_id,
            group_id=group_id,
            user_id=user,
            details=FeedbackDetails(
                resources=f"resource {token}",
                referrals="",
                next_steps="\n".join(steps),
                comments=token,
            ),
            now=self.tick(),
        )
        say("ACK details", session_id, user, token, len(steps))

    async def step(self) -> None:
        if len(self.members) < GROUPS:
            await self.create_group()
            return
        roll = self.rng.random()
        if self.ended and roll < 0.35:
            await (self.rate() if roll < 0.2 else self.details())
            return
        group_id = self.rng.choice(sorted(self.members))
        state = self.service.session_for_group(group_id)
        if state is None:
            await self.start_session(group_id)
        else:
            await self.transition(state.session_id)


async def main(path: str, run: int, seed: int) -> None:
    say("WAITING")
    go = await asyncio.to_thread(sys.stdin.readline)
    if not go.strip():
        return  # the test ended without needing this worker
    storage = Storage.at(path)
    await storage.open()
    try:
        worker = Worker(storage, run, seed)
        await worker.load()
        say("READY")
        while True:  # until killed
            await worker.step()
    finally:
        await storage.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
