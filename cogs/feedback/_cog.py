"""After the call: the feedback message and form, reminders, polls and next steps."""

from __future__ import annotations

import dataclasses
import io
import logging
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.common.access import (
    group_autocomplete,
    guild_member,
    is_facilitator,
    is_moderator,
    resolve_group,
)
from cogs.common.format import percent, timestamp
from cogs.common.forms import resume_orphan_form
from cogs.common.outbox import Delivery
from cogs.common.replies import NO_PINGS, reply
from cogs.feedback._views import (
    DRAFT_LABEL,
    DetailsButton,
    DetailsModal,
    StepButton,
    draft_view,
    feedback_view,
)
from core.errors import UserError
from core.feedback import (
    FEEDBACK_QUESTION,
    STEPS_PER_CHECKIN_MESSAGE,
    DetailsRefused,
    FeedbackRequest,
    NextStep,
    StepStatus,
    clean_details,
    parse_poll,
    poll_duration,
    rating_label,
    visible_step_groups,
)
from core.models import Group
from core.outbox import Outgoing
from core.session import Announce, Phase, SessionState
from core.session.outbox import FEEDBACK
from core.stats import not_answered, response_rate
from core.text import chunks, lines_that_fit

if TYPE_CHECKING:
    from bot import MastermindBot

log = logging.getLogger(__name__)

FORM_ID = re.compile(r"mm:feedback:form:(?P<session_id>\d+)")
REMIND = "feedback_remind"
REMIND_DM = "feedback.remind_dm"
REMIND_CHANNEL = "feedback.remind_channel"
REMIND_SCOPE = "feedback:"
CLOSE = "feedback_close"
POLL = "poll_close"
LIST_MORE = "…and {} more: every step is in the attached file."
STEPS_FILE = "next-steps.txt"
CHECKIN_STEP_CHARS = 200
MESSAGE_MAX = 2000


def feedback_content(count: int, closed: bool = False) -> str:
    noun = "response" if count == 1 else "responses"
    if closed:
        return f"{FEEDBACK_QUESTION}\nFeedback is closed · {count} {noun}."
    return f"{FEEDBACK_QUESTION}\n{count} {noun} so far."


def step_line(step: NextStep, max_text: int | None = None) -> str:
    status = "" if step.status == StepStatus.OPEN else f" ({step.status.label})"
    text = step.text
    if max_text is not None and len(text) > max_text:
        text = text[: max_text - 1] + "…"
    return f"`#{step.id}` {text}{status}"


class FeedbackCog(commands.Cog):
    feedback = app_commands.Group(
        name="feedback", description="Feedback on sessions, and polls", guild_only=True
    )
    nextsteps = app_commands.Group(
        name="nextsteps", description="Your next steps and commitments", guild_only=True
    )

    def __init__(self, bot: MastermindBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.timers.register(REMIND, self._on_remind, rearm=self._rearm_requests)
        self.bot.outbox.register(
            REMIND_DM, self._deliver_reminder_dm, what="send the feedback reminder"
        )
        self.bot.outbox.register(
            REMIND_CHANNEL, self._deliver_reminder_channel, what="post the feedback reminder"
        )
        self.bot.timers.register(CLOSE, self._on_close)
        self.bot.timers.register(POLL, self._on_poll_close, rearm=self._rearm_polls)
        # The session's end commits the feedback request and this row with it.
        self.bot.outbox.register(FEEDBACK, self._deliver_feedback, what="post the feedback message")
        self.bot.hooks.announce_extras.add(self, self._announce_extra)
        self.bot.feedback = self

    async def cog_unload(self) -> None:
        if self.bot.feedback is self:
            self.bot.feedback = None
        for kind in (REMIND, CLOSE, POLL):
            self.bot.timers.unregister(kind)
        for kind in (FEEDBACK, REMIND_DM, REMIND_CHANNEL):
            self.bot.outbox.unregister(kind)
        self.bot.hooks.remove(self)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """A details form opened before a restart, submitted after it."""

        async def save(match: re.Match[str], values: dict[str, str]) -> None:
            await self.save_details(interaction, int(match["session_id"]), values)

        await resume_orphan_form(interaction, self.bot.open_forms, FORM_ID, save, "feedback form")

    # -- the feedback message ---------------------------------------------------------------

    async def _deliver_feedback(self, delivery: Delivery) -> int | None:
        """The feedback message of a session that ended: its request was committed with the
        end, so the reminder and the closing are armed first, even if the post fails."""
        session_id = int(delivery.row.payload["session_id"])
        request = await self.bot.storage.feedback.request(session_id)
        if request is None:
            return None
        self._arm(request)
        if request.message_id is not None:
            return request.message_id  # posted before a restart cut the delivery short
        group = await self.bot.storage.groups.get(request.group_id)
        guild = self.bot.get_guild(group.guild_id) if group else None
        channel = guild.get_channel(group.text_channel_id or 0) if guild and group else None
        if not isinstance(channel, discord.TextChannel):
            return None
        count = await self.bot.storage.feedback.count_responses(session_id)
        message = await channel.send(
            feedback_content(count),
            view=feedback_view(session_id),
            allowed_mentions=NO_PINGS,
            nonce=delivery.nonce(),
        )
        await self.bot.storage.feedback.set_message(session_id, channel.id, message.id)
        return message.id

    def _arm(self, request: FeedbackRequest) -> None:
        if request.closed_at is not None:
            return
        if request.reminded_at is None and request.remind_at < request.closes_at:
            self.bot.timers.schedule(REMIND, request.session_id, request.remind_at)
        self.bot.timers.schedule(CLOSE, request.session_id, request.closes_at)

    async def _rearm_requests(self) -> None:
        for request in await self.bot.storage.feedback.open_requests(self.bot.shard_set):
            self._arm(request)

    async def _rearm_polls(self) -> None:
        for poll in await self.bot.storage.feedback.open_polls(self.bot.shard_set):
            self.bot.timers.schedule(POLL, poll.id, poll.closes_at)

    async def _refresh_count(self, request: FeedbackRequest, *, closed: bool = False) -> None:
        if request.channel_id is None or request.message_id is None:
            return
        channel = self.bot.get_channel(request.channel_id)
        if not isinstance(channel, discord.TextChannel):
            return
        count = await self.bot.storage.feedback.count_responses(request.session_id)
        try:
            await channel.get_partial_message(request.message_id).edit(
                content=feedback_content(count, closed),
                view=feedback_view(request.session_id, closed=closed),
            )
        except discord.HTTPException as error:
            log.warning("could not update feedback message %s: %s", request.message_id, error)

    async def _open_request(self, session_id: int) -> FeedbackRequest:
        request = await self.bot.storage.feedback.request(session_id)
        if request is None:
            raise UserError("There is no feedback form for that session.")
        now = self.bot.clock()
        if not request.is_open(now):
            raise UserError(f"Feedback on this session closed {timestamp(request.closes_at)}.")
        return request

    async def _require_attendee(self, session_id: int, member_id: int) -> None:
        if member_id in await self.bot.storage.feedback.attendees(session_id):
            return
        raise UserError("Only people who attended this session can give feedback on it.")

    async def rate(self, interaction: discord.Interaction, session_id: int, rating: int) -> None:
        member = guild_member(interaction)
        label = rating_label(rating)
        request = await self._open_request(session_id)
        await self._require_attendee(session_id, member.id)
        previous = await self.bot.storage.feedback.rate(
            session_id, member.id, rating, self.bot.clock()
        )
        if previous is not None:
            text = f"Changed your rating to **{label}**."
        else:
            text = f"Thank you! You rated the session **{label}**."
        await reply(
            interaction,
            f"{text} You can change it until {timestamp(request.closes_at, 'f')}; "
            "**Add details** records resources, referrals and your next steps.",
        )
        if previous is None:  # perhaps their first response (the form may have come first)
            await self._refresh_count(request)

    async def _check_form_allowed(self, session_id: int, member_id: int) -> None:
        """During the session (commitments round) presence counts; afterwards attendance."""
        live = self.bot.sessions.get(session_id)
        if live is not None:
            if member_id not in live.presence:
                raise UserError("Only people taking part in this session can record next steps.")
            return
        await self._open_request(session_id)
        await self._require_attendee(session_id, member_id)

    async def open_details(self, interaction: discord.Interaction, session_id: int) -> None:
        member = guild_member(interaction)
        await self._check_form_allowed(session_id, member.id)
        current = await self.bot.storage.feedback.response(session_id, member.id)
        values: dict[str, str] = {}
        if current is not None:
            values = {
                "resources": current.details.resources,
                "referrals": current.details.referrals,
                "next_steps": current.details.next_steps,
                "comments": current.details.comments,
            }
        modal = DetailsModal(session_id, values)
        await interaction.response.send_modal(modal)
        self.bot.open_forms.opened(interaction.user.id, str(modal.custom_id))

    async def open_draft(self, interaction: discord.Interaction, session_id: int) -> None:
        """The refused form again, filled in with exactly what was typed."""
        member = guild_member(interaction)
        await self._check_form_allowed(session_id, member.id)
        draft = await self.bot.storage.feedback.draft(session_id, member.id)
        if draft is None:
            raise UserError(
                "There is nothing to reopen: your form was saved since. **Add details** on the "
                "feedback message shows what is stored."
            )
        modal = DetailsModal(session_id, draft)
        await interaction.response.send_modal(modal)
        self.bot.open_forms.opened(interaction.user.id, str(modal.custom_id))

    async def save_details(
        self, interaction: discord.Interaction, session_id: int, values: dict[str, str]
    ) -> None:
        member = guild_member(interaction)
        await self._check_form_allowed(session_id, member.id)
        try:
            details = clean_details(values)
        except DetailsRefused as refused:
            await self.bot.storage.feedback.save_draft(
                session_id, member.id, values, self.bot.clock()
            )
            await reply(
                interaction,
                f"{refused.message}\nPress **{DRAFT_LABEL}** to get the form back as you typed "
                "it, shorten it and send it again.",
                view=draft_view(session_id),
            )
            return
        row = await self.bot.storage.sessions.get(session_id)
        assert row is not None
        before = await self.bot.storage.feedback.response(session_id, member.id)
        step_ids = await self.bot.storage.feedback.save_details(
            session_id=session_id,
            group_id=row.group_id,
            user_id=member.id,
            details=details,
            now=self.bot.clock(),
        )
        steps = ", ".join(f"`#{step_id}`" for step_id in step_ids)
        recorded = f" Next steps recorded: {steps}." if step_ids else ""
        request = await self.bot.storage.feedback.request(session_id)
        nudge = ""
        if before is None or before.rating is None:
            nudge = (
                " Please also rate the session with the buttons on the feedback message."
                if request is not None
                else " After the session, please also rate it on the feedback message."
            )
        await reply(interaction, f"Saved your feedback details.{recorded}{nudge}")
        if before is None and request is not None:
            await self._refresh_count(request)

    # -- reminder and closing ---------------------------------------------------------------

    async def _on_remind(self, session_id: int, now: datetime) -> None:
        """24 h after the end: one DM to each attendee who has not answered, then one
        message in the group channel for those whose DMs are closed. The record that the
        reminder is sent and the outbox rows that send it are one transaction."""
        request = await self.bot.storage.feedback.request(session_id)
        if request is None or not request.is_open(now):
            return
        group = await self.bot.storage.groups.get(request.group_id)
        waiting = not_answered(
            await self.bot.storage.feedback.attendees(session_id),
            await self.bot.storage.feedback.respondents(session_id),
        )
        effects: list[Outgoing] = []
        if group is not None and waiting:
            scope = f"{REMIND_SCOPE}{session_id}"
            base = {"session_id": session_id, "group_id": group.id}
            effects = [
                Outgoing(REMIND_DM, scope, group.guild_id, {**base, "member_id": member_id})
                for member_id in waiting
            ]
            channel_id = request.channel_id or group.text_channel_id
            effects.append(
                Outgoing(REMIND_CHANNEL, scope, group.guild_id, {**base, "channel_id": channel_id})
            )
        if await self.bot.storage.feedback.claim_reminder(session_id, now, effects) and effects:
            self.bot.outbox.kick(effects[0].scope)

    async def _deliver_reminder_dm(self, delivery: Delivery) -> int | None:
        """One attendee's reminder DM; closed DMs are recorded for the channel message."""
        payload = delivery.row.payload
        session_id, member_id = int(payload["session_id"]), int(payload["member_id"])
        request = await self.bot.storage.feedback.request(session_id)
        group = await self.bot.storage.groups.get(int(payload["group_id"]))
        guild = self.bot.get_guild(group.guild_id) if group else None
        now = self.bot.clock()
        if request is None or group is None or guild is None or not request.is_open(now):
            return None
        if await self.bot.storage.feedback.response(session_id, member_id) is not None:
            return None  # answered since the reminder was written
        member = await self._member(guild, member_id)
        if member is None:
            return None  # left the server
        link = (
            f"https://discord.com/channels/{guild.id}/{request.channel_id}/{request.message_id}"
            if request.message_id
            else ""
        )
        text = (
            f"A gentle reminder: how valuable was the last **{group.name}** session? "
            f"One click is enough. {link}".strip()
        )
        try:
            message = await member.send(text, allowed_mentions=NO_PINGS, nonce=delivery.nonce())
        except discord.Forbidden:
            await self.bot.storage.feedback.reminder_missed(session_id, member_id)
            return None
        return message.id

    async def _deliver_reminder_channel(self, delivery: Delivery) -> int | None:
        """After the DMs: one message mentioning exactly those a DM could not reach."""
        payload = delivery.row.payload
        session_id = int(payload["session_id"])
        feedback = self.bot.storage.feedback
        request = await feedback.request(session_id)
        if request is None or not request.is_open(self.bot.clock()):
            return None
        respondents = await feedback.respondents(session_id)
        unreachable = [
            m for m in await feedback.reminder_misses(session_id) if m not in respondents
        ]
        channel = self.bot.get_channel(int(payload.get("channel_id") or 0))
        if not unreachable or not isinstance(channel, discord.TextChannel):
            return None
        mentions = " ".join(f"<@{member_id}>" for member_id in unreachable)
        message = await channel.send(
            f"{mentions}: a gentle reminder to rate the last session (buttons above).",
            allowed_mentions=discord.AllowedMentions(
                everyone=False,
                roles=False,
                users=[discord.Object(id=member_id) for member_id in unreachable],
            ),
            nonce=delivery.nonce(),
        )
        return message.id

    async def _member(self, guild: discord.Guild, member_id: int) -> discord.Member | None:
        """The member, also when the cache does not hold them (after a restart the member
        list may not be loaded yet); None when they left the server."""
        member = guild.get_member(member_id)
        if member is not None:
            return member
        try:
            return await guild.fetch_member(member_id)
        except discord.NotFound:
            return None

    async def _on_close(self, session_id: int, now: datetime) -> None:
        if await self.bot.storage.feedback.close(session_id, now):
            self.bot.timers.schedule(REMIND, session_id, None)
            request = await self.bot.storage.feedback.request(session_id)
            if request is not None:
                await self._refresh_count(request, closed=True)

    # -- next steps at check-in and commitments ---------------------------------------------

    async def _announce_extra(
        self, group: Group, state: SessionState, effect: Announce
    ) -> list[tuple[str, list[discord.ui.Item[Any]]]]:
        if effect.phase == Phase.COMMITMENTS:
            return [
                (
                    "Record your next steps so they come back next time:",
                    [DetailsButton(state.session_id, label="Record next steps")],
                )
            ]
        if effect.phase != Phase.CHECKIN:
            return []
        steps = [
            step
            for step in await self.bot.storage.feedback.open_steps(group.id, effect.member_id)
            if step.session_id != state.session_id
        ]
        pages = chunks(steps, STEPS_PER_CHECKIN_MESSAGE)
        parts: list[tuple[str, list[discord.ui.Item[Any]]]] = []
        for page, shown in enumerate(pages):
            first = page * STEPS_PER_CHECKIN_MESSAGE
            lines = [
                f"{first + row + 1}. {step_line(step, CHECKIN_STEP_CHARS)}"
                for row, step in enumerate(shown)
            ]
            items: list[discord.ui.Item[Any]] = [
                StepButton(status, step.id, row=row)
                for row, step in enumerate(shown)
                for status in ("done", "partly", "notyet")
            ]
            if page == 0:
                header = "Your open next steps (one row of buttons each):"
                if len(pages) > 1:
                    header = (
                        f"Your {len(steps)} open next steps (one row of buttons each; "
                        f"{len(steps) - len(shown)} more below):"
                    )
            else:
                header = (
                    f"More open next steps of <@{effect.member_id}> "
                    f"({first + 1}–{first + len(shown)} of {len(steps)}):"
                )
            parts.append(("\n".join([header, *lines]), items))
        return parts

    async def mark_step(
        self, interaction: discord.Interaction, step_id: int, status: StepStatus
    ) -> None:
        member = guild_member(interaction)
        step = await self._step_for(member, step_id)
        now = self.bot.clock()
        await self.bot.storage.feedback.set_step_status(step.id, status, member.id, now)
        await reply(interaction, f"Marked `#{step.id}` **{status.label}**: {step.text}")
        if interaction.message is not None:
            marked = dataclasses.replace(step, status=status, status_at=now)
            await self._show_mark(interaction.message, marked)

    async def _show_mark(self, message: discord.Message, step: NextStep) -> None:
        """Show the new status on the step's line of the check-in message, for everyone."""
        pattern = re.compile(rf"^(\d+\. )`#{step.id}` .*$", re.MULTILINE)
        if self.bot.user is None or message.author.id != self.bot.user.id:
            return
        content, found = pattern.subn(
            lambda m: m.group(1) + step_line(step, CHECKIN_STEP_CHARS), message.content
        )
        if not found or content == message.content:
            return
        # The check-in message pinged only its speaker, the step's owner; so may the edit.
        keep = discord.AllowedMentions(
            everyone=False, roles=False, replied_user=False, users=[discord.Object(step.owner_id)]
        )
        try:
            await message.edit(content=content, allowed_mentions=keep)
        except discord.HTTPException as error:
            log.warning("could not show the mark of step %s: %s", step.id, error)

    async def _step_for(self, member: discord.Member, step_id: int) -> NextStep:
        step = await self.bot.storage.feedback.step(step_id)
        group = await self.bot.storage.groups.get(step.group_id) if step else None
        if step is None or group is None or group.guild_id != member.guild.id:
            raise UserError(f"There is no next step `#{step_id}`.")
        if step.owner_id != member.id and not await is_facilitator(self.bot, member, group):
            raise UserError(
                f"`#{step_id}` belongs to someone else; only they or a facilitator can mark it."
            )
        return step

    # -- commands ---------------------------------------------------------------------------

    @feedback.command(name="give", description="Rate the latest session you attended")
    @app_commands.autocomplete(group=group_autocomplete)
    async def give(self, interaction: discord.Interaction, group: str | None = None) -> None:
        member = guild_member(interaction)
        found = await self._optional_group(interaction, group)
        latest = await self.bot.storage.feedback.latest_attended(
            member.guild.id, member.id, found.id if found else None
        )
        if latest is None:
            raise UserError("You have not attended a session yet, so there is nothing to rate.")
        session_id, group_id = latest
        request = await self._open_request(session_id)
        group_row = await self.bot.storage.groups.get(group_id)
        name = group_row.name if group_row else "your group"
        lines = [f"How valuable was the **{name}** session of {timestamp(request.opened_at, 'f')}?"]
        current = await self.bot.storage.feedback.response(session_id, member.id)
        if current is not None and current.rating is not None:
            label = rating_label(current.rating)
            lines.append(f"Your rating now: **{label}**; click another to change it.")
        lines.append(f"Feedback closes {timestamp(request.closes_at)}.")
        await reply(interaction, "\n".join(lines), view=feedback_view(session_id))

    async def _optional_group(
        self, interaction: discord.Interaction, name: str | None
    ) -> Group | None:
        try:
            return await resolve_group(interaction, name)
        except UserError:
            if name:
                raise
            return None

    @feedback.command(name="status", description="Response rate of the latest session")
    @app_commands.autocomplete(group=group_autocomplete)
    async def status(self, interaction: discord.Interaction, group: str | None = None) -> None:
        member = guild_member(interaction)
        found = await resolve_group(interaction, group)
        facilitator = await is_facilitator(self.bot, member, found)
        membership = await self.bot.storage.groups.membership(found.id, member.id)
        if not facilitator and membership is None:
            raise UserError(f"Only members of **{found.name}** can see its feedback.")
        session_id = await self.bot.storage.feedback.latest_session(found.id)
        live = self.bot.sessions.session_for_group(found.id)
        in_progress = (
            f"A session of **{found.name}** is in progress (started "
            f"{timestamp(live.started_at)}); its feedback opens when it ends."
            if live is not None
            else ""
        )
        if session_id is None:
            if live is None:
                raise UserError(f"**{found.name}** has not held a session yet.")
            await reply(interaction, in_progress)
            return
        attendees = await self.bot.storage.feedback.attendees(session_id)
        answered = await self.bot.storage.feedback.respondents(session_id)
        waiting = not_answered(attendees, answered)
        rate = response_rate(attendees, answered)
        request = await self.bot.storage.feedback.request(session_id)
        lines = [
            f"**{found.name}**, session #{session_id}: {len(attendees) - len(waiting)} of "
            f"{len(attendees)} attendees answered ({percent(rate)})."
        ]
        if request is not None:
            state = "closes" if request.is_open(self.bot.clock()) else "closed"
            lines.append(f"Feedback {state} {timestamp(request.closes_at)}.")
        if facilitator:
            lines.append("Not answered yet: " + (", ".join(f"<@{w}>" for w in waiting) or "nobody"))
        if in_progress:
            lines.append(in_progress)
        await reply(interaction, "\n".join(lines)[:MESSAGE_MAX])

    @feedback.command(name="poll", description="Ask the group a question with a native poll")
    @app_commands.describe(
        question="The question (up to 300 characters)",
        options="2-10 answers separated by |, e.g. Tuesday | Thursday",
        hours="How long the poll stays open (1-768 hours)",
    )
    @app_commands.autocomplete(group=group_autocomplete)
    async def poll(
        self,
        interaction: discord.Interaction,
        question: str,
        options: str,
        hours: app_commands.Range[int, 1, 768] = 24,
        group: str | None = None,
    ) -> None:
        member = guild_member(interaction)
        found = await resolve_group(interaction, group)
        if found.archived:
            raise UserError(f"**{found.name}** is archived.")
        membership = await self.bot.storage.groups.membership(found.id, member.id)
        if membership is None and not await is_facilitator(self.bot, member, found):
            raise UserError(f"Only members of **{found.name}** can ask it a poll.")
        text, answers = parse_poll(question, options)
        duration = poll_duration(hours)
        channel = member.guild.get_channel(found.text_channel_id or 0)
        if not isinstance(channel, discord.TextChannel):
            raise UserError(f"The text channel of **{found.name}** is gone.")
        native = discord.Poll(question=text, duration=duration)
        for answer in answers:
            native.add_answer(text=answer)
        now = self.bot.clock()
        message = await channel.send(poll=native, allowed_mentions=NO_PINGS)
        closes_at = now + duration
        poll_id = await self.bot.storage.feedback.create_poll(
            guild_id=member.guild.id,
            group_id=found.id,
            channel_id=channel.id,
            message_id=message.id,
            question=text,
            options=answers,
            created_by=member.id,
            created_at=now,
            closes_at=closes_at,
        )
        self.bot.timers.schedule(POLL, poll_id, closes_at)
        await reply(
            interaction, f"Poll posted in {channel.mention}; it closes {timestamp(closes_at)}."
        )

    async def _on_poll_close(self, poll_id: int, now: datetime) -> None:
        """Read the final counts from Discord's poll itself, then store them."""
        poll = await self.bot.storage.feedback.poll(poll_id)
        if poll is None or poll.closed_at is not None:
            return
        channel = self.bot.get_channel(poll.channel_id)
        if not isinstance(channel, discord.TextChannel):
            log.warning("poll %s: its channel is gone; results not stored", poll_id)
            return
        try:
            message = await channel.fetch_message(poll.message_id)
            native = message.poll
            if native is not None and not native.is_finalised():
                native = await native.end()
        except discord.NotFound:
            log.warning("poll %s: its message was deleted; results not stored", poll_id)
            return
        if native is None:
            return
        results = {answer.text: answer.vote_count for answer in native.answers}
        await self.bot.storage.feedback.close_poll(poll_id, results, now)

    @nextsteps.command(name="list", description="Open and recent next steps")
    @app_commands.autocomplete(group=group_autocomplete)
    async def list_steps(
        self,
        interaction: discord.Interaction,
        member: discord.Member | None = None,
        group: str | None = None,
    ) -> None:
        caller = guild_member(interaction)
        target = member or caller
        found = await self._optional_group(interaction, group)
        groups = await self._visible_groups(caller, target, found)
        steps = await self.bot.storage.feedback.steps_of(caller.guild.id, target.id, groups)
        if not steps:
            await reply(interaction, f"{target.mention} has no next steps yet.")
            return
        header = f"Next steps of {target.mention}:"
        lines = [step_line(step) for step in steps]
        shown = lines_that_fit(header, lines, MESSAGE_MAX, LIST_MORE)
        if shown == len(lines):
            await reply(interaction, "\n".join([header, *lines]))
            return
        names = {
            g.id: g.name for g in await self.bot.storage.groups.list_for_guild(caller.guild.id)
        }
        every = "\n".join(
            f"#{step.id} [{names.get(step.group_id, 'group')}] {step.text}"
            + ("" if step.status == StepStatus.OPEN else f" ({step.status.label})")
            for step in steps
        )
        text = "\n".join([header, *lines[:shown], LIST_MORE.format(len(lines) - shown)])
        data = f"Next steps of {target.display_name}\n\n{every}\n".encode()
        await reply(interaction, text, file=discord.File(io.BytesIO(data), filename=STEPS_FILE))

    async def _visible_groups(
        self, caller: discord.Member, target: discord.Member, named: Group | None
    ) -> frozenset[int] | None:
        """The groups whose steps of `target` the caller may see (None: all of them): their own
        and a moderator's are all; someone else's only in groups shared or facilitated."""
        everything = target.id == caller.id or await is_moderator(self.bot, caller)
        if everything:
            return None if named is None else frozenset({named.id})
        groups = self.bot.storage.groups
        mine = {
            m.group_id: m.is_facilitator
            for m in await groups.memberships_of_user(caller.guild.id, caller.id)
        }
        theirs = {g.id for g in await groups.groups_of_user(caller.guild.id, target.id)}
        visible = visible_step_groups(mine, theirs)
        if not visible:
            raise UserError(f"You can see {target.mention}'s next steps only if you share a group.")
        if named is None:
            return visible
        if named.id not in visible:
            raise UserError(
                f"You can see {target.mention}'s next steps in **{named.name}** only if you are "
                "in it with them or facilitate it."
            )
        return frozenset({named.id})

    @nextsteps.command(name="done", description="Mark one of your next steps done")
    @app_commands.describe(step="The step's id, e.g. 12")
    async def done(self, interaction: discord.Interaction, step: int) -> None:
        member = guild_member(interaction)
        found = await self._step_for(member, step)
        if found.status == StepStatus.DONE:
            raise UserError(f"`#{found.id}` is already done.")
        await self.bot.storage.feedback.set_step_status(
            found.id, StepStatus.DONE, member.id, self.bot.clock()
        )
        await reply(interaction, f"Marked `#{found.id}` **Done**: {found.text}")

    @done.autocomplete("step")
    async def done_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        if interaction.guild_id is None:
            return []
        steps = await self.bot.storage.feedback.steps_of(
            interaction.guild_id, interaction.user.id, None
        )
        needle = current.strip().lstrip("#").lower()
        return [
            app_commands.Choice(name=f"#{s.id} {s.text}"[:100], value=s.id)
            for s in steps
            if s.status != StepStatus.DONE
            and (not needle or needle in str(s.id) or needle in s.text.lower())
        ][:25]
