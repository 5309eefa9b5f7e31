"""One bot process of a benchmark: real hand-overs and real outbox delivery, no Discord.

`python -m bench.shard_worker --socket PATH --name NAME (--url URL | --path FILE)
[--shard-count N --shard-ids 0,1] [--sweep]`

The process builds the bot as `bot.py` does (`create_bot`, the database the settings name, its
shards), opens the storage and loads the session runner, which adopts the live sessions of its
own shards at start-up (`SessionRunner.resume`) and arms their timers on the real clock. At a
deadline the runner's own hand-over (`_on_due`, or `_on_due_together` for deadlines that fall
due at once) applies it: a compare-and-set of the session's version, committed with its outbox
rows, then the outbox dispatcher (`Outbox`, claims with a lease) delivers the rows. The only
stand-in is Discord: every session row kind is delivered by a handler that sends the row's id,
kind and nonce to the benchmark's parent process over a Unix socket and waits for its answer
(the "message id"), which the parent gives once per nonce, as Discord does with
`enforce_nonce`.

`--sweep`: a process that finds a session advanced elsewhere (it lost the compare-and-set)
also kicks that session's outbox scope at once, as a process starting up meanwhile would
(`Outbox.start` kicks every pending scope): both processes then race to claim the same rows,
and the claims alone must keep each row to one delivery.

The conversation with the parent is JSON lines: the worker says `hello` once open; the parent
says `go` (with the instant the deadlines fall on) once the sessions are in the database; the
worker adopts and arms them and says `armed`, then `handled` once every adopted session's
first hand-over was committed here or found made elsewhere; the parent says `stop`, and the
worker answers `stats` (commit lateness per session, stale saves) and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from bot import MastermindBot, Settings, create_bot
from cogs.common.outbox import Delivery
from cogs.sessions._runner import SessionRunner
from core.errors import StaleSession
from core.outbox import Outgoing
from core.session import SessionState
from core.session.outbox import KINDS
from core.session.service import SessionService, SessionStore

log = logging.getLogger("bench.shard_worker")


def now_utc() -> datetime:
    return datetime.now(UTC)


class TimedStore:
    """The session store the service writes through, noting when each session's first
    transition after `go` was committed here (or refused as stale: made elsewhere)."""

    def __init__(self, store: SessionStore, on_saved: Callable[[int, bool], None]) -> None:
        self._store = store
        self._on_saved = on_saved

    async def create(
        self,
        *,
        group_id: int,
        guild_id: int,
        started_by: int,
        now: datetime,
        build: Callable[[int], tuple[SessionState, list[Outgoing]]],
    ) -> SessionState:
        return await self._store.create(
            group_id=group_id, guild_id=guild_id, started_by=started_by, now=now, build=build
        )

    async def save_state(self, state: SessionState, outgoing: list[Outgoing]) -> None:
        try:
            await self._store.save_state(state, outgoing)
        except StaleSession:
            self._on_saved(state.session_id, False)
            raise
        self._on_saved(state.session_id, True)

    def encode_ahead(self, state: SessionState, outgoing: Sequence[Outgoing]) -> None:
        self._store.encode_ahead(state, outgoing)

    async def save_states(
        self, saves: Sequence[tuple[SessionState, Sequence[Outgoing]]]
    ) -> set[int]:
        stale = await self._store.save_states(saves)
        for state, _ in saves:
            self._on_saved(state.session_id, state.session_id not in stale)
        return stale

    async def finish(
        self,
        state: SessionState,
        group_id: int,
        attendance: dict[int, int],
        now: datetime,
        outgoing: list[Outgoing],
    ) -> None:
        await self._store.finish(state, group_id, attendance, now, outgoing)
        self._on_saved(state.session_id, True)


class Worker:
    def __init__(self, args: argparse.Namespace) -> None:
        self.name: str = args.name
        self.sweep: bool = args.sweep
        ids = [int(part) for part in args.shard_ids.split(",")] if args.shard_ids else None
        settings = Settings(
            discord_token="bench",
            database_url=args.url,
            database_path=args.path or "unused.db",
            shard_count=args.shard_count,
            shard_ids=ids,
        )
        self.bot: MastermindBot = create_bot(settings)
        # Commit times are noted where the service writes, around the repository itself.
        self.bot.sessions = SessionService(TimedStore(self.bot.storage.sessions, self._saved))
        self.runner = SessionRunner(self.bot)
        self.at: datetime | None = None
        self.adopted: set[int] = set()
        self.committed: dict[int, float] = {}
        self.stale: dict[int, float] = {}
        self.handled = asyncio.Event()
        self._writer: asyncio.StreamWriter | None = None
        self._answers: dict[int, asyncio.Future[int]] = {}
        self._ids = itertools.count(1)

    # -- the parent ---------------------------------------------------------------------

    def send(self, message: dict[str, Any]) -> None:
        assert self._writer is not None
        self._writer.write(json.dumps(message).encode() + b"\n")

    async def _read(
        self, reader: asyncio.StreamReader, orders: asyncio.Queue[dict[str, Any]]
    ) -> None:
        while line := await reader.readline():
            message = json.loads(line)
            if message["op"] == "delivered":
                future = self._answers.pop(int(message["id"]))
                if not future.done():
                    future.set_result(int(message["message_id"]))
            else:
                await orders.put(message)
        await orders.put({"op": "stop"})

    async def deliver(self, delivery: Delivery) -> int | None:
        """The stand-in for Discord: the parent records the row and answers with its message."""
        ident = next(self._ids)
        answer: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._answers[ident] = answer
        row = delivery.row
        self.send(
            {
                "op": "deliver",
                "id": ident,
                "worker": self.name,
                "row": row.id,
                "kind": row.kind,
                "scope": row.scope,
                "nonce": delivery.nonce(),
                "attempt": delivery.attempt,
            }
        )
        return await answer

    # -- hand-overs ---------------------------------------------------------------------

    def _saved(self, session_id: int, won: bool) -> None:
        if self.at is None or session_id not in self.adopted:
            return
        if session_id in self.committed or session_id in self.stale:
            return
        late = (now_utc() - self.at).total_seconds()
        if won:
            self.committed[session_id] = late
        else:
            self.stale[session_id] = late
            if self.sweep:
                self.bot.outbox.kick(f"session:{session_id}")
        if len(self.committed) + len(self.stale) >= len(self.adopted):
            self.handled.set()

    async def run(self, socket_path: str) -> None:
        reader, self._writer = await asyncio.open_unix_connection(socket_path)
        orders: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        reading = asyncio.get_running_loop().create_task(self._read(reader, orders))
        bot = self.bot
        await bot.storage.open()
        try:
            await self.runner.load()
            for kind in KINDS:
                bot.outbox.register(kind, self.deliver)
            self.send({"op": "hello", "worker": self.name})
            order = await orders.get()
            if order["op"] != "go":
                return
            self.at = datetime.fromisoformat(order["at"])
            await self.runner.resume()
            self.adopted = set(self.runner.service.live_ids())
            # As at start-up with Discord connected, each live session's group is at hand
            # (the runner keeps it from `resume`, which here finds no guild to reconcile).
            groups = await bot.storage.groups.many(
                sorted({gid for sid in self.adopted if (gid := bot.sessions.group_of(sid))})
            )
            for sid in self.adopted:
                gid = bot.sessions.group_of(sid)
                if gid is not None and gid in groups:
                    self.runner.keep_group(sid, groups[gid])
            bot.timers.start()
            await bot.outbox.start()
            # As `on_ready` does: what start-up loaded leaves the collector's generations.
            gc.collect()
            gc.freeze()
            head_start = (self.at - now_utc()).total_seconds()
            self.send(
                {
                    "op": "armed",
                    "worker": self.name,
                    "sessions": len(self.adopted),
                    "head": head_start,
                }
            )
            if not self.adopted:
                self.handled.set()
            waiting = asyncio.get_running_loop().create_task(orders.get())
            handled = asyncio.get_running_loop().create_task(self.handled.wait())
            await asyncio.wait([waiting, handled], return_when=asyncio.FIRST_COMPLETED)
            if handled.done():
                self.send({"op": "handled", "worker": self.name})
            order = await waiting
            await bot.timers.stop()
            await bot.outbox.idle()
            await bot.outbox.stop()
            self.send(
                {
                    "op": "stats",
                    "worker": self.name,
                    "adopted": len(self.adopted),
                    "committed": list(self.committed.values()),
                    "stale": len(self.stale),
                    "delivered": bot.outbox.delivered,
                    "commits": bot.database.commits,
                }
            )
            await self._writer.drain()
        finally:
            await bot.timers.stop()
            await bot.storage.close()
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading
            self._writer.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.shard_worker", description=__doc__)
    parser.add_argument("--socket", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--url")
    parser.add_argument("--path")
    parser.add_argument("--shard-count", type=int)
    parser.add_argument("--shard-ids", default="")
    parser.add_argument("--sweep", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format=f"{args.name} %(levelname)s %(name)s: %(message)s"
    )
    # No voice here: discord.py's notice that voice libraries are missing is noise.
    logging.getLogger("discord.client").setLevel(logging.ERROR)
    asyncio.run(Worker(args).run(args.socket))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
