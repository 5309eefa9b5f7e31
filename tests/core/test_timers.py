"""The timer service on the real event loop with a clock the test controls.

The clock is moved past deadlines before the loop looks, so due work runs at once and no test
waits in real time: `settle()` only yields to the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from core.timers import TimerService

T = datetime(2026, 1, 1, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def at(self, seconds: float) -> datetime:
        return T + timedelta(seconds=seconds)

    def move_to(self, seconds: float) -> None:
        self.now = self.at(seconds)


async def settle(rounds: int = 20) -> None:
    """Let every runnable task run; no real time passes."""
    for _ in range(rounds):
        await asyncio.sleep(0)


class Recorder:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.calls: list[tuple[str, int, datetime]] = []

    def handler(self, kind: str):  # type: ignore[no-untyped-def]
        async def handle(ident: int, now: datetime) -> None:
            self.calls.append((kind, ident, now))

        return handle

    @property
    def idents(self) -> list[tuple[str, int]]:
        return [(kind, ident) for kind, ident, _ in self.calls]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def timers(clock: Clock) -> AsyncIterator[TimerService]:
    service = TimerService(clock)
    yield service
    await service.stop()


@pytest.fixture
def recorder(clock: Clock, timers: TimerService) -> Recorder:
    rec = Recorder(clock)
    timers.register("reminder", rec.handler("reminder"))
    timers.register("session", rec.handler("session"))
    return rec


async def test_due_work_runs_in_deadline_order(
    clock: Clock, timers: TimerService, recorder: Recorder
) -> None:
    timers.schedule("reminder", 1, clock.at(30))
    timers.schedule("session", 2, clock.at(10))
    timers.schedule("reminder", 3, clock.at(20))
    assert len(timers) == 3 and timers.pending("session", 2) == clock.at(10)

    clock.move_to(60)
    timers.start()
    await settle()

    assert recorder.idents == [("session", 2), ("reminder", 3), ("reminder", 1)]
    assert all(now == clock.at(60) for _, _, now in recorder.calls), "handlers get the clock"
    assert len(timers) == 0 and timers.pending("reminder", 1) is None


async def test_work_not_yet_due_waits_and_an_earlier_deadline_wakes_the_loop(
    clock: Clock, timers: TimerService, recorder: Recorder
) -> None:
    timers.start()
    timers.schedule("session", 1, clock.at(3600))
    await settle()
    assert recorder.calls == []
    assert timers.pending("session", 1) == clock.at(3600)

    # The loop sleeps towards an hour from now; an earlier deadline must not wait that long.
    timers.schedule("reminder", 2, clock.at(0))
    await settle()
    assert recorder.idents == [("reminder", 2)]

    # An hour later (the test's clock jumps; a real sleep would end on time by itself), the
    # next wake-up runs everything that is due, in deadline order.
    clock.move_to(3601)
    timers.schedule("reminder", 3, clock.at(1))
    await settle()
    assert recorder.idents == [("reminder", 2), ("reminder", 3), ("session", 1)]


async def test_an_idle_loop_wakes_for_new_work(
    clock: Clock, timers: TimerService, recorder: Recorder
) -> None:
    timers.start()
    await settle()
    timers.schedule("session", 7, clock.at(-1))
    await settle()
    assert recorder.idents == [("session", 7)]


async def test_rescheduling_replaces_the_deadline(
    clock: Clock, timers: TimerService, recorder: Recorder
) -> None:
    timers.schedule("session", 1, clock.at(50))
    timers.schedule("session", 1, clock.at(5))  # brought forward
    timers.schedule("session", 2, clock.at(5))
    timers.schedule("session", 2, clock.at(500))  # pushed back
    assert len(timers) == 2

    clock.move_to(10)
    timers.start()
    await settle()
    assert recorder.idents == [("session", 1)]
    assert timers.pending("session", 2) == clock.at(500)

    # The old deadline of session 1 leaves nothing behind.
    clock.move_to(60)
    timers.schedule("reminder", 9, clock.at(60))
    await settle()
    assert recorder.idents == [("session", 1), ("reminder", 9)]


async def test_cancelling_a_deadline(
    clock: Clock, timers: TimerService, recorder: Recorder
) -> None:
    timers.schedule("session", 1, clock.at(5))
    timers.schedule("session", 1, None)
    timers.schedule("session", 2, None)  # cancelling nothing is fine
    assert len(timers) == 0 and timers.pending("session", 1) is None

    clock.move_to(10)
    timers.start()
    timers.schedule("reminder", 3, clock.at(10))
    await settle()
    assert recorder.idents == [("reminder", 3)]


async def test_overdue_work_runs_once(
    clock: Clock, timers: TimerService, recorder: Recorder
) -> None:
    # Re-armed at start-up from the database: all of it fell due while the bot was down.
    for _ in range(3):
        timers.schedule("session", 1, clock.at(-7200))
    timers.schedule("reminder", 2, clock.at(-3600))
    timers.start()
    await settle()
    await settle()

    assert sorted(recorder.idents) == [("reminder", 2), ("session", 1)]
    assert recorder.idents[0] == ("session", 1), "the oldest first"


async def test_a_failing_handler_does_not_stop_the_loop(
    clock: Clock, timers: TimerService, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(ident: int, now: datetime) -> None:
        raise RuntimeError(f"broken {ident}")

    timers.register("broken", broken)
    timers.schedule("broken", 1, clock.at(0))
    timers.schedule("session", 2, clock.at(1))
    clock.move_to(5)
    with caplog.at_level(logging.ERROR, logger="core.timers"):
        timers.start()
        await settle()
    assert recorder.idents == [("session", 2)]
    assert any("timer broken:1 failed" in r.getMessage() for r in caplog.records)

    timers.schedule("session", 3, clock.at(5))
    await settle()
    assert recorder.idents == [("session", 2), ("session", 3)]


async def test_an_unknown_kind_is_logged_and_skipped(
    clock: Clock, timers: TimerService, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    timers.schedule("nobody", 1, clock.at(0))
    timers.schedule("session", 2, clock.at(0))
    with caplog.at_level(logging.ERROR, logger="core.timers"):
        timers.start()
        await settle()
    assert recorder.idents == [("session", 2)]
    assert any("no handler for timer kind nobody" in r.getMessage() for r in caplog.records)


async def test_one_key_never_runs_twice_at_once(clock: Clock, timers: TimerService) -> None:
    release = asyncio.Event()
    running = 0
    most = 0
    runs = 0

    async def slow(ident: int, now: datetime) -> None:
        nonlocal running, most, runs
        running += 1
        runs += 1
        most = max(most, running)
        try:
            if runs == 1:
                await release.wait()
        finally:
            running -= 1

    timers.register("slow", slow)
    timers.schedule("slow", 1, clock.at(0))
    timers.start()
    await settle()
    assert runs == 1 and running == 1

    # Due again while the first run is still going: it waits for that run to finish.
    timers.schedule("slow", 1, clock.at(0))
    await settle()
    assert runs == 1 and timers.pending("slow", 1) == clock.at(0)

    release.set()
    await settle()
    assert runs == 2 and most == 1 and running == 0
    assert timers.pending("slow", 1) is None


async def test_a_handler_can_arm_its_own_next_deadline(clock: Clock, timers: TimerService) -> None:
    seen: list[datetime] = []

    async def tick(ident: int, now: datetime) -> None:
        seen.append(now)
        if len(seen) < 3:
            clock.now = now + timedelta(seconds=60)
            timers.schedule("tick", ident, clock.now)

    timers.register("tick", tick)
    timers.schedule("tick", 1, clock.at(0))
    timers.start()
    await settle(60)
    assert seen == [clock.at(0), clock.at(60), clock.at(120)]
    assert len(timers) == 0


async def test_stop_cancels_running_work_and_nothing_runs_afterwards(
    clock: Clock, timers: TimerService, recorder: Recorder
) -> None:
    cancelled = asyncio.Event()

    async def forever(ident: int, now: datetime) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    timers.register("forever", forever)
    timers.schedule("forever", 1, clock.at(0))
    timers.start()
    await settle()

    await timers.stop()
    assert cancelled.is_set()
    timers.schedule("session", 2, clock.at(0))
    await settle()
    assert recorder.calls == []
    assert timers.pending("session", 2) == clock.at(0), "kept for the next start"

    timers.start()
    await settle()
    assert recorder.idents == [("session", 2)]


async def test_a_failing_rearm_neither_stops_the_loop_nor_the_other_kinds(
    clock: Clock, timers: TimerService, caplog: pytest.LogCaptureFixture
) -> None:
    """Start-up isolation: each kind re-arms on its own, and the loop runs regardless."""
    rec = Recorder(clock)
    attempts: list[str] = []
    broken_until = clock.at(45)

    async def schedule_rearm() -> None:
        attempts.append("schedule")
        if clock() < broken_until:
            raise RuntimeError("the schedule's check failed")
        timers.schedule("schedule", 7, clock())

    async def sessions_rearm() -> None:
        attempts.append("session")
        timers.schedule("session", 1, clock.at(10))

    timers.register("schedule", rec.handler("schedule"), rearm=schedule_rearm)
    timers.register("session", rec.handler("session"), rearm=sessions_rearm)
    with caplog.at_level(logging.ERROR, logger="core.timers"):
        failed = await timers.start_and_rearm()
    assert failed == ["schedule"]
    assert attempts == ["schedule", "session"], "the one after the failure still re-armed"
    assert any("re-arming schedule timers failed" in r.getMessage() for r in caplog.records)

    clock.move_to(10)
    timers.schedule("session", 2, clock.at(10))
    await settle()
    assert ("session", 1) in rec.idents, "the loop runs although a re-arm failed"

    # Tried again from the loop: after 30 s (still failing), then 60 s later (fixed). The
    # test's clock jumps; an overdue timer wakes the loop as a real sleep would end.
    clock.move_to(31)
    timers.schedule("session", 3, clock.at(0))
    await settle()
    assert attempts.count("schedule") == 2
    clock.move_to(60)
    timers.schedule("session", 4, clock.at(0))
    await settle()
    assert attempts.count("schedule") == 2, "not before the doubled wait"
    clock.move_to(91)
    timers.schedule("session", 5, clock.at(0))
    await settle()
    assert attempts.count("schedule") == 3
    assert ("schedule", 7) in rec.idents


async def test_unregister_drops_a_kind_and_its_pending_timers(
    clock: Clock, timers: TimerService, recorder: Recorder
) -> None:
    timers.schedule("reminder", 1, clock.at(5))
    timers.schedule("session", 2, clock.at(5))
    timers.unregister("reminder")
    assert timers.pending("reminder", 1) is None
    clock.move_to(10)
    timers.start()
    await settle()
    assert recorder.idents == [("session", 2)]


class Together:
    """A kind whose same-instant timers run in one call; single ones go to `handler`."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.singles: list[int] = []
        self.release: asyncio.Event | None = None
        self.fail = False

    async def handler(self, ident: int, now: datetime) -> None:
        self.singles.append(ident)

    async def together(self, idents: list[int], now: datetime) -> None:
        self.batches.append(list(idents))
        if self.release is not None:
            await self.release.wait()
        if self.fail:
            raise RuntimeError("the whole batch failed")


async def test_timers_due_at_once_run_in_one_call_and_a_lone_one_on_its_own(
    clock: Clock, timers: TimerService, recorder: Recorder
) -> None:
    kind = Together()
    timers.register("handover", kind.handler, together=kind.together)
    for ident in (3, 1, 2):
        timers.schedule("handover", ident, clock.at(10))
    timers.schedule("reminder", 7, clock.at(10))
    timers.schedule("handover", 9, clock.at(50))
    timers.start()

    clock.move_to(10)
    timers.schedule("reminder", 8, clock.at(10))
    await settle()
    assert kind.batches == [[3, 1, 2]], "every handover due at 10 s, in one call"
    assert kind.singles == []
    assert recorder.idents == [("reminder", 7), ("reminder", 8)], "other kinds as before"

    # The loop sleeps towards 50 s; an overdue reminder wakes it once the clock is there.
    clock.move_to(50)
    timers.schedule("reminder", 10, clock.at(1))
    await settle()
    assert kind.singles == [9] and len(kind.batches) == 1, "alone, it goes to the handler"


async def test_a_batch_still_running_holds_back_its_keys_and_they_run_after(
    clock: Clock, timers: TimerService
) -> None:
    kind = Together()
    kind.release = asyncio.Event()
    timers.register("handover", kind.handler, together=kind.together)
    timers.schedule("handover", 1, clock.at(0))
    timers.schedule("handover", 2, clock.at(0))
    timers.start()
    await settle()
    assert kind.batches == [[1, 2]]

    # Both fall due again while the batch is still going (a slow commit): they wait for it.
    timers.schedule("handover", 1, clock.at(0))
    timers.schedule("handover", 2, clock.at(0))
    await settle()
    assert kind.batches == [[1, 2]] and kind.singles == []

    kind.release.set()
    await settle()
    assert sorted(map(sorted, kind.batches)) == [[1, 2], [1, 2]]
    assert len(timers) == 0


async def test_a_failing_batch_is_logged_and_the_loop_goes_on(
    clock: Clock, timers: TimerService, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    kind = Together()
    kind.fail = True
    timers.register("handover", kind.handler, together=kind.together)
    timers.schedule("handover", 1, clock.at(0))
    timers.schedule("handover", 2, clock.at(0))
    timers.schedule("reminder", 3, clock.at(5))
    with caplog.at_level(logging.ERROR, logger="core.timers"):
        timers.start()
        await settle()
        clock.move_to(5)
        timers.schedule("reminder", 4, clock.at(1))
        await settle()
    assert kind.batches == [[1, 2]]
    assert recorder.idents == [("reminder", 4), ("reminder", 3)]
    assert any("2 timers of handover failed together" in r.getMessage() for r in caplog.records)


async def test_registering_again_without_together_runs_each_on_its_own(
    clock: Clock, timers: TimerService
) -> None:
    kind = Together()
    timers.register("handover", kind.handler, together=kind.together)
    timers.register("handover", kind.handler)
    timers.schedule("handover", 1, clock.at(0))
    timers.schedule("handover", 2, clock.at(0))
    timers.start()
    await settle()
    assert kind.batches == [] and sorted(kind.singles) == [1, 2]


class Preparing(Together):
    """A kind that is told of its deadlines ahead of them."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock
        self.prepared: list[tuple[list[tuple[int, datetime]], datetime]] = []

    async def prepare(self, coming: list[tuple[int, datetime]], now: datetime) -> None:
        self.prepared.append((list(coming), now))


def wake(timers: TimerService, clock: Clock) -> None:
    """The test's clock jumps; an overdue reminder makes the sleeping loop look again."""
    timers.schedule("reminder", 99, clock.now - timedelta(seconds=1))


async def test_a_preparing_kind_is_told_its_deadlines_a_lead_ahead_and_they_still_fall(
    clock: Clock, timers: TimerService, recorder: Recorder
) -> None:
    kind = Preparing(clock)
    lead = timedelta(seconds=2)
    timers.register(
        "handover", kind.handler, together=kind.together, prepare=kind.prepare, lead=lead
    )
    for ident in (1, 2):
        timers.schedule("handover", ident, clock.at(10))
    timers.schedule("handover", 3, clock.at(30))
    assert len(timers) == 3, "preparations are not deadlines"
    timers.start()
    await settle()
    assert kind.prepared == [], "not yet: 10 s away"

    clock.move_to(8)
    wake(timers, clock)
    await settle()
    assert kind.prepared == [([(1, clock.at(10)), (2, clock.at(10))], clock.at(8))]
    assert kind.batches == [] and kind.singles == [], "the deadlines themselves wait"

    clock.move_to(10)
    wake(timers, clock)
    await settle()
    assert kind.batches == [[1, 2]]

    clock.move_to(28)
    wake(timers, clock)
    await settle()
    assert kind.prepared[1:] == [([(3, clock.at(30))], clock.at(28))], "alone, on its own"
    assert kind.singles == []


async def test_a_moved_deadline_is_prepared_at_its_new_time_and_a_cleared_one_not_at_all(
    clock: Clock, timers: TimerService, recorder: Recorder
) -> None:
    kind = Preparing(clock)
    timers.register("handover", kind.handler, prepare=kind.prepare)  # the default lead: 1 s
    timers.schedule("handover", 1, clock.at(10))
    timers.schedule("handover", 1, clock.at(20))  # moved on (an extension)
    timers.schedule("handover", 2, clock.at(10))
    timers.schedule("handover", 2, None)  # cleared (paused)
    timers.start()
    clock.move_to(9)
    wake(timers, clock)
    await settle()
    assert kind.prepared == []

    clock.move_to(19)
    wake(timers, clock)
    await settle()
    assert kind.prepared == [([(1, clock.at(20))], clock.at(19))]


async def test_a_deadline_closer_than_the_lead_is_prepared_at_once_and_a_past_one_never(
    clock: Clock, timers: TimerService, recorder: Recorder
) -> None:
    kind = Preparing(clock)
    timers.register("handover", kind.handler, prepare=kind.prepare)
    timers.start()
    await settle()
    timers.schedule("handover", 1, clock.at(0.5))
    timers.schedule("handover", 2, clock.at(-5))  # overdue (the bot was down)
    await settle()
    assert kind.prepared == [([(1, clock.at(0.5))], clock.at(0))]
    assert kind.singles == [2], "the overdue one falls at once, unprepared"


async def test_unregistering_or_registering_without_prepare_stops_the_preparations(
    clock: Clock, timers: TimerService, recorder: Recorder
) -> None:
    kind = Preparing(clock)
    timers.register("handover", kind.handler, prepare=kind.prepare)
    timers.schedule("handover", 1, clock.at(10))
    timers.register("handover", kind.handler)  # again, without prepare
    timers.register("other", kind.handler, prepare=kind.prepare)
    timers.schedule("other", 2, clock.at(10))
    timers.unregister("other")
    timers.start()
    clock.move_to(9.5)
    wake(timers, clock)
    await settle()
    assert kind.prepared == []
    assert timers.pending("handover", 1) == clock.at(10) and len(timers) == 1
