"""The running bot forgets outbox rows finished more than the retention ago: at start-up,
then every PRUNE_EVERY, on its own clock."""

from __future__ import annotations

from datetime import timedelta

from simcord import Env

from core.outbox import PRUNE_EVERY, RETENTION, Outgoing
from tests.e2e.session_helpers import bot_of


async def test_finished_rows_are_pruned_on_a_timer(simcord_env: Env) -> None:
    env = simcord_env
    bot = bot_of(env)
    store = bot.storage.outbox
    now = env.now()
    # Rows of a kind nobody delivers here, finished at once: only the pruning touches them.
    first, second, waiting = await store.add(
        [Outgoing("test.none", f"test:{n}", 10, {}) for n in range(3)], now
    )
    await store.done(first, 1, now)
    await store.failed(second, "403", now + PRUNE_EVERY)
    await store.wait(waiting, "voice:10:1")

    # Prunes run at start-up and every PRUNE_EVERY after it; a row goes at the first one
    # more than RETENTION after it finished.
    await env.advance_time((RETENTION + PRUNE_EVERY / 2).total_seconds())
    assert await store.get(first) is not None
    await env.advance_time((PRUNE_EVERY / 2 + timedelta(seconds=1)).total_seconds())
    assert await store.get(first) is None
    assert await store.get(second) is not None
    await env.advance_time(PRUNE_EVERY.total_seconds())
    assert await store.get(second) is None
    assert await store.get(waiting) is not None
