"""A form opened before a restart and submitted after it is saved, not dropped."""

from __future__ import annotations

from simcord import Env

from bot import Settings
from tests.e2e.helpers import reply_text, restart, storage_of
from tests.e2e.session_helpers import make_circle
from tests.e2e.test_feedback import feedback_message, run_short_session


async def test_details_form_survives_a_restart(simcord_env: Env, settings: Settings) -> None:
    circle = await make_circle(simcord_env, ("fay", "ana", "ben"))
    ana = circle.members[0]
    await run_short_session(simcord_env, circle)

    shown = await ana.click(feedback_message(circle), label="Add details")
    assert shown.modal is not None
    await restart(simcord_env, settings)
    saved = await ana.submit_modal(
        shown, {"resources": "AMEE guide", "next_steps": "Draft aims\nCall the dean"}
    )

    assert "Next steps recorded" in reply_text(saved)
    steps = await storage_of(simcord_env).feedback.open_steps(1, ana.id)
    assert [s.text for s in steps] == ["Draft aims", "Call the dean"]
    response = await storage_of(simcord_env).feedback.response(1, ana.id)
    assert response is not None and response.details.resources == "AMEE guide"


async def test_form_held_by_this_process_is_saved_once(simcord_env: Env) -> None:
    circle = await make_circle(simcord_env, ("fay", "ana", "ben"))
    ana = circle.members[0]
    await run_short_session(simcord_env, circle)

    shown = await ana.click(feedback_message(circle), label="Add details")
    saved = await ana.submit_modal(shown, {"next_steps": "One step"})

    assert len(saved.followups) + (saved.response is not None) == 1
    steps = await storage_of(simcord_env).feedback.open_steps(1, ana.id)
    assert [s.text for s in steps] == ["One step"]


async def test_note_form_survives_a_restart(simcord_env: Env, settings: Settings) -> None:
    circle = await make_circle(simcord_env, ("fay", "ana", "ben"))
    fay, ana, _ = circle.everyone
    await fay.slash(circle.text, "session start", group="Circle", order="joined")

    shown = await ana.click(circle.panel(), label="Add note")
    assert shown.modal is not None
    await restart(simcord_env, settings)
    saved = await ana.submit_modal(shown, {"kind": "referral", "text": "Dr. Osei"})

    assert "Saved your referral" in reply_text(saved)
    notes = await storage_of(simcord_env).sessions.notes(1)
    assert [(n.kind, n.text, n.for_member_id) for n in notes] == [("referral", "Dr. Osei", fay.id)]
