"""Groups made from a cohort are groups like any other: they hold sessions, and
`/report program` can be narrowed to the cohort's groups."""

from __future__ import annotations

import csv
import io

from simcord import ChannelHandle, Env, MemberActor

from tests.e2e.cohort_helpers import signed_up
from tests.e2e.helpers import channel_by_id, refused, storage_of


async def program_rows(
    actor: MemberActor, where: ChannelHandle, **options: str
) -> list[dict[str, str]]:
    result = await actor.slash(where, "report program", **options)
    assert result.ephemeral
    message = result.followups[-1] if result.followups else result.response
    assert message is not None and message.embeds
    files = {a.filename: await a.read() for a in message.attachments}
    return list(csv.DictReader(io.StringIO(files["sessions.csv"].decode())))


async def test_the_program_report_can_be_narrowed_to_a_cohort(simcord_env: Env) -> None:
    env = simcord_env
    cohort = await signed_up(env, 8, group_size=4)
    world, mod = cohort.world, cohort.mod
    await refused(
        env, mod.slash(world.lobby, "report program", cohort="Spring"), "No group of the cohort"
    )
    await mod.slash(world.lobby, "cohort form", cohort="Spring")
    await mod.click(cohort.proposal_message(), label="Create groups")
    await mod.slash(world.lobby, "group create", name="Book Club")

    storage = storage_of(env)
    for name in ("Spring 1", "Book Club"):
        group = await storage.groups.by_name(world.guild.id, name)
        assert group is not None
        voice = channel_by_id(world, group.voice_channel_id)
        text = channel_by_id(world, group.text_channel_id)
        await mod.join_voice(voice)
        await mod.slash(
            text, "session start", group=name, format="roundrobin", turn_minutes=1, order="joined"
        )
        await env.advance_time(60 * 3)
        await mod.leave_voice()

    everything = await program_rows(mod, world.lobby)
    assert sorted(r["group"] for r in everything) == ["Book Club", "Spring 1"]
    narrowed = await program_rows(mod, world.lobby, cohort="spring")
    assert [r["group"] for r in narrowed] == ["Spring 1"]
    await refused(env, mod.slash(world.lobby, "report program", cohort="Winter"), "no cohort")
