"""Feedback, next steps and polls on a real temporary database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import UserError
from core.feedback import FeedbackDetails, StepStatus
from core.session import End, default_config
from core.session.outbox import Where
from core.session.service import SessionService
from storage import Storage
from storage.sql import IntegrityViolation

NOW = datetime(2026, 1, 1, 18, tzinfo=UTC)
FAY, ANA, BEN, CY = 101, 102, 103, 104


async def make_group(storage: Storage, name: str = "Circle", guild_id: int = 10) -> int:
    group = await storage.groups.create(
        guild_id=guild_id,
        name=name,
        description="",
        capacity=6,
        timezone="UTC",
        role_id=None,
        category_id=None,
        text_channel_id=None,
        voice_channel_id=None,
        created_by=FAY,
        now=NOW,
    )
    return group.id


async def held_session(
    storage: Storage,
    group_id: int,
    attendees: tuple[int, ...] = (FAY, ANA, BEN),
    *,
    start: datetime = NOW,
    minutes: int = 30,
    guild_id: int = 10,
) -> int:
    """A session that really ran (through the session service) and ended, with attendance."""
    service = SessionService(storage.sessions)
    started = await service.start(
        where=lambda session_id: Where(session_id, group_id, guild_id, None, None),
        group_id=group_id,
        guild_id=guild_id,
        started_by=FAY,
        config=default_config("roundrobin", 5, None, "joined"),
        present=[(member, start) for member in attendees],
        last_hotseat={},
        seed=1,
        now=start,
    )
    session_id = started.state.session_id
    where = Where(session_id, group_id, guild_id, None, None)
    await service.command(session_id, End(), start + timedelta(minutes=minutes), where=where)
    return session_id


async def open_request(storage: Storage, session_id: int, group_id: int, ended: datetime) -> None:
    await storage.feedback.open_request(
        session_id=session_id,
        group_id=group_id,
        opened_at=ended,
        closes_at=ended + timedelta(days=7),
        remind_at=ended + timedelta(hours=24),
    )


async def test_request_is_opened_once_reminded_once_closed_once(storage: Storage) -> None:
    group = await make_group(storage)
    session = await held_session(storage, group)
    ended = NOW + timedelta(minutes=30)
    await open_request(storage, session, group, ended)
    # Opening again (a retried hook) keeps the first request.
    await storage.feedback.open_request(
        session_id=session,
        group_id=group,
        opened_at=ended + timedelta(hours=1),
        closes_at=ended + timedelta(days=30),
        remind_at=ended + timedelta(days=2),
    )
    request = await storage.feedback.request(session)
    assert request is not None
    assert (request.opened_at, request.closes_at) == (ended, ended + timedelta(days=7))
    assert request.is_open(ended + timedelta(days=7) - timedelta(seconds=1))
    assert not request.is_open(ended + timedelta(days=7))

    await storage.feedback.set_message(session, 555, 777)
    assert [r.message_id for r in await storage.feedback.open_requests()] == [777]

    at = ended + timedelta(hours=24)
    assert await storage.feedback.claim_reminder(session, at, []) is True
    assert await storage.feedback.claim_reminder(session, at + timedelta(hours=1), []) is False
    request = await storage.feedback.request(session)
    assert request is not None and request.reminded_at == at

    closed_at = ended + timedelta(days=7)
    assert await storage.feedback.close(session, closed_at) is True
    assert await storage.feedback.close(session, closed_at + timedelta(days=1)) is False
    request = await storage.feedback.request(session)
    assert request is not None and request.closed_at == closed_at
    assert not request.is_open(closed_at - timedelta(days=1))
    assert await storage.feedback.open_requests() == []


async def test_one_response_per_attendee_whose_rating_can_change(storage: Storage) -> None:
    group = await make_group(storage)
    session = await held_session(storage, group, (FAY, ANA, BEN, CY))
    assert sorted(await storage.feedback.attendees(session)) == [FAY, ANA, BEN, CY]

    assert await storage.feedback.rate(session, ANA, 3, NOW) is None
    assert await storage.feedback.rate(session, ANA, 5, NOW + timedelta(hours=1)) == 3
    assert await storage.feedback.rate(session, BEN, 4, NOW) is None
    assert await storage.feedback.count_responses(session) == 2
    response = await storage.feedback.response(session, ANA)
    assert response is not None
    assert (response.rating, response.submitted_at, response.updated_at) == (
        5,
        NOW,
        NOW + timedelta(hours=1),
    )

    # Details without a rating are a response too (a respondent left a rating, the form or
    # both); they give no rating.
    await storage.feedback.save_details(
        session_id=session,
        group_id=group,
        user_id=CY,
        details=FeedbackDetails(comments="Good"),
        now=NOW,
    )
    assert await storage.feedback.count_responses(session) == 3
    assert await storage.feedback.respondents(session) == {ANA, BEN, CY}
    assert [r.rating for r in await storage.feedback.responses(session)] == [5, 4, None]
    # Rating after details keeps the details.
    assert await storage.feedback.rate(session, CY, 2, NOW) is None
    response = await storage.feedback.response(session, CY)
    assert response is not None and (response.rating, response.details.comments) == (2, "Good")
    assert await storage.feedback.count_responses(session) == 3


async def test_the_database_refuses_a_rating_outside_one_to_five(storage: Storage) -> None:
    group = await make_group(storage)
    session = await held_session(storage, group)
    with pytest.raises(IntegrityViolation, match=r"(?i)check constraint"):
        await storage.feedback.rate(session, ANA, 6, NOW)
    assert await storage.feedback.response(session, ANA) is None


async def test_details_turn_lines_into_steps_and_resubmitting_keeps_their_ids(
    storage: Storage,
) -> None:
    group = await make_group(storage)
    session = await held_session(storage, group)

    async def save(text: str, at: datetime = NOW) -> list[int]:
        return await storage.feedback.save_details(
            session_id=session,
            group_id=group,
            user_id=ANA,
            details=FeedbackDetails(next_steps=text),
            now=at,
        )

    assert await save("Draft aims page\n- Email the dean\n\nBook a retreat") == [1, 2, 3]
    steps = await storage.feedback.open_steps(group, ANA)
    assert [(s.id, s.text, s.session_id, s.owner_id, s.status) for s in steps] == [
        (1, "Draft aims page", session, ANA, StepStatus.OPEN),
        (2, "Email the dean", session, ANA, StepStatus.OPEN),
        (3, "Book a retreat", session, ANA, StepStatus.OPEN),
    ]
    # The same form again changes nothing.
    assert await save("Draft aims page\nEmail the dean\nBook a retreat") == [1, 2, 3]
    later = NOW + timedelta(days=1)
    await storage.feedback.set_step_status(2, StepStatus.DONE, FAY, later)
    # Dropping an open line deletes it, a new line is added; the done step stays.
    assert await save("Book a retreat\nRead Kern") == [3, 4]
    all_steps = await storage.feedback.steps_of(10, ANA, None)
    assert sorted((s.id, s.status) for s in all_steps) == [
        (2, StepStatus.DONE),
        (3, StepStatus.OPEN),
        (4, StepStatus.OPEN),
    ]
    done = await storage.feedback.step(2)
    assert done is not None and (done.status, done.status_at) == (StepStatus.DONE, later)
    # An id is never handed out twice, even when the step that had it was removed.
    assert await save("Book a retreat") == [3]
    assert await save("Book a retreat\nCall Lee") == [3, 5]
    assert await storage.feedback.step(4) is None
    assert await save("Book a retreat\nRead Kern") == [3, 6]
    # A refused form stores nothing at all (one transaction).
    with pytest.raises(UserError):
        await save("ok\n" + "s" * 301)
    assert [s.id for s in await storage.feedback.open_steps(group, ANA)] == [3, 6]
    response = await storage.feedback.response(session, ANA)
    assert response is not None and response.details.next_steps == "Book a retreat\nRead Kern"


async def test_steps_listing_open_first_and_per_group(storage: Storage) -> None:
    circle = await make_group(storage, "Circle")
    owls = await make_group(storage, "Owls")
    elsewhere = await make_group(storage, "Elsewhere", guild_id=99)
    first = await held_session(storage, circle)
    second = await held_session(storage, owls, start=NOW + timedelta(hours=2))
    third = await held_session(storage, elsewhere, start=NOW + timedelta(hours=4), guild_id=99)
    for session, group, text in (
        (first, circle, "Circle step A\nCircle step B"),
        (second, owls, "Owls step"),
        (third, elsewhere, "Other guild step"),
    ):
        await storage.feedback.save_details(
            session_id=session,
            group_id=group,
            user_id=ANA,
            details=FeedbackDetails(next_steps=text),
            now=NOW,
        )
    await storage.feedback.set_step_status(1, StepStatus.DONE, ANA, NOW + timedelta(days=1))
    await storage.feedback.set_step_status(2, StepStatus.PARTLY, ANA, NOW + timedelta(days=1))

    listed = await storage.feedback.steps_of(10, ANA, None)
    assert [s.text for s in listed] == ["Circle step B", "Owls step", "Circle step A"]
    assert [s.text for s in await storage.feedback.steps_of(10, ANA, [owls])] == ["Owls step"]
    both = await storage.feedback.steps_of(10, ANA, [circle, owls])
    assert [s.text for s in both] == ["Circle step B", "Owls step", "Circle step A"]
    assert await storage.feedback.steps_of(10, ANA, []) == []
    # Every open step is listed, oldest first; only the most recent done ones follow.
    open_only = await storage.feedback.steps_of(10, ANA, None, recent_done=0)
    assert [s.text for s in open_only] == ["Circle step B", "Owls step"]
    await storage.feedback.set_step_status(3, StepStatus.DONE, ANA, NOW + timedelta(days=2))
    latest_done = await storage.feedback.steps_of(10, ANA, None, recent_done=1)
    assert [s.text for s in latest_done] == ["Circle step B", "Owls step"]
    # "Open" for the check-in means not done: partly and not yet come back.
    assert [s.id for s in await storage.feedback.open_steps(circle, ANA)] == [2]
    assert await storage.feedback.steps_of(10, BEN, None) == []


async def test_latest_sessions(storage: Storage) -> None:
    circle = await make_group(storage)
    first = await held_session(storage, circle, (FAY, ANA))
    second = await held_session(storage, circle, (FAY, BEN), start=NOW + timedelta(days=7))
    assert await storage.feedback.latest_session(circle) == second
    assert await storage.feedback.latest_attended(10, ANA, None) == (first, circle)
    assert await storage.feedback.latest_attended(10, FAY, circle) == (second, circle)
    assert await storage.feedback.latest_attended(10, CY, None) is None
    assert await storage.feedback.latest_attended(99, ANA, None) is None


async def test_polls_are_stored_and_closed_once(storage: Storage) -> None:
    group = await make_group(storage)
    poll_id = await storage.feedback.create_poll(
        guild_id=10,
        group_id=group,
        channel_id=555,
        message_id=777,
        question="Which day?",
        options=["Tue", "Thu"],
        created_by=ANA,
        created_at=NOW,
        closes_at=NOW + timedelta(hours=24),
    )
    [open_poll] = await storage.feedback.open_polls()
    assert (open_poll.id, open_poll.options, open_poll.results) == (poll_id, ["Tue", "Thu"], None)
    await storage.feedback.close_poll(poll_id, {"Tue": 2, "Thu": 1}, NOW + timedelta(hours=24))
    await storage.feedback.close_poll(poll_id, {"Tue": 0, "Thu": 0}, NOW + timedelta(hours=25))
    closed = await storage.feedback.poll(poll_id)
    assert closed is not None
    assert (closed.results, closed.closed_at) == ({"Tue": 2, "Thu": 1}, NOW + timedelta(hours=24))
    assert await storage.feedback.open_polls() == []


async def test_resources_and_referrals_combine_notes_and_forms(storage: Storage) -> None:
    group = await make_group(storage)
    session = await held_session(storage, group, (FAY, ANA, BEN, CY))
    notes = storage.sessions
    await notes.add_note(session, BEN, ANA, "resource", "Kern's six steps", NOW)
    await notes.add_note(session, FAY, ANA, "referral", "Dr. Osei", NOW)
    await notes.add_note(session, ANA, BEN, "referral", "Talk to Lee", NOW)
    await notes.add_note(session, BEN, ANA, "insight", "Ask early", NOW)  # not a resource
    await notes.add_note(session, BEN, None, "resource", "For nobody", NOW)  # nobody's
    for user, details in (
        (ANA, FeedbackDetails(resources="KERN'S six  steps\n- Teaching Handbook\n\n")),
        (CY, FeedbackDetails(referrals="Mentoring office\n* Writing centre")),
        (BEN, FeedbackDetails(comments="Nothing else")),
    ):
        await storage.feedback.save_details(
            session_id=session, group_id=group, user_id=user, details=details, now=NOW
        )
    other = await held_session(storage, group, (ANA,), start=NOW + timedelta(days=7))
    await notes.add_note(other, BEN, ANA, "resource", "Another session", NOW)

    assert await storage.feedback.resources_and_referrals(session) == {
        ANA: {"resources": ["Kern's six steps", "Teaching Handbook"], "referrals": ["Dr. Osei"]},
        BEN: {"resources": [], "referrals": ["Talk to Lee"]},
        CY: {"resources": [], "referrals": ["Mentoring office", "Writing centre"]},
    }
    assert await storage.feedback.resources_and_referrals(9999) == {}


async def test_a_draft_is_kept_as_typed_until_a_form_is_saved(storage: Storage) -> None:
    circle = await make_group(storage, "Circle")
    session = await held_session(storage, circle)
    feedback = storage.feedback
    assert await feedback.draft(session, ANA) is None
    typed = {"next_steps": "one\n" + "x" * 301, "comments": "  kept exactly  "}
    await feedback.save_draft(session, ANA, typed, NOW)
    assert await feedback.draft(session, ANA) == {
        "resources": "",
        "referrals": "",
        "next_steps": "one\n" + "x" * 301,
        "comments": "  kept exactly  ",
    }
    await feedback.save_draft(session, ANA, {"resources": "newer"}, NOW)  # the last one wins
    draft = await feedback.draft(session, ANA)
    assert draft is not None and (draft["resources"], draft["comments"]) == ("newer", "")
    await feedback.save_draft(session, BEN, {"comments": "ben's"}, NOW)
    await feedback.save_details(
        session_id=session,
        group_id=circle,
        user_id=ANA,
        details=FeedbackDetails(comments="sent"),
        now=NOW,
    )
    assert await feedback.draft(session, ANA) is None
    assert await feedback.draft(session, BEN) is not None  # someone else's stays
