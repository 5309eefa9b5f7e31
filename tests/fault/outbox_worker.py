"""A worker the outbox SIGKILL test runs in a subprocess: session transitions whose effects
go through the real outbox and dispatcher to a Discord stand-in outside the process.

    python tests/fault/outbox_worker.py <database> <run> <seed> [drain]

It runs the SIGKILL worker's stream of groups, sessions and transitions (`kill_worker.py`,
whose lines it prints too), and the real `Outbox` delivers the rows those transitions commit.
Each delivery is one request to the test, its Discord stand-in, over stdout and stdin:

    POST <nonce> <row id> <kind>      (the worker asks)
    MSG <message id>                  (the stand-in answers)

At start-up it delivers what a killed worker left undelivered, as the bot does. With `drain`
it only does that, prints `DRAINED` and exits.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cogs.common.outbox import Delivery, Outbox  # noqa: E402
from core.session.outbox import KINDS  # noqa: E402
from core.shards import EVERY_SHARD  # noqa: E402
from core.timers import TimerService  # noqa: E402
from storage import Storage  # noqa: E402
from tests.fault.kill_worker import Worker, say  # noqa: E402


class Host:
    """What the dispatcher needs of the bot: the storage, the timers and the clock."""

    def __init__(self, storage: Storage, worker: Worker) -> None:
        self.storage = storage
        self.database = storage.db
        self.clock = lambda: worker.now
        self.timers = TimerService(self.clock)
        self.shard_set = EVERY_SHARD


class Dispatching(Worker):
    def __init__(self, storage: Storage, run: int, seed: int) -> None:
        super().__init__(storage, run, seed)
        self.host = Host(storage, self)
        self.outbox = Outbox(self.host)  # type: ignore[arg-type]
        self.wire = asyncio.Lock()
        for kind in KINDS:
            self.outbox.register(kind, self.post)

    async def post(self, delivery: Delivery) -> int | None:
        """One request to the stand-in at a time, as over one connection."""
        async with self.wire:
            say("POST", delivery.nonce(), delivery.row.id, delivery.row.kind)
            answer = await asyncio.to_thread(sys.stdin.readline)
        word, message_id = answer.split()
        assert word == "MSG", answer
        return int(message_id)

    async def step(self) -> None:
        await super().step()
        for scope in await self.storage.outbox.pending_scopes():
            self.outbox.kick(scope)
        await asyncio.sleep(0)


async def main(path: str, run: int, seed: int, drain: bool) -> None:
    say("WAITING")
    go = await asyncio.to_thread(sys.stdin.readline)
    if not go.strip():
        return  # the test ended without needing this worker
    storage = Storage.at(path)
    await storage.open()
    try:
        worker = Dispatching(storage, run, seed)
        await worker.load()
        say("READY")
        await worker.outbox.start()
        if drain:
            await worker.outbox.idle()
            say("DRAINED")
            return
        while True:  # until killed
            await worker.step()
    finally:
        await storage.close()


if __name__ == "__main__":
    drain = sys.argv[4:] == ["drain"]
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), drain))
