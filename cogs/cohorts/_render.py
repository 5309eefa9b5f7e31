"""What the cohort's messages say: the sign-up message, the status and the proposal."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from zoneinfo import ZoneInfo

import discord

from cogs.common.format import fit
from core.cohorts import Cohort, CohortStatus, Mix, Proposal, group_name
from core.cohorts.model import CohortMember
from core.models import CareerStage

EMBED_TOTAL = 5800
MAX_FIELDS = 24
COLOUR = discord.Colour.dark_teal()


def signup_text(cohort: Cohort) -> str:
    if cohort.status is CohortStatus.OPEN:
        return (
            f"**{cohort.name}**: sign-ups are open. Press **Join cohort** and tell us your "
            "career stage, time zone and usual hours; we will form groups of about "
            f"{cohort.group_size} with a weekly time that suits everyone in them. You can "
            "press it again to change your answers until the groups are made."
        )
    if cohort.status is CohortStatus.CLOSED:
        return f"**{cohort.name}**: sign-ups are closed."
    return f"**{cohort.name}**: sign-ups are closed and the groups have been made."


def status_text(cohort: Cohort, members: list[CohortMember]) -> str:
    by_stage = Counter(m.career_stage for m in members if m.career_stage)
    by_zone = Counter(m.timezone for m in members if m.timezone)
    lines = [
        f"**{cohort.name}** · {cohort.status.value} · groups of {cohort.group_size} ± 1, "
        f"{cohort.mix.value} · {len(members)} signed up",
        "**By career stage:** "
        + (", ".join(f"{s.value} {by_stage[s]}" for s in CareerStage if by_stage[s]) or "—"),
        "**By time zone:** "
        + (", ".join(f"{zone} {count}" for zone, count in sorted(by_zone.items())) or "—"),
    ]
    missing = [m for m in members if m.missing()]
    if missing:
        lines.append("**Missing a field:**")
        lines.extend(f"<@{m.user_id}>: {', '.join(m.missing())}" for m in missing)
    else:
        lines.append("Nobody is missing a field.")
    text = "\n".join(lines)
    return text if len(text) <= 1900 else text[:1890] + "\n…"


def mention(user_id: int) -> str:
    return f"<@{user_id}>"


def member_lines(
    proposal: Proposal,
    index: int,
    members: dict[int, CohortMember],
    who: Callable[[int], str] = mention,
) -> list[str]:
    group = proposal.groups[index]
    lines = []
    for user_id in group.members:
        member = members.get(user_id)
        stage = member.career_stage.value if member and member.career_stage else "stage not set"
        zone = member.timezone if member and member.timezone else "UTC"
        local = group.start.astimezone(ZoneInfo(zone)).strftime("%a %H:%M")
        lines.append(f"{who(user_id)} · {stage} · {local} ({zone})")
    return lines


def summary_line(proposal: Proposal, members: dict[int, CohortMember], total: int) -> str:
    """One line: everyone placed or not, stages covered, earliest and latest local start."""
    quality = proposal.quality
    groups = len(proposal.groups)
    placed = (
        f"everyone placed ({quality.placed} of {total})"
        if quality.placed == total
        else f"{quality.placed} of {total} placed"
    )
    rule = "junior and senior stages" if proposal.mix is Mix.MIXED else "stages within one step"
    starts = [
        group.start.astimezone(ZoneInfo(members[u].timezone or "UTC")).time()
        for group in proposal.groups
        for u in group.members
        if u in members
    ]
    span = f"local starts {min(starts):%H:%M}–{max(starts):%H:%M}" if starts else "no local starts"
    return f"{groups} groups · {placed} · {rule} in {quality.rule_groups} of {groups} · {span}"


def proposal_embed(
    cohort: Cohort, proposal: Proposal, members: dict[int, CohortMember], total: int
) -> discord.Embed:
    embed = discord.Embed(
        title=f"Proposed groups for {cohort.name}",
        description=summary_line(proposal, members, total)
        + f"\nEach meets weekly for {proposal.duration_minutes} min. Nothing is created "
        "until **Create groups** is pressed; **Reshuffle** proposes another split of the "
        "same quality.",
        colour=COLOUR,
    )
    used = len(embed.title or "") + len(embed.description or "")
    shown = 0
    for index, group in enumerate(proposal.groups):
        name = f"{group_name(cohort.name, index + 1)} · {group.slot_label}"
        value = fit(member_lines(proposal, index, members))
        if shown >= MAX_FIELDS or used + len(name) + len(value) > EMBED_TOTAL - 300:
            break
        embed.add_field(name=name, value=value, inline=False)
        used += len(name) + len(value)
        shown += 1
    if proposal.unplaced:
        lines = [f"<@{u.user_id}>: {u.reason}" for u in proposal.unplaced]
        value = fit(lines, min(1024, max(100, EMBED_TOTAL - used - 100)))
        embed.add_field(name=f"Not placed ({len(proposal.unplaced)})", value=value, inline=False)
    how = (
        "Formed by the HiGHS solver."
        if proposal.solver == "highs"
        else "Formed by the greedy fallback (the solver had no answer in time)."
    )
    if shown < len(proposal.groups):
        embed.set_footer(text=f"{how} {len(proposal.groups) - shown} more groups in proposal.txt")
    else:
        embed.set_footer(text=f"{how} The whole proposal is also in proposal.txt")
    return embed


def proposal_file(
    cohort: Cohort,
    proposal: Proposal,
    members: dict[int, CohortMember],
    total: int,
    who: Callable[[int], str],
) -> bytes:
    """The whole proposal as plain text, with names (a file does not render mentions)."""
    lines = [f"Proposed groups for {cohort.name}", summary_line(proposal, members, total), ""]
    for index, group in enumerate(proposal.groups):
        lines.append(f"{group_name(cohort.name, index + 1)} · {group.slot_label}")
        lines.extend(f"  {line}" for line in member_lines(proposal, index, members, who))
        lines.append("")
    if proposal.unplaced:
        lines.append("Not placed:")
        lines.extend(f"  {who(u.user_id)}: {u.reason}" for u in proposal.unplaced)
    return "\n".join(lines).encode()
