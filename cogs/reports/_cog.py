"""`/report session|group|program`: figures in an embed, a chart, and the CSV exports.

Facilitators see the reports of their groups, moderators those of every group. Reports are
ephemeral: they name people, and the CSV files are for whoever asked.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.cohorts import cohort_autocomplete
from cogs.common.access import (
    group_autocomplete,
    guild_member,
    is_facilitator,
    require_moderator,
    resolve_group,
)
from cogs.common.format import clock, fit, percent
from cogs.common.replies import NO_PINGS, defer
from cogs.reports._charts import GroupSeries, TrendPoint, group_chart, program_chart, session_chart
from core.errors import UserError
from core.exports import (
    ANONYMOUS,
    FeedbackRow,
    NoteRow,
    feedback_csv,
    is_anonymized,
    notes_csv,
    pseudonym,
    sessions_csv,
)
from core.feedback import RATING_LABELS
from core.models import Group
from core.records import EndedSession, FeedbackRecord
from core.stats import (
    SessionFigures,
    TrendFigures,
    session_date,
    session_figures,
    trend_figures,
)

if TYPE_CHECKING:
    from bot import MastermindBot

COLOUR = discord.Colour.dark_teal()
DELETED = "a deleted member"
RECENT_SESSIONS_SHOWN = 10


# -- formatting ---------------------------------------------------------------------------------


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def mean_text(value: float | None) -> str:
    return "no ratings" if value is None else f"{value:.2f} / 5"


def who(user_id: int) -> str:
    """A mention (embeds never ping), or a neutral phrase for someone who deleted their data."""
    return DELETED if is_anonymized(user_id) else f"<@{user_id}>"


def chart_names(guild: discord.Guild, user_ids: Iterable[int]) -> dict[int, str]:
    """Names for chart labels (a chart cannot show mentions), each one distinct."""
    names: dict[int, str] = {}
    used: dict[str, int] = {}
    for user_id in user_ids:
        if user_id in names:
            continue
        member = None if is_anonymized(user_id) else guild.get_member(user_id)
        if member is not None:
            base = member.display_name
        elif is_anonymized(user_id):
            base = "deleted member"
        else:
            base = "former member"
        used[base] = used.get(base, 0) + 1
        names[user_id] = base if used[base] == 1 else f"{base} ({used[base]})"
    return names


def respondent_label(guild: discord.Guild, user_id: int, key: bytes, identified: bool) -> str:
    if is_anonymized(user_id):
        return ANONYMOUS
    if not identified:
        return pseudonym(key, user_id)
    member = guild.get_member(user_id)
    return f"{member.name} ({user_id})" if member is not None else str(user_id)


def ratings_lines(distribution: dict[int, int]) -> list[str]:
    return [
        f"{RATING_LABELS[value]} · **{distribution.get(value, 0)}**"
        for value in sorted(RATING_LABELS, reverse=True)
    ]


def session_label(figures: SessionFigures) -> str:
    return f"#{figures.session_id}\n{figures.session_date.isoformat()[5:]}"


# -- the embeds ---------------------------------------------------------------------------------


def session_embed(figures: SessionFigures, chart: str) -> discord.Embed:
    minutes = round(figures.duration_min)
    embed = discord.Embed(
        title=f"{figures.group} · session #{figures.session_id} report",
        description=(
            f"{discord.utils.format_dt(figures.started_at, 'f')} · {minutes} min · "
            f"{figures.attendees} attended"
        ),
        colour=COLOUR,
    )
    attendance = sorted(figures.attendance.items(), key=lambda item: -item[1])
    embed.add_field(
        name=f"Attendance ({figures.attendees})",
        value=fit([f"{who(m)} · {round(s / 60)} min in voice" for m, s in attendance]),
        inline=False,
    )
    floor = sorted(figures.floor.items(), key=lambda item: -item[1])
    fairness = "—" if figures.floor_fairness is None else f"{figures.floor_fairness:.2f}"
    embed.add_field(
        name="Time on the floor",
        value=fit(
            [f"{who(m)} · {clock(s)}" for m, s in floor]
            + [f"Fairness **{fairness}** (1.00 = everyone the same)"]
        ),
        inline=False,
    )
    embed.add_field(
        name=f"Ratings ({len(figures.ratings)})",
        value="\n".join(ratings_lines(figures.distribution)),
    )
    embed.add_field(
        name="Value",
        value=(
            f"Mean **{mean_text(figures.rating_mean)}**\n"
            f"Very valuable **{percent(figures.very_valuable)}**\n"
            f"Response rate **{percent(figures.response_rate)}** "
            f"({figures.responses} of {figures.attendees})"
        ),
    )
    embed.add_field(
        name="Taken away",
        value=(
            f"Resources **{figures.resources}**\n"
            f"Referrals **{figures.referrals}**\n"
            f"Next steps **{figures.next_steps}** "
            f"({percent(figures.next_steps_done_share)} done)"
        ),
    )
    embed.set_image(url=f"attachment://{chart}")
    embed.set_footer(text="feedback.csv: one row per respondent (pseudonymous unless set up)")
    return embed


def trend_fields(embed: discord.Embed, trend: TrendFigures) -> None:
    embed.add_field(
        name="Overall",
        value=(
            f"Mean rating **{mean_text(trend.rating_mean)}** ({trend.ratings} ratings)\n"
            f"Very valuable **{percent(trend.very_valuable)}**\n"
            f"Response rate **{percent(trend.response_rate)}** "
            f"({trend.responses} of {sum(trend.attendance)})\n"
            f"Next steps done **{percent(trend.next_steps_done_share)}** "
            f"({trend.next_steps_done} of {trend.next_steps})\n"
            f"Resources **{trend.resources}** · referrals **{trend.referrals}**"
        ),
        inline=False,
    )


def session_lines(sessions: Sequence[SessionFigures]) -> list[str]:
    shown = sessions[-RECENT_SESSIONS_SHOWN:]
    lines = [
        f"`#{s.session_id}` {s.session_date.isoformat()} · {s.attendees} attended · "
        f"mean {'—' if s.rating_mean is None else f'{s.rating_mean:.2f}'} · "
        f"{percent(s.response_rate)} answered · steps {percent(s.next_steps_done_share)} done"
        for s in shown
    ]
    if len(sessions) > len(shown):
        lines.insert(0, f"…{len(sessions) - len(shown)} earlier sessions in sessions.csv")
    return lines


def group_embed(
    group: Group, sessions: Sequence[SessionFigures], trend: TrendFigures, chart: str
) -> discord.Embed:
    first, last = sessions[0].session_date, sessions[-1].session_date
    embed = discord.Embed(
        title=f"{group.name} · group report",
        description=(
            f"{plural(trend.sessions, 'session')}, "
            f"{first.isoformat()} to {last.isoformat()} · attendance "
            + " → ".join(str(n) for n in trend.attendance[-RECENT_SESSIONS_SHOWN:])
        ),
        colour=COLOUR,
    )
    embed.add_field(name="Sessions", value=fit(session_lines(sessions)), inline=False)
    trend_fields(embed, trend)
    turns = sorted(trend.hotseat_turns.items(), key=lambda item: (-item[1], item[0]))
    fairness = "—" if trend.floor_fairness is None else f"{trend.floor_fairness:.2f}"
    embed.add_field(
        name="Hot-seat turns",
        value=fit([f"{who(m)} · {n}" for m, n in turns]),
    )
    embed.add_field(
        name="Floor time, all sessions",
        value=fit(
            [
                f"{who(m)} · {clock(s)}"
                for m, s in sorted(trend.floor.items(), key=lambda item: -item[1])
            ]
            + [f"Fairness **{fairness}**"]
        ),
    )
    embed.set_image(url=f"attachment://{chart}")
    embed.set_footer(text="sessions.csv: one row per session")
    return embed


def program_embed(
    guild: discord.Guild,
    per_group: Sequence[tuple[str, TrendFigures]],
    overall: TrendFigures,
    chart: str,
) -> discord.Embed:
    embed = discord.Embed(
        title=f"{guild.name} · program report",
        description=(
            f"{plural(overall.sessions, 'session')} in {plural(len(per_group), 'group')}; "
            f"{plural(sum(overall.attendance), 'attendance')}"
        ),
        colour=COLOUR,
    )
    lines = [
        f"**{name}** · {plural(t.sessions, 'session')} · mean "
        f"{'—' if t.rating_mean is None else f'{t.rating_mean:.2f}'} · "
        f"{percent(t.response_rate)} answered · steps {percent(t.next_steps_done_share)} done · "
        f"fairness {'—' if t.floor_fairness is None else f'{t.floor_fairness:.2f}'}"
        for name, t in per_group
    ]
    embed.add_field(name="Groups", value=fit(lines), inline=False)
    trend_fields(embed, overall)
    embed.set_image(url=f"attachment://{chart}")
    embed.set_footer(text="sessions.csv: one row per session of every group")
    return embed


# -- the cog ------------------------------------------------------------------------------------


class ReportsCog(commands.Cog):
    report = app_commands.Group(
        name="report", description="Reports: figures, charts and CSV exports", guild_only=True
    )

    def __init__(self, bot: MastermindBot) -> None:
        self.bot = bot

    async def _group_for_report(self, interaction: discord.Interaction, name: str) -> Group:
        member = guild_member(interaction)
        group = await resolve_group(interaction, name)
        if not await is_facilitator(self.bot, member, group):
            raise UserError(f"Reports of **{group.name}** are for its facilitators and moderators.")
        return group

    async def _session_of(self, group: Group, session_id: int | None) -> EndedSession:
        reports = self.bot.storage.reports
        if session_id is None:
            latest = await reports.latest_session(group.id)
            if latest is None:
                raise UserError(f"**{group.name}** has not held a session yet.")
            return latest
        found = await reports.session(session_id)
        if found is not None and found.group_id == group.id and found.guild_id == group.guild_id:
            return found
        live = await self.bot.storage.sessions.live_for_group(group.id)
        if live is not None and live.id == session_id:
            raise UserError(
                f"Session #{session_id} of **{group.name}** is still running; its report is "
                "ready when it ends."
            )
        raise UserError(
            f"**{group.name}** has no session #{session_id}. Leave `session` empty for the "
            "latest, or pick one from the list."
        )

    async def _labeller(self, guild: discord.Guild) -> Callable[[int], str]:
        """How the exports name a person: a pseudonym unless identified exports are on."""
        settings = await self.bot.storage.guilds.settings(guild.id)
        key = await self.bot.storage.reports.pseudonym_key(guild.id, self.bot.clock())
        return lambda user_id: respondent_label(guild, user_id, key, settings.identified_exports)

    async def _respondents(
        self, guild: discord.Guild, records: Sequence[FeedbackRecord]
    ) -> list[FeedbackRow]:
        label = await self._labeller(guild)
        return [
            FeedbackRow(
                session_id=r.session_id,
                group=r.group,
                session_date=session_date(r.session_started_at, r.timezone),
                respondent=label(r.user_id),
                rating=r.rating,
                resources=r.resources,
                referrals=r.referrals,
                next_steps=r.next_steps,
                comments=r.comments,
                submitted_at=r.submitted_at,
            )
            for r in records
        ]

    async def _figures(self, session_ids: Sequence[int]) -> list[SessionFigures]:
        facts = await self.bot.storage.reports.session_facts(session_ids)
        return [session_figures(f) for f in facts]

    @report.command(name="session", description="Figures, chart and feedback.csv of a session")
    @app_commands.describe(
        group="The group", session="Session number (default: the latest session)"
    )
    @app_commands.autocomplete(group=group_autocomplete)
    async def session_report(
        self, interaction: discord.Interaction, group: str, session: int | None = None
    ) -> None:
        found = await self._group_for_report(interaction, group)
        chosen = await self._session_of(found, session)
        guild = guild_member(interaction).guild
        await defer(interaction)
        figures = (await self._figures([chosen.id]))[0]
        names = chart_names(guild, figures.floor)
        floor = sorted(figures.floor.items(), key=lambda item: -item[1])
        png = session_chart(
            f"{found.name} · session #{chosen.id} · {figures.session_date.isoformat()}",
            figures.distribution,
            figures.rating_mean,
            [(names[m], s) for m, s in floor],
        )
        rows = await self._respondents(
            guild, await self.bot.storage.reports.feedback_records([chosen.id])
        )
        notes = await self._note_rows(guild, found, chosen.id)
        chart = f"session-{chosen.id}.png"
        await self._send(
            interaction,
            session_embed(figures, chart),
            [(chart, png), ("feedback.csv", feedback_csv(rows)), ("notes.csv", notes_csv(notes))],
        )

    async def _note_rows(
        self, guild: discord.Guild, group: Group, session_id: int
    ) -> list[NoteRow]:
        """Every note of the session, with people labelled as in feedback.csv."""
        label = await self._labeller(guild)
        return [
            NoteRow(
                session_id=note.session_id,
                group=group.name,
                kind=note.kind,
                for_member="" if note.for_member_id is None else label(note.for_member_id),
                author="" if note.author_id is None else label(note.author_id),
                text=note.text,
                created_at=note.created_at,
            )
            for note in await self.bot.storage.sessions.notes(session_id)
        ]

    @session_report.autocomplete("session")
    async def session_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        if interaction.guild_id is None or not isinstance(interaction.user, discord.Member):
            return []
        name = getattr(interaction.namespace, "group", None)
        group = (
            await self.bot.storage.groups.by_name(interaction.guild_id, str(name)) if name else None
        )
        if group is None or not await is_facilitator(self.bot, interaction.user, group):
            return []
        needle = current.strip().lstrip("#")
        return [
            app_commands.Choice(
                name=f"#{s.id} · {session_date(s.started_at, group.timezone).isoformat()}",
                value=s.id,
            )
            for s in await self.bot.storage.reports.recent_sessions(group.id)
            if needle in str(s.id)
        ]

    @report.command(name="group", description="Trends across a group's sessions, and sessions.csv")
    @app_commands.describe(group="The group")
    @app_commands.autocomplete(group=group_autocomplete)
    async def group_report(self, interaction: discord.Interaction, group: str) -> None:
        found = await self._group_for_report(interaction, group)
        ended = await self.bot.storage.reports.ended_sessions([found.id])
        if not ended:
            raise UserError(f"**{found.name}** has not held a session yet.")
        guild = guild_member(interaction).guild
        await defer(interaction)
        sessions = await self._figures([s.id for s in ended])
        members = [m.user_id for m in await self.bot.storage.groups.members(found.id)]
        trend = trend_figures(sessions, members)
        names = chart_names(guild, trend.hotseat_turns)
        turns = sorted(trend.hotseat_turns.items(), key=lambda item: (-item[1], names[item[0]]))
        png = group_chart(
            f"{found.name} · {plural(len(sessions), 'session')}",
            [
                TrendPoint(
                    label=session_label(s),
                    attendees=s.attendees,
                    responses=s.responses,
                    rating_mean=s.rating_mean,
                    done_pct=s.next_steps_done_pct,
                )
                for s in sessions
            ],
            [(names[m], n) for m, n in turns],
        )
        chart = f"group-{found.id}.png"
        await self._send(
            interaction,
            group_embed(found, sessions, trend, chart),
            [(chart, png), ("sessions.csv", sessions_csv(sessions))],
        )

    @report.command(name="program", description="Trends across every group (moderators)")
    @app_commands.describe(cohort="Only the groups formed from this cohort")
    @app_commands.autocomplete(cohort=cohort_autocomplete)
    async def program_report(
        self, interaction: discord.Interaction, cohort: str | None = None
    ) -> None:
        member = guild_member(interaction)
        await require_moderator(self.bot, member)
        ended = await self.bot.storage.reports.ended_sessions_of_guild(member.guild.id)
        if cohort is not None:
            found = await self.bot.storage.cohorts.by_name(member.guild.id, cohort)
            if found is None:
                raise UserError(f"There is no cohort called **{cohort}** here.")
            group_ids = set(await self.bot.storage.cohorts.group_ids(found.id))
            ended = [s for s in ended if s.group_id in group_ids]
            if not ended:
                raise UserError(
                    f"No group of the cohort **{found.name}** has held a session yet, so "
                    "there is nothing to report."
                )
        if not ended:
            raise UserError("No group has held a session yet, so there is nothing to report.")
        await defer(interaction)
        sessions = await self._figures([s.id for s in ended])
        by_group: dict[int, list[SessionFigures]] = {}
        for s in sessions:
            by_group.setdefault(s.group_id, []).append(s)
        per_group: list[tuple[str, TrendFigures]] = []
        series: list[GroupSeries] = []
        for group_id, group_sessions in by_group.items():
            members = [m.user_id for m in await self.bot.storage.groups.members(group_id)]
            trend = trend_figures(group_sessions, members)
            name = group_sessions[-1].group
            per_group.append((name, trend))
            series.append(
                GroupSeries(
                    name=name,
                    dates=[s.session_date.isoformat() for s in group_sessions],
                    rating_means=[s.rating_mean for s in group_sessions],
                    response_pct=_percent(trend.response_rate),
                    done_pct=_percent(trend.next_steps_done_share),
                    very_valuable_pct=_percent(trend.very_valuable),
                )
            )
        order = sorted(range(len(per_group)), key=lambda i: per_group[i][0].casefold())
        per_group = [per_group[i] for i in order]
        series = [series[i] for i in order]
        overall = trend_figures(sessions)
        png = program_chart(
            f"{member.guild.name} · {plural(len(sessions), 'session')} in "
            f"{plural(len(per_group), 'group')}",
            series,
        )
        chart = "program.png"
        await self._send(
            interaction,
            program_embed(member.guild, per_group, overall, chart),
            [(chart, png), ("sessions.csv", sessions_csv(sessions))],
        )

    async def _send(
        self,
        interaction: discord.Interaction,
        embed: discord.Embed,
        files: Sequence[tuple[str, bytes]],
    ) -> None:
        attachments = [discord.File(io.BytesIO(data), filename=name) for name, data in files]
        await interaction.followup.send(
            embed=embed, files=attachments, ephemeral=True, allowed_mentions=NO_PINGS
        )


def _percent(share: float | None) -> float | None:
    return None if share is None else 100 * share
